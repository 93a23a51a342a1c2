/**
 * Property tests for set operations on CIDR lists against a deliberately
 * plain oracle: ranges as BigInt intervals, unions and intersections by a
 * sort-and-sweep over intervals, liveness by filtering. Runs per property:
 * 1000, or KEYWARD_PROPERTY_RUNS.
 */
import {expect} from 'chai';
import fc from 'fast-check';

import {Address} from '../../src/core/address.js';
import {addressOfValue, valueOf} from '../oracle/bigint.js';
import {intersect, outermost, TimedPrefix} from '../../src/core/set-ops.js';
import {Prefix} from '../../src/core/prefix.js';

const RUNS = Number(process.env.KEYWARD_PROPERTY_RUNS || 1000);

type Family = 4 | 6;
const WIDTH = {4: 32, 6: 128} as const;

interface Interval {
  family: Family;
  first: bigint;
  last: bigint;
}

/** The range of a prefix from its text alone, by arithmetic: the oracle does not trust Prefix's own bounds. */
function rangeOf(p: Prefix): Interval {
  const text = p.toString();
  const [address, bits] = text.includes('/') ? [text.slice(0, text.indexOf('/')), Number(text.slice(text.indexOf('/') + 1))] : [text, WIDTH[p.family]];
  const value = valueOf(Address.parse(address));
  const size = 1n << BigInt(WIDTH[p.family] - bits);
  const first = value - (value % size);
  return {family: p.family, first, last: first + size - 1n};
}

/** Sorted, merged intervals (touching ones joined) written as text: equal sets give equal arrays. */
function union(ranges: readonly Interval[]): string[] {
  const sorted = [...ranges].sort((a, b) => a.family - b.family || (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const out: Interval[] = [];
  for (const r of sorted) {
    const top = out[out.length - 1];
    if (top && top.family === r.family && r.first <= top.last + 1n) top.last = r.last > top.last ? r.last : top.last;
    else out.push({...r});
  }
  return out.map((r) => `${r.family}:${r.first}-${r.last}`);
}

/** The intersection of two interval sets, pair by pair: quadratic and obviously right. */
function intersection(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  for (const x of a) {
    for (const y of b) {
      if (x.family !== y.family) continue;
      const first = x.first > y.first ? x.first : y.first;
      const last = x.last < y.last ? x.last : y.last;
      if (first <= last) out.push({family: x.family, first, last});
    }
  }
  return out;
}

// Entries cluster in small regions so that they nest, overlap, touch and repeat.
const REGIONS: ReadonlyArray<{family: Family; base: bigint}> = [
  {family: 4, base: 0x0a000000n},
  {family: 4, base: 0xc0000200n},
  {family: 6, base: 0x20010db8n << 96n},
  {family: 6, base: 0n},
];

const prefix: fc.Arbitrary<Prefix> = fc
  .record({
    region: fc.nat(REGIONS.length - 1),
    offset: fc.bigInt(0n, 0xfffn),
    narrow: fc.integer({min: 0, max: 12}),
    wide: fc.integer({min: 0, max: 128}),
    useWide: fc.integer({min: 0, max: 9}),
  })
  .map(({region, offset, narrow, wide, useWide}) => {
    const {family, base} = REGIONS[region];
    const width = WIDTH[family];
    const bits = useWide === 0 ? wide % (width + 1) : width - narrow;
    return Prefix.of(addressOfValue(family, base + offset), bits).masked();
  });

/** Expiry at moments 1..5, or never. */
const expiry = fc.oneof(fc.integer({min: 1, max: 5}), fc.constant(Number.POSITIVE_INFINITY));
const timedList = fc.array(fc.record({prefix, expiresMs: expiry}), {maxLength: 25});

const MOMENTS = [0, 1, 2, 3, 4, 5];

describe('set operations (properties)', () => {
  it('intersect: at every moment, the live pieces cover exactly the addresses live in both lists', () => {
    fc.assert(
      fc.property(timedList, timedList, (a: TimedPrefix[], b: TimedPrefix[]) => {
        const pieces = intersect(a, b);
        for (const t of MOMENTS) {
          const live = (list: readonly TimedPrefix[]) => list.filter((e) => e.expiresMs > t).map((e) => rangeOf(e.prefix));
          const expected = union(intersection(live(a), live(b)));
          const actual = union(pieces.filter((p) => p.expiresMs > t).map((p) => rangeOf(p.prefix)));
          expect(actual, `at moment ${t}`).to.deep.equal(expected);
        }
      }),
      {numRuns: RUNS},
    );
  });

  it('intersect: each piece is an entry of the list it names, listed once, in sorted order, expiring no later than that entry', () => {
    fc.assert(
      fc.property(timedList, timedList, (a: TimedPrefix[], b: TimedPrefix[]) => {
        const pieces = intersect(a, b);
        const texts = pieces.map((p) => p.prefix.toString());
        expect(new Set(texts).size, 'distinct ranges').to.equal(texts.length);
        for (let k = 1; k < pieces.length; k++) expect(Prefix.compare(pieces[k - 1].prefix, pieces[k].prefix), 'sorted').to.be.lessThan(0);
        for (const p of pieces) {
          const source = (p.from.list === 'a' ? a : b)[p.from.index];
          expect(source.prefix.toString()).to.equal(p.prefix.toString());
          expect(p.expiresMs).to.be.at.most(source.expiresMs);
        }
      }),
      {numRuns: RUNS},
    );
  });

  it('intersect: with nothing expiring, an entry is a piece exactly when the other list holds a range containing it', () => {
    const list = fc.array(prefix, {maxLength: 25});
    fc.assert(
      fc.property(list, list, (a, b) => {
        const timed = (l: Prefix[]) => l.map((p) => ({prefix: p, expiresMs: Number.POSITIVE_INFINITY}));
        const within = (p: Prefix, other: Prefix[]) =>
          other.some((q) => {
            const x = rangeOf(p);
            const y = rangeOf(q);
            return x.family === y.family && y.first <= x.first && x.last <= y.last;
          });
        const expected = new Set([...a.filter((p) => within(p, b)), ...b.filter((p) => within(p, a))].map(String));
        expect(
          intersect(timed(a), timed(b))
            .map((p) => p.prefix.toString())
            .sort(),
        ).to.deep.equal([...expected].sort());
      }),
      {numRuns: RUNS},
    );
  });

  it('outermost: keeps the same addresses, with no kept entry inside another, and drops only entries inside a kept one', () => {
    fc.assert(
      fc.property(fc.array(prefix, {maxLength: 30}), (list) => {
        const kept = outermost(list);
        const keptRanges = kept.map((i) => rangeOf(list[i]));
        expect(union(keptRanges)).to.deep.equal(union(list.map(rangeOf)));
        for (let x = 0; x < keptRanges.length; x++) {
          for (let y = 0; y < keptRanges.length; y++) {
            if (x === y) continue;
            const overlap = keptRanges[x].family === keptRanges[y].family && keptRanges[x].first <= keptRanges[y].last && keptRanges[y].first <= keptRanges[x].last;
            expect(overlap, `${list[kept[x]]} and ${list[kept[y]]} both kept`).to.equal(false);
          }
        }
        for (let k = 1; k < kept.length; k++) expect(Prefix.compare(list[kept[k - 1]], list[kept[k]])).to.be.lessThan(0);
      }),
      {numRuns: RUNS},
    );
  });

  it('examples: nested, equal, disjoint and split ranges', () => {
    const t = (text: string, expiresMs = Number.POSITIVE_INFINITY): TimedPrefix => ({prefix: Prefix.parse(text), expiresMs});
    const pieces = intersect(
      [t('10.0.0.0/8'), t('192.0.2.0/23'), t('2001:db8::/48', 5), t('198.51.100.0/24')],
      [t('10.1.0.0/16', 3), t('10.2.0.0/16'), t('192.0.2.0/24'), t('192.0.3.0/24'), t('2001:db8::/32', 7), t('203.0.113.0/24')],
    );
    expect(pieces.map((p) => [p.prefix.toString(), p.expiresMs, p.from.list])).to.deep.equal([
      ['10.1.0.0/16', 3, 'b'],
      ['10.2.0.0/16', Number.POSITIVE_INFINITY, 'b'],
      ['192.0.2.0/24', Number.POSITIVE_INFINITY, 'b'],
      ['192.0.3.0/24', Number.POSITIVE_INFINITY, 'b'],
      ['2001:db8::/48', 5, 'a'],
    ]);
    // Equal ranges: the one that lasts longer, `a` on a tie.
    expect(intersect([t('10.0.0.0/8', 2)], [t('10.0.0.0/8', 4)]).map((p) => [p.from.list, p.expiresMs])).to.deep.equal([['a', 2]]);
    expect(intersect([t('10.0.0.0/8')], [t('10.0.0.0/8')]).map((p) => p.from.list)).to.deep.equal(['a']);
    expect(outermost(['10.1.0.0/16', '10.0.0.0/8', '10.0.0.0/8', '192.0.2.1'].map((s) => Prefix.parse(s)))).to.deep.equal([1, 3]);
  });
});
