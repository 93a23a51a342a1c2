/**
 * The numbers of addresses and ranges as BigInt, the representation keyward
 * used before words (src/core/words.ts): an oracle for the word arithmetic,
 * and the plain way for tests to say "the address after this one".
 */
import {Address, Family} from '../../src/core/address.js';
import {Prefix} from '../../src/core/prefix.js';

export const MAX4 = (1n << 32n) - 1n;
export const MAX6 = (1n << 128n) - 1n;
const MASK32 = 0xffffffffn;

/** The address as a number: 32 bits for IPv4, 128 for IPv6. */
export function valueOf(address: Address): bigint {
  return address.words().reduce((value, word) => (value << 32n) | BigInt(word), 0n);
}

/** The words of an address's number (one for IPv4, four for IPv6). */
export function wordsOfValue(family: Family, value: bigint): Uint32Array {
  if (family === 4) return Uint32Array.of(Number(value & MASK32));
  return Uint32Array.of(...[96n, 64n, 32n, 0n].map((shift) => Number((value >> shift) & MASK32)));
}

/** The address of a family with this number. */
export function addressOfValue(family: Family, value: bigint): Address {
  if (value < 0n || value > (family === 4 ? MAX4 : MAX6)) throw new RangeError(`value out of range for IPv${family}`);
  return Address.fromWords(family, wordsOfValue(family, value));
}

/** The first and last address of a prefix as numbers, by BigInt shifts (as Prefix computed them before). */
export function firstOf(prefix: Prefix): bigint {
  const hostBits = BigInt(prefix.address.bitLength - prefix.bits);
  return (valueOf(prefix.address) >> hostBits) << hostBits;
}

export function lastOf(prefix: Prefix): bigint {
  return firstOf(prefix) | ((1n << BigInt(prefix.address.bitLength - prefix.bits)) - 1n);
}
