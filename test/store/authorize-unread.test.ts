/**
 * A one-entry `authorize` into the account list without reading the list
 * (issue 15, round 10): the record's text put into the file's bytes where
 * sorting puts it, its history record, and the cache patched instead of
 * compiled. Held to the long way: the same command on a twin store, with
 * the list read, must give the same result and messages, write the same
 * bytes, and leave a cache with the same entries (positions aside) and
 * header. The entries tried are those the short way must refuse as well as
 * those it takes: an entry the list holds (enabled or not, live or not,
 * allow or deny), one inside a range (covered, or inside a disabled, an
 * expired or a deny range), one around many entries (their new parent), and
 * a blocked address.
 */
import {existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {expect} from 'chai';
import fc from 'fast-check';

import {authorizeBatch} from '../../src/cli/authorize/run.js';
import {recordedUpdate, WritingCommand} from '../../src/cli/recorded.js';
import {parseEntries} from '../../src/core/entry-parse.js';
import {addToUnreadAccount, appendToUnreadHistory, BlockedRecord, deferList, emptyStore, EntryRecord, HistoryRecord, historyAppendedUnread} from '../../src/core/model.js';
import {appendHistory, HISTORY_RECORDS} from '../../src/core/history.js';
import {encodeIndexCache, identityOf, indexCacheFile} from '../../src/store/index-cache.js';
import {readStore} from '../../src/store/read.js';
import {unreadAccountInsertion, unreadHistoryEdits} from '../../src/store/schema.js';
import {lastChange, updateStore} from '../../src/store/store.js';
import {at, cacheHeader, cacheRows, forgeCacheHeader, ipv4, NOW, randomStore} from './random-store.js';

/** Blocked addresses of the key `api`: inside ranges of the random store's kind and outside any. */
const BLOCKED: BlockedRecord[] = ['10.20.30.40', '10.0.0.1', '203.0.113.9', '2001:db8:1::1'].map((ip) => ({
  ip,
  key: 'api',
  channel: 'api',
  firstSeen: at(-3),
  lastSeen: at(-1),
  count: 2,
}));

/** A history record of an earlier change (its texts with quotes, line breaks and non-ASCII text, as labels may have). */
function historyRecord(i: number): HistoryRecord {
  const entries = [{scope: 'account', added: [ipv4(0xc6336400 + i)], removed: [], updated: [], counts: {added: 1, removed: 0, updated: 0}}];
  return {
    at: at(-10 + i / 100),
    command: 'authorize',
    flags: i % 3 === 0 ? ['label'] : [],
    user: i % 7 === 0 ? 'zoë "q"\n' : 'ops',
    changes: {counts: {added: 1, removed: 0, updated: 0}, entries, keys: [], blocking: [], blocked: {added: 0, removed: 0}, settings: []},
  };
}

/** Which entry a step authorizes, picked among the store's records of a kind (`n` chooses), and its label. */
interface Pick {
  kind: 'new' | 'held' | 'inside' | 'around' | 'blocked';
  of: 'any' | 'disabled' | 'expired' | 'deny';
  n: number;
  label: string | null;
}

const pick: fc.Arbitrary<Pick> = fc.record({
  kind: fc.constantFrom('new', 'new', 'held', 'inside', 'inside', 'around', 'blocked'),
  of: fc.constantFrom('any', 'any', 'disabled', 'expired', 'deny'),
  n: fc.nat(),
  label: fc.option(fc.constantFrom('a label', 'ü "quoted"\nline', '')),
});

/** The entry text `p` picks among `records` (the store's account list). */
function entryOf(p: Pick, records: readonly EntryRecord[]): string {
  const kind = {
    any: () => true,
    disabled: (r: EntryRecord) => r.enabled === false,
    expired: (r: EntryRecord) => r.expiresAt !== null && r.expiresAt <= NOW.toISOString(),
    deny: (r: EntryRecord) => r.effect === 'deny',
  }[p.of];
  const some = records.filter(kind);
  const held = (some.length > 0 ? some : records)[p.n % (some.length || records.length)].entry;
  switch (p.kind) {
    case 'new':
      return p.n % 3 === 0 ? `2001:db8:${(p.n % 65536).toString(16)}:1::/64` : ipv4((0x0a000000 + (p.n % 0x01000000)) >>> 0);
    case 'held':
      return held;
    case 'inside': {
      // A host inside the held range (its first address, for a /32 or /128).
      const [network, bits] = held.split('/');
      if (bits === undefined) return held.includes(':') ? `${held}/128` : `${held}/32`;
      if (network.includes(':')) return `${network.replace(/::$/, '')}::${((p.n % 65535) + 1).toString(16)}`;
      const octets = network.split('.').map(Number);
      octets[3] = p.n % 256;
      return octets.join('.');
    }
    case 'around':
      return ['10.0.0.0/8', `10.${p.n % 256}.0.0/16`, '2001:db8::/32', '0.0.0.0/1'][p.n % 4];
    case 'blocked':
      return BLOCKED[p.n % BLOCKED.length].ip;
  }
}

/** What a command's runner is given to change `file` (the list read only when `defer`), and what it told. */
function writing(file: string, defer: boolean): {command: WritingCommand; told: string[]} {
  const told: string[] = [];
  const changer = {command: 'authorize', flags: ['label'], now: NOW, storeGiven: true};
  const command: WritingCommand = {
    json: true,
    now: NOW,
    update: (change, options) => recordedUpdate(file, changer, change, {...options, deferAccount: defer && options?.deferAccount}),
    tell: async (message, tone) => {
      told.push(`${tone ?? 'info'}: ${message}`);
    },
    printHuman: async (human) => {
      told.push(`human: ${await human()}`);
    },
  };
  return {command, told};
}

/** Runs `authorize ENTRY [--label]` on `file`; its JSON result, or the error it failed with. */
async function authorizeOne(file: string, entry: string, label: string | null, defer: boolean): Promise<{outcome: string; told: string[]}> {
  const {command, told} = writing(file, defer);
  try {
    const batch = parseEntries([{text: entry, label: null, where: 'test', source: 'manual'}], {force: true});
    return {outcome: JSON.stringify(await authorizeBatch(command, {batch}, {label, expiresAt: null, group: null, dryRun: false})), told};
  } catch (error) {
    return {outcome: `failed: ${(error as Error).message}`, told};
  }
}

describe('store: one entry authorized without reading the account list (issue 15)', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'keyward-unread-'));
  });
  afterEach(() => rmSync(dir, {recursive: true, force: true}));

  it('gives the result, messages, bytes, history and cache the long way gives, for random entries against random stores', async () => {
    let short = 0;
    let long = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer(), fc.array(pick, {minLength: 6, maxLength: 6}), async (seed, picks) => {
        const [a, b] = ['a', 'b'].map((name) => path.join(dir, `${name}-${seed}.json`));
        // (One store's data for both: its keys' secrets are random.) A history two records short of full: the steps after the
        // second cut its oldest records.
        const history = Array.from({length: HISTORY_RECORDS - 2}, (_, i) => historyRecord(i));
        const store = {...randomStore(seed), blocked: BLOCKED, history};
        for (const file of [a, b]) {
          rmSync(file, {force: true});
          await updateStore(file, NOW, (data) => Object.assign(data, structuredClone(store)));
        }
        expect(readFileSync(a).equals(readFileSync(b)), 'twin stores').to.equal(true);
        // A new IPv4 address and a new IPv6 range, then an entry the list holds, first: every run takes each way (the random
        // picks alone took the short way in fewer than 8 of 24 steps, or the long way in fewer than 4, in about 1 run in 100).
        const first: Pick[] = [
          // (An IPv4 address ending in .45, never a blocked one: those take the long way.)
          {kind: 'new', of: 'any', n: 3 * ((seed >>> 8) * 256 + 100) + 1, label: null},
          {kind: 'new', of: 'any', n: 3 * (seed >>> 2), label: 'a label'},
          {kind: 'held', of: 'any', n: seed >>> 1, label: null},
        ];
        for (const p of [...first, ...picks]) {
          const entry = entryOf(p, (await readStore(a)).account);
          const before = readFileSync(a);
          const shortWay = await authorizeOne(a, entry, p.label, true);
          const taken = lastChange.addedUnread;
          // (A change that changed nothing, or was refused, appends nothing.)
          const appended = lastChange.appendedUnread;
          const longWay = await authorizeOne(b, entry, p.label, false);
          expect(lastChange.addedUnread, 'the long way reads the list').to.equal(false);
          if (taken) short++;
          else long++;
          const what = `${entry} (${p.kind} ${p.of}, label ${JSON.stringify(p.label)}, ${taken ? 'unread' : 'read'})`;
          expect(shortWay, what).to.deep.equal(longWay);
          expect(readFileSync(a, 'utf8') === readFileSync(b, 'utf8'), `store after ${what}`).to.equal(true);
          if (!readFileSync(a).equals(before)) expect(appended, `the history appended to unread (${what})`).to.equal(true);
          const [cacheA, cacheB] = [a, b].map((file) => readFileSync(indexCacheFile(file)));
          expect(cacheRows(cacheA, identityOf(statSync(a))), `cache after ${what}`).to.deep.equal(cacheRows(cacheB, identityOf(statSync(b))));
          const header = (bytes: Buffer) => ({...(cacheHeader(bytes) as object), store: null});
          expect(header(cacheA), `cache header after ${what}`).to.deep.equal(header(cacheB));
        }
      }),
      // (No shrinking: each run writes two 1 MiB stores a dozen times; the failing step is named in the message.)
      {numRuns: 4, endOnFailure: true},
    );
    // Both ways were tried: the short way for new entries, the long way for the others.
    expect(short, 'steps taken unread').to.be.at.least(8);
    expect(long, 'steps that read the list').to.be.at.least(4);
  });

  it('puts the record where sorting puts it, and refuses a list holding the entry or not laid out as keyward writes', () => {
    const record = (entry: string) => ({entry, source: 'manual' as const, label: null, addedAt: NOW.toISOString(), expiresAt: null});
    const text = (entries: string[]) => `[\n${entries.map((e) => JSON.stringify(record(e), null, 2).replace(/^/gm, '    ')).join(',\n')}\n  ]`;
    const list = text(['10.0.0.0/8', '10.1.0.0/16', '192.0.2.1', '2001:db8::/32']);
    const put = (entry: string, bytes = list) => {
      const placed = unreadAccountInsertion(Buffer.from(bytes), record(entry));
      return placed === null ? null : bytes.slice(0, placed.at) + placed.text + bytes.slice(placed.at);
    };
    for (const [entry, all] of [
      ['1.2.3.4', ['1.2.3.4', '10.0.0.0/8', '10.1.0.0/16', '192.0.2.1', '2001:db8::/32']],
      ['10.0.0.0/12', ['10.0.0.0/8', '10.0.0.0/12', '10.1.0.0/16', '192.0.2.1', '2001:db8::/32']],
      ['10.1.0.0/24', ['10.0.0.0/8', '10.1.0.0/16', '10.1.0.0/24', '192.0.2.1', '2001:db8::/32']],
      ['::1', ['10.0.0.0/8', '10.1.0.0/16', '192.0.2.1', '::1', '2001:db8::/32']],
      ['2001:db8::/48', ['10.0.0.0/8', '10.1.0.0/16', '192.0.2.1', '2001:db8::/32', '2001:db8::/48']],
      ['ffff::/16', ['10.0.0.0/8', '10.1.0.0/16', '192.0.2.1', '2001:db8::/32', 'ffff::/16']],
    ] as const) {
      expect(put(entry), entry).to.equal(text([...all]));
    }
    // Held already (first, middle and last), or a list not as keyward writes it: refused, for the long way.
    for (const held of ['10.0.0.0/8', '192.0.2.1', '2001:db8::/32']) expect(put(held), held).to.equal(null);
    expect(put('1.2.3.4', '[]')).to.equal(null);
    expect(put('1.2.3.4', list.replace(/\n {4}\{/g, '\n  {'))).to.equal(null);
    expect(put('1.2.3.4', list.replace('"entry"', '"label": null, "entry"'))).to.equal(null);
  });

  it('cuts the oldest history records and adds the new ones as the long way keeps the newest', () => {
    const text = (records: HistoryRecord[]) => {
      const member = JSON.stringify({history: records}, null, 2);
      return member.slice('{\n  "history": '.length, member.length - '\n}'.length);
    };
    const old = Array.from({length: 5}, (_, i) => historyRecord(i));
    for (const [added, limit] of [
      [1, 10],
      [1, 5],
      [3, 5],
      [5, 5],
      [7, 5],
      [2, 1],
    ]) {
      const appended = Array.from({length: added}, (_, i) => historyRecord(100 + i));
      const list = Buffer.from(text(old));
      const edits = unreadHistoryEdits(list, appended, limit)!;
      const edited = list.toString('utf8', 0, 2) + list.toString('utf8', 2 + edits.cut, edits.at) + edits.text + list.toString('utf8', edits.at);
      expect(edited, `${added} added, limit ${limit}`).to.equal(text([...old, ...appended].slice(-limit)));
    }
    expect(unreadHistoryEdits(Buffer.from('[]'), [historyRecord(1)], 5)).to.equal(null);
  });

  it('reads an empty history (never written by keyward, vouched for by a forged cache) before appending to it', async () => {
    const file = path.join(dir, 'empty-history.json');
    await updateStore(file, NOW, (data) => Object.assign(data, randomStore(3)));
    // The store as keyward writes it but for an empty history, and a cache made to vouch for it.
    writeFileSync(file, readFileSync(file, 'utf8').replace(/\n}\n$/, ',\n  "history": []\n}\n'));
    writeFileSync(indexCacheFile(file), encodeIndexCache(await readStore(file), identityOf(statSync(file))));
    const {outcome} = await authorizeOne(file, '198.51.100.9', null, true);
    expect(outcome).to.not.match(/^failed/);
    const history = (await readStore(file)).history ?? [];
    expect(history.map((r) => r.changes.entries[0]?.added)).to.deep.equal([['198.51.100.9']]);
  });

  it("forges a cache header by its bytes: the header unchanged seals into the cache's own bytes (a key's hint holds `…`)", async () => {
    const file = path.join(dir, 'forged.json');
    await updateStore(file, NOW, (data) => Object.assign(data, randomStore(4)));
    const cache = readFileSync(indexCacheFile(file));
    const header = JSON.stringify(cacheHeader(cache));
    expect(header, 'a header with text of more than one byte a character').to.include('…');
    expect(forgeCacheHeader(cache, header).equals(cache)).to.equal(true);
  });

  it('writes the store and removes the cache when the cache it decided from cannot be patched (one without counts)', async () => {
    const file = path.join(dir, 'no-counts.json');
    await updateStore(file, NOW, (data) => Object.assign(data, randomStore(4)));
    const cache = readFileSync(indexCacheFile(file));
    const header = cacheHeader(cache) as Record<string, unknown>;
    delete header.counts;
    writeFileSync(indexCacheFile(file), forgeCacheHeader(cache, JSON.stringify(header)));
    const {outcome} = await authorizeOne(file, '198.51.100.9', null, true);
    expect(outcome).to.not.match(/^failed/);
    expect(lastChange.addedUnread, 'added unread: the cache still answered').to.equal(true);
    expect((await readStore(file)).account.map((r) => r.entry)).to.include('198.51.100.9');
    expect(existsSync(indexCacheFile(file)), 'no cache that could be wrong').to.equal(false);
  });

  it('never lets the list be read once a record was added to it unread', () => {
    const data = emptyStore(NOW);
    deferList(data, 'account', () => ({list: [], text: '[]'}));
    addToUnreadAccount(data, {entry: '192.0.2.1', source: 'manual', label: null, addedAt: NOW.toISOString(), expiresAt: null});
    expect(() => data.account).to.throw(/asked for after records were put into it unread/);
    expect(() => addToUnreadAccount(data, {entry: '192.0.2.2', source: 'manual', label: null, addedAt: NOW.toISOString(), expiresAt: null})).to.throw(/only once/);
    // The same for the history: once appended to unread, it cannot be read; a history read cannot be appended to unread.
    deferList(data, 'history', () => ({list: [historyRecord(1)], text: null}));
    appendHistory(data, [historyRecord(2)]);
    expect(historyAppendedUnread(data)?.records).to.have.length(1);
    expect(() => data.history).to.throw(/history list was asked for after records were put into it unread/);
    const read = emptyStore(NOW);
    deferList(read, 'history', () => ({list: [historyRecord(1)], text: null}));
    expect(read.history).to.have.length(1);
    expect(() => appendToUnreadHistory(read, [historyRecord(2)], HISTORY_RECORDS)).to.throw(/only to a history not read/);
    appendHistory(read, [historyRecord(2)]);
    expect(read.history).to.have.length(2);
  });
});
