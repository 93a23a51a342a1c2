/**
 * Secrets: a key's secret appears on the stdout of `keys create` and `keys
 * rotate` and nowhere else: not in the store or any file beside it, not in any
 * other command's output, not in error messages, not in learn reports (a key
 * given as a secret is reported by its hint), not in --notify-command
 * payloads. Secrets are compared in constant time. The store, its lock folder
 * and its temporary files are private (0600 files, 0700 folders), whatever
 * the umask.
 */
import {readdirSync, readFileSync, statSync} from 'node:fs';
import path from 'node:path';

import {expect} from 'chai';

import {findKey, newKeyRecord} from '../../src/core/keys.js';
import {hashSecret, hintOf, newSecret, secretMatches} from '../../src/core/secret.js';
import {NOW, RunResult, Workspace} from '../cli/harness.js';
import {expectNoStackTrace, feed, ROOT, runStreamed, whenGone} from './helpers.js';

function variants(secret: string): string[] {
  return [secret, secret.toUpperCase(), secret.slice(0, 20), secret.slice(20)];
}

describe('reliability: secrets stay secret', function () {
  this.timeout(0);

  describe('in outputs, messages, reports and files', () => {
    let ws: Workspace;
    let billing: string;
    let relay: string;
    let old: string;
    let unknown: string;
    let secrets: string[];
    const outputs: Array<{what: string; run: RunResult}> = [];

    before(() => {
      ws = Workspace.create();
      const created = ws.run(['keys', 'create', 'billing', '--type', 'api', '--json'], {now: NOW});
      old = created.json().secret;
      const human = ws.run(['keys', 'create', 'relay', '--type', 'smtp', '--allow', '198.51.100.0/24'], {now: NOW});
      relay = human.stdout.trim();
      const rotated = ws.run(['keys', 'rotate', 'billing', '--yes', '--json'], {now: NOW});
      billing = rotated.json().secret;
      unknown = newSecret();
      secrets = [billing, relay, old, unknown];
      for (const s of secrets) expect(s).to.match(/^[0-9a-f]{40}$/);
      for (const [what, run, secret] of [
        ['keys create --json', created, old],
        ['keys create', human, relay],
        ['keys rotate --json', rotated, billing],
      ] as const) {
        expect(run.code, what).to.equal(0);
        expect(run.stdout, `${what} prints the secret on stdout`).to.contain(secret);
        for (const s of secrets) expect(run.stderr, `${what} stderr`).not.to.contain(s);
        for (const s of secrets.filter((x) => x !== secret)) expect(run.stdout, `${what} prints only its own secret`).not.to.contain(s);
      }
    });

    /** Runs a command whose output must hold no secret. */
    function run(what: string, args: string[], input?: string, env?: Record<string, string>): RunResult {
      const result = ws.run(args, {now: NOW, input, env});
      outputs.push({what, run: result});
      expectNoStackTrace(result.stderr, what);
      return result;
    }

    it("check takes a secret for a key and answers with the key's name", () => {
      const one = run('check SECRET ADDRESS --json', ['check', billing, '203.0.113.7', '--json']);
      expect(one.code).to.equal(0);
      expect(one.json()[0].key).to.equal('billing');
      const stream = run('check SECRET - --ndjson', ['check', billing, '-', '--ndjson'], '203.0.113.7\n10.0.0.1\n');
      expect(stream.ndjson().map((d) => d.key)).to.deep.equal(['billing', 'billing']);
      run('check SECRET (human)', ['check', relay, '198.51.100.5', '203.0.113.9']);
    });

    it('an old (rotated) or unknown secret is refused by its hint', () => {
      for (const [what, secret] of [
        ['rotated', old],
        ['unknown', unknown],
      ] as const) {
        const result = run(`check with a ${what} secret`, ['check', secret, '203.0.113.7']);
        expect(result.code).to.equal(2);
        expect(result.stderr).to.contain(hintOf(secret)).and.contain('matches no key');
      }
      expect(run('keys rotate UNKNOWN', ['keys', 'rotate', unknown, '--yes']).code).to.equal(2);
      expect(run('keys revoke UNKNOWN', ['keys', 'revoke', unknown, '--yes']).code).to.equal(2);
      expect(run('authorize --key UNKNOWN', ['authorize', '--key', unknown, '192.0.2.1']).code).to.equal(2);
    });

    it('a secret pasted where an address or a name belongs is not echoed back', () => {
      const entry = run('authorize SECRET', ['authorize', billing]);
      expect(entry.code).to.equal(2);
      expect(entry.stderr).to.contain(hintOf(billing));
      const line = run('authorize - with a secret line', ['authorize', '-'], `192.0.2.1\n${relay}\n`);
      expect(line.code).to.equal(2);
      expect(line.stderr).to.contain('line 2');
      const name = run('keys create SECRET', ['keys', 'create', billing, '--type', 'api']);
      expect(name.code).to.equal(2);
      expect(name.stderr).to.contain(hintOf(billing));
      const check = run('check KEY SECRET', ['check', 'billing', old]);
      expect(check.code).to.equal(2);
      const revoke = run('revoke SECRET', ['revoke', '--yes', relay]);
      expect(revoke.code).to.equal(2);
    });

    it('authorize, revoke and keys revoke take --key as a secret', () => {
      expect(run('authorize --key SECRET', ['authorize', '--key', billing, '192.0.2.0/24', '--json']).code).to.equal(0);
      expect(
        run('list --key SECRET', ['list', '--key', billing, '--json'])
          .json()
          .map((r: {entry: string}) => r.entry),
      ).to.deep.equal(['192.0.2.0/24']);
      expect(run('revoke --key SECRET', ['revoke', '--key', billing, '192.0.2.0/24', '--yes', '--force', '--json']).code).to.equal(0);
    });

    it('learn reports a key given as a secret by its hint: events, unknown keys, bad lines, strict errors, notifications', () => {
      const payloads = path.join(ws.dir, 'payloads.ndjson');
      const log = [
        `${billing} 203.0.113.7 ${NOW}`,
        `${unknown} 203.0.113.8 ${NOW}`,
        JSON.stringify({key: billing, ip: '203.0.113.9', at: NOW}),
        JSON.stringify({key: unknown, ip: '203.0.113.10', at: NOW}),
        `203.0.113.11 ${billing}`,
        `${billing} 203.0.113.12 not-a-time`,
        `${relay} 010.0.0.1`,
        `${old}`,
      ].join('\n');
      const human = run('learn (human)', ['learn', '-'], `${log}\n`);
      expect(human.code, human.stderr).to.equal(0);
      expect(human.stderr).to.contain(hintOf(unknown));
      const json = run('learn --json', ['learn', '--json', '--dry-run', '-'], `${log}\n`);
      expect(json.json()).to.include({unknownKeys: 2, badLines: 4});
      const strictUnknown = run('learn --strict, unknown secret', ['learn', '--strict', '-'], `${unknown} 203.0.113.8 ${NOW}\n`);
      expect(strictUnknown.code).to.equal(2);
      expect(strictUnknown.stderr).to.contain(hintOf(unknown));
      const strictSwapped = run('learn --strict, columns swapped', ['learn', '--strict', '-'], `203.0.113.11 ${billing}\n`);
      expect(strictSwapped.code).to.equal(2);

      // Blocked addresses: reports, the blocked list, and --notify-command payloads name the key, not the secret.
      expect(run('activate --smtp', ['activate', '--smtp', '--force']).code).to.equal(0);
      const blocked = run(
        "learn blocking a secret's traffic",
        ['learn', '--json', '--notify-command', `sh ${path.join(ROOT, 'test/fixtures/notify-recorder.sh')} ${payloads}`, '-'],
        `${relay} 192.0.2.200 ${NOW}\n`,
      );
      expect(blocked.code, blocked.stderr).to.equal(0);
      expect(blocked.json().blocked).to.deep.equal([{ip: '192.0.2.200', key: 'relay'}]);
      const payload = readFileSync(payloads, 'utf8');
      expect(JSON.parse(payload.trim())).to.include({key: 'relay', ip: '192.0.2.200'});
      for (const s of secrets) for (const v of variants(s)) expect(payload, 'a notification payload').not.to.contain(v);
    });

    it('a key field from a log is shown escaped: no terminal control sequence from a log reaches the terminal', () => {
      const evil = 'ev\u001b]0;pwned\u0007il\u009b2J\u202eyek';
      const report = run('learn with a hostile key field', ['learn', '--dry-run', '-'], `${evil} 203.0.113.7 ${NOW}\n`);
      expect(report.code).to.equal(0);
      expect(report.stderr).to.contain('ev\\u001b]0;pwned\\u0007il\\u009b2J\\u202eyek');
      const strict = run('learn --strict with a hostile key field', ['learn', '--strict', '-'], `${evil} 203.0.113.7 ${NOW}\n`);
      expect(strict.code).to.equal(2);
      for (const result of [report, strict]) expect(result.stderr).not.to.match(/[\u001b\u0007\u009b\u202e]/);
    });

    it('reading commands show hints at most', () => {
      for (const args of [['keys', 'list'], ['keys', 'list', '--json'], ['status'], ['status', '--json'], ['blocked'], ['blocked', '--json'], ['list'], ['list', '--json']]) {
        const result = run(args.join(' '), args);
        expect(result.code, result.stderr).to.equal(0);
      }
      const keys = ws.run(['keys', 'list', '--json']).json<Array<{name: string; hint: string}>>();
      expect(keys.map((k) => [k.name, k.hint])).to.deep.equal([
        ['billing', hintOf(billing)],
        ['relay', hintOf(relay)],
      ]);
    });

    after(() => {
      // The sweep: no output of any command above, and no file beside the store, holds any secret.
      expect(outputs.length).to.be.at.least(25);
      for (const {what, run: result} of outputs) {
        for (const s of secrets) {
          for (const v of variants(s)) {
            expect(result.stdout, `stdout of ${what}`).not.to.contain(v);
            expect(result.stderr, `stderr of ${what}`).not.to.contain(v);
          }
        }
      }
      for (const {file, bytes} of ws.allFiles()) {
        if (file.endsWith('payloads.ndjson')) continue;
        for (const s of secrets) for (const v of variants(s)) expect(bytes.includes(v), `${file} holds (part of) a secret`).to.equal(false);
      }
      const store = ws.storeJson();
      expect(store.keys.map((k: {hash: string}) => k.hash)).to.deep.equal([hashSecret(billing), hashSecret(relay)]);
    });
  });

  describe('comparison', () => {
    it("findKey compares a secret's hash with every key's through crypto.timingSafeEqual, with no early exit", () => {
      const secretSource = readFileSync(path.join(ROOT, 'src/core/secret.ts'), 'utf8');
      const matches = /export function secretMatches\([^)]*\)[^{]*\{([\s\S]*?)\n\}/.exec(secretSource);
      expect(matches, 'secretMatches is defined in src/core/secret.ts').to.not.equal(null);
      expect(matches![1]).to.contain('timingSafeEqual(');
      expect(matches![1], 'no string comparison of hashes').not.to.match(/===\s*storedHash|storedHash\s*===/);
      const keysSource = readFileSync(path.join(ROOT, 'src/core/keys.ts'), 'utf8');
      const loop = /for \(const (\w+) of keys\) ([^\n]*)/.exec(keysSource);
      expect(loop, 'findKey loops over every key').to.not.equal(null);
      expect(loop![2])
        .to.contain('secretMatches(')
        .and.not.to.match(/\b(return|break)\b/);
    });

    it('finds the key a secret belongs to among many, and no key for a near miss', () => {
      const now = new Date(NOW);
      const secrets = Array.from({length: 200}, () => newSecret());
      const keys = secrets.map((s, i) => newKeyRecord(`k${i}`, 'api', s, now));
      for (const i of [0, 57, 199]) expect(findKey(keys, secrets[i]).name).to.equal(`k${i}`);
      const nearMiss = secrets[57].slice(0, 39) + (secrets[57][39] === '0' ? '1' : '0');
      expect(() => findKey(keys, nearMiss)).to.throw(/matches no key/);
      expect(secretMatches(hashSecret(secrets[3]), keys[3].hash)).to.equal(true);
      expect(secretMatches(hashSecret(secrets[3]), keys[4].hash)).to.equal(false);
      expect(secretMatches('abcd', keys[4].hash), 'a hash of another length is no match, not an exception').to.equal(false);
    });
  });

  describe('file modes', () => {
    /** Runs keyward under umask 000, the worst a careless shell can give it. */
    function underUmask000(store: string, args: string[], input: string, watch?: (dir: string) => void, env: Record<string, string | undefined> = {}) {
      return runStreamed(store, args, {
        umask000: true,
        env: {KEYWARD_NOW: NOW, ...env},
        drive: async (child) => {
          const timer = watch ? setInterval(() => watch(path.dirname(store)), 1) : undefined;
          whenGone(child, () => clearInterval(timer));
          await feed(child, input);
          child.stdin!.end();
        },
      });
    }

    it('the store file, its new folder, its lock folder and its temporary file are private even under umask 000', async () => {
      const ws = Workspace.create();
      const store = path.join(ws.dir, 'new-folder', 'store.json');
      const modes = {lock: new Set<number>(), temporary: new Set<number>()};
      const seen = (dir: string) => {
        try {
          for (const name of readdirSync(dir)) {
            const full = path.join(dir, name);
            if (name === 'store.json.lock') modes.lock.add(statSync(full).mode & 0o777);
            if (name.endsWith('.tmp')) modes.temporary.add(statSync(full).mode & 0o777);
          }
        } catch {
          // The folder does not exist yet, or a file went while we looked.
        }
      };
      let input = '';
      for (let i = 0; i < 30_000; i++) input += `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}\n`;
      // v2: keyward makes its data directory (not a folder of a path given with --store or KEYWARD_STORE).
      const result = await underUmask000(store, ['authorize', '-'], input, seen, {KEYWARD_STORE: undefined, KEYWARD_DATA_DIR: path.dirname(store)});
      expect(result.code, result.stderr).to.equal(0);
      expect(statSync(store).mode & 0o777, 'the store').to.equal(0o600);
      expect(statSync(path.dirname(store)).mode & 0o777, 'the folder made for it').to.equal(0o700);
      expect([...modes.lock], 'the lock folder, seen while held').to.deep.equal([0o700]);
      // The temporary file lives for milliseconds: when it was seen it was 0600; either way the store,
      // which is that file renamed, is 0600 under umask 000, so it was created so.
      for (const mode of modes.temporary) expect(mode, 'the temporary file').to.equal(0o600);
      console.log(
        `      (lock folder seen ${modes.lock.size ? 'as 0700' : 'never'}; temporary file seen ${modes.temporary.size ? 'as 0600' : "never: proved by the store's own mode"})`,
      );
    });
  });
});
