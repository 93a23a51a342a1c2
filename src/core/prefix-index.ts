/**
 * Membership of addresses in a list of entries, by binary search over sorted
 * typed arrays, answering "which entries contain this address".
 *
 * CIDR ranges never partly overlap: two are either disjoint or one contains
 * the other. So the entries containing an address form a chain, and the
 * entry with the greatest start at or below the address is either the
 * innermost match or a descendant of it; walking parent links from there
 * finds every match in at most 129 steps.
 *
 * `CompiledIndex` is the index as plain typed arrays, built straight from
 * entry texts, with each entry's expiry so that one index serves any "now";
 * it can be saved and loaded as is (see store/index-cache.ts). `PrefixIndex`
 * is the same over Prefix values, for code that works with those.
 */
import {Family} from './address.js';
import {entryWordsOf, EntryWords, inListOrder, listOrder} from './entry-order.js';
import {Prefix} from './prefix.js';
import {compareWords, lastAtOrBelow, lastAtOrBelow128, lastOfPrefix} from './words.js';

/** One family's entries, sorted by start then wider first. Words per bound: 1 for IPv4, 4 for IPv6. */
export interface FamilyArrays {
  starts: Uint32Array;
  ends: Uint32Array;
  /** Prefix length of each entry. */
  bits: Uint8Array;
  /** The sorted position of the innermost entry containing entry i, or -1. */
  parents: Int32Array;
  /** Where each sorted position came from in the caller's list. */
  origin: Int32Array;
  /** Expiry of each entry in ms since the epoch (Infinity: never). */
  expires: Float64Array;
}

export interface IndexArrays {
  v4: FamilyArrays;
  v6: FamilyArrays;
}

/**
 * One family's entries, from their positions in list order (see
 * entry-order.ts: by network, then wider first, stably), with each entry's
 * bounds, and its parent: the nearest earlier entry that contains it.
 */
function buildFamily(entries: EntryWords, order: Uint32Array, width: 1 | 4, expires: ArrayLike<number> | undefined): FamilyArrays {
  const n = order.length;
  const arrays: FamilyArrays = {
    starts: new Uint32Array(n * width),
    ends: new Uint32Array(n * width),
    bits: new Uint8Array(n),
    parents: new Int32Array(n),
    origin: new Int32Array(n),
    expires: new Float64Array(n),
  };
  const {starts, ends} = arrays;
  for (let i = 0; i < n; i++) {
    const from = order[i];
    const bits = entries.bits[from];
    // (The network's words are masked already.)
    for (let w = 0; w < width; w++) starts[i * width + w] = entries.words[from * 4 + w];
    lastOfPrefix(entries.words, bits, width, ends, i * width, from * 4);
    arrays.bits[i] = bits;
    arrays.origin[i] = from;
    arrays.expires[i] = expires?.[from] ?? Number.POSITIVE_INFINITY;
  }
  const stack: number[] = [];
  for (let i = 0; i < n; i++) {
    while (stack.length > 0 && compareWords(ends, stack[stack.length - 1] * width, starts, i * width, width) < 0) stack.pop();
    arrays.parents[i] = stack.length > 0 ? stack[stack.length - 1] : -1;
    stack.push(i);
  }
  return arrays;
}

/** The sorted position of the innermost entry containing `words` (live or not), or -1. */
export function innermost(f: FamilyArrays, width: 1 | 4, words: Uint32Array): number {
  const last = f.parents.length - 1;
  if (width === 1) {
    const a = words[0];
    let found = lastAtOrBelow(f.starts, 1, 0, last, a);
    while (found >= 0 && f.ends[found] < a) found = f.parents[found];
    return found;
  }
  let found = lastAtOrBelow128(f.starts, 0, last, words);
  while (found >= 0 && compareWords(f.ends, found * 4, words, 0, 4) < 0) found = f.parents[found];
  return found;
}

/**
 * Whether arrays read back from outside (the index cache) keep what lookups
 * rely on: consistent lengths, starts in order, each parent before its child,
 * origins inside a list of `entries`, prefix lengths of the family and real
 * expiry times. Arrays that fail would give wrong answers or never end a walk.
 */
export function arraysAreSound(arrays: IndexArrays, entries: number): boolean {
  return familyIsSound(arrays.v4, 1, entries) && familyIsSound(arrays.v6, 4, entries);
}

// One loop over each family, specialized by width: these run once per process over every entry, mostly
// before the optimizing compiler is done with them, so the fewer and simpler the steps the better.

function familyIsSound(f: FamilyArrays, width: 1 | 4, entries: number): boolean {
  const n = f.parents.length;
  if (f.starts.length !== n * width || f.ends.length !== n * width) return false;
  if (f.bits.length !== n || f.origin.length !== n || f.expires.length !== n) return false;
  return width === 1 ? entriesAreSound(f, 32, entries) && nonDecreasing(f.starts) : entriesAreSound(f, 128, entries) && nonDecreasing4(f.starts);
}

/** Bits in range, every parent -1 or an earlier position (so that walking parents ends), origins in range, no NaN expiry. */
function entriesAreSound(f: FamilyArrays, most: number, entries: number): boolean {
  const {bits, parents, origin, expires} = f;
  for (let i = 0; i < parents.length; i++) {
    const parent = parents[i];
    const from = origin[i];
    if (bits[i] > most || parent < -1 || parent >= i || from < 0 || from >= entries || expires[i] !== expires[i]) return false;
  }
  return true;
}

/** Whether values never decrease. */
export function nonDecreasing(values: Uint32Array): boolean {
  for (let i = 1; i < values.length; i++) if (values[i - 1] > values[i]) return false;
  return true;
}

/** Whether 128-bit values (four words each) never decrease. */
function nonDecreasing4(values: Uint32Array): boolean {
  for (let i = 4; i < values.length; i += 4) if (compareWords(values, i - 4, values, i, 4) > 0) return false;
  return true;
}

/** The positions 0 … n-1. */
function identityOrder(n: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return order;
}

export class CompiledIndex {
  private constructor(readonly arrays: IndexArrays) {}

  /**
   * Builds the index from entry texts (strict grammar; an AddressError names
   * a bad one) and their expiry times in ms (omitted: none expire).
   */
  static fromTexts(texts: readonly string[], expires?: ArrayLike<number>): CompiledIndex {
    // As columns of words in list order (no object per entry, no comparator): a 1M-entry list is indexed
    // each time a store that large is written (its index cache), under the store's lock.
    return CompiledIndex.fromWords(entryWordsOf(texts), expires);
  }

  /** Builds the index from entries already scanned (networks masked), position i being entry i. */
  static fromWords(entries: EntryWords, expires?: ArrayLike<number>): CompiledIndex {
    const order = inListOrder(entries) ? identityOrder(entries.count) : listOrder(entries);
    let v4 = 0;
    while (v4 < order.length && entries.family[order[v4]] === 4) v4++;
    return new CompiledIndex({v4: buildFamily(entries, order.subarray(0, v4), 1, expires), v6: buildFamily(entries, order.subarray(v4), 4, expires)});
  }

  static fromArrays(arrays: IndexArrays): CompiledIndex {
    return new CompiledIndex(arrays);
  }

  get size(): number {
    return this.arrays.v4.parents.length + this.arrays.v6.parents.length;
  }

  /** Whether an entry live at `nowMs` contains the address (scanned and unmapped into `words`). */
  has(family: Family, words: Uint32Array, nowMs = Number.NEGATIVE_INFINITY): boolean {
    const f = family === 4 ? this.arrays.v4 : this.arrays.v6;
    for (let i = innermost(f, family === 4 ? 1 : 4, words); i >= 0; i = f.parents[i]) if (f.expires[i] > nowMs) return true;
    return false;
  }

  /** The entries live at `nowMs` containing the address, outermost first, as positions in the caller's list. */
  matches(family: Family, words: Uint32Array, nowMs = Number.NEGATIVE_INFINITY): number[] {
    const f = family === 4 ? this.arrays.v4 : this.arrays.v6;
    const chain: number[] = [];
    for (let i = innermost(f, family === 4 ? 1 : 4, words); i >= 0; i = f.parents[i]) if (f.expires[i] > nowMs) chain.push(f.origin[i]);
    return chain.reverse();
  }

  /** The entries live at `nowMs` that contain every address of the range (network words, prefix length). */
  covering(family: Family, network: Uint32Array, bits: number, nowMs = Number.NEGATIVE_INFINITY): number[] {
    const f = family === 4 ? this.arrays.v4 : this.arrays.v6;
    const chain: number[] = [];
    for (let i = innermost(f, family === 4 ? 1 : 4, network); i >= 0; i = f.parents[i]) {
      if (f.bits[i] <= bits && f.expires[i] > nowMs) chain.push(f.origin[i]);
    }
    return chain.reverse();
  }
}

/** A CompiledIndex over Prefix values, answering with those values. */
export class PrefixIndex {
  private readonly compiled: CompiledIndex;

  constructor(readonly entries: readonly Prefix[]) {
    this.compiled = CompiledIndex.fromTexts(entries.map(String));
  }

  get size(): number {
    return this.entries.length;
  }

  has(family: Family, words: Uint32Array): boolean {
    return this.compiled.has(family, words);
  }

  /** The entries containing the address, outermost first, as indexes into `entries`. */
  matches(family: Family, words: Uint32Array): number[] {
    return this.compiled.matches(family, words);
  }

  /** The entries that contain every address of `prefix`, outermost first. */
  covering(prefix: Prefix): Prefix[] {
    return this.compiled.covering(prefix.family, prefix.address.words(), prefix.bits).map((i) => this.entries[i]);
  }
}
