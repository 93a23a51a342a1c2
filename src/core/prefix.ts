/**
 * An address or a CIDR range as an immutable Prefix value with an explicit
 * `masked()`, over the words of address.ts; entries are parsed by
 * entry-parse.ts.
 */
import {Address, bytesOfText, Family, formatIPv4, formatIPv6, isMappedWords, refusal} from './address.js';
import {ScannedPrefix, scanPrefixBytes} from './address-bytes.js';
import {compareWords, lastOfPrefix, maskWords, sameNetwork, widthOf} from './words.js';

export type {ScannedPrefix};

export class Prefix {
  /** The first address's words, computed once. */
  private network: Uint32Array | null = null;

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

  /** The first address's words (one for IPv4, four for IPv6): the address with its host bits clear. */
  private networkWords(): Uint32Array {
    if (this.network === null) {
      const words = this.address.words();
      maskWords(words, this.bits, widthOf(this.family));
      this.network = words;
    }
    return this.network;
  }

  /** The first address of the range. */
  get first(): Address {
    return this.isMasked() ? this.address : Address.fromWords(this.family, this.networkWords());
  }

  /** The last address of the range. */
  get last(): Address {
    const words = new Uint32Array(4);
    lastOfPrefix(this.networkWords(), this.bits, widthOf(this.family), words);
    return Address.fromWords(this.family, words);
  }

  /** True when the address has no bits set past the prefix length. */
  isMasked(): boolean {
    return compareWords(this.networkWords(), 0, this.address.words(), 0, widthOf(this.family)) === 0;
  }

  /** The same prefix with its host bits cleared: 192.168.1.25/24 → 192.168.1.0/24. */
  masked(): Prefix {
    return this.isMasked() ? this : new Prefix(Address.fromWords(this.family, this.networkWords()), this.bits);
  }

  isSingleAddress(): boolean {
    return this.bits === this.address.bitLength;
  }

  contains(address: Address): boolean {
    const a = address.unmap();
    return a.family === this.family && sameNetwork(this.networkWords(), 0, a.words(), 0, this.bits, widthOf(this.family));
  }

  /** Whether every address of `other` is in this prefix. */
  covers(other: Prefix): boolean {
    return other.family === this.family && other.bits >= this.bits && sameNetwork(this.networkWords(), 0, other.networkWords(), 0, this.bits, widthOf(this.family));
  }

  equals(other: Prefix): boolean {
    return this.bits === other.bits && this.address.equals(other.address);
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
    return compareWords(a.networkWords(), 0, b.networkWords(), 0, widthOf(a.family)) || a.bits - b.bits;
  }

  /** Parses `ADDRESS` or `ADDRESS/PREFIX` strictly; see `parseEntry` (entry-parse.ts) for the rules on entries. */
  static parse(text: string): Prefix {
    return Prefix.fromScanned(scanPrefix(text, {family: 4, bits: 0, words: new Uint32Array(4)}));
  }

  /** The prefix a scan wrote (its words are copied). */
  static fromScanned(p: ScannedPrefix): Prefix {
    return new Prefix(Address.fromWords(p.family, p.words), p.bits);
  }
}

/** Scans `ADDRESS` or `ADDRESS/PREFIX` strictly into `into` and returns it; host bits are not checked. */
export function scanPrefix(text: string, into: ScannedPrefix): ScannedPrefix {
  if (scanPrefixBytes(bytesOfText(text), 0, text.length, into)) return into;
  const slash = text.indexOf('/');
  throw slash < 0 ? refusal(text, 'address', text.length, true) : refusal(text, 'range', slash, true);
}

/**
 * Clears the host bits of a scanned prefix in place; returns whether any was
 * set. Words past the family's width are left alone.
 */
export function maskScanned(p: ScannedPrefix): boolean {
  return maskWords(p.words, p.bits, widthOf(p.family));
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
