/**
 * Issue 11, the store's items: what keyward trusts on disk. A missing store
 * is an error for a reader, never an empty store; a linked store is written
 * through; a command that changes nothing, and every dry run, writes
 * nothing and takes no lock; a timestamp without an offset is refused; the
 * index cache describes only the file keyward wrote, and a derived file
 * that is not a plausible regular file is ignored without hanging.
 */
import {spawnSync} from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';

import {expect} from 'chai';

import {BIN, environment, NOW, RunResult, Workspace} from '../cli/harness.js';

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();
const T0 = Date.parse(NOW);

interface EntrySpec {
  entry: string;
  source?: 'manual' | 'learned' | 'import' | 'blocked';
  label?: string | null;
  expiresAt?: string | null;
}

interface KeySpec {
  name: string;
  type: 'api' | 'smtp';
  status?: 'active' | 'revoked';
  allow?: EntrySpec[];
}

const record = (e: EntrySpec) => ({
  entry: e.entry,
  source: e.source ?? 'manual',
  label: e.label ?? null,
  addedAt: iso(T0 - DAY),
  expiresAt: e.expiresAt ?? null,
});

/** A version-1 store document written by hand (as an operator or a test would), not by keyward. */
export function storeDocument(options: {api?: 'learning' | 'active' | 'inactive'; smtp?: 'active' | 'inactive'; account?: EntrySpec[]; keys?: KeySpec[]}): any {
  const api = options.api ?? 'active';
  return {
    version: 1,
    settings: {learningWindowDays: 30, learnPrefixV4: 24, learnPrefixV6: 64, seenRetentionDays: 90},
    blocking: {
      api: {state: api, changedAt: iso(T0 - DAY), learningSince: api === 'learning' ? iso(T0 - DAY) : null, firstEventAt: null, lastNewAddressAt: null},
      smtp: {state: options.smtp ?? 'inactive', changedAt: iso(T0 - DAY)},
    },
    account: (options.account ?? []).map(record),
    keys: (options.keys ?? []).map((k, i) => ({
      name: k.name,
      type: k.type,
      hash: (i + 1).toString(16).padStart(64, 'a'),
      hint: 'aaaa…aaaa',
      status: k.status ?? 'active',
      createdAt: iso(T0 - DAY),
      rotatedAt: null,
      revokedAt: k.status === 'revoked' ? iso(T0 - DAY) : null,
      allow: (k.allow ?? []).map(record),
    })),
    blocked: [],
    seen: [],
  };
}

/** `count` single addresses in 10.0.0.0/8 with a long label: enough of them make a store of more than 1 MiB (the index cache's threshold). */
export function padding(count: number): EntrySpec[] {
  return Array.from({length: count}, (_, i) => ({
    entry: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    label: `padding so that the store is large enough for an index cache ${i}`,
  }));
}

const FAST = {};
const OCLIF = {KEYWARD_NO_FAST_PATH: '1'};

/** `check` through bin/run.js's fast path and through oclif: both must say the same. */
function checkBothPaths(ws: Workspace, args: string[], options: {now?: string; env?: Record<string, string | undefined>} = {}): RunResult {
  const fast = ws.run(['check', ...args], {now: options.now ?? NOW, env: {...options.env, ...FAST}});
  const oclif = ws.run(['check', ...args], {now: options.now ?? NOW, env: {...options.env, ...OCLIF}});
  expect({code: oclif.code, stdout: oclif.stdout}, 'the oclif path says what the fast path says').to.deep.equal({code: fast.code, stdout: fast.stdout});
  return fast;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForFile(file: string, timeoutMs = 20_000): Promise<void> {
  for (const end = Date.now() + timeoutMs; Date.now() < end; await sleep(5)) {
    if (existsSync(file)) return;
  }
  throw new Error(`${file} did not appear within ${timeoutMs} ms`);
}

/** Folders keyward left in the store's folder: a lock, a temporary file. */
const leftovers = (ws: Workspace, keep: string[]) => readdirSync(ws.dir).filter((n) => !keep.includes(n));

describe('issue 11: the store keyward trusts', function () {
  this.timeout(120_000);

  describe('item 3: the index cache describes the file keyward wrote, not a file that replaced it', () => {
    /**
     * A store of more than 1 MiB with blocking active, then `authorize
     * 192.0.2.0/24` paused (KEYWARD_TEST_PAUSE_AFTER_RENAME) right after its
     * rename; in that gap the store is replaced by one without the entry.
     * `check bot 192.0.2.1` must then be denied: allowed means a cache with
     * the authorize's data was trusted for the replacing file.
     */
    const replacements: Array<[string, (store: string, before: string) => void]> = [
      [
        "a new file renamed over the path (an editor's save)",
        (store, before) => {
          writeFileSync(`${store}.editor`, before);
          renameSync(`${store}.editor`, store);
        },
      ],
      [
        'the file rewritten in place with the same size',
        (store) => {
          const now = readFileSync(store, 'utf8');
          const edited = now.replaceAll('"192.0.2.0/24"', '"192.0.3.0/24"');
          expect(edited.length).to.equal(now.length);
          writeFileSync(store, edited);
        },
      ],
      [
        'the file removed and written again (git checkout)',
        (store, before) => {
          rmSync(store);
          writeFileSync(store, before);
        },
      ],
    ];
    for (const [what, replace] of replacements) {
      it(`item 3: ${what} between the rename and the identity is never answered from the cache`, async () => {
        const ws = Workspace.create();
        const before = `${JSON.stringify(storeDocument({api: 'active', account: padding(9000), keys: [{name: 'bot', type: 'api'}]}), null, 1)}\n`;
        ws.file('store.json', before);
        expect(statSync(ws.store).size).to.be.greaterThan(1 << 20);
        const hold = path.join(ws.dir, 'hold');
        mkdirSync(hold);
        const writing = ws.start(['authorize', '192.0.2.0/24'], {now: NOW, env: {KEYWARD_TEST_PAUSE_AFTER_RENAME: hold}});
        await waitForFile(path.join(hold, 'renamed'));
        expect(readFileSync(ws.store, 'utf8'), 'the write is renamed into place').to.contain('"192.0.2.0/24"');
        // A later tick than the write's own: a write in place must move the modification time.
        await sleep(20);
        replace(ws.store, before);
        writeFileSync(path.join(hold, 'resume'), '');
        const written = await writing;
        expect(written.code, written.stderr).to.equal(0);
        expect(readFileSync(ws.store, 'utf8')).to.not.contain('"192.0.2.0/24"');
        const check = checkBothPaths(ws, ['bot', '192.0.2.1', '--json']);
        expect(check.json()[0] ?? check.json(), 'the store as it is now has no 192.0.2.0/24').to.include({decision: 'deny', reason: 'not-authorized'});
        expect(check.code).to.equal(1);
      });
    }

    it('item 3: without a race the cache is written beside the large store, and decisions are the same', () => {
      const ws = Workspace.create();
      ws.file('store.json', JSON.stringify(storeDocument({api: 'active', account: padding(9000), keys: [{name: 'bot', type: 'api'}]})));
      expect(ws.run(['authorize', '192.0.2.0/24'], {now: NOW}).code).to.equal(0);
      expect(existsSync(`${ws.store}.cache`), 'a store over 1 MiB gets its cache').to.equal(true);
      const check = checkBothPaths(ws, ['bot', '192.0.2.1', '10.0.1.1', '10.0.99.1']);
      expect(
        check.stdout
          .split('\n')
          .filter(Boolean)
          .map((l) => l.split(/\s+/)[0]),
      ).to.deep.equal(['allow', 'allow', 'deny']);
    });
  });

  describe('item 4: a store timestamp without an offset is refused, not read in the local time zone', () => {
    const fields: Array<[string, (d: any) => void, RegExp]> = [
      ["an entry's expiresAt", (d) => (d.account[0].expiresAt = '2026-06-15T12:00'), /account\[0\]\.expiresAt has no time zone offset/],
      ["a key list entry's addedAt", (d) => (d.keys[0].allow[0].addedAt = '2026-01-01T00:00:00'), /keys\[0\]\.allow\[0\]\.addedAt has no time zone offset/],
      ["the api channel's changedAt (a date alone)", (d) => (d.blocking.api.changedAt = '2025-12-31'), /blocking\.api\.changedAt has no time zone offset/],
    ];
    for (const [what, edit, says] of fields) {
      it(`item 4: ${what} without Z or an offset: exit 3 naming the field, under every TZ, on every path`, () => {
        const ws = Workspace.create();
        const document = storeDocument({
          api: 'active',
          account: [{entry: '192.0.2.0/24', expiresAt: '2026-06-15T12:00:00Z'}],
          keys: [{name: 'bot', type: 'api', allow: [{entry: '192.0.2.0/24'}]}],
        });
        edit(document);
        ws.file('store.json', JSON.stringify(document, null, 2));
        const bytes = ws.storeBytes();
        for (const TZ of ['UTC', 'Asia/Tokyo', 'America/Los_Angeles']) {
          // Both paths under one zone, the fast path under every zone (the paths read the store alike: the oclif one is the slower).
          const options = {now: '2026-06-15T06:00:00Z', env: {TZ}};
          const check =
            TZ === 'Asia/Tokyo' ? checkBothPaths(ws, ['bot', '192.0.2.1'], options) : ws.run(['check', 'bot', '192.0.2.1'], {...options, env: {...options.env, ...FAST}});
          expect(check.code, `${TZ}: ${check.stderr}`).to.equal(3);
          expect(check.stderr).to.match(says).and.contain(ws.store);
        }
        for (const args of [['list'], ['status'], ['authorize', '198.51.100.1']]) {
          const run = ws.run(args, {now: '2026-06-15T06:00:00Z', env: {TZ: 'Asia/Tokyo'}});
          expect(run.code, args.join(' ')).to.equal(3);
          expect(run.stderr).to.match(says).and.contain(ws.store);
        }
        expect(ws.storeBytes(), 'the file is left as it was').to.deep.equal(bytes);
      });
    }

    it('item 4: times with Z or an offset are read as the same instant under every TZ', () => {
      const ws = Workspace.create();
      const document = storeDocument({
        api: 'active',
        account: [
          {entry: '192.0.2.0/24', expiresAt: '2026-06-15T21:00:00+09:00'},
          {entry: '198.51.100.0/24', expiresAt: '2026-06-15T12:00:00.000z'},
        ],
        keys: [{name: 'bot', type: 'api'}],
      });
      ws.file('store.json', JSON.stringify(document));
      for (const TZ of ['UTC', 'Asia/Tokyo']) {
        expect(checkBothPaths(ws, ['bot', '192.0.2.1', '198.51.100.1'], {now: '2026-06-15T11:59:59Z', env: {TZ}}).code).to.equal(0);
        expect(checkBothPaths(ws, ['bot', '192.0.2.1'], {now: '2026-06-15T12:00:01Z', env: {TZ}}).code).to.equal(1);
        expect(checkBothPaths(ws, ['bot', '198.51.100.1'], {now: '2026-06-15T12:00:01Z', env: {TZ}}).code).to.equal(1);
      }
    });
  });

  describe('item 7: a mistyped store path is an error, not an empty store', () => {
    const readers: string[][] = [
      ['check', 'bot', '192.0.2.1'],
      ['list'],
      ['status'],
      ['status', '--json'],
      ['blocked'],
      ['history'],
      ['export'],
      ['keys', 'list'],
      ['authorize', '192.0.2.1', '--dry-run'],
      ['revoke', '192.0.2.1', '--dry-run'],
      ['learn', '-', '--dry-run'],
      ['prune', '--dry-run'],
      ['sync', '-', '--dry-run'],
    ];
    it('item 7: every reading command and every --dry-run exits 3 "no store at PATH", saying how to create one, and creates nothing', () => {
      const ws = Workspace.create();
      const typo = path.join(ws.dir, 'stor.json');
      for (const args of readers) {
        for (const env of args[0] === 'check' ? [FAST, OCLIF] : [FAST]) {
          // --store, and for check and status also KEYWARD_STORE.
          for (const given of args[0] === 'check' || args[0] === 'status' ? [['--store', typo], []] : [['--store', typo]]) {
            const input = args[0] === 'learn' ? `bot 192.0.2.1 ${NOW}\n` : '192.0.2.1\n';
            const run = ws.run([...args, ...given], {now: NOW, input, env: {...env, KEYWARD_STORE: given.length > 0 ? undefined : typo}});
            const what = `${args.join(' ')} ${given.join(' ')} ${JSON.stringify(env)}`;
            expect(run.code, `${what}\n${run.stderr}`).to.equal(3);
            expect(run.stderr, what)
              .to.contain(`no store at ${typo}`)
              .and.match(/created by the first command that writes one/);
          }
        }
      }
      expect(readdirSync(ws.dir), 'nothing was created').to.deep.equal([]);
    });

    it('item 7: a writing command creates no missing folder of a path the operator gave (--store or KEYWARD_STORE): exit 3', () => {
      const ws = Workspace.create();
      const nested = path.join(ws.dir, 'nope', 'sub', 'store.json');
      for (const [args, env] of [
        [['authorize', '192.0.2.1', '--store', nested], {}],
        [['authorize', '192.0.2.1'], {KEYWARD_STORE: nested}],
        [['keys', 'create', 'bot', '--type', 'api'], {KEYWARD_STORE: nested}],
        // Commands that change what is there: before, the plan of an empty store refused with exit 2 ("not in the account list").
        [['revoke', '192.0.2.1', '--store', nested], {}],
        [['keys', 'rotate', 'bot', '--yes'], {KEYWARD_STORE: nested}],
        [['keys', 'revoke', 'bot', '--yes', '--store', nested], {}],
        [['enable', '192.0.2.1', '--store', nested], {}],
      ] as const) {
        const run = ws.run(args, {now: NOW, env});
        expect(run.code, run.stderr).to.equal(3);
        expect(run.stderr).to.contain(`no folder ${path.dirname(nested)}`);
      }
      expect(readdirSync(ws.dir)).to.deep.equal([]);
    });

    it('item 7: a writing command creates the store, and the default data directory', () => {
      const ws = Workspace.create();
      const data = path.join(ws.dir, 'xdg');
      const env = {KEYWARD_STORE: undefined, XDG_DATA_HOME: data, HOME: ws.dir};
      const status = ws.run(['status'], {now: NOW, env});
      expect(status.code, 'no store yet: status refuses').to.equal(3);
      expect(ws.run(['authorize', '192.0.2.1'], {now: NOW, env}).code).to.equal(0);
      const store = path.join(data, 'keyward', 'store.json');
      expect(existsSync(store)).to.equal(true);
      expect(statSync(path.dirname(store)).mode & 0o077, 'the new data directory is private').to.equal(0);
      expect(ws.run(['authorize', '192.0.2.2', '--store', path.join(ws.dir, 'here.json')], {now: NOW}).code, 'a store in an existing folder').to.equal(0);
    });

    it('item 7: status names the store it read, in its human output and as "store" in --json', () => {
      const ws = Workspace.create();
      expect(ws.run(['authorize', '192.0.2.1'], {now: NOW}).code).to.equal(0);
      const human = ws.run(['status'], {now: NOW});
      expect(human.code).to.equal(0);
      expect(human.stdout.split('\n')[0]).to.equal(`store ${ws.store}`);
      expect(ws.run(['status', '--json'], {now: NOW}).json().store).to.equal(ws.store);
      const viaLink = path.join(ws.dir, 'relative.json');
      symlinkSync('store.json', viaLink);
      expect(ws.run(['status', '--json', '--store', 'relative.json'], {now: NOW}).json().store, 'as an absolute path').to.equal(viaLink);
    });
  });

  describe('item 8: a symlinked store is written through to its target', () => {
    it('item 8: authorize through a link changes the target, and the link stays a link', () => {
      const ws = Workspace.create();
      mkdirSync(path.join(ws.dir, 'real'));
      const target = path.join(ws.dir, 'real', 'store.json');
      expect(ws.run(['authorize', '192.0.2.1', '--store', target], {now: NOW}).code).to.equal(0);
      symlinkSync('real/store.json', ws.store);
      expect(ws.run(['authorize', '198.51.100.0/24'], {now: NOW}).code).to.equal(0);
      expect(lstatSync(ws.store).isSymbolicLink(), 'the link is still a link').to.equal(true);
      expect(readlinkSync(ws.store)).to.equal('real/store.json');
      expect(readFileSync(target, 'utf8')).to.contain('"198.51.100.0/24"');
      expect(statSync(target).mode & 0o777).to.equal(0o600);
      expect(
        ws
          .run(['list', '--json', '--store', target], {now: NOW})
          .json()
          .map((r: any) => r.entry),
      ).to.deep.equal(['192.0.2.1', '198.51.100.0/24']);
      expect(readdirSync(ws.dir).sort(), 'no lock or temporary file beside the link').to.deep.equal(['real', 'store.json']);
    });

    it('item 8: a dangling link names the store to create', () => {
      const ws = Workspace.create();
      symlinkSync('made.json', ws.store);
      expect(ws.run(['authorize', '192.0.2.1'], {now: NOW}).code).to.equal(0);
      expect(lstatSync(ws.store).isSymbolicLink()).to.equal(true);
      expect(readFileSync(path.join(ws.dir, 'made.json'), 'utf8')).to.contain('"192.0.2.1"');
    });

    it('item 8: two links to one store share one lock: writers through both lose nothing', async () => {
      const ws = Workspace.create();
      const target = path.join(ws.dir, 'store.real.json');
      expect(ws.run(['authorize', '192.0.2.1', '--store', target], {now: NOW}).code).to.equal(0);
      symlinkSync('store.real.json', path.join(ws.dir, 'a.json'));
      mkdirSync(path.join(ws.dir, 'other'));
      symlinkSync('../store.real.json', path.join(ws.dir, 'other', 'b.json'));
      // The target's lock, held: a writer through either link waits on it (and gives up at once with a 0 ms timeout).
      mkdirSync(`${target}.lock`);
      for (const link of ['a.json', 'other/b.json']) {
        const run = ws.run(['authorize', '198.51.100.1', '--store', link], {now: NOW, env: {KEYWARD_LOCK_TIMEOUT_MS: '0'}});
        expect(run.code, `${link}: ${run.stderr}`).to.equal(3);
        expect(run.stderr).to.match(/locked by another keyward process/);
      }
      rmSync(`${target}.lock`, {recursive: true});
      const writers = Array.from({length: 8}, (_, i) => ws.start(['authorize', `203.0.113.${i + 1}`, '--store', i % 2 === 0 ? 'a.json' : 'other/b.json'], {now: NOW}));
      for (const run of await Promise.all(writers)) expect(run.code, run.stderr).to.equal(0);
      const entries = ws
        .run(['list', '--json', '--store', target], {now: NOW})
        .json()
        .map((r: any) => r.entry);
      expect(entries).to.have.length(9);
      expect(lstatSync(path.join(ws.dir, 'a.json')).isSymbolicLink() && lstatSync(path.join(ws.dir, 'other', 'b.json')).isSymbolicLink()).to.equal(true);
    });
  });

  describe('item 12: a derived file that is not a plausible regular file is ignored, never waited on', () => {
    const traps: Array<[string, (cache: string) => void]> = [
      ['a FIFO', (cache) => expect(spawnSync('mkfifo', [cache]).status).to.equal(0)],
      ['a symbolic link to /dev/zero', (cache) => symlinkSync('/dev/zero', cache)],
      ['a symbolic link to a valid cache elsewhere', (cache) => symlinkSync(path.join(path.dirname(cache), 'elsewhere', 'store.json.cache'), cache)],
      ['a directory', (cache) => mkdirSync(cache)],
      [
        'an absurdly large (sparse) file',
        (cache) => {
          writeFileSync(cache, '');
          truncateSync(cache, 3 * 2 ** 30);
        },
      ],
    ];
    for (const [what, plant] of traps) {
      it(`item 12: STORE.cache that is ${what}: check answers from the store at once, and a write replaces it`, async () => {
        const ws = Workspace.create();
        const document = storeDocument({api: 'active', account: padding(9000), keys: [{name: 'bot', type: 'api'}]});
        // A valid cache, of another store with an extra entry, for the link to point at.
        const elsewhere = path.join(ws.dir, 'elsewhere', 'store.json');
        mkdirSync(path.dirname(elsewhere));
        writeFileSync(elsewhere, JSON.stringify(document));
        expect(ws.run(['authorize', '192.0.2.0/24', '--store', elsewhere], {now: NOW}).code).to.equal(0);
        expect(existsSync(`${elsewhere}.cache`)).to.equal(true);
        ws.file('store.json', JSON.stringify(document));
        plant(`${ws.store}.cache`);
        const check = checkBothPaths(ws, ['bot', '192.0.2.1', '10.0.0.1'], {env: {}});
        expect(
          check.stdout
            .split('\n')
            .filter(Boolean)
            .map((l) => l.split(/\s+/)[0]),
        ).to.deep.equal(['deny', 'allow']);
        const write = await ws.start(['authorize', '198.51.100.1'], {now: NOW, timeoutMs: 20_000});
        expect(write.code, write.stderr).to.equal(0);
        expect(checkBothPaths(ws, ['bot', '198.51.100.1', '192.0.2.1']).code).to.equal(1);
        const cache = lstatSync(`${ws.store}.cache`, {throwIfNoEntry: false});
        if (cache !== undefined && !cache.isDirectory()) expect(cache.isFile(), 'the write replaced it with a regular file').to.equal(true);
      });
    }

    it('item 12: status on a store keyward wrote, its cache then made each of these: answers at once what a read of the whole file says, on both paths', async () => {
      const ws = Workspace.create();
      ws.file('store.json', JSON.stringify(storeDocument({api: 'active', account: padding(9000), keys: [{name: 'bot', type: 'api'}]})));
      expect(ws.run(['authorize', '192.0.2.0/24', '--expires', '30d'], {now: NOW}).code).to.equal(0);
      const cache = `${ws.store}.cache`;
      expect(existsSync(cache), 'a large store keyward wrote has a cache').to.equal(true);
      // The oracle: the same file with no cache beside it (a copy: its identity is another), read whole.
      const copy = path.join(ws.dir, 'copy', 'store.json');
      mkdirSync(path.dirname(copy));
      copyFileSync(ws.store, copy);
      const answer = (run: RunResult) => ({code: run.code, status: {...JSON.parse(run.stdout), store: null}});
      const expected = answer(await ws.start(['status', '--json', '--store', copy], {now: NOW, timeoutMs: 20_000}));
      expect(expected.status.counts.accountEntries).to.equal(9001);
      const elsewhere = path.join(ws.dir, 'elsewhere.cache');
      copyFileSync(cache, elsewhere);
      for (const [what, plant] of traps) {
        rmSync(cache, {recursive: true, force: true});
        // (The link to "a valid cache elsewhere" points at this store's own cache, moved aside.)
        if (what.includes('valid cache')) symlinkSync(elsewhere, cache);
        else plant(cache);
        for (const env of [FAST, OCLIF]) {
          const run = await ws.start(['status', '--json'], {now: NOW, env, timeoutMs: 20_000});
          expect(answer(run), `${what} ${JSON.stringify(env)}: ${run.stderr}`).to.deep.equal(expected);
        }
      }
    });

    it('item 12: a store path that is a FIFO is refused at once (exit 3), not waited on', async () => {
      const ws = Workspace.create();
      expect(spawnSync('mkfifo', [ws.store]).status).to.equal(0);
      for (const env of [FAST, OCLIF]) {
        const run = await ws.start(['check', 'bot', '192.0.2.1'], {now: NOW, env, timeoutMs: 20_000});
        expect(run.code, run.stderr).to.equal(3);
        expect(run.stderr).to.contain('is not a regular file');
      }
      const write = await ws.start(['authorize', '192.0.2.1'], {now: NOW, timeoutMs: 20_000});
      expect(write.code, write.stderr).to.equal(3);
      expect(lstatSync(ws.store).isFIFO()).to.equal(true);
    });
  });

  describe('item 15: dry runs take no lock and write nothing; a command that changes nothing writes nothing', () => {
    const dryRuns: string[][] = [
      ['authorize', '192.0.2.0/24', '--dry-run'],
      ['revoke', '198.51.100.1', '--dry-run'],
      ['learn', '-', '--dry-run'],
      ['prune', '--dry-run'],
      ['sync', '-', '--dry-run'],
    ];
    const input = (args: string[]) => (args[0] === 'learn' ? `bot 203.0.113.9 ${NOW}\n` : args[0] === 'sync' ? '192.0.2.0/24\n' : undefined);

    function seeded(): Workspace {
      const ws = Workspace.create();
      expect(ws.run(['keys', 'create', 'bot', '--type', 'api'], {now: NOW}).code).to.equal(0);
      expect(ws.run(['authorize', '198.51.100.1', '203.0.113.0/28', '--expires', '1d'], {now: NOW}).code).to.equal(0);
      return ws;
    }

    it('item 15: every --dry-run succeeds while another process holds the lock', () => {
      const ws = seeded();
      mkdirSync(`${ws.store}.lock`);
      const bytes = ws.storeBytes();
      const mtime = statSync(ws.store, {bigint: true}).mtimeNs;
      for (const args of dryRuns) {
        const run = ws.run(args, {now: NOW, input: input(args), env: {KEYWARD_LOCK_TIMEOUT_MS: '0'}});
        expect(run.code, `${args.join(' ')}: ${run.stderr}`).to.be.oneOf([0, 1]);
        expect(run.stderr).to.not.match(/\block(ed)?\b/);
      }
      expect(ws.storeBytes()).to.deep.equal(bytes);
      expect(statSync(ws.store, {bigint: true}).mtimeNs).to.equal(mtime);
    });

    it('item 15: every --dry-run works on a read-only store in a read-only folder', function () {
      const ws = seeded();
      const ro = path.join(ws.dir, 'ro');
      mkdirSync(ro);
      const store = path.join(ro, 'store.json');
      writeFileSync(store, ws.storeBytes()!);
      chmodSync(store, 0o444);
      chmodSync(ro, 0o555);
      chmodSync(ws.dir, 0o755);
      // As root, modes do not stop a write: run keyward as nobody then (setpriv), else as ourselves.
      const asRoot = process.getuid?.() === 0;
      if (asRoot && spawnSync('setpriv', ['--version']).status !== 0) this.skip();
      const home = path.join(ws.dir, 'home');
      mkdirSync(home);
      chmodSync(home, 0o777);
      try {
        for (const args of dryRuns) {
          const env = environment(store, {now: NOW, env: {HOME: home}});
          const command = asRoot ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, ...args] : [process.execPath, BIN, ...args];
          const run = spawnSync(command[0], command.slice(1), {env, input: input(args) ?? '', encoding: 'utf8', timeout: 30_000, cwd: ws.dir});
          expect(run.status, `${args.join(' ')}: ${run.stderr}`).to.be.oneOf([0, 1]);
          // Proof that the run could not have written: a writing command fails here.
          if (args[0] === 'authorize') {
            const write = spawnSync(command[0], command.slice(1, -1), {env, encoding: 'utf8', timeout: 30_000, cwd: ws.dir});
            expect(write.status, 'a real write is refused on this folder').to.equal(3);
          }
        }
        expect(readdirSync(ro)).to.deep.equal(['store.json']);
      } finally {
        chmodSync(ro, 0o755);
      }
    });

    it("item 15: a no-op authorize leaves the store's bytes and modification time as they were, also on a hand-written store", async () => {
      const ws = seeded();
      const noOps: string[][] = [['authorize', '198.51.100.1'], ['authorize', '203.0.113.0/28'], ['prune'], ['deactivate', '--smtp', '--yes']];
      const check = async (what: string) => {
        const bytes = ws.storeBytes();
        const mtime = statSync(ws.store, {bigint: true}).mtimeNs;
        await sleep(20);
        for (const args of noOps) {
          const run = ws.run(args, {now: NOW});
          expect(run.code, `${args.join(' ')}: ${run.stderr}`).to.equal(0);
        }
        expect(ws.storeBytes(), what).to.deep.equal(bytes);
        expect(statSync(ws.store, {bigint: true}).mtimeNs, what).to.equal(mtime);
        expect(leftovers(ws, ['store.json']), what).to.deep.equal([]);
      };
      await check('a store keyward wrote');
      // The same store written by hand: keys reordered, other whitespace. Nothing to change, so it stays as written.
      const document = ws.storeJson();
      const reordered = Object.fromEntries(Object.entries(document).reverse());
      writeFileSync(ws.store, JSON.stringify(reordered, null, '\t'));
      await check('a store written by hand');
      // A real change is still written.
      expect(ws.run(['authorize', '192.0.2.7'], {now: NOW}).code).to.equal(0);
      expect(ws.storeJson().account.map((r: any) => r.entry)).to.include('192.0.2.7');
    });

    it('item 15: on a large store (an index cache beside it, its account list read only when asked) a no-op writes neither the store nor its cache', async () => {
      // Found by an outside tester (round 15): a one-entry authorize of an entry the list held read the list it had
      // deferred, and wrote the same bytes again (a new file, a new modification time, the cache rewritten).
      const ws = Workspace.create();
      const entries = Array.from({length: 12_000}, (_, i) => `10.${i >> 8}.${i & 255}.0/24\n`).join('');
      expect(ws.run(['authorize', '-', '-q'], {now: NOW, input: entries}).code).to.equal(0);
      const cache = `${ws.store}.cache`;
      expect(existsSync(cache), 'a store this large has a cache').to.equal(true);
      const identity = () => [ws.store, cache].map((f) => statSync(f, {bigint: true})).map((s) => [s.ino, s.mtimeNs, s.size]);
      const bytes = ws.storeBytes();
      const before = identity();
      await sleep(20);
      for (const args of [['authorize', '10.0.5.0/24'], ['authorize', '10.46.127.0/24', '--json'], ['enable', '10.1.1.0/24'], ['prune'], ['deactivate', '--smtp', '--yes']]) {
        const run = ws.run(args, {now: NOW});
        expect(run.code, `${args.join(' ')}: ${run.stderr}`).to.equal(0);
        expect(identity(), `${args.join(' ')} wrote`).to.deep.equal(before);
      }
      expect(ws.storeBytes()).to.deep.equal(bytes);
      // A real change of one entry is still written, and read back.
      expect(ws.run(['authorize', '10.0.5.0/24', '--label', 'office'], {now: NOW}).code).to.equal(0);
      expect(ws.storeJson().account.find((r: {entry: string}) => r.entry === '10.0.5.0/24').label).to.equal('office');
    });

    it('item 15: a no-op on a missing store creates nothing', () => {
      const ws = Workspace.create();
      for (const args of [['prune'], ['deactivate', '--smtp', '--yes']]) {
        const run = ws.run(args, {now: NOW});
        expect(run.code, run.stderr).to.equal(0);
      }
      expect(readdirSync(ws.dir)).to.deep.equal([]);
    });
  });

  describe('a read another program cut across, and bytes that are not UTF-8 (issue 15, round 9)', () => {
    /**
     * A store whose one entry is labelled `aaaa`, listed with `list --json` held at each of its reads of the store (a
     * test-only pause); in the gap after each of the first `writes` reads, the store is written in place (the same file,
     * the same size, as an editor that saves in place writes it) with the label the next of LABELS, and the read goes on.
     */
    async function listWrittenDuringReads(writes: number): Promise<RunResult> {
      const ws = Workspace.create();
      expect(ws.run(['authorize', '192.0.2.0/24', '--label', 'aaaa'], {now: NOW}).code).to.equal(0);
      const text = readFileSync(ws.store, 'utf8');
      const folder = mkdtempSync(path.join(ws.dir, 'hold-'));
      const mark = path.join(folder, 'read');
      const listing = ws.start(['list', '--json'], {now: NOW, env: {KEYWARD_TEST_PAUSE_STORE_READ: folder}});
      for (let read = 0; read < writes; read++) {
        await waitForFile(mark);
        rmSync(mark);
        writeFileSync(ws.store, text.replace('"aaaa"', `"${LABELS[read]}"`));
        writeFileSync(path.join(folder, 'resume'), '');
      }
      // The read after the last write, if there is one: let it go on.
      if (writes < TORN_READS) {
        await waitForFile(mark);
        writeFileSync(path.join(folder, 'resume'), '');
      }
      return listing;
    }
    const LABELS = ['bbbb', 'cccc', 'dddd'];
    const TORN_READS = 3;

    it('reads a store again when a write in place moved it during the read: the version written, never the one before or a mix', async () => {
      for (const writes of [1, 2]) {
        const listed = await listWrittenDuringReads(writes);
        expect(listed.code, listed.stderr).to.equal(0);
        expect((listed.json() as {label: string}[]).map((r) => r.label)).to.deep.equal([LABELS[writes - 1]]);
      }
    });

    it('refuses a store written in place during each of three reads (exit 3), listing nothing', async () => {
      const listed = await listWrittenDuringReads(TORN_READS);
      expect(listed.code).to.equal(3);
      expect(listed.json()).to.have.keys('error');
      expect(listed.stdout).to.contain(`changed while it was read, ${TORN_READS} times`);
    });

    it('never vouches for a store whose bytes are not UTF-8: its listing is what a whole read says', async () => {
      const ws = Workspace.create();
      let lines = '';
      for (let i = 0; i < 12_000; i++) lines += `100.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255} # customer ${i}\n`;
      expect(ws.run(['authorize', '-'], {now: NOW, input: lines, timeoutMs: 180_000}).code).to.equal(0);
      expect(statSync(ws.store).size, 'large enough for a cache').to.be.above(1 << 20);
      // A hand edit puts a byte that is not UTF-8 in a label (the same size); a command that changes nothing then looks at it.
      const bytes = readFileSync(ws.store);
      const at = bytes.indexOf('"customer 10"');
      bytes[at + 5] = 0xff;
      writeFileSync(ws.store, bytes);
      expect(ws.run(['prune'], {now: NOW}).code).to.equal(0);
      // The bytes printed (a text decoded from them would read a stray byte as U+FFFD too).
      const list = (env: NodeJS.ProcessEnv) => spawnSync('node', [BIN, 'list', '--json'], {env: {...environment(ws.store, {now: NOW}), ...env}, maxBuffer: 1 << 28});
      const fast = list({});
      const whole = list({KEYWARD_NO_FAST_PATH: '1'});
      expect(fast.status, fast.stderr.toString()).to.equal(0);
      expect(fast.stdout.includes(Buffer.from('"cust\ufffdmer 10"')), 'the byte read as U+FFFD, written as UTF-8').to.equal(true);
      expect(fast.stdout.equals(whole.stdout), "the listing is the whole read's, byte for byte").to.equal(true);
    });
  });

  describe('item 14: a system error names its code once', () => {
    it('item 14: a store that is a directory, a data directory that is a file: no "EISDIR: EISDIR:"-like doubling', () => {
      const ws = Workspace.create();
      mkdirSync(path.join(ws.dir, 'dir.json'));
      const file = ws.file('afile', 'x');
      const runs: RunResult[] = [
        ws.run(['list', '--store', 'dir.json'], {now: NOW}),
        ws.run(['authorize', '192.0.2.1', '--store', 'dir.json'], {now: NOW}),
        ws.run(['check', 'bot', '192.0.2.1', '--store', 'dir.json'], {now: NOW}),
        ws.run(['authorize', '192.0.2.1'], {now: NOW, env: {KEYWARD_STORE: undefined, KEYWARD_DATA_DIR: file}}),
        ws.run(['authorize', '192.0.2.1', '--store', path.join(file, 'store.json')], {now: NOW}),
      ];
      for (const run of runs) {
        expect(run.code, run.stderr).to.equal(3);
        expect(run.stderr).to.not.match(/\b(E[A-Z]+): \1\b/);
      }
      expect(runs[0].stderr).to.contain('is not a regular file');
      expect(runs[3].stderr).to.match(/\((E[A-Z]+): /);
    });
  });
});
