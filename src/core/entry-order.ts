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
