/**
 * Membership of addresses in a list of entries, by binary search over sorted
 * typed arrays, answering "which entries contain this address".
 *
 * CIDR ranges never partly overlap: two are either disjoint or one contains
 * the other. So the entries containing an address form a chain, and the
 * entry with the greatest start at or below the address is either the
 * innermost match or a descendant of it; walking parent links from there
 * finds every match in at most 129 steps.
 */
import {Family} from './address.js';
import {Prefix} from './prefix.js';

/** One family's entries as bounds in typed arrays (words per bound: 1 for IPv4, 4 for IPv6). */
class FamilyIndex {
  constructor(
    private readonly width: 1 | 4,
    private readonly starts: Uint32Array,
    private readonly ends: Uint32Array,
    /** The index of the innermost entry containing entry i, or -1. */
    readonly parents: Int32Array,
    /** Where each sorted position came from in the caller's list. */
    readonly origin: Int32Array,
  ) {}

  get size(): number {
    return this.parents.length;
  }

  static build(width: 1 | 4, prefixes: Prefix[], origins: number[]): FamilyIndex {
    const n = prefixes.length;
    const order = Array.from({length: n}, (_, i) => i).sort((a, b) => Prefix.compare(prefixes[a], prefixes[b]));
    const starts = new Uint32Array(n * width);
    const ends = new Uint32Array(n * width);
    const origin = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const p = prefixes[order[i]];
      writeWords(p.first, width, starts, i * width);
      writeWords(p.last, width, ends, i * width);
      origin[i] = origins[order[i]];
    }
    const parents = new Int32Array(n);
    // Sorted by start, wider first: a stack of open ranges gives each entry its parent.
    const stack: number[] = [];
    for (let i = 0; i < n; i++) {
      while (stack.length > 0 && compareAt(ends, stack[stack.length - 1] * width, starts, i * width, width) < 0) stack.pop();
      parents[i] = stack.length > 0 ? stack[stack.length - 1] : -1;
      stack.push(i);
    }
    return new FamilyIndex(width, starts, ends, parents, origin);
  }

  /** The sorted position of the innermost entry containing the address in `words`, or -1. */
  innermost(words: Uint32Array): number {
    const width = this.width;
    let lo = 0;
    let hi = this.size - 1;
    let found = -1;
    if (width === 1) {
      const a = words[0];
      const starts = this.starts;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        if (starts[mid] <= a) {
          found = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      while (found >= 0 && this.ends[found] < a) found = this.parents[found];
      return found;
    }
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (compareWords(this.starts, mid * 4, words) <= 0) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    while (found >= 0 && compareWords(this.ends, found * 4, words) < 0) found = this.parents[found];
    return found;
  }
}

function writeWords(value: bigint, width: 1 | 4, into: Uint32Array, at: number): void {
  for (let w = width - 1; w >= 0; w--) {
    into[at + w] = Number(value & 0xffffffffn);
    value >>= 32n;
  }
}

function compareWords(array: Uint32Array, at: number, words: Uint32Array): number {
  for (let w = 0; w < 4; w++) {
    const x = array[at + w];
    const y = words[w];
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

function compareAt(a: Uint32Array, ai: number, b: Uint32Array, bi: number, width: number): number {
  for (let w = 0; w < width; w++) {
    const x = a[ai + w];
    const y = b[bi + w];
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * An immutable index over a list of entries. Lookups take an address already
 * scanned and unmapped into words (see `scanDecisionAddress`), so the hot
 * path allocates nothing until it reports matches.
 */
export class PrefixIndex {
  private readonly v4: FamilyIndex;
  private readonly v6: FamilyIndex;

  constructor(readonly entries: readonly Prefix[]) {
    const v4: Prefix[] = [];
    const v6: Prefix[] = [];
    const o4: number[] = [];
    const o6: number[] = [];
    entries.forEach((p, i) => {
      if (p.family === 4) {
        v4.push(p);
        o4.push(i);
      } else {
        v6.push(p);
        o6.push(i);
      }
    });
    this.v4 = FamilyIndex.build(1, v4, o4);
    this.v6 = FamilyIndex.build(4, v6, o6);
  }

  get size(): number {
    return this.entries.length;
  }

  /** Whether any entry contains the address. */
  has(family: Family, words: Uint32Array): boolean {
    return (family === 4 ? this.v4 : this.v6).innermost(words) >= 0;
  }

  /** The entries containing the address, outermost first, as indexes into `entries`. */
  matches(family: Family, words: Uint32Array): number[] {
    const index = family === 4 ? this.v4 : this.v6;
    const chain: number[] = [];
    for (let i = index.innermost(words); i >= 0; i = index.parents[i]) chain.push(index.origin[i]);
    return chain.reverse();
  }

  /** The entries that contain every address of `prefix`, outermost first. */
  covering(prefix: Prefix): Prefix[] {
    const words = prefix.address.words();
    return this.matches(prefix.family, words)
      .map((i) => this.entries[i])
      .filter((entry) => entry.covers(prefix));
  }
}
