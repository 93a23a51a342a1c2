/**
 * IP addresses as immutable values over 32-bit words, with one strict
 * grammar and one canonical text form (after Go's net/netip). The grammar is
 * the one scanner in address-bytes.ts; this file reads text with it and turns
 * its refusals into messages, in one place.
 */
import {Fault, longestZeroRun, NOT_ACCEPTED, scanAddressBytes, scanFault} from './address-bytes.js';
import {AddressError, excerpt, holdsSecret} from './errors.js';
import {commonMistake} from './mistakes.js';
import {compareWords, Family, widthOf} from './words.js';

export type {Family};

/** Text as the scanner reads it: one byte per UTF-16 code unit, anything past U+00FF as 0xFF (refused like any non-ASCII byte). */
let textBytes = new Uint8Array(64);

/**
 * `text` in textBytes, so that a fault's position is the text's own index;
 * text[start, end) alone (at the same index) when a caller scans no more.
 */
export function bytesOfText(text: string, start = 0, end = text.length): Uint8Array {
  if (end > textBytes.length) textBytes = new Uint8Array(Math.max(end, textBytes.length * 2));
  const bytes = textBytes;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    bytes[i] = c > 0xff ? 0xff : c;
  }
  return bytes;
}

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
 * The reason the grammar refused `text`, from scanFault (the one place its
 * messages are written); the address was text[0, end).
 */
function faultReason(text: string, end: number): string {
  const {code, at, from, to, count} = scanFault;
  const span = () => excerpt(text.slice(from, to));
  switch (code) {
    case Fault.empty:
      return 'is empty';
    case Fault.hex:
      return 'hex notation (0x…) is not accepted';
    case Fault.emptyOctet:
      return 'has an empty octet';
    case Fault.character:
      return `contains ${describeChar(text, at)}`;
    case Fault.octetLeadingZero:
      return `octet ${span()} has a leading zero (octal is ambiguous)`;
    case Fault.octetTooLarge:
      return `octet ${span()} > 255`;
    case Fault.moreThanFourOctets:
      return 'has more than four octets';
    case Fault.endsWithDot:
      return 'ends with "."';
    case Fault.octetCount:
      return `has ${count} octet${count === 1 ? '' : 's'}; exactly four are needed (short forms like 127.1 are ambiguous)`;
    case Fault.singleColonFirst:
      return 'starts with a single ":"';
    case Fault.tripleColon:
      return 'contains ":::"';
    case Fault.tailAfterSixGroups:
      return 'has an IPv4 tail after more than six groups';
    case Fault.zone:
      return `has a zone index (${excerpt(text.slice(at, end))}); zones are not accepted`;
    case Fault.groupTooLong:
      return `group ${span()} has more than four hex digits`;
    case Fault.moreThanEightGroups:
      return 'has more than eight groups';
    case Fault.singleColonLast:
      return 'ends with a single ":"';
    case Fault.doubleColonTwice:
      return 'has "::" more than once';
    case Fault.groupCount:
      return `has ${count} groups; eight are needed, or "::"`;
    case Fault.doubleColonForNothing:
      return 'has "::" standing for no group (eight groups are already given)';
    case Fault.lengthEmpty:
      return 'the prefix length after "/" is empty';
    case Fault.slashTwice:
      return 'has more than one "/"';
    case Fault.lengthNotDecimal:
      return `the prefix length "${span()}" is not a decimal number`;
    case Fault.lengthLeadingZero:
      return `the prefix length ${span()} has a leading zero`;
    case Fault.lengthTooLarge:
      return `the prefix length ${span()} > ${count}`;
  }
  return unknownFault(code);
}

function unknownFault(code: never): never {
  throw new Error(`unknown grammar fault ${String(code)}`);
}

/**
 * The AddressError for the scanner's last refusal of `text`: the whole input
 * named as an address or a range (`what`), and the reason: the common
 * mistake it is (mistakes.ts), else the grammar's fault. The address was
 * text[0, end): a range's address ends at its "/". `labels`: whether the
 * input is an entry, which may have a label after "#" (a bare address, as
 * `check` takes, has none: no hint points to one).
 */
export function refusal(text: string, what: 'address' | 'range' = 'address', end = text.length, labels = false): AddressError {
  if (text.length === 0) return new AddressError(text, 'is empty: an IP address or range is needed');
  const family = scanFault.family === 4 ? 'IPv4' : 'IPv6';
  // A key secret where an address should be: no part of it is quoted (an octet or group of it is up to 16 of its digits).
  if (holdsSecret(text)) return new AddressError(text, `is not an ${family} ${what}: it looks like a key secret (shown by its hint)`);
  // The mistake a person made, where it is a common one, before the grammar's own reason.
  const mistake = commonMistake(text, labels);
  if (mistake?.reason !== undefined) return new AddressError(text, mistake.reason, mistake.hint);
  const reason = faultReason(text, end);
  return new AddressError(text, `is not an ${family} ${what}: ${scanFault.tail ? `has a bad IPv4 tail: ${reason}` : reason}`, mistake?.hint);
}

/**
 * Scans `text` (one address, no prefix) into `out`: IPv4 in out[0], IPv6 in
 * out[0..3]. Returns the family; throws AddressError naming the input and
 * the reason.
 */
export function scanAddress(text: string, out: Uint32Array): Family {
  const family = scanAddressBytes(bytesOfText(text), 0, text.length, out);
  if (family === NOT_ACCEPTED) throw refusal(text);
  return family;
}

/** Whether out[0..3] holds an IPv4-mapped IPv6 address (::ffff:a.b.c.d). */
export function isMappedWords(words: ArrayLike<number>): boolean {
  return words[0] === 0 && words[1] === 0 && words[2] === 0xffff;
}

/**
 * Scans an address and unmaps 4-in-6, the form every decision uses: an
 * IPv4-mapped IPv6 address becomes its IPv4 address in out[0].
 */
export function scanDecisionAddress(text: string, out: Uint32Array): Family {
  return unmapped(scanAddress(text, out), out);
}

/**
 * scanDecisionAddress of text[start, end) (a field of a line), without a
 * message: NOT_ACCEPTED for what it refuses, for a caller that then reads
 * the field the long way to say why.
 */
export function scanDecisionAddressIn(text: string, start: number, end: number, out: Uint32Array): Family | typeof NOT_ACCEPTED {
  const family = scanAddressBytes(bytesOfText(text, start, end), start, end, out);
  return family === NOT_ACCEPTED ? family : unmapped(family, out);
}

/** 4-in-6 unmapped: an IPv4-mapped IPv6 address in `out` becomes its IPv4 address in out[0]. */
function unmapped(family: Family, out: Uint32Array): Family {
  if (family === 6 && isMappedWords(out)) {
    out[0] = out[3];
    return 4;
  }
  return family;
}

/**
 * Whether a scanned address is no client's whose network `learn` may
 * authorize: 0.0.0.0 and 255.255.255.255 (a proxy's placeholder),
 * multicast (224.0.0.0/4, ff00::/8: never a source), and any IPv6 address
 * in ::/64 (`::`, `::1`, `::a.b.c.d`; the IPv4-mapped ones are scanned as
 * IPv4): its /64 would hold every IPv4 address written as `::a.b.c.d`.
 */
export function isNoClient(family: Family | number, words: ArrayLike<number>): boolean {
  if (family === 4) return words[0] === 0 || words[0] === 0xffffffff || words[0] >>> 28 === 0xe;
  return (words[0] === 0 && words[1] === 0) || words[0] >>> 24 === 0xff;
}

/**
 * Whether an IPv6 address is in 64:ff9b::/32, the space of IPv4/IPv6
 * translation: RFC 6052's well-known prefix 64:ff9b::/96 (an IPv4 client
 * seen through a translator, its IPv4 address in the last 32 bits) and RFC
 * 8215's local-use 64:ff9b:1::/48. A /64 there may hold every IPv4 address
 * so written (64:ff9b::/64 holds the whole /96; found by an outside tester).
 */
export function isNat64(words: ArrayLike<number>): boolean {
  return words[0] === 0x64ff9b;
}

export function formatIPv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

/** RFC 5952: lower case, no leading zeros, the longest run of two or more zero groups as "::". */
export function formatIPv6(words: ArrayLike<number>): string {
  const g = [words[0] >>> 16, words[0] & 0xffff, words[1] >>> 16, words[1] & 0xffff, words[2] >>> 16, words[2] & 0xffff, words[3] >>> 16, words[3] & 0xffff];
  if (words[0] === 0 && words[1] === 0 && words[2] === 0xffff) return `::ffff:${formatIPv4(words[3])}`;
  const [bestStart, bestLength] = longestZeroRun(g);
  if (bestStart < 0) return hexGroups(g, 0, 8);
  return `${hexGroups(g, 0, bestStart)}::${hexGroups(g, bestStart + bestLength, 8)}`;
}

/**
 * Groups g[from, to) in hex, joined by ":". A function of its own, not a
 * closure in formatIPv6: the bundle names every closure when it is made
 * (esbuild --keep-names), a cost per address that `learn` pays a million times.
 */
function hexGroups(g: readonly number[], from: number, to: number): string {
  let text = '';
  for (let i = from; i < to; i++) text += i === from ? g[i].toString(16) : `:${g[i].toString(16)}`;
  return text;
}

/** An IP address value: its family and its words. Immutable; compare with `equals`. */
export class Address {
  private constructor(
    readonly family: Family,
    /** Four words, most significant first; an IPv4 address is words[0] and zeros. */
    private readonly w: Uint32Array,
  ) {}

  /** Strict parse of one address (no prefix). IPv4-mapped IPv6 stays IPv6: see `unmap`. */
  static parse(text: string): Address {
    const words = new Uint32Array(4);
    const family = scanAddress(text, words);
    return Address.fromWords(family, words);
  }

  /** The address of `family` whose words are words[0] (IPv4) or words[0..3] (IPv6). */
  static fromWords(family: Family, words: ArrayLike<number>): Address {
    const w = new Uint32Array(4);
    w[0] = words[0];
    if (family === 6) {
      w[1] = words[1];
      w[2] = words[2];
      w[3] = words[3];
    }
    return new Address(family, w);
  }

  get bitLength(): 32 | 128 {
    return this.family === 4 ? 32 : 128;
  }

  /** The 32-bit words, most significant first (one for IPv4, four for IPv6): a copy. */
  words(): Uint32Array {
    return this.w.slice(0, widthOf(this.family));
  }

  isMapped(): boolean {
    return this.family === 6 && isMappedWords(this.w);
  }

  /** The IPv4 address of an IPv4-mapped IPv6 address; any other address unchanged. */
  unmap(): Address {
    return this.isMapped() ? Address.fromWords(4, [this.w[3]]) : this;
  }

  equals(other: Address): boolean {
    return this.family === other.family && compareWords(this.w, 0, other.w, 0, 4) === 0;
  }

  /** Order: IPv4 before IPv6, then by number. */
  static compare(a: Address, b: Address): number {
    return a.family - b.family || compareWords(a.w, 0, b.w, 0, 4);
  }

  toString(): string {
    return this.family === 4 ? formatIPv4(this.w[0]) : formatIPv6(this.w);
  }
}
