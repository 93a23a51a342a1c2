/**
 * Stores and caches for the store tests: a random store as large as a
 * cache is kept for, holding what a list can hold, and a cache's contents
 * as decisions see them.
 */
import {expect} from 'chai';

import {newKeyRecord} from '../../src/core/keys.js';
import {emptyStore, EntryRecord, StoreData} from '../../src/core/model.js';
import {newSecret} from '../../src/core/secret.js';
import {decodeIndexCache, identityOf} from '../../src/store/index-cache.js';

export const NOW = new Date('2026-03-02T00:00:00.000Z');
const DAY = 86_400_000;
export const ipv4 = (n: number) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
export const at = (days: number) => new Date(NOW.getTime() + days * DAY).toISOString();

/**
 * A store of 2,500 account records (over 1 MiB) with what a list can
 * hold: IPv4 and IPv6 ranges, labels with quotes, line breaks and non-ASCII
 * text, groups, past and future expiries, deny, disabled and learned
 * records, and an entry held twice (an expired copy beside a live one).
 */
export function randomStore(seed: number): StoreData {
  let a = seed >>> 0;
  const random = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const data = emptyStore(NOW);
  data.blocking.api.state = 'active';
  const records: EntryRecord[] = [];
  const seen = new Set<string>();
  // Long labels on some records: over 1 MiB (a store smaller gets no cache) with few records, so that the test stays quick.
  const pad = 'x'.repeat(600);
  while (records.length < 2_500) {
    const v6 = random() < 0.2;
    // (The third group never 0: `2001:db8:0::/48` is not the canonical text of `2001:db8::/48`.)
    const entry = v6
      ? `2001:db8:${(1 + Math.floor(random() * 65535)).toString(16)}::/48`
      : ipv4(((0x0a000000 + Math.floor(random() * 0x00ffffff)) & 0xffffff00) >>> 0) + '/24';
    if (seen.has(entry)) continue;
    seen.add(entry);
    const i = records.length;
    const label = i % 9 === 0 ? `customer "${i}"\nline ü` : i % 2 === 0 ? `c${i} ${pad}` : null;
    const record: EntryRecord = {entry, source: i % 11 === 0 ? 'learned' : 'import', label, addedAt: at(-(i % 50)), expiresAt: i % 13 === 0 ? at((i % 7) - 3) : null};
    if (i % 17 === 0) record.group = `g${i % 3}`;
    if (i % 101 === 0) record.effect = 'deny';
    if (i % 97 === 0) record.enabled = false;
    records.push(record);
  }
  // The same entry twice: an expired copy and a live one.
  records.push({...records[5], expiresAt: at(-10), label: 'old copy'});
  data.account = records;
  data.keys.push(newKeyRecord('api', 'api', newSecret(), NOW), newKeyRecord('mail', 'smtp', newSecret(), NOW));
  data.keys[0].allow.push({entry: '192.0.2.0/24', source: 'manual', label: null, addedAt: at(-1), expiresAt: at(-1)});
  return data;
}

/** A cache's compiled entries as text rows (network, length, parent's network, expiry, entry, deny), sorted: what decisions use, positions aside. */
export function cacheRows(bytes: Buffer, identity: ReturnType<typeof identityOf>): string[] {
  const cached = decodeIndexCache(bytes, identity, NOW);
  expect(cached, 'a whole cache naming the store').to.not.equal(null);
  const {account, entryText} = cached!;
  const rows: string[] = [];
  for (const [name, f, width] of [
    ['v4', account.compiled.arrays.v4, 1],
    ['v6', account.compiled.arrays.v6, 4],
  ] as const) {
    const at = (i: number) => (i < 0 ? '-' : Array.from(f.starts.subarray(i * width, i * width + width)).join('.'));
    for (let i = 0; i < f.parents.length; i++) {
      rows.push(`${name} ${at(i)}/${f.bits[i]} in ${at(f.parents[i])} ${f.expires[i]} ${entryText(f.origin[i])} ${account.deny?.[f.origin[i]] ?? 0}`);
    }
  }
  return rows.sort();
}

/** A cache's header without the counts of its sections' sizes. */
export function cacheHeader(bytes: Buffer): unknown {
  return JSON.parse(bytes.toString('utf8', 48, 48 + bytes.readUInt32LE(12)));
}

/**
 * Writes `header` (JSON text no longer than the cache's header, padded with
 * spaces to its length) into the cache `bytes` and seals it again: both
 * checksums made anew, as keyward's writer makes them, so that only the
 * store's identity and the sizes can refuse it (a forged cache). Lengths
 * are in bytes: a key's hint holds `…`, three bytes of UTF-8 (padding it by
 * characters ran into the first section whenever the header's alignment
 * left fewer spare bytes than that, which the store's times decide).
 */
export function forgeCacheHeader(bytes: Buffer, header: string): Buffer {
  const headerLength = bytes.readUInt32LE(12);
  const length = Buffer.byteLength(header, 'utf8');
  if (length > headerLength) throw new Error(`a forged header of ${length} bytes does not fit the cache's ${headerLength}`);
  const forged = Buffer.from(bytes);
  forged.write(header + ' '.repeat(headerLength - length), 48, 'utf8');
  const {crc32} = process.getBuiltinModule('node:zlib');
  forged.writeUInt32LE(crc32(forged.subarray(48, 48 + headerLength), crc32(forged.subarray(0, 16))), 20);
  forged.writeUInt32LE(crc32(forged.subarray(20), crc32(forged.subarray(0, 16))), 16);
  return forged;
}
