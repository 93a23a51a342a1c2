/**
 * `export --aggregate` from the index cache (aggregateArrays over the
 * compiled account list, rendered from columns) against the export of the
 * JSON store (effectiveList, aggregateRows, renderPlain, exportWarnings), on
 * random account lists: IPv4 and IPv6 entries that nest, touch and repeat,
 * deny, disabled and expiring entries, at moments before and after expiries.
 * Also the union of the ranges against BigInt intervals. Runs per property:
 * 300, or KEYWARD_PROPERTY_RUNS.
 */
import {expect} from 'chai';
import fc from 'fast-check';

import {aggregateArrays, aggregateByEffect, aggregateTimed, rangeCount} from '../../src/core/aggregate.js';
import {aggregateRows, effectiveList} from '../../src/core/effective-list.js';
import {EntryRecord, emptyStore} from '../../src/core/model.js';
import {Prefix} from '../../src/core/prefix.js';
import {exportWarnings, rangeRows, rangeWarnings, renderExport, renderPlainRanges} from '../../src/core/render/index.js';
import {decodeIndexCache, encodeIndexCache, StoreIdentity} from '../../src/store/index-cache.js';
import {addressOfValue, firstOf, lastOf, valueOf} from '../oracle/bigint.js';

const RUNS = Number(process.env.KEYWARD_PROPERTY_RUNS || 300);
const WIDTH = {4: 32, 6: 128} as const;
const T0 = Date.parse('2026-03-01T00:00:00.000Z');
const at = (moment: number) => new Date(T0 + moment * 3_600_000);

// Entries cluster in small regions (the ends of both spaces among them) so that they nest, overlap, touch and repeat.
const REGIONS: ReadonlyArray<{family: 4 | 6; base: bigint}> = [
  {family: 4, base: 0n},
  {family: 4, base: 0x0a000000n},
  {family: 4, base: 0x7ffff800n},
  {family: 4, base: 0xfffff000n},
  {family: 6, base: 0x20010db8n << 96n},
  {family: 6, base: (1n << 128n) - 0x1000n},
];

const entry = fc
  .record({
    region: fc.nat(REGIONS.length - 1),
    offset: fc.bigInt(0n, 0x3ffn),
    narrow: fc.integer({min: 0, max: 10}),
    wide: fc.integer({min: 0, max: 128}),
    useWide: fc.integer({min: 0, max: 15}),
  })
  .map(({region, offset, narrow, wide, useWide}) => {
    const {family, base} = REGIONS[region];
    const width = WIDTH[family];
    const bits = useWide === 0 ? wide % (width + 1) : width - narrow;
    return Prefix.of(addressOfValue(family, base + offset), bits)
      .masked()
      .toString();
  });

const record: fc.Arbitrary<EntryRecord> = fc
  .record({entry, kind: fc.nat(9), expires: fc.oneof(fc.constant(null), fc.integer({min: 1, max: 5}))})
  .map(({entry, kind, expires}) => {
    const r: EntryRecord = {
      entry,
      source: 'manual',
      label: kind === 0 ? 'a label' : null,
      addedAt: at(-10).toISOString(),
      expiresAt: expires === null ? null : at(expires).toISOString(),
    };
    if (kind === 1 || kind === 2) r.effect = 'deny';
    if (kind === 3) r.enabled = false;
    return r;
  });

const identity: StoreIdentity = {dev: '1', ino: '2', size: '3', mtimeMs: '1767225600123.4568', ctimeMs: '1767225600123.4568'};

/** Sorted, merged BigInt intervals of prefix texts: equal address sets give equal arrays. */
function union(texts: readonly string[]): string[] {
  const ranges = texts.map((text) => {
    const p = Prefix.parse(text);
    const size = 1n << BigInt(WIDTH[p.family] - p.bits);
    const first = valueOf(p.address);
    return {family: p.family, first, last: first + size - 1n};
  });
  ranges.sort((a, b) => a.family - b.family || (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const out: typeof ranges = [];
  for (const r of ranges) {
    const top = out[out.length - 1];
    if (top && top.family === r.family && r.first <= top.last + 1n) top.last = r.last > top.last ? r.last : top.last;
    else out.push({...r});
  }
  return out.map((r) => `${r.family}:${r.first}-${r.last}`);
}

const plain = (entry: string, expiresAt: number | null = null, more: Partial<EntryRecord> = {}): EntryRecord => ({
  entry: Prefix.parse(entry).masked().toString(),
  source: 'manual',
  label: null,
  addedAt: at(-10).toISOString(),
  expiresAt: expiresAt === null ? null : at(expiresAt).toISOString(),
  ...more,
});

/** Cases a random run may miss: halves that join, runs that touch at a word's or the space's end, an expiry inside a joined range. */
const EXAMPLES: [EntryRecord[], number][] = [
  [[plain('10.0.0.0/25'), plain('10.0.0.128/25', 3)], 0],
  [[plain('10.0.0.1'), plain('10.0.0.2/31'), plain('10.0.0.4', 2), plain('10.0.0.5'), plain('10.0.0.5', null, {effect: 'deny'})], 1],
  [[plain('127.255.255.255'), plain('128.0.0.0/1'), plain('0.0.0.0/1', 4)], 0],
  [[plain('2001:db8::/33'), plain('2001:db8:8000::/33', 2), plain('2001:db8:0:1::/64', 1, {effect: 'deny'})], 0],
  [[plain('::ffff:ffff:ffff:ffff', 3), plain('0:0:0:1::/64'), plain('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 5), plain('ffff::/16')], 0],
  [[plain('192.0.2.0/24', null, {enabled: false}), plain('192.0.2.0/24', null, {effect: 'deny'})], 0],
];

describe('export --aggregate from the compiled account list (properties)', () => {
  it('gives the rows, plain text and warnings of the export from the JSON store', () => {
    fc.assert(
      fc.property(fc.array(record, {maxLength: 40}), fc.integer({min: 0, max: 6}), (account, moment) => {
        const now = at(moment);
        const data = {...emptyStore(now), account};
        // The slow path: the export of the store as read from JSON.
        const list = effectiveList(data, undefined, now);
        const slow = aggregateRows(list.rows, list.scope);
        // The fast path: the account list as the index cache holds it, written and read back.
        const cached = decodeIndexCache(encodeIndexCache(data, identity), identity, now);
        expect(cached).to.not.equal(null);
        const {compiled, deny: denies} = cached!.account;
        const {deny, allow} = aggregateByEffect(compiled.arrays, now.getTime(), denies);
        const fast = rangeRows(deny, allow, 'account');
        // aggregateArrays, one effect at a time, gives the same ranges.
        const one = (effect: number) => aggregateArrays(compiled.arrays, now.getTime(), (i) => (denies?.[i] ?? 0) === effect);
        expect(rangeRows(one(1), one(0), 'account')).to.deep.equal(fast);
        const shown = (rows: typeof slow) => rows.map((r) => ({...r, prefix: r.prefix.toString()}));
        expect(shown(fast)).to.deep.equal(shown(slow));
        expect(rangeCount(deny) + rangeCount(allow)).to.equal(slow.length);
        const options = {format: 'plain' as const, header: [], now};
        expect(renderPlainRanges(deny, allow)).to.equal(renderExport(slow, options));
        for (const format of ['plain', 'nginx', 'csv'] as const) {
          expect(rangeWarnings(cached!.data, list, deny, allow, format)).to.deep.equal(exportWarnings(data, list, slow, format));
        }
        // And against plain arithmetic: the allow ranges hold exactly the live, enabled allow entries' addresses.
        const live = (r: EntryRecord) => r.enabled !== false && (r.expiresAt === null || Date.parse(r.expiresAt) > now.getTime());
        const texts = fast.filter((r) => r.effect === 'allow').map((r) => r.prefix.toString());
        expect(union(texts)).to.deep.equal(union(account.filter((r) => live(r) && r.effect !== 'deny').map((r) => r.entry)));
      }),
      {numRuns: RUNS, examples: EXAMPLES},
    );
  });
});

/** The fewest CIDR blocks of [first, last] (BigInt, greedy from the low end): the oracle's own cover. */
function coverOf(family: 4 | 6, first: bigint, last: bigint): string[] {
  const width = WIDTH[family];
  const out: string[] = [];
  for (let at = first; at <= last;) {
    let size = 1n;
    while (size < 1n << BigInt(width) && at % (size * 2n) === 0n && at + size * 2n - 1n <= last) size *= 2n;
    let bits = width;
    for (let s = size; s > 1n; s >>= 1n) bits--;
    out.push(Prefix.of(addressOfValue(family, at), bits).toString());
    at += size;
  }
  return out;
}

describe('export --aggregate of a format that writes expiries (aggregateTimed)', () => {
  it('gives each address the latest expiry of the ranges holding it, in the fewest ranges of one expiry each', () => {
    const timed = fc.record({entry, ms: fc.oneof(fc.constant(Number.POSITIVE_INFINITY), fc.integer({min: 1, max: 4}))});
    fc.assert(
      fc.property(fc.array(timed, {maxLength: 30}), (ranges) => {
        const got = aggregateTimed(ranges.map((r) => ({prefix: Prefix.parse(r.entry), ms: r.ms}))).map((r) => `${r.prefix} ${r.ms}`);
        // The oracle: cut each family's space at every range's ends, take the latest expiry over each piece by a scan of
        // every range, join neighbours of one expiry, cover each run.
        const expected: string[] = [];
        for (const family of [4, 6] as const) {
          const mine = ranges.filter((r) => Prefix.parse(r.entry).family === family).map((r) => ({p: Prefix.parse(r.entry), ms: r.ms}));
          const spans = mine.map(({p, ms}) => ({first: firstOf(p), last: lastOf(p), ms}));
          const cuts = [...new Set(spans.flatMap((s) => [s.first, s.last + 1n]))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
          const runs: {first: bigint; last: bigint; ms: number}[] = [];
          for (let i = 0; i + 1 < cuts.length; i++) {
            const [first, last] = [cuts[i], cuts[i + 1] - 1n];
            const holding = spans.filter((s) => s.first <= first && last <= s.last);
            if (holding.length === 0) continue;
            const ms = Math.max(...holding.map((s) => s.ms));
            const top = runs[runs.length - 1];
            if (top !== undefined && top.ms === ms && top.last + 1n === first) top.last = last;
            else runs.push({first, last, ms});
          }
          for (const run of runs) expected.push(...coverOf(family, run.first, run.last).map((text) => `${text} ${run.ms}`));
        }
        expect(got).to.deep.equal(expected);
      }),
      {numRuns: RUNS},
    );
  });
});
