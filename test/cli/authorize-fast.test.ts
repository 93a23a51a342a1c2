/**
 * `authorize`'s fast path (bin/run.js → dist/authorize-fast.cjs, the bundle
 * of src/cli/authorize/run.ts, without oclif) against the oclif command
 * (KEYWARD_NO_FAST_PATH=1): two copies of one store, the same command lines
 * run on each in turn, must give the same stdout, stderr and exit code, and
 * leave the two stores byte for byte the same (history records included);
 * command lines the fast path is not sure of go to oclif.
 */
import {spawnSync} from 'node:child_process';
import {chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync} from 'node:fs';
import path from 'node:path';

import {expect} from 'chai';

import {parseAuthorizeArgv} from '../../src/cli/authorize/run.js';
import {indexCacheFile} from '../../src/store/index-cache.js';
import {observed, Run, throughOclif} from './fast-path-harness.js';
import {BIN, NOW, RunOptions, RunResult, Workspace} from './harness.js';

const ok = (result: RunResult) => {
  expect(result.code, result.stderr).to.equal(0);
  return result;
};

/** A store with keys, labelled, grouped and disabled entries, API blocking on and blocked addresses. */
function populate(ws: Workspace, entries: number): void {
  const run = (args: string[], input?: string) => ok(ws.run(args, {now: NOW, input, timeoutMs: 180_000}));
  let bulk = '';
  for (let i = 0; i < entries; i++) bulk += `100.${64 + ((i >> 16) & 63)}.${(i >> 8) & 255}.${i & 255}${i % 10 === 0 ? ` # customer ${i} café` : ''}\n`;
  run(['authorize', '-'], bulk);
  run(['authorize', '10.1.0.0/16', '--label', 'office', '--group', 'offices']);
  run(['authorize', '192.0.2.0/24']);
  run(['disable', '192.0.2.0/24']);
  run(['keys', 'create', 'ci', '--type', 'api']);
  run(['activate', '--api', '--force']);
  run(['learn', '-'], `ci 203.0.113.5 ${NOW}\nci 203.0.113.6 ${NOW}\nci 198.18.0.1 ${NOW}\n`);
}

/** Two copies of `from`'s store, one per path. */
function pair(from: Workspace): [Workspace, Workspace] {
  const fast = Workspace.create();
  const slow = Workspace.create();
  for (const ws of [fast, slow]) copyFileSync(from.store, ws.store);
  return [fast, slow];
}

const normal = (text: string, ws: Workspace) => text.replaceAll(ws.dir, '<dir>');

/**
 * Runs `args` on the fast copy through the fast path and on the slow copy
 * through oclif (`{store}` and `{dir}` in an argument or a variable are
 * that copy's store path and folder): the
 * same exit code, stdout and stderr (the folder named alike), and the same
 * store bytes after. Returns the fast run.
 */
async function same([fast, slow]: [Workspace, Workspace], args: string[], expectFast: boolean, options: RunOptions = {}): Promise<Run> {
  const on = (ws: Workspace, word: string) => word.replaceAll('{store}', ws.store).replaceAll('{dir}', ws.dir);
  const env = (ws: Workspace) => Object.fromEntries(Object.entries(options.env ?? {}).map(([name, value]) => [name, value === undefined ? value : on(ws, value)]));
  const running = observed(
    fast,
    args.map((word) => on(fast, word)),
    {now: NOW, ...options, env: env(fast)},
  );
  const b = await throughOclif(
    slow,
    args.map((word) => on(slow, word)),
    {now: NOW, ...options, env: env(slow)},
  );
  const a = await running;
  const what = `keyward ${args.join(' ')}`;
  expect(a.oclif, `${what}: fast path taken`).to.equal(!expectFast);
  expect({code: a.code, stdout: normal(a.stdout, fast), stderr: normal(a.stderr, fast)}, what).to.deep.equal({
    code: b.code,
    stdout: normal(b.stdout, slow),
    stderr: normal(b.stderr, slow),
  });
  expect(fast.storeBytes()?.equals(slow.storeBytes() ?? Buffer.alloc(0)) ?? slow.storeBytes() === null, `${what}: the same store bytes`).to.equal(true);
  expect(existsSync(indexCacheFile(fast.store)), `${what}: the same cache presence`).to.equal(existsSync(indexCacheFile(slow.store)));
  return a;
}

describe('keyward authorize: the fast path', function () {
  this.timeout(600_000);

  it('reads only plain command lines', () => {
    expect(parseAuthorizeArgv(['203.0.113.7'])).to.deep.equal({entries: ['203.0.113.7'], quiet: false, json: false});
    expect(parseAuthorizeArgv(['a', '--label', 'x y', 'b', '-q', '--json', '--store=s.json'])).to.deep.equal({
      entries: ['a', 'b'],
      label: 'x y',
      quiet: true,
      json: true,
      store: 's.json',
    });
    expect(parseAuthorizeArgv(['-l', 'x', 'a', '--quiet', '--store', 's'])).to.deep.equal({entries: ['a'], label: 'x', quiet: true, json: false, store: 's'});
    expect(parseAuthorizeArgv(['--label=x=y', 'a'])?.label).to.equal('x=y');
    for (const argv of [
      [],
      ['--json'],
      ['-'],
      ['a', '-'],
      ['a', '--'],
      ['a', '--label'],
      ['a', '--label', '-x'],
      ['a', '--label='],
      ['a', '-l', '--json'],
      ['a', '--label', 'x', '-l', 'y'],
      ['a', '--json', '--json'],
      ['a', '-q', '--quiet'],
      ['a', '--store', ''],
      ['a', '--store'],
      ['a', '--store', 's', '--store=t'],
      ['a', '--dry-run'],
      ['a', '--key', 'k'],
      ['a', '-k', 'k'],
      ['a', '--group', 'g'],
      ['a', '--expires', '1d'],
      ['a', '--normalize'],
      ['a', '--force'],
      ['--file', 'f'],
      ['a', '-h'],
      ['a', '--help'],
      ['a', '-ql'],
      ['a', '--lab', 'x'],
    ]) {
      expect(parseAuthorizeArgv(argv), argv.join(' ')).to.equal(null);
    }
  });

  describe('writes what the oclif command writes', () => {
    const base = Workspace.create();
    before(() => populate(base, 40));

    it('over entries added, covered, unchanged, relabelled, unblocked and disabled, and their messages', async () => {
      const stores = pair(base);
      const cases: string[][] = [
        ['authorize', '203.0.113.200'],
        ['authorize', '203.0.113.200'],
        ['authorize', '203.0.113.200', '--label', 'now labelled'],
        ['authorize', '--json', '10.1.2.3', '2001:db8::/48', '2001:DB8:0:0::1'],
        ['authorize', '-q', '100.64.0.0/24'],
        ['authorize', '203.0.113.5', '--json'],
        ['authorize', '192.0.2.0/24', '-l', 'still off'],
        ['authorize', '10.1.0.0/16'],
        ['authorize', '--label=café ünïcode', '198.51.100.0/24', '--quiet', '--json'],
        ['authorize', '198.51.100.7', '--label', 'key_live_0123456789abcdef0123456789abcdef'],
        ['authorize', '::ffff:198.51.100.9', '--store', '{store}'],
        ['authorize', '--store={store}', '--json', '203.0.113.202'],
        ['--store', '{store}', 'authorize', '203.0.113.203'],
        ['--json', 'authorize', '203.0.113.204'],
      ];
      for (const args of cases) await same(stores, args, true);
      const history = JSON.parse(readFileSync(stores[0].store, 'utf8')).history;
      expect(history.at(-1).flags).to.deep.equal(['json']);
      expect(history.some((r: {flags: string[]}) => r.flags.join() === 'json,label,quiet,store')).to.equal(false);
    });

    it('refuses what the oclif command refuses, with the same words and exit codes', async () => {
      const stores = pair(base);
      const missing = '{dir}/no-such-folder/s.json';
      const cases: Array<[string[], RunOptions?]> = [
        [['authorize', '1.2.3']],
        [['authorize', '203.0.113.9', '010.0.0.1', '--json']],
        [['authorize', '0.0.0.0/0']],
        [['authorize', '::/8', '--json']],
        [['authorize', '192.168.1.25/24']],
        [['authorize', '203.0.113.9', '--store', missing]],
        [['authorize', '203.0.113.9'], {env: {KEYWARD_STORE: missing}}],
        [['authorize', '203.0.113.9', 'key_live_0123456789abcdef0123456789abcdef']],
      ];
      for (const [args, options] of cases) {
        const run = await same(stores, args, true, options);
        expect(run.code, args.join(' ')).to.not.equal(0);
      }
      for (const ws of stores) {
        ws.file('corrupt.json', '{"version": 2, "account": [');
        mkdirSync(path.join(ws.dir, 'folder.json'));
      }
      await same(stores, ['authorize', '203.0.113.9', '--store', '{dir}/corrupt.json'], true);
      await same(stores, ['authorize', '203.0.113.9', '--json', '--store', '{dir}/folder.json'], true);
    });

    it('creates a store that is not there yet, in the data folder too', async () => {
      const stores: [Workspace, Workspace] = [Workspace.create(), Workspace.create()];
      await same(stores, ['authorize', '203.0.113.7', '--label', 'first'], true);
      const home = (ws: Workspace) => ({env: {KEYWARD_STORE: undefined, HOME: ws.dir, XDG_DATA_HOME: undefined}});
      const [a, b] = await Promise.all([
        observed(stores[0], ['authorize', '203.0.113.8'], {now: NOW, ...home(stores[0])}),
        observed(stores[1], ['authorize', '203.0.113.8'], {now: NOW, ...home(stores[1]), env: {...home(stores[1]).env, KEYWARD_NO_FAST_PATH: '1'}}),
      ]);
      expect([a.oclif, b.oclif]).to.deep.equal([false, true]);
      expect({code: a.code, out: a.stdout, err: normal(a.stderr, stores[0])}).to.deep.equal({code: b.code, out: b.stdout, err: normal(b.stderr, stores[1])});
      const created = (ws: Workspace) => readFileSync(path.join(ws.dir, '.local', 'share', 'keyward', 'store.json'));
      expect(created(stores[0]).equals(created(stores[1]))).to.equal(true);
    });

    it('hands every other command line to oclif', async () => {
      const stores = pair(base);
      // (Each form parseAuthorizeArgv refuses is listed above; here, that bin/run.js hands them on whole.)
      for (const args of [
        ['authorize'],
        ['authorize', '--dry-run', '203.0.113.9'],
        ['authorize', '203.0.113.9', '--json', '--json'],
        ['authorize', '203.0.113.9', '--label'],
        ['authorize', '--help'],
      ]) {
        await same(stores, args, false);
      }
    });
  });

  it('with no home folder to find ($HOME unset, a uid without a user entry): a store error on both paths, or the named store written by the fast path (skipped unless root with setpriv)', function () {
    if (process.getuid?.() !== 0 || spawnSync('setpriv', ['--version']).status !== 0) this.skip();
    const ws = Workspace.create();
    chmodSync(ws.dir, 0o777);
    const run = (args: string[], env: Record<string, string>) => {
      const unset = ['HOME', 'KEYWARD_STORE', 'XDG_DATA_HOME', 'KEYWARD_DATA_DIR'].flatMap((name) => ['-u', name]);
      const settings = Object.entries({KEYWARD_NOW: NOW, ...env}).map(([k, v]) => `${k}=${v}`);
      const child = spawnSync('setpriv', ['--reuid', '54321', '--regid', '54321', '--clear-groups', 'env', ...unset, ...settings, process.execPath, BIN, ...args], {
        encoding: 'utf8',
        cwd: ws.dir,
      });
      return {code: child.status, stdout: child.stdout, stderr: child.stderr};
    };
    for (const args of [
      ['authorize', '203.0.113.7'],
      ['authorize', '203.0.113.7', '--json'],
    ]) {
      const fast = run(args, {});
      expect(fast.code, fast.stderr).to.equal(3);
      expect(fast.stderr).to.contain('cannot find the data directory: $HOME is not set (or is empty) and this user has no home folder');
      expect(run(args, {KEYWARD_NO_FAST_PATH: '1'})).to.deep.equal(fast);
    }
    // A store named: the fast path needs no home folder and writes it (its history names the user "unknown"); oclif's own
    // start needs one, and says so (docs/choices.md).
    const named = run(['authorize', '203.0.113.7', '--store', 'named.json'], {});
    expect(named.code, named.stderr).to.equal(0);
    expect(JSON.parse(readFileSync(path.join(ws.dir, 'named.json'), 'utf8')).history.at(-1).user).to.equal('unknown');
    const oclif = run(['authorize', '203.0.113.8', '--store', 'named.json'], {KEYWARD_NO_FAST_PATH: '1'});
    expect(oclif.code).to.equal(3);
    expect(oclif.stderr).to.contain('cannot find the data directory');
  });

  it('on a store over 1 MiB, the one its cache vouches for: the same bytes, and a check after it reads the new entry', async () => {
    const base = Workspace.create();
    populate(base, 9_000);
    const stores = pair(base);
    // The copies are not vouched for by a cache (their cache is not copied): one write through oclif on each makes them so.
    await Promise.all(stores.map((ws) => observed(ws, ['authorize', '203.0.113.250'], {now: NOW, env: {KEYWARD_NO_FAST_PATH: '1'}})));
    for (const ws of stores) expect(existsSync(indexCacheFile(ws.store))).to.equal(true);
    for (const args of [
      ['authorize', '203.0.113.251', '--label', 'big'],
      ['authorize', '203.0.113.251'],
      ['authorize', '--json', '203.0.113.5', '100.64.1.0/24'],
    ]) {
      await same(stores, args, true);
    }
    const check = ok(stores[0].run(['check', 'ci', '203.0.113.251', '--json'], {now: NOW}));
    expect(check.json()[0].decision).to.equal('allow');
  });
});

describe('keyward authorize: one entry on a store over 1 MiB, the account list not read', function () {
  this.timeout(600_000);

  it('answers, writes and decides as the same command on a twin store read whole (its cache removed before each command)', async () => {
    const base = Workspace.create();
    populate(base, 9_000);
    const [short, whole] = pair(base);
    // The copies are not vouched for by a cache (their cache is not copied): one write on each makes them so.
    for (const ws of [short, whole]) ok(ws.run(['authorize', '203.0.113.250'], {now: NOW}));
    const cases: string[][] = [
      // New: alone, inside a range (covered), inside the disabled range (not covered), around many entries, IPv6.
      ['authorize', '198.51.100.77'],
      ['authorize', '10.1.200.3', '--label', 'inside the office'],
      ['authorize', '192.0.2.5', '--json'],
      ['authorize', '100.64.0.0/16', '--json'],
      ['authorize', '2001:db8::7'],
      // Held already (enabled, disabled, just added), and a blocked address: the list is read.
      ['authorize', '100.64.0.9', '--label', 'relabelled'],
      ['authorize', '192.0.2.0/24'],
      ['authorize', '198.51.100.77', '--json'],
      ['authorize', '198.18.0.1'],
    ];
    for (const args of cases) {
      rmSync(indexCacheFile(whole.store), {force: true});
      const [a, b] = [short, whole].map((ws) => ws.run(args, {now: NOW}));
      const what = `keyward ${args.join(' ')}`;
      expect({code: a.code, stdout: a.stdout, stderr: normal(a.stderr, short)}, what).to.deep.equal({code: b.code, stdout: b.stdout, stderr: normal(b.stderr, whole)});
      expect(short.storeBytes()!.equals(whole.storeBytes()!), `${what}: the same store bytes`).to.equal(true);
    }
    // Decisions from the short way's cache (patched at each new entry) and from a cache compiled whole agree.
    ok(whole.run(['authorize', '203.0.113.251'], {now: NOW}));
    ok(short.run(['authorize', '203.0.113.251'], {now: NOW}));
    const addresses = ['198.51.100.77', '10.1.200.3', '192.0.2.5', '100.64.0.1', '100.64.255.255', '2001:db8::7', '2001:db8::8', '198.18.0.1', '8.8.8.8'];
    const decide = (ws: Workspace) => {
      const run = ws.run(['check', 'ci', ...addresses, '--json'], {now: NOW});
      return {code: run.code, decisions: run.json()};
    };
    const decided = decide(short);
    expect(decided.decisions.filter((d: {decision: string}) => d.decision === 'allow').length, 'some allowed, some not').to.be.within(1, addresses.length - 1);
    expect(decided).to.deep.equal(decide(whole));
  });
});
