/** Aggregation: the minimal list of CIDR ranges covering exactly the addresses of a list. */
import {Address, Family, formatIPv4, formatIPv6} from './address.js';
import {Prefix} from './prefix.js';
import {FamilyArrays, IndexArrays} from './prefix-index.js';
import {compareWords, coverRange, lastOfPrefix, next, widthOf} from './words.js';

/** A run of consecutive addresses: its first and last address's words (one for IPv4, four for IPv6). */
export interface Interval {
  family: Family;
  first: Uint32Array;
  last: Uint32Array;
}

/** Sorted, merged intervals (overlapping and adjacent ranges joined), IPv4 first. */
export function mergeIntervals(prefixes: readonly Prefix[]): Interval[] {
  const sorted = [...prefixes].sort(Prefix.compare);
  const merged: Interval[] = [];
  for (const p of sorted) {
    const width = widthOf(p.family);
    const first = p.first.words();
    const last = p.last.words();
    const top = merged[merged.length - 1];
    if (top && top.family === p.family && touches(top.last, first, width)) {
      if (compareWords(last, 0, top.last, 0, width) > 0) top.last = last;
    } else {
      merged.push({family: p.family, first, last});
    }
  }
  return merged;
}

/** Whether a run ending at `last` and one starting at `first` (not before the other's start) overlap or meet. */
function touches(last: Uint32Array, first: Uint32Array, width: 1 | 4): boolean {
  if (compareWords(first, 0, last, 0, width) <= 0) return true;
  const after = last.slice();
  return next(after, width) && compareWords(first, 0, after, 0, width) === 0;
}

/** The fewest CIDR ranges whose union is [first, last]. */
export function intervalToPrefixes(interval: Interval): Prefix[] {
  const width = widthOf(interval.family);
  const result: Prefix[] = [];
  if (compareWords(interval.first, 0, interval.last, 0, width) > 0) return result;
  coverRange(interval.first, interval.last, width, (network, bits) => result.push(Prefix.of(Address.fromWords(interval.family, network), bits)));
  return result;
}

/** The minimal list of CIDR ranges covering the same addresses as `prefixes`, sorted. */
export function aggregate(prefixes: readonly Prefix[]): Prefix[] {
  return mergeIntervals(prefixes).flatMap(intervalToPrefixes);
}

/**
 * Aggregated ranges as columns, IPv4 first then IPv6, each family sorted: no
 * object per range. IPv4 range i (i < v4Count) is its network `v4[i]` and
 * prefix length `v4Bits[i]`; IPv6 range i its four words `v6[i]` and
 * `v6Bits[i]`; `…Expires` is the earliest expiry (ms, Infinity: none) of the
 * entries inside it. `…Spans` are the merged runs the ranges cover (first and
 * last address, in pairs), for set questions.
 */
export interface RangeColumns {
  v4Count: number;
  v4: Uint32Array;
  v4Bits: Uint8Array;
  v4Expires: Float64Array;
  v4SpanCount: number;
  v4Spans: Uint32Array;
  v6: Uint32Array[];
  v6Bits: number[];
  v6Expires: number[];
  v6Spans: Uint32Array[];
}

/** Columns for at most `v4` IPv4 ranges (the fewest CIDR ranges covering n entries are at most n). */
function emptyColumns(v4: number): RangeColumns {
  return {
    v4Count: 0,
    v4: new Uint32Array(v4),
    v4Bits: new Uint8Array(v4),
    v4Expires: new Float64Array(v4),
    v4SpanCount: 0,
    v4Spans: new Uint32Array(2 * v4),
    v6: [],
    v6Bits: [],
    v6Expires: [],
    v6Spans: [],
  };
}

/** How many ranges. */
export function rangeCount(c: RangeColumns): number {
  return c.v4Count + c.v6Bits.length;
}

/**
 * The fewest CIDR ranges covering the entries of a compiled index that are
 * live at `nowMs` and that `wanted(position)` keeps (positions in the
 * indexed list), with each range's earliest expiry: what
 * `aggregate` and effective-list.ts's aggregateRows give for the same
 * entries, from the index's sorted arrays, on numbers (IPv4) and words (IPv6).
 */
export function aggregateArrays(arrays: IndexArrays, nowMs: number, wanted: (position: number) => boolean): RangeColumns {
  const picked = pick(arrays.v4, nowMs, (position) => (wanted(position) ? 1 : 0));
  const out = emptyColumns(picked.counts[1]);
  aggregateV4(arrays.v4, picked.sorted[1], picked.counts[1], out);
  const picked6 = pick(arrays.v6, nowMs, (position) => (wanted(position) ? 1 : 0));
  aggregateV6(arrays.v6, picked6.sorted[1], picked6.counts[1], out);
  return out;
}

/**
 * aggregateArrays of the deny entries and of the allow entries of a
 * compiled list (`deny`: 1 at a deny entry's position; null: none), in one
 * walk of the IPv4 entries.
 */
export function aggregateByEffect(arrays: IndexArrays, nowMs: number, deny: Uint8Array | null): {deny: RangeColumns; allow: RangeColumns} {
  const side = deny === null ? () => 0 as const : (position: number) => (deny[position] === 1 ? 1 : 0);
  const picked = pick(arrays.v4, nowMs, side);
  const result = {deny: emptyColumns(picked.counts[1]), allow: emptyColumns(picked.counts[0])};
  aggregateV4(arrays.v4, picked.sorted[1], picked.counts[1], result.deny);
  aggregateV4(arrays.v4, picked.sorted[0], picked.counts[0], result.allow);
  const picked6 = pick(arrays.v6, nowMs, side);
  aggregateV6(arrays.v6, picked6.sorted[1], picked6.counts[1], result.deny);
  aggregateV6(arrays.v6, picked6.sorted[0], picked6.counts[0], result.allow);
  return result;
}

/** The sorted positions of the entries live at `nowMs`, in two lists by `side(origin)` (0 or 1). */
function pick(f: FamilyArrays, nowMs: number, side: (position: number) => 0 | 1): {sorted: [Int32Array, Int32Array]; counts: [number, number]} {
  const {expires, origin} = f;
  const n = origin.length;
  const sorted: [Int32Array, Int32Array] = [new Int32Array(n), new Int32Array(n)];
  const counts: [number, number] = [0, 0];
  for (let i = 0; i < n; i++) {
    if (!(expires[i] > nowMs)) continue;
    const k = side(origin[i]);
    sorted[k][counts[k]++] = i;
  }
  return {sorted, counts};
}

const TWO_32 = 2 ** 32;

/** The ranges of the IPv4 entries at sorted positions[0 .. count-1] (live, in order), into `out`. */
function aggregateV4(f: FamilyArrays, positions: Int32Array, count: number, out: RangeColumns): void {
  const {starts, ends, expires} = f;
  // The run being merged, and the entries with an expiry inside it (start, expiry: `timed` pairs from `from`).
  let first = -1;
  let last = -1;
  const timed: number[] = [];
  let from = 0;
  for (let k = 0; k < count; k++) {
    const i = positions[k];
    const s = starts[i];
    const e = ends[i];
    if (first >= 0 && s <= last + 1) {
      if (e > last) last = e;
    } else {
      if (first >= 0) flushV4(first, last, timed, from, out);
      from = timed.length;
      first = s;
      last = e;
    }
    const ms = expires[i];
    if (ms !== Number.POSITIVE_INFINITY) timed.push(s, ms);
  }
  if (first >= 0) flushV4(first, last, timed, from, out);
}

/** A merged IPv4 run [first, last] as its ranges, each with the earliest expiry of timed[from ..] inside it. */
function flushV4(first: number, last: number, timed: readonly number[], from: number, out: RangeColumns): void {
  out.v4Spans[out.v4SpanCount++] = first;
  out.v4Spans[out.v4SpanCount++] = last;
  let r = out.v4Count;
  coverV4(first, last, out);
  // Each timed entry lies inside exactly one of the run's ranges; both are in order of start.
  for (let t = from; t < timed.length; t += 2) {
    while (out.v4[r] + 2 ** (32 - out.v4Bits[r]) - 1 < timed[t]) r++;
    if (timed[t + 1] < out.v4Expires[r]) out.v4Expires[r] = timed[t + 1];
  }
}

/** The fewest IPv4 CIDR blocks whose union is [first, last], lowest first. */
function coverV4(first: number, last: number, out: RangeColumns): void {
  let start = first;
  while (start <= last) {
    // The largest aligned block at `start`: its lowest set bit (the whole space at 0), halved until it ends by `last`.
    let size = start === 0 ? TWO_32 : (start & -start) >>> 0;
    while (start + size - 1 > last) size /= 2;
    const r = out.v4Count++;
    out.v4[r] = start;
    out.v4Bits[r] = size === TWO_32 ? 0 : Math.clz32(size) + 1;
    out.v4Expires[r] = Number.POSITIVE_INFINITY;
    start += size;
  }
}

/** The ranges of the IPv6 entries at sorted positions[0 .. count-1] (live, in order), into `out`; words compared in place. */
function aggregateV6(f: FamilyArrays, positions: Int32Array, count: number, out: RangeColumns): void {
  const {starts, ends, expires} = f;
  let open = false;
  const first = new Uint32Array(4);
  const last = new Uint32Array(4);
  const after = new Uint32Array(4);
  const timed: {start: Uint32Array; ms: number}[] = [];
  const flush = () => {
    out.v6Spans.push(first.slice(), last.slice());
    const from = out.v6.length;
    coverRange(first, last, 4, (network, bits) => {
      out.v6.push(network.slice());
      out.v6Bits.push(bits);
      out.v6Expires.push(Number.POSITIVE_INFINITY);
    });
    let r = from;
    const end = new Uint32Array(4);
    for (const {start, ms} of timed) {
      for (;;) {
        lastOfPrefix(out.v6[r], out.v6Bits[r], 4, end);
        if (compareWords(end, 0, start, 0, 4) >= 0) break;
        r++;
      }
      if (ms < out.v6Expires[r]) out.v6Expires[r] = ms;
    }
    timed.length = 0;
  };
  for (let k = 0; k < count; k++) {
    const i = positions[k];
    const at = i * 4;
    let touching = false;
    if (open) {
      after.set(last);
      touching = compareWords(starts, at, last, 0, 4) <= 0 || (next(after, 4) && compareWords(starts, at, after, 0, 4) === 0);
    }
    if (touching) {
      if (compareWords(ends, at, last, 0, 4) > 0) for (let w = 0; w < 4; w++) last[w] = ends[at + w];
    } else {
      if (open) flush();
      open = true;
      for (let w = 0; w < 4; w++) {
        first[w] = starts[at + w];
        last[w] = ends[at + w];
      }
    }
    const ms = expires[i];
    if (ms !== Number.POSITIVE_INFINITY) timed.push({start: starts.slice(at, at + 4), ms});
  }
  if (open) flush();
}

/** The text of every range, as Prefix.toString writes it: "a.b.c.d" for one address, else "a.b.c.d/n". */
export function rangeTexts(c: RangeColumns, each: (text: string, expiresMs: number) => void): void {
  for (let i = 0; i < c.v4Count; i++) {
    const bits = c.v4Bits[i];
    each(bits === 32 ? formatIPv4(c.v4[i]) : `${formatIPv4(c.v4[i])}/${bits}`, c.v4Expires[i]);
  }
  for (let i = 0; i < c.v6Bits.length; i++) {
    const bits = c.v6Bits[i];
    each(bits === 128 ? formatIPv6(c.v6[i]) : `${formatIPv6(c.v6[i])}/${bits}`, c.v6Expires[i]);
  }
}

/** The ranges as Prefix values with their expiry, in order. */
export function rangePrefixes(c: RangeColumns): {prefix: Prefix; expiresMs: number}[] {
  const result: {prefix: Prefix; expiresMs: number}[] = [];
  for (let i = 0; i < c.v4Count; i++) result.push({prefix: Prefix.of(Address.fromWords(4, [c.v4[i]]), c.v4Bits[i]), expiresMs: c.v4Expires[i]});
  for (let i = 0; i < c.v6Bits.length; i++) result.push({prefix: Prefix.of(Address.fromWords(6, c.v6[i]), c.v6Bits[i]), expiresMs: c.v6Expires[i]});
  return result;
}

/** The earliest expiry of the ranges (ms; Infinity: none expires). */
export function earliestExpiry(c: RangeColumns): number {
  let first = Number.POSITIVE_INFINITY;
  for (let i = 0; i < c.v4Count; i++) if (c.v4Expires[i] < first) first = c.v4Expires[i];
  for (const ms of c.v6Expires) if (ms < first) first = ms;
  return first;
}

/** Whether some address of `allow`'s ranges is in none of `deny`'s (their merged runs are disjoint and apart, so one run covers or none). */
export function anyOutside(allow: RangeColumns, deny: RangeColumns): boolean {
  const a4 = allow.v4Spans;
  const d4 = deny.v4Spans;
  const dn = deny.v4SpanCount;
  let j = 0;
  for (let i = 0; i < allow.v4SpanCount; i += 2) {
    while (j + 2 < dn && d4[j + 2] <= a4[i]) j += 2;
    if (!(j < dn && d4[j] <= a4[i] && d4[j + 1] >= a4[i + 1])) return true;
  }
  const a6 = allow.v6Spans;
  const d6 = deny.v6Spans;
  j = 0;
  for (let i = 0; i < a6.length; i += 2) {
    while (j + 2 < d6.length && compareWords(d6[j + 2], 0, a6[i], 0, 4) <= 0) j += 2;
    if (!(j < d6.length && compareWords(d6[j], 0, a6[i], 0, 4) <= 0 && compareWords(d6[j + 1], 0, a6[i + 1], 0, 4) >= 0)) return true;
  }
  return false;
}

/** A range with an expiry (ms; Infinity: none). */
export interface TimedRange {
  prefix: Prefix;
  ms: number;
}

const bigOf = (words: ArrayLike<number>, width: 1 | 4): bigint => {
  let n = 0n;
  for (let w = 0; w < width; w++) n = (n << 32n) | BigInt(words[w]);
  return n;
};

const wordsOf = (n: bigint, width: 1 | 4): Uint32Array => {
  const words = new Uint32Array(width);
  for (let w = width - 1; w >= 0; w--, n >>= 32n) words[w] = Number(n & 0xffffffffn);
  return words;
};

/**
 * The fewest CIDR ranges, each of one expiry, in which every address of the
 * ranges given keeps the latest expiry of those holding it: sorted, none
 * overlapping. What an aggregated export with expiries writes, so that no
 * range outlives the entries it stands for and none dies before them (a
 * permanent /9 merged with a /9 expiring in two hours is not a /8 that
 * expires in two hours). CIDR ranges nest or are apart: walked in order,
 * wider first, each range's own addresses (outside the ranges nested in it)
 * take the latest expiry along its nesting.
 */
export function aggregateTimed(ranges: readonly TimedRange[]): TimedRange[] {
  const sorted = [...ranges].sort((a, b) => Prefix.compare(a.prefix, b.prefix));
  const runs: {family: Family; first: bigint; last: bigint; ms: number}[] = [];
  const put = (family: Family, first: bigint, last: bigint, ms: number) => {
    if (first > last) return;
    const top = runs[runs.length - 1];
    if (top !== undefined && top.family === family && top.ms === ms && top.last + 1n === first) top.last = last;
    else runs.push({family, first, last, ms});
  };
  // The ranges holding the one at hand, outermost first: where each resumes after the ranges nested in it so far.
  const open: {family: Family; last: bigint; ms: number; from: bigint}[] = [];
  const close = () => {
    const done = open.pop()!;
    put(done.family, done.from, done.last, done.ms);
    const parent = open[open.length - 1];
    if (parent !== undefined) parent.from = done.last + 1n;
  };
  for (const {prefix, ms} of sorted) {
    const width = widthOf(prefix.family);
    const first = bigOf(prefix.first.words(), width);
    const last = bigOf(prefix.last.words(), width);
    while (open.length > 0 && (open[open.length - 1].family !== prefix.family || open[open.length - 1].last < first)) close();
    const parent = open[open.length - 1];
    if (parent !== undefined) put(parent.family, parent.from, first - 1n, parent.ms);
    open.push({family: prefix.family, last, ms: parent === undefined ? ms : Math.max(ms, parent.ms), from: first});
  }
  while (open.length > 0) close();
  return runs.flatMap((run) => {
    const width = widthOf(run.family);
    return intervalToPrefixes({family: run.family, first: wordsOf(run.first, width), last: wordsOf(run.last, width)}).map((prefix) => ({prefix, ms: run.ms}));
  });
}
