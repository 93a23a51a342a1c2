/** Aggregation: the minimal list of CIDR ranges covering exactly the addresses of a list. */
import {Address, Family} from './address.js';
import {Prefix} from './prefix.js';

export interface Interval {
  family: Family;
  first: bigint;
  last: bigint;
}

/** Sorted, merged intervals (overlapping and adjacent ranges joined), IPv4 first. */
export function mergeIntervals(prefixes: readonly Prefix[]): Interval[] {
  const sorted = [...prefixes].sort(Prefix.compare);
  const merged: Interval[] = [];
  for (const p of sorted) {
    const top = merged[merged.length - 1];
    if (top && top.family === p.family && p.first <= top.last + 1n) {
      if (p.last > top.last) top.last = p.last;
    } else {
      merged.push({family: p.family, first: p.first, last: p.last});
    }
  }
  return merged;
}

/** The fewest CIDR ranges whose union is [first, last]. */
export function intervalToPrefixes(interval: Interval): Prefix[] {
  const width = interval.family === 4 ? 32 : 128;
  const result: Prefix[] = [];
  let start = interval.first;
  while (start <= interval.last) {
    // The largest aligned block at `start` that does not pass `last`.
    let hostBits = 0;
    while (hostBits < width) {
      const size = 1n << BigInt(hostBits + 1);
      if (start % size !== 0n || start + size - 1n > interval.last) break;
      hostBits++;
    }
    result.push(Prefix.of(Address.fromValue(interval.family, start), width - hostBits));
    start += 1n << BigInt(hostBits);
  }
  return result;
}

/** The minimal list of CIDR ranges covering the same addresses as `prefixes`, sorted. */
export function aggregate(prefixes: readonly Prefix[]): Prefix[] {
  return mergeIntervals(prefixes).flatMap(intervalToPrefixes);
}
