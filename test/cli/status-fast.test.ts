/**
 * `status`'s fast path (bin/run.js → dist/status-fast.cjs, the bundle of
 * src/cli/status/run.ts, without oclif) against the oclif command
 * (KEYWARD_NO_FAST_PATH=1): the same stdout, stderr and exit code over
 * command lines, stores, clocks and colour settings; command lines it is not
 * sure of go to oclif. On a large store keyward wrote, status reads only the
 * file's head and what follows the account list (the cache counts the list):
 * it must say what a read of the whole file says, also when what follows the
 * list is larger than its first read of the end.
 */
import {spawnSync} from 'node:child_process';
import {chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {expect} from 'chai';

import {parseReadArgv} from '../../src/cli/plain-argv.js';
import {indexCacheFile} from '../../src/store/index-cache.js';
import {Case, matrix, unreadableStores} from './fast-path-harness.js';
import {BIN, daysAfter, NOW, RunResult, Workspace} from './harness.js';

const ok = (result: RunResult) => {
  expect(result.code, result.stderr).to.equal(0);
  return result;
};

/** Writes to a store of 1 MiB take a few seconds, and many times that on a busy machine. */
const WRITE_TIMEOUT_MS = 180_000;

/**
 * Keys (api, smtp, revoked), entries, API blocking on, and `events` learn
 * events from distinct unknown addresses: each is refused, put on the
 * blocked list and recorded as seen (so status has latest blocked addresses
 * to show).
 */
function populate(ws: Workspace, entries: number, events: number): void {
  const run = (args: string[], input?: string) => ok(ws.run(args, {now: NOW, input, timeoutMs: WRITE_TIMEOUT_MS}));
  let bulk = '';
  for (let i = 0; i < entries; i++) bulk += `100.${64 + ((i >> 16) & 63)}.${(i >> 8) & 255}.${i & 255}${i % 10 === 0 ? ` # customer ${i}` : ''}\n`;
  run(['authorize', '-'], bulk);
  run(['authorize', '10.1.0.0/16', '--label', 'office', '--expires', '30d']);
  run(['keys', 'create', 'ci', '--type', 'api']);
  run(['keys', 'create', 'relay', '--type', 'smtp', '--allow', '198.51.100.0/24']);
  run(['keys', 'create', 'old', '--type', 'api']);
  run(['keys', 'revoke', 'old', '--yes']);
  run(['activate', '--api', '--force']);
  let log = '';
  for (let i = 0; i < events; i++) log += `ci 203.${i >> 16}.${(i >> 8) & 255}.${i & 255} ${NOW}\n`;
  if (events > 0) run(['learn', '-'], log);
}

const store = (file: string) => ['--store', file];

describe('keyward status: the fast path', function () {
  this.timeout(600_000);

  describe('gives what the oclif command gives', () => {
    const ws = Workspace.create();
    before(() => populate(ws, 20, 30));

    it('over command lines, clocks, store paths and colour settings', async () => {
      // A path that must be quoted in the ways out status prints (`--store '...'`).
      const quoted = path.join(ws.dir, "it's a store.json");
      copyFileSync(ws.store, quoted);
      const later = daysAfter(NOW, 40);
      const cases: Case[] = [
        {args: ['status']},
        {args: ['status', '--json']},
        {args: ['status'], options: {now: later}},
        {args: ['status', '--json'], options: {now: later}},
        {args: ['status', ...store(quoted)]},
        {args: ['status', `--store=${quoted}`, '--json']},
        {args: ['status', '--json', ...store(ws.store)]},
        {args: ['--store', ws.store, 'status']},
        {args: ['--json', 'status']},
        {args: ['status'], options: {now: 'yesterday'}},
        {args: ['status', '--json'], options: {now: 'yesterday'}},
        {args: ['status'], options: {env: {NO_COLOR: undefined, FORCE_COLOR: '1'}}},
        {args: ['status'], options: {env: {NO_COLOR: '', FORCE_COLOR: '0'}}},
      ];
      const runs = await matrix(ws, cases);
      expect(runs[0].stdout).to.match(/latest blocked:\n {2}203\.0\.0\.\d+ {2}key ci \(api\)/);
      expect(runs[4].stdout).to.contain(`store ${quoted}`);
    });

    it('for a store that is missing, corrupt, a folder, newer, or not a store', async () => {
      const files = unreadableStores(ws);
      // Each store once, with and without --json in turn (the two forms of one failure are one path's).
      await matrix(
        ws,
        files.map((file, i) => ({args: ['status', ...(i % 2 === 0 ? ['--json'] : []), ...store(file)]})),
      );
      await matrix(ws, [{args: ['status', ...store(files[0])]}]);
      await matrix(ws, [{args: ['status'], options: {env: {KEYWARD_STORE: files[0]}}}]);
    });

    it('hands help, unknown, repeated or valueless flags, arguments and `--` to oclif', async () => {
      await matrix(
        ws,
        [
          {args: ['status', '--help']},
          {args: ['status', '-h']},
          {args: ['status', 'extra']},
          {args: ['status', '--json', '--json']},
          {args: ['status', '--store', '--json']},
          {args: ['status', ...store(ws.store), ...store(ws.store)]},
          {args: ['status', '--quiet']},
          {args: ['status', '']},
        ],
        false,
      );
    });
  });

  it('with no home folder to find ($HOME unset, a uid without a user entry): a store error on both paths, or the named store read (skipped unless root with setpriv)', function () {
    if (process.getuid?.() !== 0 || spawnSync('setpriv', ['--version']).status !== 0) this.skip();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'keyward-nohome-'));
    chmodSync(dir, 0o755);
    const file = path.join(dir, 'store.json');
    writeFileSync(file, '{"version": 2}', {mode: 0o644});
    const run = (args: string[], env: Record<string, string>) => {
      const child = spawnSync(
        'setpriv',
        [
          '--reuid',
          '54321',
          '--regid',
          '54321',
          '--clear-groups',
          'env',
          '-u',
          'HOME',
          '-u',
          'KEYWARD_STORE',
          '-u',
          'XDG_DATA_HOME',
          '-u',
          'KEYWARD_DATA_DIR',
          ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
          process.execPath,
          BIN,
          ...args,
        ],
        {encoding: 'utf8', cwd: dir},
      );
      return {code: child.status, stdout: child.stdout, stderr: child.stderr};
    };
    try {
      for (const args of [['status'], ['status', '--json']]) {
        const fast = run(args, {});
        expect(fast.code, fast.stderr).to.equal(3);
        expect(fast.stderr)
          .to.contain('cannot find the data directory: $HOME is not set (or is empty) and this user has no home folder')
          .and.not.match(/\n\s+at /);
        expect(run(args, {KEYWARD_NO_FAST_PATH: '1'})).to.deep.equal(fast);
      }
      // A store named: the fast path needs no home folder (oclif's own start does, and says so the same way).
      const named = run(['status', '--json', '--store', file], {});
      expect(named.code, named.stderr).to.not.equal(70);
      expect(named.stderr).not.to.contain('internal error');
      const oclif = run(['status', '--json', '--store', file], {KEYWARD_NO_FAST_PATH: '1'});
      expect(oclif.code).to.equal(3);
      expect(oclif.stderr).to.contain('cannot find the data directory');
    } finally {
      rmSync(dir, {recursive: true, force: true});
    }
  });

  it('reads its flags as oclif does, or leaves the line to oclif', () => {
    expect(parseReadArgv([])).to.deep.equal({store: undefined, json: false});
    expect(parseReadArgv(['--json', '--store', 's.json'])).to.deep.equal({store: 's.json', json: true});
    expect(parseReadArgv(['--store=a=b'])).to.deep.equal({store: 'a=b', json: false});
    for (const argv of [['-h'], ['--help'], ['x'], ['--json', '--json'], ['--store'], ['--store', '-x'], ['--store='], ['--'], ['-'], ['--jso']]) {
      expect(parseReadArgv(argv), JSON.stringify(argv)).to.equal(null);
    }
  });

  describe('on a large store keyward wrote (its cache counts the account list)', () => {
    const ws = Workspace.create();
    // About 1.2 MB of blocked addresses and seen traffic after the account list: more than status first reads of the file's end.
    before(() => populate(ws, 9000, 4000));

    it('says what a read of the whole file says, through both paths, at several times', async () => {
      const size = statSync(ws.store).size;
      const text = readFileSync(ws.store, 'utf8');
      const after = Buffer.byteLength(text.slice(text.indexOf('\n  "keys": [')));
      expect(size, 'a store with a cache').to.be.above(1 << 20);
      expect(after, 'what follows the account list: more than the first read of the end (1 MiB)').to.be.above(1 << 20);
      expect(existsSync(indexCacheFile(ws.store))).to.equal(true);
      // The same file with no cache beside it: read whole.
      const whole = path.join(ws.dir, 'whole', 'store.json');
      mkdirSync(path.dirname(whole));
      copyFileSync(ws.store, whole);
      const times = [NOW, daysAfter(NOW, 29), daysAfter(NOW, 31)];
      const cases: Case[] = times.flatMap((now) => [
        {args: ['status', '--json'], options: {now}},
        {args: ['status'], options: {now}},
      ]);
      const runs = await matrix(ws, cases);
      for (const [i, c] of cases.entries()) {
        const read = ok(ws.run([...c.args, ...store(whole)], c.options));
        expect(read.stdout.replaceAll(whole, ws.store), `${c.args.join(' ')} at ${c.options?.now}`).to.equal(runs[i].stdout);
      }
      expect(runs[0].json().counts).to.include({accountEntries: 9001, blocked: 4000, seen: 4000});
    });

    it('reads a hand edit of the same size (its time put back) whole: its counts come from the file, not the cache', async () => {
      const before = statSync(ws.store);
      const text = readFileSync(ws.store, 'utf8');
      const [run] = await matrix(ws, [{args: ['status', '--json'], options: {now: NOW}}]);
      // The office entry made to have expired a year ago: the same number of bytes.
      const expiry = `"expiresAt": "${daysAfter(NOW, 30)}"`;
      expect(text).to.contain(expiry);
      writeFileSync(ws.store, text.replace(expiry, expiry.replace('"2026-', '"2025-')));
      utimesSync(ws.store, before.atime, before.mtime);
      expect(statSync(ws.store).size).to.equal(before.size);
      const [edited] = await matrix(ws, [{args: ['status', '--json'], options: {now: NOW}}]);
      expect(edited.json().counts.expiredEntries).to.equal(run.json().counts.expiredEntries + 1);
      writeFileSync(ws.store, text);
    });

    it('edited in place between its reads of the head and of the end: says what a whole read of the edited file says, not the cache counts of the file it began', async () => {
      // A store keyward wrote again, its cache vouching for it.
      ok(ws.run(['authorize', '10.9.9.9'], {now: NOW}));
      const before = statSync(ws.store);
      const text = readFileSync(ws.store, 'utf8');
      const [run] = await matrix(ws, [{args: ['status', '--json'], options: {now: NOW}}]);
      const expiry = `"expiresAt": "${daysAfter(NOW, 30)}"`;
      expect(text).to.contain(expiry);
      const hold = mkdtempSync(path.join(os.tmpdir(), 'keyward-hold-'));
      try {
        const reading = ws.start(['status', '--json'], {now: NOW, env: {KEYWARD_TEST_PAUSE_STATUS_READ: hold}});
        for (const end = Date.now() + 20_000; !existsSync(path.join(hold, 'paused'));) {
          if (Date.now() > end) throw new Error('status did not pause between its reads');
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        // The office entry made to have expired a year ago, in place: the same size, its modification time put back.
        writeFileSync(ws.store, text.replace(expiry, expiry.replace('"2026-', '"2025-')));
        utimesSync(ws.store, before.atime, before.mtime);
        writeFileSync(path.join(hold, 'resume'), '');
        const paused = ok(await reading);
        const edited = paused.json() as {counts: {expiredEntries: number}};
        expect(edited.counts.expiredEntries, 'the edit counted').to.equal(run.json().counts.expiredEntries + 1);
        // What a whole read of the edited file says (a copy, no cache beside it).
        const copy = path.join(hold, 'copy.json');
        copyFileSync(ws.store, copy);
        const whole = ok(ws.run(['status', '--json', ...store(copy)], {now: NOW}));
        expect(paused.stdout.replaceAll(JSON.stringify(ws.store).slice(1, -1), '')).to.equal(whole.stdout.replaceAll(JSON.stringify(copy).slice(1, -1), ''));
      } finally {
        rmSync(hold, {recursive: true, force: true});
        writeFileSync(ws.store, text);
      }
    });
  });
});
