/**
 * `check`'s fast path (bin/run.js → dist/check-fast.cjs, the bundle of
 * src/cli/check/run.ts, without oclif) against the oclif command (KEYWARD_NO_FAST_PATH=1): the same stdout,
 * stderr and exit code over a matrix of command lines, stores, clocks and
 * colour settings; command lines it is not sure of go to oclif; the default
 * store is the one oclif's data directory gives; and the index cache beside
 * a large store changes no decision, whether fresh, stale or broken.
 * Which path ran is seen, not assumed (see ../fast-path-harness.ts).
 */
import {existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

import {Config} from '@oclif/core';
import {expect} from 'chai';

import {parseCheckArgv} from '../../../src/cli/check/run.js';
import {dataDir} from '../../../src/cli/store-path.js';
import {emptyStore} from '../../../src/core/model.js';
import {encodeIndexCache, identityOf, indexCacheFile} from '../../../src/store/index-cache.js';
import {daysAfter, NOW, RunResult, Workspace} from '../harness.js';
import {bothWays, Case, expectSame, matrix} from '../fast-path-harness.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** The command lines every store is checked with. */
function commonCases(secret: string, extraStore: string): Case[] {
  const later = daysAfter(NOW, 40);
  return [
    {args: ['check', 'ci', '10.1.2.3']},
    {args: ['check', 'ci', '192.0.2.1']},
    {args: ['check', 'ci', '10.1.2.3', '192.0.2.1', '2001:DB8::0:1', '::ffff:10.1.2.3', '--json']},
    {args: ['check', '--json', 'ci', '172.16.5.5']},
    {args: ['check', 'ci', '172.16.5.5', '--json'], options: {now: later}},
    {args: ['check', 'ci', '--ndjson', '10.1.2.3', '-'], options: {input: '# log\n192.0.2.1\n\n2001:db8::9\r\n'}},
    {args: ['check', 'ci', '-', '--json'], options: {input: '10.9.9.9\n'}},
    {args: ['check', 'ci', '--json'], options: {input: '10.9.9.9\n192.0.2.1\n'}},
    {args: ['check', 'ci', '--ndjson'], options: {input: '10.0.0.1\nfe80::1%eth0\n10.0.0.2\n'}},
    {args: ['check', 'ci', '-'], options: {input: ''}},
    {args: ['check', 'ci']},
    {args: ['check', 'ci', '192.0.2.1', '198.51.100.1', '--expect', 'deny']},
    {args: ['check', 'ci', '192.0.2.1', '10.0.0.1', '--expect=deny']},
    {args: ['check', 'ci', '192.0.2.1', '--expect=allow', '--json']},
    {args: ['check', secret, '10.1.2.3', '192.0.2.1']},
    {args: ['check', 'f'.repeat(40), '10.1.2.3']},
    {args: ['check', 'nosuch', '10.1.2.3', '--json']},
    {args: ['check', 'ci', '10.0.0.256', '10.0.0.1']},
    {args: ['check', 'ci', '10.0.0.0/8']},
    {args: ['check', 'relay', '198.51.100.7', '203.0.113.9', '10.1.2.3']},
    {args: ['check', 'old', '10.1.2.3']},
    {args: ['check', 'ci', '10.1.2.3'], options: {now: 'yesterday'}},
    {args: ['check', 'ci', '10.1.2.3', '--store', extraStore]},
    {args: ['check', 'ci', '10.1.2.3', `--store=${extraStore}`, '--json']},
    {args: ['check', 'ci', '10.1.2.3'], options: {env: {KEYWARD_STORE: path.join(path.dirname(extraStore), 'missing.json')}}},
    {args: ['check', 'ci', '10.1.2.3', '192.0.2.1'], options: {env: {NO_COLOR: undefined, FORCE_COLOR: '1'}}},
    {args: ['check', 'nosuch', '10.1.2.3'], options: {env: {NO_COLOR: undefined, FORCE_COLOR: '1'}}},
    {args: ['check', 'ci', '10.1.2.3'], options: {env: {NO_COLOR: '', FORCE_COLOR: '0'}}},
    // Input order, duplicates included (oclif's argv moves a repeat up next to its first).
    {args: ['check', 'ci', '192.0.2.1', '203.0.113.5', '192.0.2.1']},
    {args: ['check', 'ci', '10.1.2.3', '192.0.2.1', '10.1.2.3', '10.1.2.3', '--json']},
    {args: ['check', 'ci', '192.0.2.1', '10.1.2.3', '192.0.2.1', '--ndjson', '--expect', 'deny']},
    {args: ['check', 'ci', '192.0.2.1', '-', '192.0.2.1'], options: {input: '10.1.2.3\n192.0.2.1\n10.1.2.3\n'}},
    // A secret in other spellings: found (surrounding whitespace, upper case) or refused, never echoed.
    {args: ['check', ` ${secret} `, '10.1.2.3']},
    {args: ['check', secret.toUpperCase(), '10.1.2.3', '--json']},
    {args: ['check', `Bearer ${secret}`, '10.1.2.3']},
    {args: ['check', `${secret},`, '10.1.2.3']},
  ];
}

/** Writes to a store of 1 MiB take a few seconds, and many times that on a busy machine. */
const WRITE_TIMEOUT_MS = 180_000;

/** keys ci (api), relay (smtp, with its own list), old (revoked); API blocking active; entries with a label and one expiring. */
function populate(ws: Workspace, bulk: string): string {
  const ok = (result: RunResult) => {
    expect(result.code, result.stderr).to.equal(0);
    return result;
  };
  ok(ws.run(['authorize', '-', '--label', 'bulk'], {now: NOW, input: bulk, timeoutMs: WRITE_TIMEOUT_MS}));
  ok(ws.run(['authorize', '10.1.0.0/16', '2001:db8::/32', '--label', 'office'], {now: NOW, timeoutMs: WRITE_TIMEOUT_MS}));
  ok(ws.run(['authorize', '172.16.0.0/12', '--expires', '30d'], {now: NOW, timeoutMs: WRITE_TIMEOUT_MS}));
  const secret = ok(ws.run(['keys', 'create', 'ci', '--type', 'api', '--json'], {now: NOW, timeoutMs: WRITE_TIMEOUT_MS})).json().secret;
  ok(ws.run(['keys', 'create', 'relay', '--type', 'smtp', '--allow', '198.51.100.0/24'], {now: NOW, timeoutMs: WRITE_TIMEOUT_MS}));
  ok(ws.run(['keys', 'create', 'old', '--type', 'api'], {now: NOW, timeoutMs: WRITE_TIMEOUT_MS}));
  ok(ws.run(['keys', 'revoke', 'old', '--yes'], {now: NOW, timeoutMs: WRITE_TIMEOUT_MS}));
  ok(ws.run(['activate', '--api', '--force'], {now: NOW, timeoutMs: WRITE_TIMEOUT_MS}));
  ok(ws.run(['activate', '--smtp', '--force'], {now: NOW, timeoutMs: WRITE_TIMEOUT_MS}));
  return secret;
}

/** About `n` distinct /32 entries in 100.64.0.0/10, one a line. */
function bulkEntries(n: number): string {
  let text = '';
  for (let i = 0; i < n; i++) text += `100.${64 + ((i >> 16) & 63)}.${(i >> 8) & 255}.${i & 255}\n`;
  return text;
}

describe('keyward check: the fast path', function () {
  this.timeout(600_000);

  describe('gives what the oclif command gives', () => {
    const ws = Workspace.create();
    const other = Workspace.create();
    let secret = '';
    before(() => {
      secret = populate(ws, bulkEntries(20));
      populate(other, bulkEntries(3));
      expect(existsSync(indexCacheFile(ws.store)), 'a small store has no cache').to.equal(false);
    });

    it('over a matrix of command lines, clocks, stores and colour settings', async () => {
      const runs = await matrix(ws, commonCases(secret, other.store));
      // Both paths print the same, so the fast path's output stands for both: never the secret, in any case.
      for (const run of runs) expect(`${run.stdout}${run.stderr}`.toLowerCase()).not.to.contain(secret);
    });

    it('for a store that is corrupt, or is a folder', async () => {
      const corrupt = ws.file('corrupt.json', '{"version": 1, "account": [');
      const folder = path.join(ws.dir, 'folder.json');
      mkdirSync(folder, {recursive: true});
      await matrix(ws, [{args: ['check', 'ci', '10.1.2.3', '--store', corrupt]}, {args: ['check', 'ci', '10.1.2.3', '--store', folder]}]);
    });

    it('for learning, before and after its window passed (still learning: only an event turns it on), and once active, without writing anything', async () => {
      const learner = Workspace.create();
      expect(learner.run(['keys', 'create', 'billing', '--type', 'api'], {now: NOW}).code).to.equal(0);
      expect(learner.run(['learn', '-'], {now: NOW, input: `billing 192.0.2.10 ${NOW}\n`}).code).to.equal(0);
      const bytes = learner.storeBytes();
      const runs = await matrix(learner, [
        {args: ['check', 'billing', '192.0.2.99', '203.0.113.5', '--json'], options: {now: daysAfter(NOW, 10)}},
        {args: ['check', 'billing', '192.0.2.99', '203.0.113.5', '--json'], options: {now: daysAfter(NOW, 31)}},
      ]);
      expect(runs[0].json<any[]>().map((d) => d.reason)).to.deep.equal(['authorized', 'learning']);
      expect(runs[1].json<any[]>().map((d) => d.reason)).to.deep.equal(['authorized', 'learning']);
      expect(learner.storeBytes()).to.deep.equal(bytes);
      // An event past the window turns blocking on; both paths then refuse the unknown address.
      expect(learner.run(['learn', '-'], {now: daysAfter(NOW, 31), input: `billing 192.0.2.10 ${daysAfter(NOW, 31)}\n`}).code).to.equal(0);
      const active = await matrix(learner, [{args: ['check', 'billing', '192.0.2.99', '203.0.113.5', '--json'], options: {now: daysAfter(NOW, 31)}}]);
      expect(active[0].json<any[]>().map((d) => d.reason)).to.deep.equal(['authorized', 'not-authorized']);
    });

    it('hands help, unknown or repeated flags, bad values, flag clashes, a missing KEY and `--` to oclif', async () => {
      await matrix(
        ws,
        [
          // One of each kind end to end (parseCheckArgv's unit test below takes many more lines to oclif).
          {args: ['check', '--help']},
          {args: ['check', 'ci', '10.1.2.3', '--foo']},
          {args: ['check', 'ci', '10.1.2.3', '--expect', 'maybe']},
          {args: ['check', 'ci', '10.1.2.3', '--json', '--ndjson']},
          {args: ['check', 'ci', '10.1.2.3', '--json', '--json']},
          {args: ['check', 'ci', '10.1.2.3', '--store', '--json']},
          {args: ['check', '--json']},
          {args: ['check', 'ci', '--', '10.1.2.3']},
          {args: ['check', '', '10.1.2.3']},
        ],
        false,
      );
    });

    it('finds the default store where oclif does (no --store, no KEYWARD_STORE)', async () => {
      const home = Workspace.create();
      const cases: [Record<string, string | undefined>, string][] = [
        [{HOME: home.dir, XDG_DATA_HOME: undefined, KEYWARD_DATA_DIR: undefined}, path.join(home.dir, '.local', 'share', 'keyward')],
        [{HOME: home.dir, XDG_DATA_HOME: path.join(home.dir, 'xdg'), KEYWARD_DATA_DIR: undefined}, path.join(home.dir, 'xdg', 'keyward')],
        [{HOME: home.dir, XDG_DATA_HOME: path.join(home.dir, 'xdg'), KEYWARD_DATA_DIR: path.join(home.dir, 'own')}, path.join(home.dir, 'own')],
      ];
      for (const [env, folder] of cases) {
        const store = path.join(folder, 'store.json');
        // Created where oclif puts it (keyward makes its data directory; it makes no folder of a path given with --store).
        expect(home.run(['keys', 'create', 'ci', '--type', 'api'], {now: NOW, env: {...env, KEYWARD_STORE: undefined}}).code).to.equal(0);
        expect(existsSync(store), store).to.equal(true);
        const [fast, slow] = await bothWays(home, ['check', 'ci', '10.1.2.3', '--json'], {env: {...env, KEYWARD_STORE: undefined}});
        expectSame(fast, slow, JSON.stringify(env));
        expect(fast.oclif).to.equal(false);
        expect(fast.code, `${fast.stderr} (the store in ${folder} was found)`).to.equal(0);
        rmSync(store);
      }
    });
  });

  describe('with the index cache of a large store', () => {
    const ws = Workspace.create();
    const other = Workspace.create();
    let secret = '';
    const cache = () => indexCacheFile(ws.store);
    before(() => {
      secret = populate(ws, bulkEntries(9000));
      populate(other, bulkEntries(3));
      expect(statSync(ws.store).size).to.be.above(1 << 20);
      expect(existsSync(cache()), 'the writer made the cache').to.equal(true);
    });

    it('gives what the oclif command gives, and the same with the cache, without it and with it broken', async () => {
      // The decisive cases (the first twelve: decisions, streams, errors), then every other one (the small store's matrix
      // above runs them all both ways; a run here reads a 1 MiB store, and npm test has five minutes on two cores).
      const cases = commonCases(secret, other.store)
        .filter((c) => !c.args.some((a) => a.startsWith('--store')) && !c.options?.env)
        .filter((_, i) => i < 12 || i % 2 === 0);
      const withCache = await matrix(ws, cases);
      const bytes = readFileSync(cache());
      const results = (runs: RunResult[]) => runs.map((r) => ({code: r.code, stdout: r.stdout, stderr: r.stderr}));
      // Two at a time: without the cache each run parses 1 MiB of JSON, and a crowd of them would time out on a busy machine.
      const fastOnly = async (subset: Case[]) => {
        const runs: RunResult[] = [];
        for (let i = 0; i < subset.length; i += 2) runs.push(...(await Promise.all(subset.slice(i, i + 2).map((c) => ws.start(c.args, c.options)))));
        return results(runs);
      };
      renameSync(cache(), `${cache()}.away`);
      // Without the cache, the decisive cases (the JSON reader itself is the small store's matrix's, above).
      expect(await fastOnly(cases.slice(0, 12)), 'without the cache').to.deep.equal(results(withCache.slice(0, 12)));
      const decisive = cases.slice(0, 6);
      writeFileSync(cache(), bytes.subarray(0, bytes.length - 1000));
      expect(await fastOnly(decisive), 'truncated').to.deep.equal(results(withCache.slice(0, 6)));
      const flipped = Buffer.from(bytes);
      flipped[flipped.length - 5000] ^= 0x40;
      writeFileSync(cache(), flipped);
      expect(await fastOnly(decisive), 'a bit flipped').to.deep.equal(results(withCache.slice(0, 6)));
      renameSync(`${cache()}.away`, cache());
      expect(readFileSync(cache()).equals(bytes), 'check leaves the cache alone').to.equal(true);
    });

    it("is used when it is the store's, and never once the store changed, however the change was made", async () => {
      // A cache that lies (API blocking inactive, no entries) but names the store file as it is: check must believe it...
      const lie = () => {
        const data = emptyStore(new Date(NOW));
        data.keys = JSON.parse(readFileSync(ws.store, 'utf8')).keys;
        data.blocking.api.state = 'inactive';
        writeFileSync(cache(), encodeIndexCache(data, identityOf(statSync(ws.store))));
      };
      const reason = async () => {
        const [fast] = await bothWays(ws, ['check', 'ci', '10.1.2.3', '--json']);
        return fast.json()[0].reason as string;
      };
      const honest = readFileSync(cache());
      lie();
      expect(await reason(), 'a cache that names the store file is used').to.equal('blocking-inactive');
      // ...and never once the store file changed, even with its size and modification time kept.
      const text = readFileSync(ws.store, 'utf8');
      const before = statSync(ws.store);
      const edits: [string, () => void][] = [
        ['rewritten in place, same bytes', () => writeFileSync(ws.store, text)],
        [
          'rewritten in place, same size and mtime',
          () => {
            writeFileSync(ws.store, text.replace('"label": "office"', '"label": "offic3"'));
            utimesSync(ws.store, before.atime, before.mtime);
          },
        ],
        [
          'replaced like `git checkout` does, same size and mtime',
          () => {
            const next = path.join(ws.dir, 'checkout.tmp');
            writeFileSync(next, text);
            utimesSync(next, before.atime, before.mtime);
            renameSync(next, ws.store);
          },
        ],
      ];
      for (const [what, edit] of edits) {
        lie();
        edit();
        expect(statSync(ws.store).size, what).to.equal(before.size);
        expect(await reason(), what).to.equal('authorized');
      }
      writeFileSync(cache(), honest);
    });
  });

  describe('its command line', () => {
    it('is read strictly, as oclif reads it, or handed back (null)', () => {
      const base = {store: undefined, json: false, ndjson: false, expect: undefined, print: undefined};
      expect(parseCheckArgv(['ci', '10.0.0.1'])).to.deep.equal({...base, key: 'ci', addresses: ['10.0.0.1']});
      expect(parseCheckArgv(['--json', 'ci', '-', '10.0.0.1'])).to.deep.equal({...base, json: true, key: 'ci', addresses: ['-', '10.0.0.1']});
      expect(parseCheckArgv(['ci', '--store', 's.json', '--expect', 'deny', '--ndjson'])).to.deep.equal({
        ...base,
        store: 's.json',
        expect: 'deny',
        ndjson: true,
        key: 'ci',
        addresses: [],
      });
      expect(parseCheckArgv(['ci', '--store=a=b', '--expect=allow'])).to.deep.equal({...base, store: 'a=b', expect: 'allow', key: 'ci', addresses: []});
      expect(parseCheckArgv(['ci', '-', '--print', 'denied', '--expect', 'deny'])).to.deep.equal({...base, print: 'denied', expect: 'deny', key: 'ci', addresses: ['-']});
      expect(parseCheckArgv(['--print=allowed', 'ci', '-'])).to.deep.equal({...base, print: 'allowed', key: 'ci', addresses: ['-']});
      for (const argv of [
        [],
        ['--json'],
        ['ci', '--help'],
        ['ci', '-h'],
        ['ci', '--version'],
        ['ci', '--', '10.0.0.1'],
        ['ci', '--json', '--ndjson'],
        ['ci', '--json', '--json'],
        ['ci', '--json=1'],
        ['ci', '--expect', 'maybe'],
        ['ci', '--print', 'allow'],
        ['ci', '--print'],
        ['ci', '--print', 'allowed', '--json'],
        ['ci', '--ndjson', '--print', 'denied'],
        ['ci', '--print', 'allowed', '--print', 'denied'],
        ['ci', '--expect='],
        ['ci', '--expect'],
        ['ci', '--store'],
        ['ci', '--store', '-'],
        ['ci', '--store='],
        ['ci', '--store', 'a', '--store', 'b'],
        ['ci', '--no-json'],
        ['ci', '-j'],
        ['ci', '-5'],
        ['ci', '10.1.2.3', '--json=true'],
        ['', '10.0.0.1'],
      ]) {
        expect(parseCheckArgv(argv), JSON.stringify(argv)).to.equal(null);
      }
    });
  });

  describe('its data directory', () => {
    const saved = {...process.env};
    afterEach(() => {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
    });

    it("is oclif's config.dataDir, whatever HOME, XDG_DATA_HOME and KEYWARD_DATA_DIR say", async () => {
      const settings: Record<string, string | undefined>[] = [
        {},
        {HOME: '/home/someone', XDG_DATA_HOME: undefined, KEYWARD_DATA_DIR: undefined},
        {HOME: '/home/someone', XDG_DATA_HOME: '/xdg/data', KEYWARD_DATA_DIR: undefined},
        {HOME: '/home/someone', XDG_DATA_HOME: '', KEYWARD_DATA_DIR: ''},
        {HOME: '/home/someone', XDG_DATA_HOME: '/xdg/data', KEYWARD_DATA_DIR: '/own/place'},
        {HOME: undefined, XDG_DATA_HOME: undefined, KEYWARD_DATA_DIR: undefined},
      ];
      for (const setting of settings) {
        for (const [name, value] of Object.entries(setting)) {
          if (value === undefined) delete process.env[name];
          else process.env[name] = value;
        }
        const config = await Config.load(ROOT);
        expect(dataDir(process.env), JSON.stringify(setting)).to.equal(config.dataDir);
      }
    });
  });
});
