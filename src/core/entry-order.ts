/**
 * List order (IPv4 before IPv6, then by network, then wider ranges first) over
 * entries held as 32-bit words, by a stable radix sort (radix.ts): no
 * comparator calls.
 */
import {Family} from './address.js';
import {maskScanned, ScannedPrefix, scanPrefix} from './prefix.js';
import {Digit, sortByDigits} from './radix.js';
import {compareWords, putWords, sameNetwork} from './words.js';

/**
 * Entries as columns: entry i is `family[i]`, `bits[i]` and its first address
 * (the network) in `words[4i .. 4i+3]`, most significant word first; an IPv4
 * entry uses `words[4i]` alone.
 */
export interface EntryWords {
  count: number;
  family: Uint8Array;
  bits: Uint8Array;
  words: Uint32Array;
}

/** Growable EntryWords, filled one entry at a time. */
export class EntryWordsBuilder implements EntryWords {
  count = 0;
  family: Uint8Array;
  bits: Uint8Array;
  words: Uint32Array;

  constructor(capacity = 1024) {
    this.family = new Uint8Array(capacity);
    this.bits = new Uint8Array(capacity);
    this.words = new Uint32Array(capacity * 4);
  }

  /** Appends an entry from its network words (IPv4 in words[0]). Returns its position. */
  push(family: Family, bits: number, words: ArrayLike<number>): number {
    if (this.count === this.family.length) this.grow();
    const i = this.count++;
    this.family[i] = family;
    this.bits[i] = bits;
    putWords(this.words, i, family, words);
    return i;
  }

  private grow(): void {
    const capacity = this.family.length * 2;
    const family = new Uint8Array(capacity);
    family.set(this.family);
    const bits = new Uint8Array(capacity);
    bits.set(this.bits);
    const words = new Uint32Array(capacity * 4);
    words.set(this.words);
    this.family = family;
    this.bits = bits;
    this.words = words;
  }
}

/** Sorts the positions in `order` (all of one family) in place, stably, by network then prefix length. */
function sortFamily(order: Uint32Array, entries: EntryWords, width: 1 | 4): void {
  // Least significant first: the prefix length, then the network's 16-bit halves from the last word.
  const digits: Digit[] = [{keys: entries.bits, stride: 1, offset: 0, shift: 0}];
  for (let w = width - 1; w >= 0; w--) {
    digits.push({keys: entries.words, stride: 4, offset: w, shift: 0}, {keys: entries.words, stride: 4, offset: w, shift: 16});
  }
  sortByDigits(order, digits);
}

/**
 * The positions 0 … count-1 of `entries` in list order, stable: entries that
 * compare equal (the same network and length) keep their order. The same
 * order as sorting by `Prefix.compare`.
 */
export function listOrder(entries: EntryWords): Uint32Array {
  const n = entries.count;
  let v4 = 0;
  for (let i = 0; i < n; i++) if (entries.family[i] === 4) v4++;
  const order = new Uint32Array(n);
  let a = 0;
  let b = v4;
  for (let i = 0; i < n; i++) {
    if (entries.family[i] === 4) order[a++] = i;
    else order[b++] = i;
  }
  sortFamily(order.subarray(0, v4), entries, 1);
  sortFamily(order.subarray(v4), entries, 4);
  return order;
}

/** Whether entry `outer` contains entry `inner` (same family, as wide or wider, same network bits). */
export function containsEntry(entries: EntryWords, outer: number, inner: number): boolean {
  const family = entries.family[outer];
  if (family !== entries.family[inner]) return false;
  const bits = entries.bits[outer];
  if (bits > entries.bits[inner]) return false;
  return sameNetwork(entries.words, outer * 4, entries.words, inner * 4, bits, family === 4 ? 1 : 4);
}

/** Entry (or address) texts as EntryWords, networks masked; throws AddressError for a text that is not one. */
export function entryWordsOf(texts: readonly string[]): EntryWords {
  const entries = new EntryWordsBuilder(Math.max(16, texts.length));
  const scanned: ScannedPrefix = {family: 4, bits: 0, words: new Uint32Array(4)};
  for (const text of texts) {
    const p = scanPrefix(text, scanned);
    maskScanned(p);
    entries.push(p.family, p.bits, p.words);
  }
  return entries;
}

/** Whether entries a and b are the same network and length. */
export function sameEntry(entries: EntryWords, a: number, b: number): boolean {
  if (entries.family[a] !== entries.family[b] || entries.bits[a] !== entries.bits[b]) return false;
  return compareWords(entries.words, a * 4, entries.words, b * 4, entries.family[a] === 4 ? 1 : 4) === 0;
}

/**
 * What a change knows of a list's entries without parsing them again: the
 * records from position `from` on hold `texts` in this order, canonical
 * entries (an EntryBatch's texts, see entry-parse.ts), whose networks are
 * `words`. Remembered per list (weakly) by the change that appended them
 * (addEntries), and asked for by the writer (its check, sort and index
 * cache, issue 15): valid only while the list still holds those very texts
 * there, which `knownEntryWords` checks every time.
 */
export interface KnownEntryWords {
  from: number;
  texts: readonly string[];
  words: EntryWords;
}

const known = new WeakMap<readonly unknown[], KnownEntryWords>();

/** Remembers `known` for `list` (see KnownEntryWords). */
export function rememberEntryWords(list: readonly unknown[], memo: KnownEntryWords): void {
  known.set(list, memo);
}

/** What is known of `list`'s entries, if the list still holds the texts remembered (same positions, same texts); else null. */
export function knownEntryWords(list: readonly unknown[]): KnownEntryWords | null {
  const memo = known.get(list);
  if (memo === undefined) return null;
  const {from, texts} = memo;
  if (list.length !== from + texts.length) return null;
  for (let k = 0; k < texts.length; k++) {
    const r = list[from + k] as {entry?: unknown} | null;
    if (typeof r !== 'object' || r === null || r.entry !== texts[k]) return null;
  }
  return memo;
}

/** Whether entries 0 … count-1 are in list order already (then the stable `listOrder` is 0 … count-1). */
export function inListOrder(entries: EntryWords): boolean {
  const {family, bits, words} = entries;
  for (let i = 1; i < entries.count; i++) {
    const f = family[i - 1];
    if (f !== family[i]) {
      if (f > family[i]) return false;
      continue;
    }
    const c = compareWords(words, (i - 1) * 4, words, i * 4, f === 4 ? 1 : 4);
    if (c > 0 || (c === 0 && bits[i - 1] > bits[i])) return false;
  }
  return true;
}

/**
 * The entries of `list` (records) as EntryWords, in list positions: the part
 * a change remembered (see KnownEntryWords) taken as it is, the rest parsed.
 */
export function entryWordsOfRecords(list: readonly {entry: string}[]): EntryWords {
  const memo = knownEntryWords(list);
  if (memo === null) return entryWordsOf(list.map((r) => r.entry));
  if (memo.from === 0) return memo.words;
  const head = entryWordsOf(list.slice(0, memo.from).map((r) => r.entry));
  const all = new EntryWordsBuilder(Math.max(16, list.length));
  all.family.set(head.family.subarray(0, head.count));
  all.bits.set(head.bits.subarray(0, head.count));
  all.words.set(head.words.subarray(0, head.count * 4));
  all.family.set(memo.words.family.subarray(0, memo.words.count), head.count);
  all.bits.set(memo.words.bits.subarray(0, memo.words.count), head.count);
  all.words.set(memo.words.words.subarray(0, memo.words.count * 4), head.count * 4);
  all.count = list.length;
  return all;
}
