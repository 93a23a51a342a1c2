import {spawnSync} from 'node:child_process';
import {chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync} from 'node:fs';
import path from 'node:path';

import {expect} from 'chai';

import {BIN, environment, NOW, RunResult, runKeyward, startKeyward, Workspace} from './harness.js';

/** A valid store with one entry, as keyward writes it, to break in different ways. */
function validStoreText(): string {
  const ws = Workspace.create();
  expect(ws.run(['authorize', '192.0.2.1'], {now: NOW}).code).to.equal(0);
  return ws.storeBytes()!.toString('utf8');
}

/** `text` (a store) with keys of these names whose hashes are made of these digits. */
function withKeys(text: string, ...keys: [string, string][]): string {
  const store = JSON.parse(text);
  store.keys = keys.map(([name, digit], i) => ({
    name,
    type: i % 2 === 0 ? 'api' : 'smtp',
    hash: digit.repeat(64),
    hint: 'aaaa…aaaa',
    status: 'active',
    createdAt: NOW,
    rotatedAt: null,
    revokedAt: null,
    allow: [],
  }));
  return JSON.stringify(store, null, 2);
}

describe('keyward store: schema version 2', () => {
  it('reads a version-1 store as it is, writes nothing for a no-op, and writes version 2 with the first change (an older keyward then refuses it, never reading a deny entry as an allow)', () => {
    const ws = Workspace.create();
    expect(ws.run(['authorize', '10.0.0.0/8'], {now: NOW}).code).to.equal(0);
    expect(JSON.parse(readFileSync(ws.store, 'utf8')).version).to.equal(2);
    writeFileSync(ws.store, readFileSync(ws.store, 'utf8').replace('"version": 2', '"version": 1'));
    const v1 = readFileSync(ws.store);
    expect(ws.run(['authorize', '10.0.0.0/8'], {now: NOW}).code, 'an entry already there').to.equal(0);
    expect(readFileSync(ws.store).equals(v1), 'a no-op leaves the version-1 file as it was').to.equal(true);
    expect(ws.run(['deny', '10.66.0.0/16'], {now: NOW}).code).to.equal(0);
    expect(JSON.parse(readFileSync(ws.store, 'utf8')).version).to.equal(2);
  });
});

describe('keyward store', () => {
  describe('a store it cannot use is never overwritten: exit 3, the file byte for byte as it was', () => {
    const valid = validStoreText();
    const broken = valid.replace(/"version": \d+/, '"version": 99');
    const cases: Array<[string, string, string]> = [
      ['truncated JSON', valid.slice(0, valid.length / 2), 'is corrupt: it is not valid JSON'],
      ['an empty file', '', 'is corrupt: it is empty'],
      ['JSON of the wrong shape', '{"version": 1, "account": "everyone"}', 'is not a keyward store'],
      ['an entry that is not an address', valid.replace('"entry": "192.0.2.1"', '"entry": "192.0.2.300"'), 'account[0].entry is not a valid entry'],
      ['a newer schema version', broken, 'schema version 99, newer than this keyward reads'],
      ['two keys of one name', withKeys(valid, ['billing', 'a'], ['billing', 'b']), 'keys[1].name is `billing`, the name of keys[0] too'],
      ['two keys of one secret', withKeys(valid, ['billing', 'a'], ['relay', 'a']), 'keys[1].hash is the hash of keys[0] too'],
      ['a key name shaped like a secret', withKeys(valid, ['0123456789abcdef0123456789abcdef01234567', 'a']), 'keys[0].name is shaped like a key'],
      [
        'a date not of the calendar (read as 2 March by Date.parse)',
        valid.replace(/"addedAt": "[^"]+"/, '"addedAt": "2026-02-30T08:10:30.000Z"'),
        'account[0].addedAt is not an ISO 8601 time',
      ],
      ['a learning prefix wider than /8', valid.replace('"learnPrefixV4": 24', '"learnPrefixV4": 0'), 'settings.learnPrefixV4 is less than 8'],
      ['a learning prefix wider than /16 (IPv6)', valid.replace('"learnPrefixV6": 64', '"learnPrefixV6": 15'), 'settings.learnPrefixV6 is less than 16'],
    ];
    for (const [what, text, message] of cases) {
      it(`refuses ${what}`, async () => {
        const ws = Workspace.create();
        ws.file('store.json', text);
        const before = ws.storeBytes();
        const [write, read] = await ws.runAll([
          ['authorize', '198.51.100.1', '--json'],
          ['check', 'ci', '198.51.100.1'],
        ]);
        expect(write.code).to.equal(3);
        expect(write.json().error, 'the error object alone on stdout').to.include({exit: 3});
        expect(write.stderr).to.contain(ws.store).and.contain(message);
        expect(read.code, 'reading commands stop too').to.equal(3);
        expect(ws.storeBytes()).to.deep.equal(before);
        expect(readdirSync(ws.dir), 'no lock or temporary file is left').to.deep.equal(['store.json']);
      });
    }
  });

  it('reads a hand-edited time with an offset as the UTC time it names: every --json output shows UTC, a no-op writes nothing, the next change writes it canonical (found by an outside tester)', () => {
    const ws = Workspace.create();
    ws.run(['keys', 'create', 'billing', '--type', 'api', '--allow', '192.0.2.0/24'], {now: NOW});
    ws.run(['authorize', '10.0.0.0/8'], {now: NOW});
    const data = ws.storeJson();
    data.account[0].addedAt = '2026-12-03T18:00:00+02:00';
    data.account[0].expiresAt = '2099-01-02 10:00:00.5+0530';
    data.keys[0].createdAt = '2026-11-30T12:00:00-0100';
    data.keys[0].allow[0].addedAt = '2026-11-30t13:00z';
    writeFileSync(ws.store, JSON.stringify(data, null, 2));
    const before = readFileSync(ws.store);
    const list = ws.run(['list', '--json'], {now: NOW}).json();
    expect(list.find((r: {scope: string}) => r.scope === 'account')).to.include({addedAt: '2026-12-03T16:00:00.000Z', expiresAt: '2099-01-02T04:30:00.500Z'});
    expect(list.find((r: {scope: string}) => r.scope === 'billing')).to.include({addedAt: '2026-11-30T13:00:00.000Z'});
    expect(ws.run(['keys', 'list', '--json'], {now: NOW}).json()[0]).to.include({createdAt: '2026-11-30T13:00:00.000Z'});
    expect(ws.run(['authorize', '10.0.0.0/8'], {now: NOW}).code).to.equal(0);
    expect(readFileSync(ws.store).equals(before), 'a no-op writes nothing').to.equal(true);
    expect(ws.run(['authorize', '203.0.113.9'], {now: NOW}).code).to.equal(0);
    const text = readFileSync(ws.store, 'utf8');
    expect(text)
      .to.contain('"addedAt": "2026-12-03T16:00:00.000Z"')
      .and.contain('"expiresAt": "2099-01-02T04:30:00.500Z"')
      .and.contain('"createdAt": "2026-11-30T13:00:00.000Z"');
    expect(text).not.to.match(/\+0[25]|-0100|t13:00z/);
  });

  it("shows a secret pasted into a key's hint or a history record's user, command or flags by its hint in --json too, as in the tables (found by an outside tester)", () => {
    const ws = Workspace.create();
    ws.run(['keys', 'create', 'billing', '--type', 'api', '--json'], {now: NOW});
    ws.run(['authorize', '10.0.0.0/8'], {now: NOW});
    const secret = '0123456789abcdef0123456789abcdef01234567';
    const data = ws.storeJson();
    data.keys[0].hint = secret;
    for (const r of data.history) Object.assign(r, {user: `ops ${secret}`, flags: [secret], command: `authorize ${secret.toUpperCase()}`});
    for (const r of data.history) for (const k of r.changes.keys) k.hint = secret;
    expect(
      data.history.some((r: {changes: {keys: unknown[]}}) => r.changes.keys.length > 0),
      'a record of a key change',
    ).to.equal(true);
    writeFileSync(ws.store, JSON.stringify(data, null, 2));
    for (const args of [['keys', 'list'], ['history']]) {
      for (const json of [[], ['--json']]) {
        const run = ws.run([...args, ...json], {now: NOW});
        expect(run.code, run.stderr).to.equal(0);
        expect((run.stdout + run.stderr).toLowerCase(), `${args.join(' ')} ${json.join('')}`).not.to.contain(secret.slice(4, 20));
      }
    }
    expect(ws.run(['keys', 'list', '--json'], {now: NOW}).json()[0].hint).to.equal('0123…4567');
  });

  it('refuses a store over 512 MiB at once, on every path (exit 3 naming its size), and leaves it as it was', () => {
    const ws = Workspace.create();
    // Sparse: the refusal comes from its size, so the file is never read and costs no memory.
    writeFileSync(ws.store, '');
    truncateSync(ws.store, 513 * 2 ** 20);
    const lines = [['check', 'ci', '198.51.100.1'], ['status'], ['list', '--json'], ['authorize', '198.51.100.1', '--json'], ['keys', 'list']];
    for (const args of lines) {
      for (const env of [{}, {KEYWARD_NO_FAST_PATH: '1'}]) {
        const run = ws.run(args, {now: NOW, env});
        const what = `keyward ${args.join(' ')} ${JSON.stringify(env)}`;
        expect(run.code, `${what}\n${run.stderr}`).to.equal(3);
        expect(run.stderr, what).to.contain(`the store ${ws.store} is too large to read (537919488 bytes`).and.not.contain('internal error');
      }
    }
    expect(statSync(ws.store).size).to.equal(513 * 2 ** 20);
    expect(statSync(ws.store).blocks, 'nothing was written into it').to.equal(0);
    expect(readdirSync(ws.dir), 'no lock or temporary file is left').to.deep.equal(['store.json']);
  });

  it('is created with mode 0600, in a data directory made for it, and keeps the mode the operator gives it when rewritten', () => {
    const ws = Workspace.create();
    // v2: keyward makes its own data directory; the folders of a path the operator gives must exist (issue 11 item 7).
    const dataDir = path.join(ws.dir, 'nested', 'deeper');
    expect(ws.run(['authorize', '192.0.2.1'], {env: {KEYWARD_STORE: undefined, KEYWARD_DATA_DIR: dataDir}}).code).to.equal(0);
    const store = path.join(dataDir, 'store.json');
    expect(statSync(store).mode & 0o777).to.equal(0o600);
    expect(statSync(path.dirname(store)).mode & 0o077, 'the new folder is private').to.equal(0);
    expect(ws.run(['authorize', '192.0.2.1', '--store', path.join(ws.dir, 'given.json')]).code).to.equal(0);
    expect(ws.storeBytes(), '--store wins over KEYWARD_STORE').to.equal(null);

    expect(runKeyward(store, ['authorize', '192.0.2.2']).code).to.equal(0);
    expect(statSync(store).mode & 0o777).to.equal(0o600);
    // (A service user's group may read it: environment.test.ts has the owner, the cache and a read-only store.)
    chmodSync(store, 0o640);
    expect(runKeyward(store, ['authorize', '192.0.2.3']).code).to.equal(0);
    expect(statSync(store).mode & 0o777).to.equal(0o640);
  });

  it("never holds a secret: no file under the store's folder contains a created or rotated secret", () => {
    const ws = Workspace.create();
    const created = ws.run(['keys', 'create', 'billing', '--type', 'api', '--json']).json().secret;
    const human = ws.run(['keys', 'create', 'relay', '--type', 'smtp']).stdout.trim();
    const rotated = ws.run(['keys', 'rotate', 'billing', '--yes', '--json']).json().secret;
    const secrets = [created, human, rotated];
    for (const secret of secrets) expect(secret).to.match(/^[0-9a-f]{40}$/);
    const files = ws.allFiles();
    expect(files.map((f) => f.file)).to.deep.equal([ws.store]);
    for (const {file, bytes} of files) {
      for (const secret of secrets) expect(bytes.includes(secret), `${file} holds a secret`).to.equal(false);
    }
    expect(ws.storeJson().keys.map((k: any) => k.hint)).to.deep.equal([`${rotated.slice(0, 4)}…${rotated.slice(-4)}`, `${human.slice(0, 4)}…${human.slice(-4)}`]);
  });

  it('loses nothing when 10 processes authorize at the same time', async () => {
    const ws = Workspace.create();
    const addresses = Array.from({length: 10}, (_, i) => `198.51.100.${i + 1}`);
    const runs = await Promise.all(addresses.map((ip) => ws.start(['authorize', ip, '--json'])));
    for (const [i, run] of runs.entries()) {
      expect(run.code, run.stderr).to.equal(0);
      expect(run.json().added).to.deep.equal([addresses[i]]);
    }
    const list = ws.run(['list', '--json']);
    expect(list.json<any[]>().map((r) => r.entry)).to.deep.equal(addresses);
    expect(readdirSync(ws.dir), 'no lock or temporary file is left').to.deep.equal(['store.json']);
  });

  it('gives up with exit 3 when another process holds the lock, writing nothing', () => {
    const ws = Workspace.create();
    expect(ws.run(['authorize', '192.0.2.1']).code).to.equal(0);
    const before = ws.storeBytes();
    mkdirSync(`${ws.store}.lock`);
    const out = ws.run(['authorize', '192.0.2.2', '--json'], {env: {KEYWARD_LOCK_TIMEOUT_MS: '300'}});
    expect(out.code).to.equal(3);
    expect(out.json().error, 'the error object alone on stdout').to.include({exit: 3});
    expect(out.stderr).to.contain('locked by another keyward process');
    expect(ws.storeBytes()).to.deep.equal(before);
  });

  it('refuses an empty --store (`--store "$STORE"` with $STORE unset) with exit 2 on every path, writing nothing; an empty KEYWARD_STORE is unset', async () => {
    const ws = Workspace.create();
    const lines = [
      ['authorize', '192.0.2.1', '--store='],
      ['authorize', '192.0.2.1', '--store', '', '--json'],
      ['authorize', '-', '--store='],
      ['status', '--store='],
      ['list', '--json', '--store', ''],
      ['check', 'k', '192.0.2.1', '--store='],
      ['keys', 'create', 'k', '--type', 'api', '--store='],
    ];
    const runs = await Promise.all(
      lines.flatMap((args) => [ws.start(args, {input: '192.0.2.1\n'}), ws.start(args, {input: '192.0.2.1\n', env: {KEYWARD_NO_FAST_PATH: '1'}})]),
    );
    for (const [i, run] of runs.entries()) {
      const what = `${lines[i >> 1].join(' ')}${i % 2 ? ' (oclif)' : ''}`;
      expect(run.code, `${what}: ${run.stderr}`).to.equal(2);
      expect(run.stderr, what).to.contain('--store needs a path: it was given empty');
      if (lines[i >> 1].includes('--json')) expect(run.json().error, what).to.include({exit: 2});
    }
    expect(readdirSync(ws.dir), 'nothing written in the working folder').to.deep.equal([]);
    const home = Workspace.create();
    const unset = ws.run(['authorize', '192.0.2.1'], {env: {KEYWARD_STORE: '', HOME: home.dir, XDG_DATA_HOME: undefined, KEYWARD_DATA_DIR: undefined}});
    expect(unset.code, unset.stderr).to.equal(0);
    expect(readdirSync(path.join(home.dir, '.local', 'share', 'keyward'))).to.include('store.json');
  });

  it('stops with exit 3 when the store cannot be read or its folder cannot be made', async () => {
    const ws = Workspace.create();
    const notAFolder = ws.file('plain-file', 'x');
    const store = path.join(notAFolder, 'store.json');
    const [write, read] = await Promise.all([startKeyward(store, ['authorize', '192.0.2.1']), startKeyward(store, ['list', '--json'])]);
    expect(write.code).to.equal(3);
    expect(write.stderr).to.contain(store);
    expect(read.code).to.equal(3);
    expect(read.json().error, 'the error object alone on stdout').to.include({exit: 3});
    expect(read.stderr).to.contain('cannot read the store');
  });
});

describe('KEYWARD_NOW', () => {
  it('sets the time of every change, as an ISO 8601 date or time', () => {
    const ws = Workspace.create();
    expect(ws.run(['authorize', '192.0.2.1'], {now: '2026-02-03'}).code).to.equal(0);
    expect(ws.run(['list', '--json']).json()[0].addedAt).to.equal('2026-02-03T00:00:00.000Z');
  });

  it('refuses a value that is not an ISO 8601 time with exit 2, writing nothing', async () => {
    const ws = Workspace.create();
    const values = ['yesterday', '2026-13-01', '1767225600'];
    const writes = await Promise.all(values.map((now) => ws.start(['authorize', '192.0.2.1', '--json'], {now})));
    for (const [i, write] of writes.entries()) {
      expect(write.code, values[i]).to.equal(2);
      expect(write.json().error, 'the error object alone on stdout').to.include({exit: 2});
      expect(write.stderr).to.contain('KEYWARD_NOW').and.contain(values[i]);
    }
    expect(ws.run(['check', 'ci', '192.0.2.1'], {now: 'yesterday'}).code).to.equal(2);
    expect(ws.storeBytes()).to.equal(null);
  });
});

describe('a working folder deleted under keyward (rm -rf of the folder a shell is in)', () => {
  /** keyward run with its working folder removed after `cd` into it, as a shell left in a deleted folder runs it. */
  function inDeletedFolder(ws: Workspace, args: string[], env: Record<string, string> = {}): RunResult {
    const gone = mkdtempSync(path.join(ws.dir, 'gone-'));
    const child = spawnSync('sh', ['-c', 'cd "$1" && rmdir "$1" && shift && exec "$@"', 'sh', gone, process.execPath, BIN, ...args], {
      env: environment(ws.store, {now: NOW, env}),
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
      timeout: 60_000,
    });
    return {code: child.status, stdout: child.stdout, stderr: child.stderr} as RunResult;
  }

  it('a relative store (--store, KEYWARD_STORE) is a store error naming the missing folder, on every path; an absolute one is read', () => {
    const ws = Workspace.create();
    expect(ws.run(['keys', 'create', 'k', '--type', 'api'], {now: NOW}).code).to.equal(0);
    expect(ws.run(['authorize', '192.0.2.0/24'], {now: NOW}).code).to.equal(0);
    const before = ws.storeBytes();
    const reads = [
      ['status'],
      ['check', 'k', '192.0.2.1'],
      ['authorize', '198.51.100.1'],
      ['list', '--json'],
      ['keys', 'list'],
      ['authorize', '198.51.100.1', '--label', 'x'],
    ];
    for (const env of [{}, {KEYWARD_NO_FAST_PATH: '1'}] as Record<string, string>[]) {
      for (const args of reads) {
        for (const [how, line, extra] of [
          ['--store', [...args, '--store', 'store.json'], {}],
          ['KEYWARD_STORE', args, {KEYWARD_STORE: 'store.json'}],
        ] as Array<[string, string[], Record<string, string>]>) {
          const run = inDeletedFolder(ws, [...line], {...env, ...extra});
          const what = `${how} ${args.join(' ')} ${JSON.stringify(env)}`;
          expect(run.code, `${what}: ${run.stderr}`).to.equal(3);
          expect(run.stderr, what).to.contain('relative to the working folder, which no longer exists').and.not.contain('internal error');
        }
      }
      const json = inDeletedFolder(ws, ['status', '--json', '--store', 'store.json'], env);
      expect(JSON.parse(json.stdout).error.exit).to.equal(3);
      expect(inDeletedFolder(ws, ['status', '--store', ws.store], env).code, 'an absolute store is read').to.equal(0);
      expect(inDeletedFolder(ws, ['check', 'k', '192.0.2.1'], {...env, KEYWARD_STORE: ws.store}).code).to.equal(0);
    }
    expect(ws.storeBytes(), 'nothing written').to.deep.equal(before);
  });

  it('a relative export --output is a usage error naming the missing folder; relative input files are usage errors too', () => {
    const ws = Workspace.create();
    expect(ws.run(['authorize', '192.0.2.0/24'], {now: NOW}).code).to.equal(0);
    const before = ws.storeBytes();
    const exported = inDeletedFolder(ws, ['export', '--output', 'out.txt', '--store', ws.store]);
    expect(exported.code, exported.stderr).to.equal(2);
    expect(exported.stderr).to.contain('--output `out.txt`').and.contain('which no longer exists').and.contain('nothing was written');
    for (const args of [
      ['authorize', '--file', 'list.txt'],
      ['learn', 'app.log'],
      ['sync', 'list.txt', '--dry-run'],
    ]) {
      const run = inDeletedFolder(ws, [...args, '--store', ws.store]);
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).to.equal(2);
      expect(run.stderr).not.to.contain('internal error');
    }
    expect(ws.storeBytes(), 'nothing written').to.deep.equal(before);
  });
});
