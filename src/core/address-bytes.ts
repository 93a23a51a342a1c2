/**
 * The address grammar of address.ts over bytes, for streams read as Buffers:
 * a scanner that says only "accepted, these words" or "not accepted" (the
 * string scanner is asked again for the reason), and the RFC 5952 writer
 * straight into a byte buffer. Both must agree with address.ts exactly; the
 * property tests in test/core/address-bytes.test.ts hold them to it.
 */
import {Family, hexValue, longestZeroRun} from './address.js';

const DOT = 46;
const COLON = 58;
const ZERO = 48;
const NINE = 57;
const LF = 10;
const CR = 13;

/** Returned by the scanners for text the grammar refuses. */
export const NOT_ACCEPTED = 0;

/**
 * A dotted quad starting at bytes[start], read no further than `limit`,
 * into out[at] (same rules as scanIPv4 in address.ts); returns where it
 * ends (the byte after its last digit), or -1 when none starts there. What
 * may follow it is the caller's to judge. The value goes through `out`
 * rather than the return value so that it is never boxed as a heap number.
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
    if (length === 0 || length > 3 || octet > 255) return -1;
    if (length > 1 && bytes[octetStart] === ZERO) return -1;
    value = ((value << 8) | octet) >>> 0;
    if (++octets === 4 || i === limit || bytes[i] !== DOT) break;
    i++;
  }
  if (octets !== 4) return -1;
  out[at] = value;
  return i;
}

/** Dotted-quad IPv4 in exactly bytes[start, end) into out[at]; false when refused. */
function scanIPv4Bytes(bytes: Uint8Array, start: number, end: number, out: Uint32Array, at: number): boolean {
  return start < end && scanIPv4At(bytes, start, end, out, at) === end;
}

/**
 * When the line at bytes[start] (before `limit`) is a dotted quad and its
 * line end (LF or CR LF) and nothing else, scans it into out[0] and returns
 * where its LF is; else -1, and the line is the caller's to split and scan.
 * One pass over the bytes of the commonest line of a stream.
 */
export function scanIPv4Line(bytes: Uint8Array, start: number, limit: number, out: Uint32Array): number {
  const end = scanIPv4At(bytes, start, limit, out, 0);
  if (end < 0 || end === limit) return -1;
  if (bytes[end] === LF) return end;
  return bytes[end] === CR && end + 1 < limit && bytes[end + 1] === LF ? end + 1 : -1;
}

const groups = new Uint16Array(8);
const tail = new Uint32Array(1);

/** hexValue of every byte, as a table (the scanner's hottest step). */
const HEX_VALUE = Int8Array.from({length: 256}, (_, c) => hexValue(c));

/** An RFC 4291 IPv6 text form in bytes[start, end) into out[0..3]; false when refused (same rules as scanIPv6 in address.ts). */
function scanIPv6Bytes(bytes: Uint8Array, start: number, end: number, out: Uint32Array): boolean {
  let count = 0;
  let gap = -1;
  let i = start;
  if (i === end) return false;
  if (bytes[i] === COLON) {
    if (i + 1 >= end || bytes[i + 1] !== COLON) return false;
    gap = 0;
    i += 2;
    if (i < end && bytes[i] === COLON) return false;
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
      if (count > 6) return false;
      if (!scanIPv4Bytes(bytes, groupStart, end, tail, 0)) return false;
      groups[count++] = tail[0] >>> 16;
      groups[count++] = tail[0] & 0xffff;
      i = end;
      break;
    }
    if (length === 0 || length > 4 || count === 8) return false;
    groups[count++] = value;
    if (i === end) break;
    if (bytes[i] !== COLON) return false;
    i++;
    if (i === end) return false;
    if (bytes[i] === COLON) {
      if (gap >= 0) return false;
      gap = count;
      i++;
      if (i < end && bytes[i] === COLON) return false;
    }
  }
  if (gap < 0 && count !== 8) return false;
  if (gap >= 0 && count > 7) return false;
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
 * NOT_ACCEPTED where `scanAddress` would throw. Never throws, never allocates.
 */
export function scanAddressBytes(bytes: Uint8Array, start: number, end: number, out: Uint32Array): Family | typeof NOT_ACCEPTED {
  // IPv4 first: text with a colon always fails it, and IPv6 is tried when there is one.
  if (scanIPv4Bytes(bytes, start, end, out, 0)) return 4;
  for (let i = start; i < end; i++) {
    if (bytes[i] === COLON) return scanIPv6Bytes(bytes, start, end, out) ? 6 : NOT_ACCEPTED;
  }
  return NOT_ACCEPTED;
}

/** The longest text `writeIPv6Bytes` writes: eight groups of four digits and seven colons. */
export const MAX_IPV6_TEXT = 39;

const HEX = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

function writeGroup(out: Uint8Array, at: number, g: number): number {
  if (g >= 0x1000) out[at++] = HEX[g >>> 12];
  if (g >= 0x100) out[at++] = HEX[(g >>> 8) & 15];
  if (g >= 0x10) out[at++] = HEX[(g >>> 4) & 15];
  out[at++] = HEX[g & 15];
  return at;
}

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

/**
 * Writes formatIPv6(words[from..from+3]) into out at `at` (RFC 5952; mapped
 * addresses with a dotted tail) and returns the position after it. Needs
 * MAX_IPV6_TEXT bytes.
 */
export function writeIPv6Bytes(words: ArrayLike<number>, out: Uint8Array, at: number, from = 0): number {
  const w0 = words[from];
  const w1 = words[from + 1];
  const w2 = words[from + 2];
  const w3 = words[from + 3];
  if (w0 === 0 && w1 === 0 && w2 === 0xffff) {
    out.set(MAPPED_PREFIX, at);
    return writeIPv4Bytes(w3, out, at + MAPPED_PREFIX.length);
  }
  groups[0] = w0 >>> 16;
  groups[1] = w0 & 0xffff;
  groups[2] = w1 >>> 16;
  groups[3] = w1 & 0xffff;
  groups[4] = w2 >>> 16;
  groups[5] = w2 & 0xffff;
  groups[6] = w3 >>> 16;
  groups[7] = w3 & 0xffff;
  const [bestStart, bestLength] = longestZeroRun(groups);
  if (bestStart < 0) {
    for (let g = 0; g < 8; g++) {
      if (g > 0) out[at++] = COLON;
      at = writeGroup(out, at, groups[g]);
    }
    return at;
  }
  for (let g = 0; g < bestStart; g++) {
    if (g > 0) out[at++] = COLON;
    at = writeGroup(out, at, groups[g]);
  }
  out[at++] = COLON;
  out[at++] = COLON;
  for (let g = bestStart + bestLength; g < 8; g++) {
    if (g > bestStart + bestLength) out[at++] = COLON;
    at = writeGroup(out, at, groups[g]);
  }
  return at;
}
