/**
 * The address grammar: the one scanner of addresses and ranges, over bytes,
 * and the RFC 5952 writer straight into a byte buffer. A scan returns the
 * family (or the range's words) or NOT_ACCEPTED; when it refuses, `scanFault`
 * says why and where (messages are built from it in address.ts). Text is
 * scanned as one byte per UTF-16 code unit (see scanText in address.ts), so
 * that a fault's position is also the text's index. The slow, readable
 * parser the property tests compare this with is test/oracle/slow-parse.ts.
 */
import type {Family} from './words.js';

export type {Family};

const DOT = 46;
const COLON = 58;
const SLASH = 47;
const PERCENT = 37;
const ZERO = 48;
const NINE = 57;
const LF = 10;
const CR = 13;

/** Returned by the scanners for text the grammar refuses. */
export const NOT_ACCEPTED = 0;

/** Why the grammar refused a text; address.ts turns each into its message. */
export const Fault = {
  // IPv4 (also an IPv6 address's dotted tail)
  empty: 1,
  hex: 2,
  emptyOctet: 3,
  character: 4,
  octetLeadingZero: 5,
  octetTooLarge: 6,
  moreThanFourOctets: 7,
  endsWithDot: 8,
  octetCount: 9,
  // IPv6
  singleColonFirst: 10,
  tripleColon: 11,
  tailAfterSixGroups: 12,
  zone: 13,
  groupTooLong: 14,
  moreThanEightGroups: 15,
  singleColonLast: 16,
  doubleColonTwice: 17,
  groupCount: 18,
  doubleColonForNothing: 19,
  // the prefix length after "/"
  lengthEmpty: 20,
  slashTwice: 21,
  lengthNotDecimal: 22,
  lengthLeadingZero: 23,
  lengthTooLarge: 24,
} as const;

export type FaultCode = (typeof Fault)[keyof typeof Fault];

/**
 * The last refusal: its code, the family whose grammar refused, the position
 * it names (`at`, or the span [from, to)), a count where the message has one,
 * and whether it was in an IPv6 address's IPv4 tail. Written only when a scan
 * refuses; read it before the next scan.
 */
export const scanFault = {code: Fault.empty as FaultCode, family: 4 as Family, at: 0, from: 0, to: 0, count: 0, tail: false};

function refuse(code: FaultCode, family: Family, at: number, from = at, to = at, count = 0): -1 {
  scanFault.code = code;
  scanFault.family = family;
  scanFault.at = at;
  scanFault.from = from;
  scanFault.to = to;
  scanFault.count = count;
  scanFault.tail = false;
  return -1;
}

/**
 * Records why the dotted quad at bytes[start] was refused, from where its
 * scan stopped: in the octet bytes[octetStart, i) after `octets` good ones,
 * or (octetStart -1) at bytes[i] after `octets` good ones. Hex notation is
 * named first, whatever else is wrong. Apart from scanIPv4At so that the
 * scan itself stays small enough to be inlined.
 */
function refuseIPv4(bytes: Uint8Array, start: number, limit: number, octetStart: number, i: number, octets: number): -1 {
  if (bytes[start] === ZERO && start + 1 < limit && (bytes[start + 1] | 0x20) === 0x78) return refuse(Fault.hex, 4, start);
  if (octetStart < 0) {
    if (i === limit) return refuse(Fault.octetCount, 4, i, i, i, octets);
    return refuse(bytes[i] === DOT ? Fault.moreThanFourOctets : Fault.character, 4, i);
  }
  const length = i - octetStart;
  if (length === 0) {
    if (i === limit) return refuse(octets === 0 ? Fault.empty : Fault.endsWithDot, 4, i);
    return refuse(bytes[i] === DOT ? Fault.emptyOctet : Fault.character, 4, i);
  }
  if (length > 1 && bytes[octetStart] === ZERO) return refuse(Fault.octetLeadingZero, 4, octetStart, octetStart, i);
  return refuse(Fault.octetTooLarge, 4, octetStart, octetStart, i);
}

/**
 * A dotted quad starting at bytes[start], read no further than `limit`,
 * into out[at]: exactly four decimal octets, 0–255, no leading zeros. Returns
 * where it ends (the byte after its last digit), or -1 when none starts there
 * (scanFault says why). What may follow it is the caller's to judge. The
 * value goes through `out` rather than the return value so that it is never
 * boxed as a heap number.
 */
function scanIPv4At(bytes: Uint8Array, start: number, limit: number, out: Uint32Array, at: number): number {
  let value = 0;
  let octets = 0;
  let i = start;
  for (;;) {
    const octetStart = i;
    let octet = 0;
    while (i < limit) {
      const c = bytes[i];
      if (c < ZERO || c > NINE) break;
      octet = octet * 10 + (c - ZERO);
      i++;
    }
    const length = i - octetStart;
    if (length === 0 || length > 3 || octet > 255 || (length > 1 && bytes[octetStart] === ZERO)) return refuseIPv4(bytes, start, limit, octetStart, i, octets);
    value = ((value << 8) | octet) >>> 0;
    if (++octets === 4 || i === limit || bytes[i] !== DOT) break;
    i++;
  }
  if (octets !== 4) return refuseIPv4(bytes, start, limit, -1, i, octets);
  out[at] = value;
  return i;
}

/** Dotted-quad IPv4 in exactly bytes[start, end) into out[at]; false when refused (scanFault says why). */
function scanIPv4Bytes(bytes: Uint8Array, start: number, end: number, out: Uint32Array, at: number): boolean {
  const stop = scanIPv4At(bytes, start, end, out, at);
  if (stop === end) return true;
  if (stop >= 0) refuseIPv4(bytes, start, end, -1, stop, 4);
  return false;
}

/**
 * When the line at bytes[start] (before `limit`) is a dotted quad and its
 * line end (LF or CR LF) and nothing else, scans it into out[0] and returns
 * where its LF is; else -1, and the line is the caller's to split and scan
 * (which also says why a line is refused: this never touches scanFault).
 * One pass over the bytes of the commonest line of a stream, each octet's
 * one to three digits read without a loop.
 */
export function scanIPv4Line(bytes: Uint8Array, start: number, limit: number, out: Uint32Array): number {
  let i = start;
  let value = 0;
  for (let o = 0; ; o++) {
    // (A read past `limit` is refused before its value is used: bytes[limit] may be another line's, or undefined.)
    if (i >= limit) return -1;
    let octet = bytes[i] - ZERO;
    if (octet < 0 || octet > 9) return -1;
    i++;
    if (i < limit) {
      const d = bytes[i] - ZERO;
      if (d >= 0 && d <= 9) {
        if (octet === 0) return -1;
        octet = octet * 10 + d;
        i++;
        if (i < limit) {
          const e = bytes[i] - ZERO;
          if (e >= 0 && e <= 9) {
            octet = octet * 10 + e;
            if (octet > 255) return -1;
            i++;
          }
        }
      }
    }
    value = (value << 8) | octet;
    if (o === 3) break;
    if (i >= limit || bytes[i] !== DOT) return -1;
    i++;
  }
  if (i >= limit) return -1;
  const c = bytes[i];
  if (c === LF) {
    out[0] = value >>> 0;
    return i;
  }
  if (c === CR && i + 1 < limit && bytes[i + 1] === LF) {
    out[0] = value >>> 0;
    return i + 1;
  }
  return -1;
}

const groups = new Uint16Array(8);
const tail = new Uint32Array(1);

/** The value of an ASCII hex digit, or -1. */
function hexValue(c: number): number {
  if (c >= ZERO && c <= NINE) return c - ZERO;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/** hexValue of every byte, as a table (the scanner's hottest step). */
const HEX_VALUE = Int8Array.from({length: 256}, (_, c) => hexValue(c));

function refuse6(code: FaultCode, at: number, from = at, to = at, count = 0): false {
  refuse(code, 6, at, from, to, count);
  return false;
}

/** A character where a group or ":" should be: a zone index, or just that character. */
function refuseCharacter6(bytes: Uint8Array, i: number): false {
  return refuse6(bytes[i] === PERCENT ? Fault.zone : Fault.character, i);
}

/** An RFC 4291 IPv6 text form in bytes[start, end) into out[0..3] (most significant word first); zones refused. */
function scanIPv6Bytes(bytes: Uint8Array, start: number, end: number, out: Uint32Array): boolean {
  let count = 0;
  let gap = -1;
  let i = start;
  if (i === end) return refuse6(Fault.empty, i);
  if (bytes[i] === COLON) {
    if (i + 1 >= end || bytes[i + 1] !== COLON) return refuse6(Fault.singleColonFirst, i);
    gap = 0;
    i += 2;
    if (i < end && bytes[i] === COLON) return refuse6(Fault.tripleColon, i);
  }
  while (i < end) {
    const groupStart = i;
    let value = 0;
    while (i < end) {
      const h = HEX_VALUE[bytes[i]];
      if (h < 0) break;
      value = value * 16 + h;
      i++;
    }
    const length = i - groupStart;
    if (i < end && bytes[i] === DOT) {
      if (count > 6) return refuse6(Fault.tailAfterSixGroups, groupStart);
      if (!scanIPv4Bytes(bytes, groupStart, end, tail, 0)) {
        scanFault.family = 6;
        scanFault.tail = true;
        return false;
      }
      groups[count++] = tail[0] >>> 16;
      groups[count++] = tail[0] & 0xffff;
      break;
    }
    if (length === 0) return refuseCharacter6(bytes, i);
    if (length > 4) return refuse6(Fault.groupTooLong, groupStart, groupStart, i);
    if (count === 8) return refuse6(Fault.moreThanEightGroups, groupStart);
    groups[count++] = value;
    if (i === end) break;
    if (bytes[i] !== COLON) return refuseCharacter6(bytes, i);
    i++;
    if (i === end) return refuse6(Fault.singleColonLast, i);
    if (bytes[i] === COLON) {
      if (gap >= 0) return refuse6(Fault.doubleColonTwice, i);
      gap = count;
      i++;
      if (i < end && bytes[i] === COLON) return refuse6(Fault.tripleColon, i);
    }
  }
  if (gap < 0 && count !== 8) return refuse6(Fault.groupCount, end, end, end, count);
  if (gap >= 0 && count > 7) return refuse6(Fault.doubleColonForNothing, end);
  // Expand "::" by moving the groups after the gap to the end.
  if (gap >= 0) {
    const after = count - gap;
    for (let k = 0; k < after; k++) groups[7 - k] = groups[count - 1 - k];
    for (let k = gap; k < 8 - after; k++) groups[k] = 0;
  }
  for (let w = 0; w < 4; w++) out[w] = groups[2 * w] * 65536 + groups[2 * w + 1];
  return true;
}

/**
 * Scans one address in bytes[start, end) into `out` (IPv4 in out[0], IPv6
 * in out[0..3], 4-in-6 left as IPv6) and returns its family, or
 * NOT_ACCEPTED (scanFault says why). Never throws, never allocates.
 */
export function scanAddressBytes(bytes: Uint8Array, start: number, end: number, out: Uint32Array): Family | typeof NOT_ACCEPTED {
  // Text with a colon is IPv6 (and its fault IPv6's); IPv4 has none.
  for (let i = start; i < end; i++) {
    if (bytes[i] === COLON) return scanIPv6Bytes(bytes, start, end, out) ? 6 : NOT_ACCEPTED;
  }
  return scanIPv4Bytes(bytes, start, end, out, 0) ? 4 : NOT_ACCEPTED;
}

/**
 * scanAddressBytes for a text its caller knows holds a colon (so IPv6, or
 * refused as IPv6): the same answer, without looking for the colon again.
 */
export function scanColonAddressBytes(bytes: Uint8Array, start: number, end: number, out: Uint32Array): Family | typeof NOT_ACCEPTED {
  return scanIPv6Bytes(bytes, start, end, out) ? 6 : NOT_ACCEPTED;
}

/** An address or range scanned into words: the scanner's view of an entry. */
export interface ScannedPrefix {
  family: Family;
  bits: number;
  /** The address as given (host bits not cleared): words[0] for IPv4, words[0..3] for IPv6. */
  words: Uint32Array;
}

/** The prefix length in bytes[start, end), at most `max`: one to three decimal digits, no leading zero; -1 when refused. */
function scanLength(bytes: Uint8Array, start: number, end: number, family: Family): number {
  const max = family === 4 ? 32 : 128;
  let value = 0;
  let i = start;
  for (; i < end; i++) {
    const c = bytes[i];
    if (c < ZERO || c > NINE) break;
    value = value * 10 + (c - ZERO);
  }
  const length = end - start;
  if (i === end && length >= 1 && length <= 3 && (length === 1 || bytes[start] !== ZERO) && value <= max) return value;
  if (length === 0) return refuse(Fault.lengthEmpty, family, start);
  for (let k = start; k < end; k++) if (bytes[k] === SLASH) return refuse(Fault.slashTwice, family, k, start, end);
  if (i < end) return refuse(Fault.lengthNotDecimal, family, i, start, end);
  if (length > 1 && bytes[start] === ZERO) return refuse(Fault.lengthLeadingZero, family, start, start, end);
  return refuse(Fault.lengthTooLarge, family, start, start, end, max);
}

/**
 * Scans `ADDRESS` or `ADDRESS/PREFIX` in bytes[start, end) into `into`
 * (host bits not checked); false when refused (scanFault says why).
 */
export function scanPrefixBytes(bytes: Uint8Array, start: number, end: number, into: ScannedPrefix): boolean {
  let slash = start;
  while (slash < end && bytes[slash] !== SLASH) slash++;
  const family = scanAddressBytes(bytes, start, slash, into.words);
  if (family === NOT_ACCEPTED) return false;
  const bits = slash === end ? (family === 4 ? 32 : 128) : scanLength(bytes, slash + 1, end, family);
  if (bits < 0) return false;
  into.family = family;
  into.bits = bits;
  return true;
}

/**
 * RFC 5952's "::": the first longest run of two or more zero groups among the
 * eight, as [start, length]; start is -1 when there is no such run.
 */
export function longestZeroRun(groups: ArrayLike<number>): [number, number] {
  const run = zeroRun(groups);
  return run >>> 4 === 8 ? [-1, 1] : [run >>> 4, run & 15];
}

/**
 * longestZeroRun without an array: the run's start × 16 + its length, start
 * 8 (and length 1) when there is none (the writers' hot path: no allocation).
 */
function zeroRun(groups: ArrayLike<number>): number {
  let bestStart = 8;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  return bestStart * 16 + bestLength;
}

/** Fills `groups` with the eight 16-bit groups of the address in words[from..from+3]. */
function unpackGroups(words: ArrayLike<number>, from: number): void {
  for (let w = 0; w < 4; w++) {
    const word = words[from + w];
    groups[2 * w] = word >>> 16;
    groups[2 * w + 1] = word & 0xffff;
  }
}

/** The longest text `writeIPv6Text` writes: eight groups of four digits and seven colons. */
export const MAX_IPV6_TEXT = 39;

const HEX = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/**
 * The hex text of every byte as a little-endian word: both digits (PAD2),
 * or without a leading zero (SHORT, SHORT_LENGTH digits). A group's text is
 * its high byte's short text and its low byte's two digits, or, with a high
 * byte of 0, its low byte's short text (writeIPv6Text).
 */
const PAD2 = Uint32Array.from({length: 256}, (_, b) => HEX[b >>> 4] | (HEX[b & 15] << 8));
const SHORT = Uint32Array.from({length: 256}, (_, b) => (b >= 16 ? PAD2[b] : HEX[b]));
const SHORT_LENGTH = Uint8Array.from({length: 256}, (_, b) => (b >= 16 ? 2 : 1));

function writeOctet(out: Uint8Array, at: number, o: number): number {
  if (o >= 100) {
    out[at++] = ZERO + ((o / 100) | 0);
    out[at++] = ZERO + (((o / 10) | 0) % 10);
  } else if (o >= 10) out[at++] = ZERO + ((o / 10) | 0);
  out[at++] = ZERO + (o % 10);
  return at;
}

/** Writes formatIPv4(value) into out at `at`; returns the position after it. */
export function writeIPv4Bytes(value: number, out: Uint8Array, at: number): number {
  at = writeOctet(out, at, value >>> 24);
  out[at++] = DOT;
  at = writeOctet(out, at, (value >>> 16) & 255);
  out[at++] = DOT;
  at = writeOctet(out, at, (value >>> 8) & 255);
  out[at++] = DOT;
  return writeOctet(out, at, value & 255);
}

const MAPPED_PREFIX = Uint8Array.from('::ffff:', (c) => c.charCodeAt(0));

/** Writes group g's text as one word's store at `at` (3 bytes to spare after it); returns the position after the text. */
function putGroup(view: DataView, at: number, g: number): number {
  const high = g >>> 8;
  const low = g & 255;
  if (high === 0) {
    view.setUint32(at, SHORT[low], true);
    return at + SHORT_LENGTH[low];
  }
  const length = SHORT_LENGTH[high];
  view.setUint32(at, SHORT[high] | (PAD2[low] << (8 * length)), true);
  return at + length + 2;
}

/**
 * Writes formatIPv6(words[from..from+3]) into out at `at` (RFC 5952; mapped
 * addresses with a dotted tail) and returns the position after it. Each
 * group is one word's store from a table (`view` is over `out`): what lands
 * in the 3 bytes after the text is not part of it, so it needs
 * MAX_IPV6_TEXT + 3 bytes from `at`.
 */
export function writeIPv6Text(words: ArrayLike<number>, out: Uint8Array, view: DataView, at: number, from: number): number {
  if (words[from] === 0 && words[from + 1] === 0 && words[from + 2] === 0xffff) {
    out.set(MAPPED_PREFIX, at);
    return writeIPv4Bytes(words[from + 3], out, at + MAPPED_PREFIX.length);
  }
  unpackGroups(words, from);
  const run = zeroRun(groups);
  const bestStart = run >>> 4;
  const resume = bestStart + (run & 15);
  for (let g = 0; g < bestStart; g++) {
    if (g > 0) out[at++] = COLON;
    at = putGroup(view, at, groups[g]);
  }
  if (bestStart === 8) return at;
  out[at++] = COLON;
  out[at++] = COLON;
  for (let g = resume; g < 8; g++) {
    if (g > resume) out[at++] = COLON;
    at = putGroup(view, at, groups[g]);
  }
  return at;
}
