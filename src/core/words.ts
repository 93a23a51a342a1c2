/**
 * Address arithmetic over 32-bit words, the one numeric representation of
 * keyward (as netip's uint128): an IPv4 address is one word, an IPv6 address
 * four, most significant first. Masks, comparison, containment, the next
 * address and the binary searches over sorted words live here and nowhere
 * else. `width` is the number of words: 1 for IPv4, 4 for IPv6.
 */
/** An address family: IPv4 or IPv6. */
export type Family = 4 | 6;

export type Width = 1 | 4;

export function widthOf(family: Family): Width {
  return family === 4 ? 1 : 4;
}

/** The mask of word `w` of a prefix `bits` long: its network bits set, its host bits clear. */
/** Copies an address's words into a column of four words a row (IPv4 takes the first word of its row). */
export function putWords(column: Uint32Array, row: number, family: Family, words: ArrayLike<number>): void {
  const w = row * 4;
  column[w] = words[0];
  if (family === 6) {
    column[w + 1] = words[1];
    column[w + 2] = words[2];
    column[w + 3] = words[3];
  }
}

export function maskOfWord(bits: number, w: number): number {
  const keep = bits - w * 32;
  if (keep <= 0) return 0;
  return keep >= 32 ? 0xffffffff : ~(0xffffffff >>> keep) >>> 0;
}

/** Clears the host bits of words[at .. at+width-1] in place; returns whether any was set. */
export function maskWords(words: Uint32Array, bits: number, width: Width, at = 0): boolean {
  let hadHostBits = false;
  for (let w = 0; w < width; w++) {
    const masked = (words[at + w] & maskOfWord(bits, w)) >>> 0;
    if (masked !== words[at + w]) {
      hadHostBits = true;
      words[at + w] = masked;
    }
  }
  return hadHostBits;
}

/** The first address of the prefix `bits` long holding the address `words`, into `out` (returned). */
export function networkOf(family: Family, words: ArrayLike<number>, bits: number, out: Uint32Array): Uint32Array {
  const width = widthOf(family);
  for (let w = 0; w < width; w++) out[w] = (words[w] & maskOfWord(bits, w)) >>> 0;
  return out;
}

/** The last address of the prefix `bits` long at `network` into out[outAt ..]: its host bits set. */
export function lastOfPrefix(network: ArrayLike<number>, bits: number, width: Width, out: Uint32Array, outAt = 0, networkAt = 0): void {
  for (let w = 0; w < width; w++) out[outAt + w] = (network[networkAt + w] | ~maskOfWord(bits, w)) >>> 0;
}

/** -1, 0 or 1 as a[ai ..] is below, equal to or above b[bi ..], over `width` words. */
export function compareWords(a: ArrayLike<number>, ai: number, b: ArrayLike<number>, bi: number, width: Width): number {
  for (let w = 0; w < width; w++) {
    const x = a[ai + w];
    const y = b[bi + w];
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** Whether a[ai ..] and b[bi ..] agree on their first `bits` bits: the prefix `bits` long at one contains the other. */
export function sameNetwork(a: ArrayLike<number>, ai: number, b: ArrayLike<number>, bi: number, bits: number, width: Width): boolean {
  for (let w = 0; w < width; w++) {
    const mask = maskOfWord(bits, w);
    if (mask === 0) return true;
    if (((a[ai + w] ^ b[bi + w]) & mask) !== 0) return false;
  }
  return true;
}

/** Adds one to words[0 .. width-1] in place; false (and all zeros) when it was the family's last address. */
export function next(words: Uint32Array, width: Width): boolean {
  for (let w = width - 1; w >= 0; w--) {
    words[w] = (words[w] + 1) >>> 0;
    if (words[w] !== 0) return true;
  }
  return false;
}

/**
 * The greatest position i in [lo, hi] whose one-word value values[i * stride]
 * is at or below `key`, or lo - 1 when none is: a binary search over values
 * sorted in increasing order.
 */
export function lastAtOrBelow(values: Uint32Array, stride: number, lo: number, hi: number, key: number): number {
  let found = lo - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid * stride] <= key) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** lastAtOrBelow over four-word values: values[4i .. 4i+3] against key[0 .. 3]. */
export function lastAtOrBelow128(values: Uint32Array, lo: number, hi: number, key: ArrayLike<number>): number {
  let found = lo - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (compareWords(values, mid * 4, key, 0, 4) <= 0) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/**
 * The fewest CIDR blocks whose union is [first, last] (first ≤ last), lowest
 * first: calls `block(network, bits)` for each (`network` is reused: copy it
 * to keep it). The one walk behind `aggregate` and the a-b range hint.
 */
export function coverRange(first: ArrayLike<number>, last: ArrayLike<number>, width: Width, block: (network: Uint32Array, bits: number) => void): void {
  const bitLength = width * 32;
  const start = Uint32Array.from({length: width}, (_, i) => first[i]);
  const probe = new Uint32Array(width);
  for (;;) {
    // The largest aligned block at `start` that does not pass `last`.
    let bits = bitLength;
    while (bits > 0) {
      probe.set(start);
      if (maskWords(probe, bits - 1, width)) break;
      lastOfPrefix(start, bits - 1, width, probe);
      if (compareWords(probe, 0, last, 0, width) > 0) break;
      bits--;
    }
    block(start, bits);
    lastOfPrefix(start, bits, width, start);
    if (compareWords(start, 0, last, 0, width) >= 0 || !next(start, width)) return;
  }
}
