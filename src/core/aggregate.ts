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
 * object per range. Range i of a family is its network (`v4[i]`, or the
 * four words `v6[i]`) and prefix length; `expires` is the earliest expiry (ms,
 * Infinity: none) of the entries inside it. `spans` are the merged runs the
 * ranges cover (first and last address), for set questions.
 */
export interface RangeColumns {
  v4: number[];
  v4Bits: number[];
  v4Expires: number[];
  v4Spans: number[];
  v6: Uint32Array[];
  v6Bits: number[];
  v6Expires: number[];
  v6Spans: Uint32Array[];
}

function emptyColumns(): RangeColumns {
  return {v4: [], v4Bits: [], v4Expires: [], v4Spans: [], v6: [], v6Bits: [], v6Expires: [], v6Spans: []};
}

/** How many ranges. */
export function rangeCount(c: RangeColumns): number {
  return c.v4Bits.length + c.v6Bits.length;
}

/**
 * The fewest CIDR ranges covering the entries of a compiled index that are
 * live at `nowMs` and that `wanted(position)` keeps (positions in the
 * indexed list), with each range's earliest expiry: what
 * `aggregate` and effective-list.ts's aggregateRows give for the same
 * entries, from the index's sorted arrays, on numbers (IPv4) and words (IPv6).
 */
export function aggregateArrays(arrays: IndexArrays, nowMs: number, wanted: (position: number) => boolean): RangeColumns {
  const out = emptyColumns();
  aggregateV4(arrays.v4, nowMs, wanted, out);
  aggregateV6(arrays.v6, nowMs, wanted, out);
  return out;
}

const TWO_32 = 2 ** 32;

function aggregateV4(f: FamilyArrays, nowMs: number, wanted: (position: number) => boolean, out: RangeColumns): void {
  const {starts, ends, expires, origin} = f;
  const n = origin.length;
  // The run being merged, and the live entries with an expiry inside it (start, expiry: `timed` pairs from `from`).
  let first = -1;
  let last = -1;
  const timed: number[] = [];
  let from = 0;
  for (let i = 0; i < n; i++) {
    const ms = expires[i];
    if (!(ms > nowMs) || !wanted(origin[i])) continue;
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
    if (ms !== Number.POSITIVE_INFINITY) timed.push(s, ms);
  }
  if (first >= 0) flushV4(first, last, timed, from, out);
}

/** A merged IPv4 run [first, last] as its ranges, each with the earliest expiry of timed[from ..] inside it. */
function flushV4(first: number, last: number, timed: readonly number[], from: number, out: RangeColumns): void {
  out.v4Spans.push(first, last);
  let r = out.v4.length;
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
    out.v4.push(start);
    out.v4Bits.push(size === TWO_32 ? 0 : Math.clz32(size) + 1);
    out.v4Expires.push(Number.POSITIVE_INFINITY);
    start += size;
  }
}

function aggregateV6(f: FamilyArrays, nowMs: number, wanted: (position: number) => boolean, out: RangeColumns): void {
  const {starts, ends, expires, origin} = f;
  const n = origin.length;
  let first: Uint32Array | null = null;
  let last = new Uint32Array(4);
  const after = new Uint32Array(4);
  const timed: {start: Uint32Array; ms: number}[] = [];
  const flush = (first: Uint32Array) => {
    out.v6Spans.push(first, last.slice());
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
  for (let i = 0; i < n; i++) {
    const ms = expires[i];
    if (!(ms > nowMs) || !wanted(origin[i])) continue;
    const s = starts.subarray(i * 4, i * 4 + 4);
    const e = ends.subarray(i * 4, i * 4 + 4);
    after.set(last);
    const touching = first !== null && (compareWords(s, 0, last, 0, 4) <= 0 || (next(after, 4) && compareWords(s, 0, after, 0, 4) === 0));
    if (touching) {
      if (compareWords(e, 0, last, 0, 4) > 0) last = e.slice();
    } else {
      if (first !== null) flush(first);
      first = s.slice();
      last = e.slice();
    }
    if (ms !== Number.POSITIVE_INFINITY) timed.push({start: s.slice(), ms});
  }
  if (first !== null) flush(first);
}

/** The text of every range, as Prefix.toString writes it: "a.b.c.d" for one address, else "a.b.c.d/n". */
export function rangeTexts(c: RangeColumns, each: (text: string, expiresMs: number) => void): void {
  for (let i = 0; i < c.v4Bits.length; i++) {
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
  for (let i = 0; i < c.v4Bits.length; i++) result.push({prefix: Prefix.of(Address.fromWords(4, [c.v4[i]]), c.v4Bits[i]), expiresMs: c.v4Expires[i]});
  for (let i = 0; i < c.v6Bits.length; i++) result.push({prefix: Prefix.of(Address.fromWords(6, c.v6[i]), c.v6Bits[i]), expiresMs: c.v6Expires[i]});
  return result;
}

/** The earliest expiry of the ranges (ms; Infinity: none expires). */
export function earliestExpiry(c: RangeColumns): number {
  let first = Number.POSITIVE_INFINITY;
  for (const ms of c.v4Expires) if (ms < first) first = ms;
  for (const ms of c.v6Expires) if (ms < first) first = ms;
  return first;
}

/** Whether some address of `allow`'s ranges is in none of `deny`'s (their merged runs are disjoint and apart, so one run covers or none). */
export function anyOutside(allow: RangeColumns, deny: RangeColumns): boolean {
  const a4 = allow.v4Spans;
  const d4 = deny.v4Spans;
  let j = 0;
  for (let i = 0; i < a4.length; i += 2) {
    while (j + 2 < d4.length && d4[j + 2] <= a4[i]) j += 2;
    if (!(j < d4.length && d4[j] <= a4[i] && d4[j + 1] >= a4[i + 1])) return true;
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
