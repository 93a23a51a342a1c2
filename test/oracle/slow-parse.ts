/**
 * The oracle for the address grammar: the readable string parser that was
 * keyward's production scanner before the one byte scanner
 * (src/core/address-bytes.ts) replaced it, as netip keeps its slow parser in
 * slow_test.go. Property tests hold the production scanner to it: the same
 * texts accepted, the same words, the same messages. Not used by src/.
 */
import {formatIPv4, formatIPv6} from '../../src/core/address.js';
import {addressesOpened, BROADEST, EntryOptions} from '../../src/core/entry-parse.js';
import {AddressError, excerpt, holdsSecret, SafetyError, show} from '../../src/core/errors.js';
import {commonMistake} from '../../src/core/mistakes.js';

export type Family = 4 | 6;

/** An address or range scanned into words. */
export interface SlowScannedPrefix {
  family: Family;
  bits: number;
  words: Uint32Array;
}

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
function hexValue(c: number): number {
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
 * (as an address, or as a range when `what` says so) and the reason;
 * `labels` as src/core/address.ts refusal takes it (an entry, not a bare address).
 */
export function slowScanAddress(text: string, out: Uint32Array, end = text.length, what: 'address' | 'range' = 'address', labels = false): Family {
  try {
    const colon = text.indexOf(':');
    if (colon >= 0 && colon < end) {
      scanIPv6(text, 0, end, out);
      return 6;
    }
    out[0] = scanIPv4(text, 0, end);
    return 4;
  } catch (error) {
    throw explain(text, error, what, labels);
  }
}

/** Whether out[0..3] holds an IPv4-mapped IPv6 address (::ffff:a.b.c.d). */
function isMappedWords(words: Uint32Array): boolean {
  return words[0] === 0 && words[1] === 0 && words[2] === 0xffff;
}

/**
 * Scans an address and unmaps 4-in-6, the form every decision uses: an
 * IPv4-mapped IPv6 address becomes its IPv4 address in out[0].
 */
export function slowScanDecisionAddress(text: string, out: Uint32Array): Family {
  const family = slowScanAddress(text, out);
  if (family === 6 && isMappedWords(out)) {
    out[0] = out[3];
    return 4;
  }
  return family;
}

function explain(input: string, error: unknown, what: 'address' | 'range', labels: boolean): unknown {
  if (!(error instanceof GrammarFault)) return error;
  const family = error.family === 4 ? 'IPv4' : 'IPv6';
  if (input.length === 0) return new AddressError(input, 'is empty: an IP address or range is needed');
  return refused(input, `is not an ${family} ${what}: ${error.reason}`, labels);
}

/**
 * The refusal of `input` for `reason`: the grammar's reason, unless the text
 * is one of the common mistakes. That layer (src/core/mistakes.ts) sits on
 * top of the grammar in production and is applied here the same way, so that
 * the grammar is compared alone; test/core/mistakes.test.ts tests it.
 */
function refused(input: string, reason: string, labels = true): AddressError {
  const mistake = holdsSecret(input) ? null : commonMistake(input, labels);
  return new AddressError(input, mistake?.reason ?? reason, mistake?.hint);
}

/** Scans `ADDRESS` or `ADDRESS/PREFIX` strictly into `into` and returns it; host bits are not checked. */
export function slowScanPrefix(text: string, into: SlowScannedPrefix): SlowScannedPrefix {
  const slash = text.indexOf('/');
  if (slash < 0) {
    into.family = slowScanAddress(text, into.words, text.length, 'address', true);
    into.bits = into.family === 4 ? 32 : 128;
    return into;
  }
  into.family = slowScanAddress(text, into.words, slash, 'range', true);
  into.bits = scanPrefixLength(text, slash + 1, into.family === 4 ? 32 : 128, into.family === 4 ? 'IPv4' : 'IPv6');
  return into;
}

function scanPrefixLength(text: string, start: number, max: number, family: string): number {
  // The common case without slicing or a regular expression: one to three digits, no leading zero.
  const length = text.length - start;
  if (length >= 1 && length <= 3 && (length === 1 || text.charCodeAt(start) !== ZERO)) {
    let value = 0;
    let i = start;
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < ZERO || c > ZERO + 9) break;
      value = value * 10 + (c - ZERO);
    }
    if (i === text.length && value <= max) return value;
  }
  // Anything else is refused below, with the reason.
  const digits = text.slice(start);
  const refuse = (reason: string): never => {
    throw refused(text, `is not an ${family} range: ${reason}`);
  };
  if (digits.length === 0) refuse('the prefix length after "/" is empty');
  if (digits.includes('/')) refuse('has more than one "/"');
  if (!/^[0-9]+$/.test(digits)) refuse(`the prefix length "${excerpt(digits)}" is not a decimal number`);
  if (digits.length > 1 && digits.startsWith('0')) refuse(`the prefix length ${excerpt(digits)} has a leading zero`);
  if (digits.length > 3 || Number(digits) > max) refuse(`the prefix length ${excerpt(digits)} > ${max}`);
  return Number(digits);
}

/** An entry as the slow parser reads it: canonical text, family, length and the network's number. */
export interface SlowEntry {
  text: string;
  family: Family;
  bits: number;
  network: bigint;
}

/**
 * parseEntry as it was before the word path, over the slow grammar and
 * BigInt: 4-in-6 unmapped, host bits refused unless normalized, an entry
 * broader than BROADEST refused unless forced, the same messages.
 */
export function slowParseEntry(text: string, options: EntryOptions = {}): SlowEntry {
  const p = slowScanPrefix(text, {family: 4, bits: 0, words: new Uint32Array(4)});
  let family = p.family;
  let bits = p.bits;
  let value = p.family === 4 ? BigInt(p.words[0]) : [...p.words].reduce((v, w) => (v << 32n) | BigInt(w), 0n);
  if (family === 6 && bits >= 96 && value >> 32n === 0xffffn) {
    family = 4;
    value &= 0xffffffffn;
    bits -= 96;
  }
  const width = family === 4 ? 32 : 128;
  const hostBits = BigInt(width - bits);
  const network = (value >> hostBits) << hostBits;
  const address = family === 4 ? formatIPv4(Number(network)) : formatIPv6([96n, 64n, 32n, 0n].map((s) => Number((network >> s) & 0xffffffffn)));
  const canonical = bits === width ? address : `${address}/${bits}`;
  if (network !== value && !options.normalize) {
    throw new AddressError(text, `has host bits set: the network is ${canonical}`, `write ${canonical}, or pass --normalize to accept it as that`);
  }
  if (bits < BROADEST[family] && !options.force) {
    const named = canonical === text ? show(text) : `${show(text)} (${canonical})`;
    throw new SafetyError(
      `${named} opens ${addressesOpened(family, bits)}: an entry broader than /${BROADEST[family]} needs --force`,
      'pass --force if that is really meant, or give narrower ranges',
    );
  }
  return {text: canonical, family, bits, network};
}
