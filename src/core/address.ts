/**
 * IP addresses as immutable values with one strict grammar and one canonical
 * text form (after Go's net/netip). This file is the single source of truth
 * for what keyward accepts as an address.
 *
 * Two layers: `scanAddress` reads text into a caller-owned scratch array of
 * 32-bit words without allocating (the hot path of `check` and `learn`), and
 * `Address` is the value API built on it for everything else.
 */
import {AddressError, excerpt} from './errors.js';

export type Family = 4 | 6;

/** Raised inside the scanners; turned into an AddressError naming the whole input. */
class GrammarFault {
  constructor(
    readonly reason: string,
    readonly family: Family,
  ) {}
}

function fault(reason: string, family: Family): never {
  throw new GrammarFault(reason, family);
}

const DOT = 46;
const COLON = 58;
const ZERO = 48;
const NINE = 57;

/** A readable name for the character that stopped the scan. */
function describeChar(text: string, index: number): string {
  const code = text.codePointAt(index) ?? 0;
  if (code === 0) return 'a NUL byte';
  if (code === 0x20) return 'a space';
  if (code < 0x20 || code === 0x7f) return `a control character (U+${code.toString(16).toUpperCase().padStart(4, '0')})`;
  if (/\s/u.test(String.fromCodePoint(code))) return `whitespace (U+${code.toString(16).toUpperCase().padStart(4, '0')})`;
  if (/\p{Nd}/u.test(String.fromCodePoint(code))) {
    return `a non-ASCII digit "${String.fromCodePoint(code)}" (U+${code.toString(16).toUpperCase().padStart(4, '0')})`;
  }
  if (code > 0x7f) return `a non-ASCII character (U+${code.toString(16).toUpperCase().padStart(4, '0')})`;
  return `"${String.fromCharCode(code)}"`;
}

/**
 * Scans dotted-quad IPv4 in text[start, end): exactly four decimal octets,
 * 0–255, no leading zeros, nothing else. Returns the 32-bit value.
 */
function scanIPv4(text: string, start: number, end: number): number {
  if (start === end) fault('is empty', 4);
  if (text.charCodeAt(start) === ZERO && (text.charCodeAt(start + 1) | 0x20) === 0x78) {
    fault('hex notation (0x…) is not accepted', 4);
  }
  let value = 0;
  let octets = 0;
  let i = start;
  for (;;) {
    const octetStart = i;
    let octet = 0;
    while (i < end) {
      const c = text.charCodeAt(i);
      if (c < ZERO || c > NINE) break;
      octet = octet * 10 + (c - ZERO);
      i++;
    }
    const length = i - octetStart;
    if (length === 0) {
      if (i === end || text.charCodeAt(i) === DOT) fault(`has an empty octet`, 4);
      fault(`contains ${describeChar(text, i)}`, 4);
    }
    if (length > 1 && text.charCodeAt(octetStart) === ZERO) {
      fault(`octet ${excerpt(text.slice(octetStart, i))} has a leading zero (octal is ambiguous)`, 4);
    }
    if (length > 3 || octet > 255) fault(`octet ${excerpt(text.slice(octetStart, i))} > 255`, 4);
    value = value * 256 + octet;
    octets++;
    if (i === end) break;
    const c = text.charCodeAt(i);
    if (c !== DOT) fault(`contains ${describeChar(text, i)}`, 4);
    if (octets === 4) fault('has more than four octets', 4);
    i++;
    if (i === end) fault('ends with "."', 4);
  }
  if (octets !== 4) {
    fault(`has ${octets} octet${octets === 1 ? '' : 's'}; exactly four are needed (short forms like 127.1 are ambiguous)`, 4);
  }
  return value;
}

/** The value of an ASCII hex digit, or -1. */
export function hexValue(c: number): number {
  if (c >= ZERO && c <= NINE) return c - ZERO;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

const groups = new Uint16Array(8);

/**
 * Scans an RFC 4291 IPv6 text form in text[start, end) into out[0..3]
 * (most significant word first). Zone indexes are refused.
 */
function scanIPv6(text: string, start: number, end: number, out: Uint32Array): void {
  let count = 0;
  let gap = -1;
  let i = start;
  if (i === end) fault('is empty', 6);
  if (text.charCodeAt(i) === COLON) {
    if (text.charCodeAt(i + 1) !== COLON) fault('starts with a single ":"', 6);
    gap = 0;
    i += 2;
    if (i < end && text.charCodeAt(i) === COLON) fault('contains ":::"', 6);
  }
  while (i < end) {
    const groupStart = i;
    let value = 0;
    while (i < end) {
      const h = hexValue(text.charCodeAt(i));
      if (h < 0) break;
      value = value * 16 + h;
      i++;
    }
    const length = i - groupStart;
    if (i < end && text.charCodeAt(i) === DOT) {
      if (count > 6) fault('has an IPv4 tail after more than six groups', 6);
      let tail: number;
      try {
        tail = scanIPv4(text, groupStart, end);
      } catch (error) {
        if (error instanceof GrammarFault) fault(`has a bad IPv4 tail: ${error.reason}`, 6);
        throw error;
      }
      groups[count++] = Math.floor(tail / 65536);
      groups[count++] = tail % 65536;
      i = end;
      break;
    }
    if (length === 0) {
      const c = text.charCodeAt(i);
      if (c === 0x25) fault(`has a zone index (${excerpt(text.slice(i, end))}); zones are not accepted`, 6);
      fault(`contains ${describeChar(text, i)}`, 6);
    }
    if (length > 4) fault(`group ${excerpt(text.slice(groupStart, i))} has more than four hex digits`, 6);
    if (count === 8) fault('has more than eight groups', 6);
    groups[count++] = value;
    if (i === end) break;
    const c = text.charCodeAt(i);
    if (c !== COLON) {
      if (c === 0x25) fault(`has a zone index (${excerpt(text.slice(i, end))}); zones are not accepted`, 6);
      fault(`contains ${describeChar(text, i)}`, 6);
    }
    i++;
    if (i === end) fault('ends with a single ":"', 6);
    if (text.charCodeAt(i) === COLON) {
      if (gap >= 0) fault('has "::" more than once', 6);
      gap = count;
      i++;
      if (i < end && text.charCodeAt(i) === COLON) fault('contains ":::"', 6);
    }
  }
  if (gap < 0 && count !== 8) fault(`has ${count} groups; eight are needed, or "::"`, 6);
  if (gap >= 0 && count > 7) fault('has "::" standing for no group (eight groups are already given)', 6);
  // Expand "::" by moving the groups after the gap to the end.
  if (gap >= 0) {
    const after = count - gap;
    for (let k = 0; k < after; k++) groups[7 - k] = groups[count - 1 - k];
    for (let k = gap; k < 8 - after; k++) groups[k] = 0;
  }
  for (let w = 0; w < 4; w++) out[w] = groups[2 * w] * 65536 + groups[2 * w + 1];
}

/**
 * Scans one address in text[0, end) into `out`: IPv4 in out[0], IPv6 in
 * out[0..3]. Returns the family. Throws AddressError naming the whole input
 * (as an address, or as a range when `what` says so) and the reason.
 */
export function scanAddress(text: string, out: Uint32Array, end = text.length, what: 'address' | 'range' = 'address'): Family {
  try {
    const colon = text.indexOf(':');
    if (colon >= 0 && colon < end) {
      scanIPv6(text, 0, end, out);
      return 6;
    }
    out[0] = scanIPv4(text, 0, end);
    return 4;
  } catch (error) {
    throw explain(text, error, what);
  }
}

/** Whether out[0..3] holds an IPv4-mapped IPv6 address (::ffff:a.b.c.d). */
export function isMappedWords(words: Uint32Array): boolean {
  return words[0] === 0 && words[1] === 0 && words[2] === 0xffff;
}

/**
 * Scans an address and unmaps 4-in-6, the form every decision uses: an
 * IPv4-mapped IPv6 address becomes its IPv4 address in out[0].
 */
export function scanDecisionAddress(text: string, out: Uint32Array): Family {
  const family = scanAddress(text, out);
  if (family === 6 && isMappedWords(out)) {
    out[0] = out[3];
    return 4;
  }
  return family;
}

function explain(input: string, error: unknown, what: 'address' | 'range'): unknown {
  if (!(error instanceof GrammarFault)) return error;
  const family = error.family === 4 ? 'IPv4' : 'IPv6';
  if (input.length === 0) return new AddressError(input, 'is empty: an IP address or range is needed');
  return new AddressError(input, `is not an ${family} ${what}: ${error.reason}`);
}

export function formatIPv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

/**
 * RFC 5952's "::": the first longest run of two or more zero groups among the
 * eight, as [start, length]; start is -1 when there is no such run.
 */
export function longestZeroRun(groups: ArrayLike<number>): [number, number] {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  return [bestStart, bestLength];
}

/** RFC 5952: lower case, no leading zeros, the longest run of two or more zero groups as "::". */
export function formatIPv6(words: ArrayLike<number>): string {
  const g = [
    words[0] >>> 16, words[0] & 0xffff, words[1] >>> 16, words[1] & 0xffff,
    words[2] >>> 16, words[2] & 0xffff, words[3] >>> 16, words[3] & 0xffff,
  ];
  if (words[0] === 0 && words[1] === 0 && words[2] === 0xffff) return `::ffff:${formatIPv4(words[3])}`;
  const [bestStart, bestLength] = longestZeroRun(g);
  const hex = (list: number[]) => list.map((n) => n.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLength))}`;
}

const MASK32 = 0xffffffffn;

/** An IP address value: family and number. Immutable; compare with `equals`. */
export class Address {
  private constructor(
    readonly family: Family,
    /** The address as a number: 32 bits for IPv4, 128 for IPv6. */
    readonly value: bigint,
  ) {}

  /** Strict parse of one address (no prefix). IPv4-mapped IPv6 stays IPv6: see `unmap`. */
  static parse(text: string): Address {
    const words = new Uint32Array(4);
    const family = scanAddress(text, words);
    return Address.fromWords(family, words);
  }

  static fromWords(family: Family, words: ArrayLike<number>): Address {
    if (family === 4) return new Address(4, BigInt(words[0] >>> 0));
    let value = 0n;
    for (let w = 0; w < 4; w++) value = (value << 32n) | BigInt(words[w] >>> 0);
    return new Address(6, value);
  }

  static fromValue(family: Family, value: bigint): Address {
    const max = family === 4 ? MAX4 : MAX6;
    if (value < 0n || value > max) throw new RangeError(`value out of range for IPv${family}`);
    return new Address(family, value);
  }

  get bitLength(): 32 | 128 {
    return this.family === 4 ? 32 : 128;
  }

  /** The 32-bit words, most significant first (one for IPv4, four for IPv6). */
  words(): Uint32Array {
    if (this.family === 4) return Uint32Array.of(Number(this.value));
    return Uint32Array.of(
      Number((this.value >> 96n) & MASK32),
      Number((this.value >> 64n) & MASK32),
      Number((this.value >> 32n) & MASK32),
      Number(this.value & MASK32),
    );
  }

  isMapped(): boolean {
    return this.family === 6 && this.value >> 32n === 0xffffn;
  }

  /** The IPv4 address of an IPv4-mapped IPv6 address; any other address unchanged. */
  unmap(): Address {
    return this.isMapped() ? new Address(4, this.value & MASK32) : this;
  }

  equals(other: Address): boolean {
    return this.family === other.family && this.value === other.value;
  }

  toString(): string {
    return this.family === 4 ? formatIPv4(Number(this.value)) : formatIPv6(this.words());
  }
}

export const MAX4 = (1n << 32n) - 1n;
export const MAX6 = (1n << 128n) - 1n;
