/** Aggregation: the minimal list of CIDR ranges covering exactly the addresses of a list. */
import {Address, Family} from './address.js';
import {Prefix} from './prefix.js';
import {compareWords, coverRange, next, widthOf} from './words.js';

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
