/**
 * Entries: an address or a CIDR range, as an immutable Prefix value with an
 * explicit `masked()`, and the one parser every command uses for entries.
 */
import {Address, Family, formatIPv4, formatIPv6, isMappedWords, scanAddress} from './address.js';
import {AddressError, excerpt, SafetyError, show} from './errors.js';

export class Prefix {
  private constructor(
    readonly address: Address,
    readonly bits: number,
  ) {}

  /** A prefix from an address and a length; host bits may be set (see `masked`). */
  static of(address: Address, bits: number): Prefix {
    if (!Number.isInteger(bits) || bits < 0 || bits > address.bitLength) {
      throw new RangeError(`prefix length ${bits} out of range for IPv${address.family}`);
    }
    return new Prefix(address, bits);
  }

  get family(): Family {
    return this.address.family;
  }

  /** The number of host bits. */
  private get hostBits(): bigint {
    return BigInt(this.address.bitLength - this.bits);
  }

  /** The first address of the range, as a number. */
  get first(): bigint {
    return (this.address.value >> this.hostBits) << this.hostBits;
  }

  /** The last address of the range, as a number. */
  get last(): bigint {
    return this.first | ((1n << this.hostBits) - 1n);
  }

  /** True when the address has no bits set past the prefix length. */
  isMasked(): boolean {
    return this.address.value === this.first;
  }

  /** The same prefix with its host bits cleared: 192.168.1.25/24 → 192.168.1.0/24. */
  masked(): Prefix {
    return this.isMasked() ? this : new Prefix(Address.fromValue(this.family, this.first), this.bits);
  }

  isSingleAddress(): boolean {
    return this.bits === this.address.bitLength;
  }

  contains(address: Address): boolean {
    const a = address.unmap();
    return a.family === this.family && a.value >= this.first && a.value <= this.last;
  }

  /** Whether every address of `other` is in this prefix. */
  covers(other: Prefix): boolean {
    return other.family === this.family && other.bits >= this.bits && other.first >= this.first && other.last <= this.last;
  }

  equals(other: Prefix): boolean {
    return this.family === other.family && this.bits === other.bits && this.address.value === other.address.value;
  }

  /** IPv4-mapped IPv6 ranges (::ffff:a.b.c.d/96 and longer) as the IPv4 ranges they are. */
  unmap(): Prefix {
    if (this.family === 6 && this.bits >= 96 && this.address.isMapped()) {
      return new Prefix(this.address.unmap(), this.bits - 96);
    }
    return this;
  }

  /** The canonical entry text: a single address without its prefix, a range as network/prefix. */
  toString(): string {
    return this.isSingleAddress() ? this.address.toString() : `${this.address.toString()}/${this.bits}`;
  }

  /** Order of lists: IPv4 before IPv6, then by network, then wider ranges first. */
  static compare(a: Prefix, b: Prefix): number {
    if (a.family !== b.family) return a.family - b.family;
    if (a.first !== b.first) return a.first < b.first ? -1 : 1;
    return a.bits - b.bits;
  }

  /** Parses `ADDRESS` or `ADDRESS/PREFIX` strictly; see `parseEntry` for the rules on entries. */
  static parse(text: string): Prefix {
    const p = scanPrefix(text, {family: 4, bits: 0, words: new Uint32Array(4)});
    return new Prefix(Address.fromWords(p.family, p.words), p.bits);
  }
}

/** An address or range scanned into words, without allocating: the fast paths' view of an entry. */
export interface ScannedPrefix {
  family: Family;
  bits: number;
  /** The address as given (host bits not cleared): out[0] for IPv4, out[0..3] for IPv6. */
  words: Uint32Array;
}

/** Scans `ADDRESS` or `ADDRESS/PREFIX` strictly into `into` and returns it; host bits are not checked. */
export function scanPrefix(text: string, into: ScannedPrefix): ScannedPrefix {
  const slash = text.indexOf('/');
  if (slash < 0) {
    into.family = scanAddress(text, into.words);
    into.bits = into.family === 4 ? 32 : 128;
    return into;
  }
  into.family = scanAddress(text, into.words, slash, 'range');
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
    throw new AddressError(text, `is not an ${family} range: ${reason}`);
  };
  if (digits.length === 0) refuse('the prefix length after "/" is empty');
  if (digits.includes('/')) refuse('has more than one "/"');
  if (!/^[0-9]+$/.test(digits)) refuse(`the prefix length "${excerpt(digits)}" is not a decimal number`);
  if (digits.length > 1 && digits.startsWith('0')) refuse(`the prefix length ${excerpt(digits)} has a leading zero`);
  if (digits.length > 3 || Number(digits) > max) refuse(`the prefix length ${excerpt(digits)} > ${max}`);
  return Number(digits);
}

/**
 * Clears the host bits of a scanned prefix in place; returns whether any was
 * set. Words past the family's width are left alone.
 */
export function maskScanned(p: ScannedPrefix): boolean {
  const width = p.family === 4 ? 1 : 4;
  let hadHostBits = false;
  for (let w = 0; w < width; w++) {
    const keep = Math.max(0, Math.min(32, p.bits - w * 32));
    const mask = keep === 0 ? 0 : keep === 32 ? 0xffffffff : (0xffffffff << (32 - keep)) >>> 0;
    const masked = (p.words[w] & mask) >>> 0;
    if (masked !== p.words[w]) {
      hadHostBits = true;
      p.words[w] = masked;
    }
  }
  return hadHostBits;
}

/** The canonical text of a scanned prefix (a single address without its length); host bits as they are. */
export function formatScanned(p: ScannedPrefix): string {
  const address = p.family === 4 ? formatIPv4(p.words[0]) : formatIPv6(p.words);
  return p.bits === (p.family === 4 ? 32 : 128) ? address : `${address}/${p.bits}`;
}

/**
 * Whether `text` is an entry exactly as keyward writes it: strict grammar,
 * host bits clear, 4-in-6 unmapped, canonical text. Works on words without
 * allocating values, for checking large stores quickly.
 */
export function isCanonicalEntry(text: string): boolean {
  const p = scanPrefix(text, {family: 4, bits: 0, words: scratchWords});
  if (maskScanned(p)) return false;
  if (p.family === 6 && p.bits >= 96 && isMappedWords(p.words)) return false;
  // The IPv4 grammar admits one text per address (no leading zeros, no other forms), and
  // so does the prefix length: an accepted IPv4 entry is canonical unless it spells /32.
  if (p.family === 4) return p.bits !== 32 || text.indexOf('/') < 0;
  return text === formatScanned(p);
}

const scratchWords = new Uint32Array(4);
const ZERO = 48;

export interface EntryOptions {
  /** Accept a range with host bits set and clear them (192.168.1.25/24 → 192.168.1.0/24). */
  normalize?: boolean;
  /** Accept an entry broader than BROADEST allows (0.0.0.0/1, ::/0): a safety override. */
  force?: boolean;
}

/**
 * The broadest entry accepted without --force, per family: /8 for IPv4, /16
 * for IPv6 (SPEC "Addresses"). Anything broader opens a large part of the
 * internet.
 */
export const BROADEST: Readonly<Record<Family, number>> = {4: 8, 6: 16};

/** How many addresses a prefix of `bits` opens, in words: "2,147,483,648 addresses (1/2 of IPv4)". */
export function addressesOpened(family: Family, bits: number): string {
  const width = family === 4 ? 32 : 128;
  const count = family === 4 ? (2 ** (width - bits)).toLocaleString('en-US') : `2^${width - bits}`;
  const share = bits === 0 ? 'all' : `1/${(2 ** bits).toLocaleString('en-US')}`;
  return `${count} addresses (${share} of IPv${family})`;
}

/**
 * Refuses an entry broader than BROADEST unless forced: a SafetyError (exit 4)
 * that says how many addresses it opens. `text` is the input as given.
 */
function checkBreadth(text: string, family: Family, bits: number, entry: () => string, options: EntryOptions): void {
  if (bits >= BROADEST[family] || options.force) return;
  const canonical = entry();
  const named = canonical === text ? show(text) : `${show(text)} (${canonical})`;
  throw new SafetyError(
    `${named} opens ${addressesOpened(family, bits)}: an entry broader than /${BROADEST[family]} needs --force`,
    'pass --force if that is really meant, or give narrower ranges',
  );
}

/**
 * Parses one entry of an allowlist by the spec's rules: strict grammar,
 * 4-in-6 unmapped, host bits refused unless normalized (an AddressError), an
 * entry broader than BROADEST refused unless forced (a SafetyError). The
 * result is masked and canonical.
 */
export function parseEntry(text: string, options: EntryOptions = {}): Prefix {
  const prefix = Prefix.parse(text).unmap();
  let entry = prefix;
  if (!prefix.isMasked()) {
    const network = prefix.masked();
    if (!options.normalize) {
      throw new AddressError(
        text,
        `has host bits set: the network is ${network.toString()}`,
        `write ${network.toString()}, or pass --normalize to accept it as that`,
      );
    }
    entry = network;
  }
  checkBreadth(text, entry.family, entry.bits, () => entry.toString(), options);
  return entry;
}

/**
 * `parseEntry` without a Prefix value, for large imports: scans `text` into
 * `into` (the network's words, masked and 4-in-6 unmapped; IPv4 in words[0]
 * and zeros after it) and returns the canonical text. The same rules and the
 * same errors as `parseEntry`.
 */
export function scanEntry(text: string, options: EntryOptions, into: ScannedPrefix): string {
  const p = scanPrefix(text, into);
  // An accepted IPv4 text is canonical as written (see isCanonicalEntry) unless it changes below.
  let asWritten = p.family === 4 && (p.bits !== 32 || text.indexOf('/') < 0);
  if (p.family === 6 && p.bits >= 96 && isMappedWords(p.words)) {
    p.family = 4;
    p.words[0] = p.words[3];
    p.bits -= 96;
  }
  if (p.family === 4) {
    p.words[1] = 0;
    p.words[2] = 0;
    p.words[3] = 0;
  }
  if (maskScanned(p)) {
    const network = formatScanned(p);
    if (!options.normalize) {
      throw new AddressError(text, `has host bits set: the network is ${network}`, `write ${network}, or pass --normalize to accept it as that`);
    }
    asWritten = false;
  }
  checkBreadth(text, p.family, p.bits, () => (asWritten ? text : formatScanned(p)), options);
  return asWritten ? text : formatScanned(p);
}
