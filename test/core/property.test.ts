/**
 * Property tests for the core against deliberately simple oracles: BigInt
 * arithmetic over address numbers, naive text writers, linear scans over
 * entries, and ipaddr.js for RFC 5952 text. Runs per property: 1000, or
 * KEYWARD_PROPERTY_RUNS.
 */
import {expect} from 'chai';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';

import {Address, formatIPv4, scanDecisionAddress} from '../../src/core/address.js';
import {addressOfValue, valueOf} from '../oracle/bigint.js';
import {aggregate} from '../../src/core/aggregate.js';
import {AddressError} from '../../src/core/errors.js';
import {addEntries, removeEntries} from '../../src/core/allowlist.js';
import {isLive} from '../../src/core/decision.js';
import {EntryRecord} from '../../src/core/model.js';
import {Prefix} from '../../src/core/prefix.js';
import {parseEntry} from '../../src/core/entry-parse.js';
import {CompiledIndex, PrefixIndex} from '../../src/core/prefix-index.js';

const RUNS = runsFromEnvironment();

function runsFromEnvironment(): number {
  const text = process.env.KEYWARD_PROPERTY_RUNS;
  if (text === undefined || text === '') return 1000;
  const runs = Number(text);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`KEYWARD_PROPERTY_RUNS must be a positive integer, not ${JSON.stringify(text)}`);
  return runs;
}

function check<T extends [unknown, ...unknown[]]>(property: fc.IPropertyWithHooks<T>, options: {numRuns?: number} = {}): void {
  fc.assert(property, {numRuns: options.numRuns ?? RUNS});
}

type Family = 4 | 6;
const WIDTH = {4: 32, 6: 128} as const;
const MAX = {4: (1n << 32n) - 1n, 6: (1n << 128n) - 1n} as const;
const MASK32 = (1n << 32n) - 1n;

// ---- The oracle: naive text writers and range arithmetic -------------------------------

function dotted(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 255n)).join('.');
}

function groupsOf(value: bigint): number[] {
  return Array.from({length: 8}, (_, k) => Number((value >> BigInt(112 - 16 * k)) & 0xffffn));
}

function fromGroups(groups: readonly number[]): bigint {
  return groups.reduce((value, g) => (value << 16n) | BigInt(g), 0n);
}

/** All eight groups, no compression: the plainest valid IPv6 text. */
function fullIPv6(value: bigint): string {
  return groupsOf(value)
    .map((g) => g.toString(16))
    .join(':');
}

function isMappedValue(value: bigint): boolean {
  return value >> 32n === 0xffffn;
}

/** RFC 5952 per ipaddr.js, except mapped addresses, which keyward writes with a dotted tail (RFC 5952 §5). */
function expectedCanonicalIPv6(value: bigint): string {
  if (isMappedValue(value)) return `::ffff:${dotted(value & MASK32)}`;
  return ipaddr.IPv6.parse(fullIPv6(value)).toRFC5952String();
}

/**
 * The address ipaddr.js reads from `text`, except that ipaddr.js reads the deprecated
 * IPv4-compatible form `::a.b.c.d` as mapped (::ffff:a.b.c.d); RFC 4291 §2.5.5.1, and
 * keyward, read it as 0:0:0:0:0:0:a.b.c.d.
 */
function ipaddrValue(text: string): bigint {
  const compatible = /^::(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (compatible) return ipaddrValue(compatible[1]);
  return ipaddr
    .parse(text)
    .toByteArray()
    .reduce((value, byte) => (value << 8n) | BigInt(byte), 0n);
}

/** How to write an IPv6 address in one of its many RFC 4291 forms. */
interface IPv6Style {
  /** Which run of zero groups to write as "::" (modulo the number of runs, plus one for none). */
  compress: number;
  upper: boolean;
  pad: boolean[];
  tail: boolean;
}

function writeIPv6(value: bigint, style: IPv6Style): string {
  const groups = groupsOf(value);
  const hex = groups.map((g, k) => {
    const digits = style.pad[k] ? g.toString(16).padStart(4, '0') : g.toString(16);
    return style.upper ? digits.toUpperCase() : digits;
  });
  const headLength = style.tail ? 6 : 8;
  const parts = style.tail ? [...hex.slice(0, 6), dotted(value & MASK32)] : hex;
  const runs: Array<[number, number]> = [];
  for (let i = 0; i < headLength; i++) {
    for (let j = i + 1; j <= headLength && groups[j - 1] === 0; j++) runs.push([i, j]);
  }
  const choice = style.compress % (runs.length + 1);
  if (choice === runs.length) return parts.join(':');
  const [i, j] = runs[choice];
  return `${parts.slice(0, i).join(':')}::${parts.slice(j).join(':')}`;
}

const ipv6Style: fc.Arbitrary<IPv6Style> = fc.record({
  compress: fc.nat(),
  upper: fc.boolean(),
  pad: fc.array(fc.boolean(), {minLength: 8, maxLength: 8}),
  tail: fc.boolean(),
});

const ipv4Value: fc.Arbitrary<bigint> = fc.oneof(
  fc.bigInt(0n, MAX[4]),
  fc.constantFrom(0n, 1n, MAX[4], MAX[4] - 1n, 0x0a000000n, 0x7f000001n),
  // Octets from the edges: 0, 1, 9, 10, 99, 100, 199, 200, 255.
  fc.array(fc.constantFrom(0, 1, 9, 10, 99, 100, 199, 200, 254, 255), {minLength: 4, maxLength: 4}).map((o) => o.reduce((v, x) => (v << 8n) | BigInt(x), 0n)),
);

const ipv6Group = fc.oneof(
  {arbitrary: fc.constant(0), weight: 4},
  {arbitrary: fc.integer({min: 0, max: 0xffff}), weight: 3},
  {arbitrary: fc.constantFrom(1, 0xf, 0x10, 0xff, 0x100, 0xfff, 0x1000, 0xffff), weight: 1},
);

const ipv6Value: fc.Arbitrary<bigint> = fc.oneof(
  {arbitrary: fc.array(ipv6Group, {minLength: 8, maxLength: 8}).map(fromGroups), weight: 6},
  {arbitrary: fc.bigInt(0n, MAX[6]), weight: 2},
  {arbitrary: fc.bigInt(0n, MASK32).map((v) => (0xffffn << 32n) | v), weight: 1},
  {arbitrary: fc.constantFrom(0n, 1n, MAX[6], 0xffffn << 32n, (0xffffn << 32n) - 1n, 0x10000n << 32n), weight: 1},
);

// ---- (a) addresses: text round trips and the canonical form -----------------------------

describe('core properties', function () {
  this.timeout(0);

  describe('addresses', () => {
    it('writes every IPv4 address as plain dotted decimal and reads it back', () => {
      check(
        fc.property(ipv4Value, (value) => {
          const text = dotted(value);
          expect(formatIPv4(Number(value))).to.equal(text);
          const address = Address.parse(text);
          expect(address.family).to.equal(4);
          expect(valueOf(address)).to.equal(value);
          expect(address.toString()).to.equal(text);
          expect(Address.parse(`::ffff:${text}`).unmap().equals(address)).to.equal(true);
        }),
      );
    });

    it('writes every IPv6 address in the RFC 5952 form ipaddr.js writes, and reads it back', () => {
      check(
        fc.property(ipv6Value, (value) => {
          const canonical = addressOfValue(6, value).toString();
          expect(canonical).to.equal(expectedCanonicalIPv6(value));
          expect(valueOf(Address.parse(canonical))).to.equal(value);
          expect(ipaddrValue(canonical), 'ipaddr.js reads the canonical text as the same address').to.equal(value);
        }),
      );
    });

    it('reads every RFC 4291 way of writing an IPv6 address as the same address', () => {
      check(
        fc.property(ipv6Value, ipv6Style, (value, style) => {
          const text = writeIPv6(value, style);
          const address = Address.parse(text);
          expect(valueOf(address), text).to.equal(value);
          expect(address.toString(), text).to.equal(expectedCanonicalIPv6(value));
        }),
      );
    });

    it('accepts the IPv6 texts fast-check generates, as the address ipaddr.js reads', () => {
      check(
        fc.property(fc.ipV6(), (text) => {
          expect(valueOf(Address.parse(text)), text).to.equal(ipaddrValue(text));
        }),
      );
    });

    it('accepts an IPv4 text exactly when it is four plain decimal octets 0-255', () => {
      const strict = /^(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})$/;
      const ipv4ish = fc.oneof(fc.ipV4Extended(), fc.ipV4(), fc.string({unit: fc.constantFrom('0', '1', '2', '5', '9', '.', 'x', ' ', '+'), maxLength: 18}));
      check(
        fc.property(ipv4ish, (text) => {
          const match = strict.exec(text);
          const expected = match !== null && match.slice(1).every((octet) => Number(octet) <= 255);
          let accepted: boolean;
          try {
            Address.parse(text);
            accepted = true;
          } catch (error) {
            expect(error).to.be.instanceOf(AddressError);
            accepted = false;
          }
          expect(accepted, JSON.stringify(text)).to.equal(expected);
          if (accepted) expect(Address.parse(text).toString()).to.equal(text);
        }),
      );
    });

    it('means the same address as ipaddr.js whenever it accepts a mutated text', () => {
      const mutation = fc.record({
        at: fc.nat(),
        op: fc.constantFrom('insert', 'delete', 'replace'),
        char: fc.constantFrom('0', '1', 'f', 'F', ':', '.', '%', ' ', 'g', '9'),
      });
      check(
        fc.property(
          fc.oneof(
            ipv6Value.map(fullIPv6),
            ipv6Value.map((v) => writeIPv6(v, {compress: 0, upper: false, pad: Array(8).fill(false), tail: true})),
          ),
          mutation,
          (text, m) => {
            const at = m.at % (text.length + 1);
            const mutated =
              m.op === 'insert'
                ? text.slice(0, at) + m.char + text.slice(at)
                : m.op === 'delete'
                  ? text.slice(0, at) + text.slice(at + 1)
                  : text.slice(0, at) + m.char + text.slice(at + 1);
            let value: bigint;
            try {
              value = valueOf(Address.parse(mutated));
            } catch (error) {
              expect(error).to.be.instanceOf(AddressError);
              return;
            }
            expect(ipaddr.isValid(mutated), `${JSON.stringify(mutated)} accepted by keyward, refused by ipaddr.js`).to.equal(true);
            expect(ipaddrValue(mutated), mutated).to.equal(value);
          },
        ),
      );
    });
  });

  // ---- entries and probes near their boundaries -------------------------------------------

  /** An entry as the oracle sees it: a family and an inclusive range of numbers. */
  interface RefEntry {
    family: Family;
    first: bigint;
    last: bigint;
    bits: number;
    text: string;
  }

  // Entries cluster in a few small regions so that they nest, overlap and touch; one region
  // is the IPv4-mapped block over 10.0.0.0, so that mapped entries meet IPv4 ones.
  const REGIONS: ReadonlyArray<{family: Family; base: bigint}> = [
    {family: 4, base: 0n},
    {family: 4, base: 0x0a000000n},
    {family: 4, base: MAX[4] - 0xfffn},
    {family: 6, base: 0n},
    {family: 6, base: 0x20010db8n << 96n},
    {family: 6, base: MAX[6] - 0xfffn},
    {family: 6, base: (0xffffn << 32n) | 0x0a000000n},
  ];
  const SPAN = 0xfffn;

  // Offsets favour the first and last addresses of aligned blocks (k·2^j and k·2^j − 1), where
  // ranges start, end and touch.
  const offset = fc.oneof(
    fc.bigInt(0n, SPAN),
    fc.record({k: fc.integer({min: 0, max: 15}), j: fc.integer({min: 0, max: 8}), minusOne: fc.boolean()}).map(({k, j, minusOne}) => {
      const at = (BigInt(k) << BigInt(j)) - (minusOne ? 1n : 0n);
      return at < 0n ? 0n : at > SPAN ? SPAN : at;
    }),
  );

  const regionValue = fc.record({region: fc.nat(REGIONS.length - 1), offset}).map(({region, offset}) => ({
    family: REGIONS[region].family,
    value: REGIONS[region].base + offset,
  }));

  const refEntry: fc.Arbitrary<RefEntry> = fc
    .record({
      at: regionValue,
      narrow: fc.integer({min: 0, max: 14}),
      wide: fc.oneof(fc.integer({min: 0, max: 128}), fc.constantFrom(0, 1, 8, 24, 31, 32, 33, 64, 95, 96, 97, 104, 127)),
      useWide: fc.integer({min: 0, max: 9}),
      style: ipv6Style,
      slash: fc.boolean(),
    })
    .map(({at, narrow, wide, useWide, style, slash}) => {
      const width = WIDTH[at.family];
      const bits = useWide === 0 ? wide % (width + 1) : width - narrow;
      // Host bits are left in the text on purpose: parseEntry is asked to normalize.
      const written = at.family === 4 ? dotted(at.value) : writeIPv6(at.value, style);
      const text = bits === width && slash ? written : `${written}/${bits}`;
      const hostMask = (1n << BigInt(width - bits)) - 1n;
      const first = at.value & ~hostMask & MAX[at.family];
      const last = first | hostMask;
      if (at.family === 6 && bits >= 96 && isMappedValue(first)) {
        return {family: 4 as Family, first: first & MASK32, last: last & MASK32, bits: bits - 96, text};
      }
      return {family: at.family, first, last, bits, text};
    });

  const entryList = fc.array(refEntry, {minLength: 0, maxLength: 30});

  /** A probe: an address the oracle knows as a number, and a text that writes it. */
  interface Probe {
    family: Family;
    value: bigint;
    text: string;
  }

  function probeTexts(family: Family, value: bigint): Probe[] {
    if (family === 4)
      return [
        {family, value, text: dotted(value)},
        {family, value, text: `::ffff:${dotted(value)}`},
      ];
    if (isMappedValue(value)) return [{family: 4, value: value & MASK32, text: fullIPv6(value)}];
    return [{family, value, text: fullIPv6(value)}];
  }

  /** Every entry's first and last address and the addresses just outside, plus random ones. */
  function probesAround(ranges: ReadonlyArray<{family: Family; first: bigint; last: bigint}>, extra: ReadonlyArray<{family: Family; value: bigint}>): Probe[] {
    const probes: Probe[] = [];
    for (const r of ranges) {
      for (const value of [r.first - 1n, r.first, r.last, r.last + 1n]) {
        if (value >= 0n && value <= MAX[r.family]) probes.push(...probeTexts(r.family, value));
      }
    }
    for (const e of extra) probes.push(...probeTexts(e.family, e.value));
    return probes;
  }

  const randomProbes = fc.array(
    fc.oneof(
      regionValue,
      fc.record({family: fc.constant(4 as Family), value: fc.bigInt(0n, MAX[4])}),
      fc.record({family: fc.constant(6 as Family), value: fc.bigInt(0n, MAX[6])}),
    ),
    {maxLength: 20},
  );

  function parsed(ref: readonly RefEntry[]): Prefix[] {
    return ref.map((r) => parseEntry(r.text, {normalize: true, force: true}));
  }

  const inRange = (r: {family: Family; first: bigint; last: bigint}, p: {family: Family; value: bigint}) => r.family === p.family && r.first <= p.value && p.value <= r.last;

  describe('entries', () => {
    it('parses every written entry to the range the arithmetic gives', () => {
      check(
        fc.property(refEntry, (ref) => {
          const entry = parseEntry(ref.text, {normalize: true, force: true});
          expect([entry.family, valueOf(entry.first), valueOf(entry.last), entry.bits], ref.text).to.deep.equal([ref.family, ref.first, ref.last, ref.bits]);
          expect(parseEntry(entry.toString(), {force: true}).toString(), 'canonical text reads back as itself').to.equal(entry.toString());
        }),
      );
    });
  });

  // ---- (b) membership: PrefixIndex against a linear scan ----------------------------------

  describe('membership', () => {
    it('reports the same containing entries as a linear scan, outermost first', () => {
      check(
        fc.property(entryList, randomProbes, (refs, extra) => {
          const index = new PrefixIndex(parsed(refs));
          const words = new Uint32Array(4);
          for (const probe of probesAround(refs, extra)) {
            const expected = refs
              .map((r, i) => ({r, i}))
              .filter(({r}) => inRange(r, probe))
              .sort((a, b) => a.r.bits - b.r.bits || a.i - b.i)
              .map(({i}) => i);
            const family = scanDecisionAddress(probe.text, words);
            expect(family, probe.text).to.equal(probe.family);
            expect(index.matches(family, words), probe.text).to.deep.equal(expected);
            expect(index.has(family, words), probe.text).to.equal(expected.length > 0);
          }
        }),
      );
    });

    it('reports only the entries not yet expired at the moment asked, outermost first', () => {
      const expiry = fc.option(fc.integer({min: 0, max: 10}), {nil: undefined});
      check(
        fc.property(entryList, fc.array(expiry, {minLength: 30, maxLength: 30}), fc.integer({min: 0, max: 10}), randomProbes, (refs, expiries, now, extra) => {
          // Entries expire at whole moments 0..10 (or never); the index is asked at `now`.
          const expires = refs.map((_, i) => expiries[i] ?? Number.POSITIVE_INFINITY);
          const index = CompiledIndex.fromTexts(parsed(refs).map(String), expires);
          const words = new Uint32Array(4);
          for (const probe of probesAround(refs, extra)) {
            const expected = refs
              .map((r, i) => ({r, i}))
              .filter(({r, i}) => inRange(r, probe) && expires[i] > now)
              .sort((a, b) => a.r.bits - b.r.bits || a.i - b.i)
              .map(({i}) => i);
            const family = scanDecisionAddress(probe.text, words);
            expect(index.matches(family, words, now), probe.text).to.deep.equal(expected);
            expect(index.has(family, words, now), probe.text).to.equal(expected.length > 0);
          }
        }),
      );
    });

    it('names as covering exactly the entries that hold the whole range, outermost first', () => {
      check(
        fc.property(entryList, (refs) => {
          const entries = parsed(refs);
          const index = new PrefixIndex(entries);
          refs.forEach((target, t) => {
            const expected = refs
              .map((r, i) => ({r, i}))
              .filter(({r}) => r.family === target.family && r.first <= target.first && target.last <= r.last)
              .sort((a, b) => a.r.bits - b.r.bits || a.i - b.i)
              .map(({r}) => `${r.family}:${r.first}/${r.bits}`);
            const actual = index.covering(entries[t]).map((p) => `${p.family}:${valueOf(p.first)}/${p.bits}`);
            expect(actual, target.text).to.deep.equal(expected);
          });
        }),
      );
    });
  });

  // ---- (c) aggregation: the same addresses, in the fewest CIDRs ---------------------------

  describe('aggregation', () => {
    /** An output prefix as a range, computed from its address and length alone. */
    function rangeOf(p: Prefix): {family: Family; first: bigint; last: bigint; bits: number} {
      const first = valueOf(p.address);
      return {family: p.family, first, last: first + (1n << BigInt(WIDTH[p.family] - p.bits)) - 1n, bits: p.bits};
    }

    /** The union of ranges as sorted disjoint intervals that do not touch: the plainest sweep. */
    function union(ranges: ReadonlyArray<{family: Family; first: bigint; last: bigint}>): string[] {
      const sorted = [...ranges].sort((a, b) => a.family - b.family || (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
      const out: Array<{family: Family; first: bigint; last: bigint}> = [];
      for (const r of sorted) {
        const top = out[out.length - 1];
        if (top && top.family === r.family && r.first <= top.last + 1n) top.last = r.last > top.last ? r.last : top.last;
        else out.push({...r});
      }
      return out.map((r) => `${r.family}:${r.first}-${r.last}`);
    }

    it('covers exactly the addresses of the input', () => {
      check(
        fc.property(entryList, randomProbes, (refs, extra) => {
          const output = aggregate(parsed(refs)).map(rangeOf);
          expect(union(output)).to.deep.equal(union(refs));
          for (const probe of probesAround([...refs, ...output], extra)) {
            const before = refs.some((r) => inRange(r, probe));
            const after = output.some((r) => inRange(r, probe));
            expect(after, probe.text).to.equal(before);
          }
        }),
      );
    });

    it('returns sorted, masked, non-overlapping CIDRs no two of which make one CIDR', () => {
      check(
        fc.property(entryList, (refs) => {
          const output = aggregate(parsed(refs));
          for (const p of output) expect(p.isMasked(), p.toString()).to.equal(true);
          for (let k = 1; k < output.length; k++) {
            const a = rangeOf(output[k - 1]);
            const b = rangeOf(output[k]);
            if (a.family !== b.family) {
              expect(a.family, 'IPv4 first').to.equal(4);
              continue;
            }
            expect(a.last < b.first, `${output[k - 1]} before and apart from ${output[k]}`).to.equal(true);
            // Sorted and disjoint, two CIDRs can only form one CIDR as neighbours: two halves of a parent.
            const halves =
              a.bits === b.bits &&
              a.bits > 0 &&
              a.last + 1n === b.first &&
              a.first >> BigInt(WIDTH[a.family] - a.bits + 1) === b.first >> BigInt(WIDTH[a.family] - a.bits + 1);
            expect(halves, `${output[k - 1]} and ${output[k]} are one CIDR`).to.equal(false);
          }
          // Sorted and disjoint across families too: a second pass finds no IPv4 after IPv6.
          expect(output.map((p) => p.family)).to.deep.equal([...output.map((p) => p.family)].sort());
        }),
      );
    });

    it('leaves an already minimal list as it is', () => {
      check(
        fc.property(entryList, (refs) => {
          const once = aggregate(parsed(refs));
          expect(aggregate(once).map(String)).to.deep.equal(once.map(String));
        }),
      );
    });
  });

  // ---- (d) allowlist changes: what the operator authorized stays until its own expiry -------

  describe('allowlist changes', () => {
    /** Entries that nest, touch and repeat: an expiring or learned cover over permanent entries. */
    const POOL = [
      '10.0.0.0/8',
      '10.1.0.0/16',
      '10.1.0.0/17',
      '10.1.2.0/24',
      '10.1.2.3',
      '10.2.0.0/16',
      '192.0.2.0/24',
      '192.0.2.7',
      '2001:db8::/32',
      '2001:db8:1::/48',
      '2001:db8:1::1',
    ];
    const HOUR = 3_600_000;
    const START = Date.parse('2026-06-01T00:00:00Z');

    type Step =
      | {kind: 'authorize'; picks: {entry: number; label: string | null}[]; expiresInHours: number | null; source: 'manual' | 'learned'; afterHours: number}
      | {kind: 'revoke'; pick: number; afterHours: number}
      | {kind: 'prune'; afterHours: number};

    const step: fc.Arbitrary<Step> = fc.oneof(
      {
        weight: 4,
        arbitrary: fc.record({
          kind: fc.constant('authorize' as const),
          picks: fc.array(fc.record({entry: fc.nat(POOL.length - 1), label: fc.option(fc.constantFrom('office', 'contractor', 'vpn'), {nil: null})}), {
            minLength: 1,
            maxLength: 5,
          }),
          expiresInHours: fc.option(fc.integer({min: 1, max: 72}), {nil: null}),
          source: fc.constantFrom('manual' as const, 'learned' as const),
          afterHours: fc.integer({min: 0, max: 48}),
        }),
      },
      {weight: 2, arbitrary: fc.record({kind: fc.constant('revoke' as const), pick: fc.nat(), afterHours: fc.integer({min: 0, max: 48})})},
      {weight: 1, arbitrary: fc.record({kind: fc.constant('prune' as const), afterHours: fc.integer({min: 0, max: 48})})},
    );

    /** The oracle: what the operator asked for, one plain record per entry text (expiry in ms, or null). */
    interface Asked {
      label: string | null;
      expires: number | null;
    }
    const liveAt = (a: Asked, t: number) => a.expires === null || a.expires > t;

    it('keeps every entry authorized and not revoked in the list, live, with its label, until its own expiry', () => {
      check(
        fc.property(fc.array(step, {minLength: 1, maxLength: 25}), (steps) => {
          const list: EntryRecord[] = [];
          const asked = new Map<string, Asked>();
          let t = START;
          for (const s of steps) {
            t += s.afterHours * HOUR;
            const now = new Date(t);
            if (s.kind === 'authorize') {
              const expires = s.expiresInHours === null ? null : t + s.expiresInHours * HOUR;
              const expiresAt = expires === null ? null : new Date(expires).toISOString();
              addEntries(
                list,
                s.picks.map((p) => ({prefix: Prefix.parse(POOL[p.entry]), label: p.label, source: s.source, expiresAt})),
                now,
              );
              // The first label given for an entry counts; what is given replaces, what is not is kept (an expired entry loses its expiry).
              const labels = new Map<string, string | null>();
              for (const p of s.picks) if (!labels.has(POOL[p.entry]) || labels.get(POOL[p.entry]) === null) labels.set(POOL[p.entry], p.label);
              for (const [text, label] of labels) {
                const was = asked.get(text);
                const live = was !== undefined && liveAt(was, t);
                asked.set(text, {label: label ?? was?.label ?? null, expires: expires ?? (live ? was.expires : null)});
              }
            } else if (s.kind === 'revoke') {
              const present = [...asked.keys()];
              if (present.length === 0) continue;
              const text = present[s.pick % present.length];
              removeEntries(list, [Prefix.parse(text)]);
              asked.delete(text);
            } else {
              const kept = list.filter((r) => isLive(r, now));
              list.length = 0;
              list.push(...kept);
              for (const [text, a] of asked) if (!liveAt(a, t)) asked.delete(text);
            }
            // Now, and at later moments: exactly the entries asked for and still live are live in the list, and match.
            for (const later of [t, t + HOUR, t + 24 * HOUR, t + 100 * HOUR]) {
              const at = new Date(later);
              const expected = [...asked].filter(([, a]) => liveAt(a, later)).map(([text, a]) => ({text, label: a.label, expires: a.expires}));
              const actual = list.filter((r) => isLive(r, at)).map((r) => ({text: r.entry, label: r.label, expires: r.expiresAt === null ? null : Date.parse(r.expiresAt)}));
              const byText = (a: {text: string}, b: {text: string}) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0);
              expect(actual.sort(byText), `at +${(later - START) / HOUR} h`).to.deep.equal(expected.sort(byText));
              const index = CompiledIndex.fromTexts(
                list.map((r) => r.entry),
                list.map((r) => (r.expiresAt === null ? Number.POSITIVE_INFINITY : Date.parse(r.expiresAt))),
              );
              for (const {text} of expected) {
                const p = Prefix.parse(text);
                expect(index.has(p.family, Uint32Array.from(p.address.words()), later), `${text} matches at +${(later - START) / HOUR} h`).to.equal(true);
              }
            }
            expect(new Set(list.map((r) => r.entry)).size, 'one record per entry').to.equal(list.length);
          }
        }),
        {numRuns: Math.max(50, Math.round(RUNS / 5))},
      );
    });
  });
});
