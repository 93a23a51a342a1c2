import {spawn} from 'node:child_process';
import {existsSync, mkdirSync, writeFileSync} from 'node:fs';
import path from 'node:path';

import {expect} from 'chai';

import {BIN, daysAfter, environment, NOW, Workspace} from './harness.js';

const SECRET = /^[0-9a-f]{40}$/;
const hintOf = (secret: string) => `${secret.slice(0, 4)}…${secret.slice(-4)}`;

describe('keyward keys', () => {
  it('create prints a new 40-hex secret once, as {name, type, secret, hint} under --json and alone on stdout otherwise', () => {
    const ws = Workspace.create();
    const json = ws.run(['keys', 'create', 'billing', '--type', 'api', '--json'], {now: NOW});
    expect(json.code, json.stderr).to.equal(0);
    const created = json.json();
    expect(created).to.have.all.keys('name', 'type', 'secret', 'hint');
    expect(created).to.include({name: 'billing', type: 'api'});
    expect(created.secret).to.match(SECRET);
    expect(created.hint).to.equal(hintOf(created.secret));

    const human = ws.run(['keys', 'create', 'relay', '--type', 'smtp'], {now: NOW});
    expect(human.code, human.stderr).to.equal(0);
    expect(human.stdout).to.match(/^[0-9a-f]{40}\n$/);
    expect(human.stdout.trim()).not.to.equal(created.secret);
    expect(human.stderr).to.contain('relay').and.contain('shown this once');
    expect(human.stderr, 'the secret goes to stdout only').not.to.contain(human.stdout.trim());

    const list = ws.run(['keys', 'list', '--json']);
    expect(list.code, list.stderr).to.equal(0);
    expect(list.json()).to.deep.equal([
      {name: 'billing', type: 'api', hint: created.hint, status: 'active', createdAt: NOW, rotatedAt: null, allow: [], deny: []},
      {name: 'relay', type: 'smtp', hint: hintOf(human.stdout.trim()), status: 'active', createdAt: NOW, rotatedAt: null, allow: [], deny: []},
    ]);
    expect(list.stdout).not.to.contain(created.secret);
  });

  it('create refuses a taken name, a bad name, a secret-shaped name, a bad --allow and a missing --type with exit 2, writing nothing (a broad --allow is exit 4: test/cli/entries-trust.test.ts)', async () => {
    const ws = Workspace.create();
    expect(ws.run(['keys', 'create', 'billing', '--type', 'api']).code).to.equal(0);
    const before = ws.storeBytes();
    const cases: Array<[string[], string]> = [
      [['keys', 'create', 'billing', '--type', 'smtp'], 'exists already'],
      [['keys', 'create', 'no spaces', '--type', 'api'], 'is not a key name'],
      [['keys', 'create', 'a'.repeat(40), '--type', 'api'], 'looks like a key secret'],
      // The word an Authorization header puts before a key, in any case.
      [['keys', 'create', 'Bearer', '--type', 'api'], 'cannot be a key name: it is the word an Authorization header puts before a key'],
      [['keys', 'create', 'bearer', '--type', 'smtp'], 'cannot be a key name'],
      // A name that reads as an IPv4 address: check could not tell swapped arguments (found by an outside tester).
      [['keys', 'create', '1.2.3.4', '--type', 'api'], 'cannot be a key name: it reads as an IPv4 address'],
      [['keys', 'create', '010.0.0.1', '--type', 'smtp'], 'reads as an IPv4 address'],
      [['keys', 'create', 'narrow', '--type', 'api', '--allow', '198.51.100.7/24'], 'the network is 198.51.100.0/24'],
      [['keys', 'create', 'narrow'], 'type'],
      [['keys', 'create', 'narrow', '--type', 'ftp'], 'ftp'],
    ];
    const runs = await ws.runAll(cases.map(([args]) => [...args, '--json']));
    for (const [i, [args, message]] of cases.entries()) {
      const out = runs[i];
      expect(out.code, args.join(' ')).to.equal(2);
      expect(out.json().error, args.join(' ')).to.include({exit: 2});
      expect(out.stderr, args.join(' ')).to.contain(message);
    }
    expect(ws.storeBytes()).to.deep.equal(before);
  });

  it("create --allow starts the key's own list: an address outside it is denied not-in-key-allowlist", () => {
    const ws = Workspace.create();
    const made = ws.run(['keys', 'create', 'narrow', '--type', 'api', '--allow', '198.51.100.0/24', '--allow', '2001:DB8::25', '--json'], {now: NOW});
    expect(made.code, made.stderr).to.equal(0);
    const out = ws.run(['check', 'narrow', '192.0.2.1', '198.51.100.7', '2001:db8::25', '--json']);
    expect(out.code).to.equal(1);
    expect(out.json()).to.deep.equal([
      {key: 'narrow', ip: '192.0.2.1', decision: 'deny', reason: 'not-in-key-allowlist', matched: []},
      {key: 'narrow', ip: '198.51.100.7', decision: 'allow', reason: 'learning', matched: ['198.51.100.0/24']},
      {key: 'narrow', ip: '2001:db8::25', decision: 'allow', reason: 'learning', matched: ['2001:db8::25']},
    ]);
    expect(ws.run(['keys', 'list', '--json']).json()[0].allow).to.deep.equal(['198.51.100.0/24', '2001:db8::25']);
  });

  it('rotate gives a new secret and the old one stops working at once; without a terminal it needs --yes', () => {
    const ws = Workspace.create();
    const old = ws.run(['keys', 'create', 'billing', '--type', 'api', '--json'], {now: NOW}).json().secret;
    const before = ws.storeBytes();

    const refused = ws.run(['keys', 'rotate', 'billing', '--json']);
    expect(refused.code).to.equal(4);
    expect(refused.json().error, 'the error object alone on stdout').to.include({exit: 4});
    expect(refused.stderr).to.contain('--yes');
    expect(ws.storeBytes(), 'nothing changed').to.deep.equal(before);

    const later = daysAfter(NOW, 1);
    const rotated = ws.run(['keys', 'rotate', 'billing', '--yes', '--json'], {now: later});
    expect(rotated.code, rotated.stderr).to.equal(0);
    const fresh = rotated.json();
    expect(fresh).to.have.all.keys('name', 'type', 'secret', 'hint');
    expect(fresh).to.include({name: 'billing', type: 'api', hint: hintOf(fresh.secret)});
    expect(fresh.secret).to.match(SECRET).and.not.equal(old);

    const byOld = ws.run(['check', old, '192.0.2.1', '--json']);
    expect(byOld.code, 'the old secret names no key').to.equal(2);
    expect(byOld.json().error, 'the error object alone on stdout').to.include({exit: 2});
    expect(byOld.stderr).to.contain('unknown key').and.not.contain(old);
    const byNew = ws.run(['check', fresh.secret, '192.0.2.1', '--json']);
    expect(byNew.code, byNew.stderr).to.equal(0);
    expect(byNew.json()[0]).to.include({key: 'billing', decision: 'allow'});

    const listed = ws.run(['keys', 'list', '--json']).json()[0];
    expect(listed).to.include({hint: fresh.hint, rotatedAt: later, createdAt: NOW, status: 'active'});

    const human = ws.run(['keys', 'rotate', 'billing', '--yes']);
    expect(human.code, human.stderr).to.equal(0);
    expect(human.stdout).to.match(/^[0-9a-f]{40}\n$/);
    expect(human.stderr).to.contain('rotated');
  });

  it('revoke retires a key (denied key-revoked, listed as revoked); without a terminal it needs --yes', () => {
    const ws = Workspace.create();
    const secret = ws.run(['keys', 'create', 'old', '--type', 'smtp', '--json'], {now: NOW}).json().secret;
    const before = ws.storeBytes();

    const refused = ws.run(['keys', 'revoke', 'old']);
    expect(refused.code).to.equal(4);
    expect(refused.stderr).to.contain('--yes');
    expect(ws.storeBytes()).to.deep.equal(before);

    const revoked = ws.run(['keys', 'revoke', 'old', '--yes', '--json'], {now: NOW});
    expect(revoked.code, revoked.stderr).to.equal(0);
    expect(revoked.json()).to.deep.equal({name: 'old', type: 'smtp', hint: hintOf(secret), status: 'revoked', createdAt: NOW, rotatedAt: null, allow: [], deny: []});

    const check = ws.run(['check', secret, '192.0.2.1', '--json']);
    expect(check.code).to.equal(1);
    expect(check.json()).to.deep.equal([{key: 'old', ip: '192.0.2.1', decision: 'deny', reason: 'key-revoked', matched: []}]);
    expect(ws.run(['keys', 'list', '--json']).json()[0].status).to.equal('revoked');

    const rotate = ws.run(['keys', 'rotate', 'old', '--yes']);
    expect(rotate.code, 'a revoked key cannot be rotated').to.equal(2);
    expect(rotate.stderr).to.contain('revoked');
    const again = ws.run(['keys', 'revoke', 'old', '--json']);
    expect(again.code, 'revoking again needs no confirmation').to.equal(0);
    expect(again.json().status).to.equal('revoked');
  });

  it('rotate and revoke refuse an unknown key with exit 2', async () => {
    const ws = Workspace.create();
    for (const out of await ws.runAll([
      ['keys', 'rotate', 'nosuch', '--yes'],
      ['keys', 'revoke', 'nosuch', '--yes'],
    ])) {
      expect(out.code).to.equal(2);
      expect(out.stderr).to.contain('unknown key');
    }
    expect(ws.storeBytes()).to.equal(null);
  });
});

describe('keyward keys: interrupted between the secret and the commit', () => {
  /** Waits until `file` exists. */
  async function waitFor(file: string): Promise<void> {
    for (const end = Date.now() + 20_000; !existsSync(file); await new Promise((resolve) => setTimeout(resolve, 10))) {
      if (Date.now() > end) throw new Error(`no ${file} within 20 s`);
    }
  }

  /** Starts keyward `args` on `ws` with a test pause (`pause`: its variable) in the folder `hold`; its output so far, and its exit. */
  function startPaused(ws: Workspace, args: string[], pause: string, hold: string) {
    const child = spawn(process.execPath, [BIN, ...args], {env: environment(ws.store, {now: NOW, env: {[pause]: hold}}), stdio: ['ignore', 'pipe', 'pipe']});
    const out = {stdout: '', stderr: ''};
    child.stdout.setEncoding('utf8').on('data', (text: string) => (out.stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (out.stderr += text));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    return {child, out, closed};
  }

  it('a signal once the command has said the key is created, while the process ends, leaves exit 0 (Node puts signals back to their default action as a process runs out of work; found by an outside tester)', async () => {
    const ws = Workspace.create();
    // (The signal a few milliseconds after the message, at one moment or another of the process's end.)
    for (let i = 0; i < 10; i++) {
      const child = spawn(process.execPath, [BIN, 'keys', 'create', `late${i}`, '--type', 'smtp'], {
        env: environment(ws.store, {now: NOW}),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
      const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
      await new Promise<void>((resolve) =>
        child.stderr.setEncoding('utf8').on('data', (text: string) => {
          if (text.includes('created')) {
            setTimeout(() => child.kill(i % 2 === 0 ? 'SIGINT' : 'SIGTERM'), 2 * i);
            resolve();
          }
        }),
      );
      expect(await closed, `run ${i}`).to.equal(0);
      expect(stdout.trim()).to.match(SECRET);
      expect(ws.run(['check', stdout.trim(), '192.0.2.1', '--json'], {now: NOW}).json()[0].key, 'the printed secret is the key').to.equal(`late${i}`);
    }
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} once the rotation is renamed into place (its write still finishing): the new secret is in effect, said so, exit 0 (a script must not throw it away)`, async () => {
      const ws = Workspace.create();
      const old = ws.run(['keys', 'create', 'first', '--type', 'api'], {now: NOW, env: {KEYWARD_TEST_SUBPROCESS: '1'}}).stdout.trim();
      expect(old).to.match(SECRET);
      const hold = path.join(ws.dir, 'hold');
      mkdirSync(hold);
      const {child, out, closed} = startPaused(ws, ['keys', 'rotate', 'first', '--yes'], 'KEYWARD_TEST_PAUSE_AFTER_RENAME', hold);
      await waitFor(path.join(hold, 'renamed'));
      child.kill(signal);
      await new Promise((resolve) => setTimeout(resolve, 100));
      writeFileSync(path.join(hold, 'resume'), '');
      expect(await closed, out.stderr).to.equal(0);
      expect(out.stderr).not.to.contain('NOT in effect');
      expect(out.stderr).to.contain(`keyward: interrupted (${signal}) after the commit: the secret printed above IS in effect`);
      const fresh = out.stdout.trim();
      expect(fresh).to.match(SECRET);
      expect(ws.run(['check', fresh, '192.0.2.1', '--json'], {now: NOW}).json()[0].key, 'the printed secret is the key').to.equal('first');
      expect(ws.run(['check', old, '192.0.2.1'], {now: NOW}).stderr, 'the old secret is gone').to.contain('matches no key');
    });
  }

  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it(`${signal} after the secret was printed and before the commit: says the secret is NOT in effect, exit ${code}, no key made, no lock left`, async () => {
      const ws = Workspace.create();
      expect(ws.run(['keys', 'create', 'first', '--type', 'api'], {now: NOW, env: {KEYWARD_TEST_SUBPROCESS: '1'}}).code).to.equal(0);
      const before = ws.storeBytes();
      const hold = path.join(ws.dir, 'hold');
      mkdirSync(hold);
      const {child, out, closed} = startPaused(ws, ['keys', 'create', 'second', '--type', 'smtp'], 'KEYWARD_TEST_PAUSE_BEFORE_WRITE', hold);
      await waitFor(path.join(hold, 'writing'));
      child.kill(signal);
      expect(await closed, out.stderr).to.equal(code);
      expect(out.stdout.trim(), 'the secret was printed').to.match(SECRET);
      expect(out.stderr).to.contain(`interrupted (${signal}) before the commit: the secret printed above is NOT in effect`);
      expect(ws.storeBytes(), 'no key made').to.deep.equal(before);
      expect(existsSync(`${ws.store}.lock`), 'the lock is released').to.equal(false);
    });
  }
});
