/**
 * Set operations on lists of CIDR entries: the intersection of two lists
 * (with when each part of it stops holding) and the outermost entries of a
 * list.
 *
 * Two CIDR ranges are either disjoint or one contains the other, so the
 * intersection of two ranges is empty or one of them, and the intersection of
 * two lists is made of their own entries: every entry of one list that some
 * entry of the other list contains. No range arithmetic is needed, and each
 * shared range keeps the entry (label, source, dates) it came from.
 */
import {Address} from './address.js';
import {CompiledIndex} from './prefix-index.js';
import {Prefix, scanPrefix, ScannedPrefix} from './prefix.js';

/** An entry for set operations: its range and when it stops counting. */
export interface TimedPrefix {
  readonly prefix: Prefix;
  /** Expiry in ms since the epoch; Infinity when it never expires. */
  readonly expiresMs: number;
}

/** A range of an intersection: an entry of one of the two lists. */
export interface SharedRange {
  /** The range, masked. */
  prefix: Prefix;
  /**
   * Until when every address of the range is in both lists: the earlier of
   * the range's own expiry and the latest expiry of the entries of the other
   * list that contain it.
   */
  expiresMs: number;
  /** The entry the range is: which list, and its position there. */
  from: {list: 'a' | 'b'; index: number};
}

/** Sorts values by their prefixes (Prefix.compare, then position), asking each value's prefix once. */
export function sortByPrefix<T>(items: readonly T[], prefixOf: (item: T) => Prefix): T[] {
  const keyed = items.map((item, i) => ({item, i, prefix: prefixOf(item)}));
  keyed.sort((x, y) => Prefix.compare(x.prefix, y.prefix) || x.i - y.i);
  return keyed.map((k) => k.item);
}

/**
 * The intersection of lists `a` and `b`: sorted (Prefix.compare), one shared range
 * per distinct range. At any moment t, the addresses of the ranges with
 * expiresMs > t are exactly those in a live entry of `a` and a live entry of
 * `b` (live: expiresMs > t). When a range is in both lists, or twice in one,
 * the shared range is the entry that keeps it longest, `a` first on a tie.
 */
export function intersect(a: readonly TimedPrefix[], b: readonly TimedPrefix[]): SharedRange[] {
  const masked = (list: readonly TimedPrefix[]) => list.map((e) => e.prefix.masked());
  const prefixes = {a: masked(a), b: masked(b)};
  const texts = {a: prefixes.a.map(String), b: prefixes.b.map(String)};
  const index = {
    a: CompiledIndex.fromTexts(
      texts.a,
      a.map((e) => e.expiresMs),
    ),
    b: CompiledIndex.fromTexts(
      texts.b,
      b.map((e) => e.expiresMs),
    ),
  };
  const shared = new Map<string, SharedRange>();
  const scratch: ScannedPrefix = {family: 4, bits: 0, words: new Uint32Array(4)};
  const visit = (list: 'a' | 'b', own: readonly TimedPrefix[], other: readonly TimedPrefix[], otherIndex: CompiledIndex) => {
    own.forEach((entry, i) => {
      const text = texts[list][i];
      const p = scanPrefix(text, scratch);
      const covering = otherIndex.covering(p.family, p.words, p.bits);
      if (covering.length === 0) return;
      let cover = Number.NEGATIVE_INFINITY;
      for (const j of covering) if (other[j].expiresMs > cover) cover = other[j].expiresMs;
      const expiresMs = Math.min(entry.expiresMs, cover);
      const known = shared.get(text);
      if (known === undefined || expiresMs > known.expiresMs) shared.set(text, {prefix: prefixes[list][i], expiresMs, from: {list, index: i}});
    });
  };
  visit('a', a, b, index.b);
  visit('b', b, a, index.a);
  return sortByPrefix([...shared.values()], (range) => range.prefix);
}

/**
 * The positions of the entries no other entry contains, in sorted order
 * (Prefix.compare): the same addresses with no entry inside another, as an
 * interval set (nftables `flags interval`) requires. Of equal entries, the
 * first one listed is kept.
 */
export function outermost(prefixes: readonly Prefix[]): number[] {
  const masked = prefixes.map((p) => p.masked());
  const order = sortByPrefix(
    masked.map((_, i) => i),
    (i) => masked[i],
  );
  const kept: number[] = [];
  for (const i of order) {
    const last = kept.length > 0 ? masked[kept[kept.length - 1]] : undefined;
    // Sorted by start, wider first: only the last kept entry can contain this one.
    if (last !== undefined && last.covers(masked[i])) continue;
    kept.push(i);
  }
  return kept;
}

/**
 * The addresses of `range` that none of `holes` contains, as the fewest CIDR
 * ranges that keep to the halves of `range` (ranges nest or are disjoint, so
 * a range minus a hole is the siblings along the path down to the hole).
 * What a format without deny rules exports for an allow entry that deny
 * entries cut into.
 */
export function subtract(range: Prefix, holes: readonly Prefix[]): Prefix[] {
  const inside = holes.filter((h) => h.covers(range) || range.covers(h));
  if (inside.length === 0) return [range.masked()];
  if (inside.some((h) => h.covers(range))) return [];
  const [low, high] = halves(range);
  return [...subtract(low, inside), ...subtract(high, inside)];
}

/** The two halves of a range one bit longer (never called on a single address: a hole inside it would be it). */
function halves(range: Prefix): [Prefix, Prefix] {
  const bits = range.bits + 1;
  const words = range.first.words();
  words[range.bits >>> 5] = (words[range.bits >>> 5] | (1 << (31 - (range.bits & 31)))) >>> 0;
  return [Prefix.of(range.first, bits), Prefix.of(Address.fromWords(range.family, words), bits)];
}
