/**
 * The index cache beside a large store: decisions from it are exactly those
 * from the JSON, at any "now"; it is used only for the store file it was
 * written for; a broken, truncated or foreign cache is ignored; the writer
 * keeps it in line with the store, or removes it.
 */
import {crc32} from 'node:zlib';
import {existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {expect} from 'chai';

import {decide, Policy} from '../../src/core/decision.js';
import {Channel, EntryRecord, emptyStore, KeyRecord, StoreData} from '../../src/core/model.js';
import {parseEntry} from '../../src/core/entry-parse.js';
import {hashSecret, hintOf, newSecret} from '../../src/core/secret.js';
import {
  CACHE_FORMAT,
  CachedPolicyData,
  decodeIndexCache,
  encodeIndexCache,
  identityOf,
  indexCacheFile,
  MIN_STORE_BYTES,
  readIndexCache,
  StoreIdentity,
} from '../../src/store/index-cache.js';
import {readStore} from '../../src/store/read.js';
import {updateStore} from '../../src/store/store.js';
import {seeded} from '../reliability/helpers.js';

const NOW = new Date('2026-01-01T00:00:00.000Z');
const DAY = 86_400_000;
const at = (days: number) => new Date(NOW.getTime() + days * DAY);

const int = (random: () => number, n: number) => Math.floor(random() * n);

/** A random address text in a small space, so that entries nest and probes hit them. */
function addressText(random: () => number): string {
  if (random() < 0.7) return `10.${int(random, 4)}.${int(random, 256)}.${int(random, 256)}`;
  return `2001:db8:${int(random, 4).toString(16)}::${int(random, 65536).toString(16)}`;
}

function entryText(random: () => number): string {
  const text = addressText(random);
  const bits = text.includes(':') ? 32 + int(random, 97) : 8 + int(random, 25);
  return parseEntry(`${text}/${bits}`, {normalize: true}).toString();
}

function records(random: () => number, n: number): EntryRecord[] {
  const out: EntryRecord[] = [];
  for (let i = 0; i < n; i++) {
    // Some expire before, some after the moments the decisions are taken at.
    const expiresAt = random() < 0.3 ? at(int(random, 60) - 30).toISOString() : null;
    const record: EntryRecord = {entry: entryText(random), source: 'manual', label: random() < 0.5 ? 'x' : null, addedAt: NOW.toISOString(), expiresAt};
    // Some deny entries, some disabled entries (the cache leaves those out), of either effect.
    if (random() < 0.2) record.effect = 'deny';
    if (random() < 0.15) record.enabled = false;
    out.push(record);
  }
  return out;
}

function key(name: string, type: Channel, allow: EntryRecord[], status: 'active' | 'revoked' = 'active'): {record: KeyRecord; secret: string} {
  const secret = newSecret();
  const record: KeyRecord = {name, type, hash: hashSecret(secret), hint: hintOf(secret), status, createdAt: NOW.toISOString(), rotatedAt: null, revokedAt: null, allow};
  return {record, secret};
}

/** A store with every case a decision distinguishes: states, learning past its window, expiry, key lists, revoked keys. */
function randomStore(seed: number, entries: number): {data: StoreData; secrets: string[]} {
  const random = seeded(seed);
  const data = emptyStore(NOW);
  data.account = records(random, entries);
  const keys = [
    key('zeta', 'api', []),
    key('alpha', 'api', records(random, 20)),
    key('relay', 'smtp', records(random, 5)),
    key('mail', 'smtp', []),
    key('old', 'api', records(random, 3), 'revoked'),
  ];
  data.keys = keys.map((k) => k.record);
  const api = ['learning', 'active', 'inactive'] as const;
  data.blocking.api.state = api[seed % 3];
  // Learning whose 30-day window is over: it stays learning until an event turns it on, on every path.
  data.blocking.api.lastNewAddressAt = at(-40).toISOString();
  data.blocking.api.lastEventAt = at(-20).toISOString();
  data.blocking.smtp.state = seed % 2 === 0 ? 'active' : 'inactive';
  return {data, secrets: keys.map((k) => k.secret)};
}

const identity: StoreIdentity = {dev: '1', ino: '2', size: '3', mtimeMs: '1767225600123.4568', ctimeMs: '1767225600123.4568'};

function decisionsOf(policy: Policy, keys: string[], probes: string[]): string[] {
  return keys.flatMap((k) => {
    const p = policy.forKey(policy.findKey(k));
    return probes.map((probe) => JSON.stringify(decide(p, probe)));
  });
}

function probes(seed: number, n: number): string[] {
  const random = seeded(seed);
  return Array.from({length: n}, () => (random() < 0.05 ? `::ffff:10.${int(random, 4)}.${int(random, 256)}.${int(random, 256)}` : addressText(random)));
}

function cachedPolicy(cached: CachedPolicyData | null, now: Date): Policy {
  expect(cached, 'the cache is accepted').to.not.equal(null);
  return new Policy(cached!.data, now, cached!.account);
}

describe('store: the index cache', () => {
  it('gives exactly the decisions of the JSON store, for every key (by name and by secret) and at every moment', () => {
    for (const seed of [1, 2, 3, 4]) {
      const {data, secrets} = randomStore(seed, 1500);
      // The store as the writer writes it, and as a reader reads it back.
      const json = JSON.parse(JSON.stringify(data)) as StoreData;
      const bytes = encodeIndexCache(data, identity);
      const keys = [...data.keys.map((k) => k.name), ...secrets];
      const sample = probes(seed + 100, 250);
      for (const now of [at(-40), NOW, at(5), at(10), at(11), at(40)]) {
        const fromJson = decisionsOf(new Policy(json, now), keys, sample);
        const fromCache = decisionsOf(cachedPolicy(decodeIndexCache(bytes, identity, now), now), keys, sample);
        expect(fromCache, `seed ${seed} at ${now.toISOString()}`).to.deep.equal(fromJson);
      }
    }
  });

  it('is written in a layout that does not depend on where the bytes sit in memory', () => {
    const {data} = randomStore(7, 300);
    const bytes = encodeIndexCache(data, identity);
    const shifted = Buffer.alloc(bytes.length + 3);
    bytes.copy(shifted, 3);
    const keys = data.keys.map((k) => k.name);
    const sample = probes(8, 200);
    expect(decisionsOf(cachedPolicy(decodeIndexCache(shifted.subarray(3), identity, NOW), NOW), keys, sample)).to.deep.equal(decisionsOf(new Policy(data, NOW), keys, sample));
  });

  it('is refused for any other store file: each part of the identity counts', () => {
    const bytes = encodeIndexCache(randomStore(9, 50).data, identity);
    expect(decodeIndexCache(bytes, identity, NOW)).to.not.equal(null);
    for (const field of Object.keys(identity) as (keyof StoreIdentity)[]) {
      const other = {...identity, [field]: `${identity[field]}1`};
      expect(decodeIndexCache(bytes, other, NOW), field).to.equal(null);
    }
  });

  it('is refused when truncated, corrupted anywhere, foreign, empty or of another format', () => {
    const bytes = encodeIndexCache(randomStore(10, 400).data, identity);
    const random = seeded(11);
    for (let i = 0; i < 200; i++) {
      const cut = int(random, bytes.length);
      expect(decodeIndexCache(bytes.subarray(0, cut), identity, NOW), `cut at ${cut}`).to.equal(null);
    }
    expect(decodeIndexCache(Buffer.concat([bytes, Buffer.from([0])]), identity, NOW), 'a byte too many').to.equal(null);
    for (let i = 0; i < 300; i++) {
      const flipped = Buffer.from(bytes);
      const position = i < 48 ? i : int(random, bytes.length);
      flipped[position] ^= 1 << int(random, 8);
      expect(decodeIndexCache(flipped, identity, NOW), `bit flipped at ${position}`).to.equal(null);
    }
    expect(decodeIndexCache(Buffer.alloc(0), identity, NOW)).to.equal(null);
    expect(decodeIndexCache(Buffer.from('{"version": 1}\n'), identity, NOW)).to.equal(null);
    const random4k = Buffer.from(Array.from({length: 4096}, () => int(random, 256)));
    expect(decodeIndexCache(random4k, identity, NOW)).to.equal(null);
    const otherFormat = Buffer.from(bytes);
    otherFormat.writeUInt32LE(CACHE_FORMAT + 1, 8);
    expect(decodeIndexCache(otherFormat, identity, NOW)).to.equal(null);
  });

  it('is refused when its checksum is right but its index is not sound (a forged file), rather than loop or answer wrongly', () => {
    const bytes = encodeIndexCache(randomStore(18, 300).data, identity);
    const headerLength = bytes.readUInt32LE(12);
    const header = JSON.parse(bytes.toString('utf8', 48, 48 + headerLength));
    // The IPv4 parents start after the header, the starts and the ends (each padded to 8 bytes).
    const pad = (n: number) => (n + 7) & ~7;
    const parents = 48 + pad(headerLength) + 2 * pad(header.v4 * 4);
    const forge = (change: (b: Buffer) => void) => {
      const forged = Buffer.from(bytes);
      change(forged);
      forged.writeUInt32LE(crc32(forged.subarray(20), crc32(forged.subarray(0, 16))), 16);
      return forged;
    };
    expect(
      decodeIndexCache(
        forge(() => undefined),
        identity,
        NOW,
      ),
      'the checksum alone is recomputed',
    ).to.not.equal(null);
    expect(header.v4).to.be.above(2);
    expect(
      decodeIndexCache(
        forge((b) => b.writeInt32LE(2, parents + 4 * 2)),
        identity,
        NOW,
      ),
      'a parent pointing to itself',
    ).to.equal(null);
    expect(
      decodeIndexCache(
        forge((b) => b.writeInt32LE(-2, parents + 4 * 1)),
        identity,
        NOW,
      ),
      'a parent out of range',
    ).to.equal(null);
    // The last byte is the last entry's effect: 0 (allow) or 1 (deny), nothing else.
    expect(
      decodeIndexCache(
        forge((b) => (b[b.length - 1] = 2)),
        identity,
        NOW,
      ),
      'an effect byte that is neither allow nor deny',
    ).to.equal(null);
    const origins = parents + pad(header.v4 * 4);
    expect(
      decodeIndexCache(
        forge((b) => b.writeInt32LE(header.entries, origins)),
        identity,
        NOW,
      ),
      'an origin out of range',
    ).to.equal(null);
  });

  describe('beside a store on disk', () => {
    let dir: string;
    let store: string;
    beforeEach(() => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'keyward-cache-'));
      store = path.join(dir, 'store.json');
    });
    afterEach(() => rmSync(dir, {recursive: true, force: true}));

    /** Writes a store of about `entries` entries through the store's writer. */
    const write = (data: StoreData) =>
      updateStore(store, NOW, (current) => {
        Object.assign(current, data);
      });

    it('is written by the store writer for a large store (0600) and removed when the store becomes small', async () => {
      const {data} = randomStore(12, 9000);
      await write(data);
      expect(statSync(store).size).to.be.at.least(MIN_STORE_BYTES);
      const cache = indexCacheFile(store);
      expect(statSync(cache).mode & 0o777).to.equal(0o600);
      expect(readIndexCache(store, NOW), 'the cache belongs to the store just written').to.not.equal(null);
      const keys = data.keys.map((k) => k.name);
      const sample = probes(13, 300);
      const fromJson = decisionsOf(new Policy(await readStore(store), NOW), keys, sample);
      expect(decisionsOf(cachedPolicy(readIndexCache(store, NOW), NOW), keys, sample)).to.deep.equal(fromJson);

      await updateStore(store, NOW, (current) => {
        current.account = current.account.slice(0, 10);
      });
      expect(existsSync(cache), 'a small store has no cache').to.equal(false);
      expect(readIndexCache(store, NOW)).to.equal(null);
    });

    it('is not used once the store changed by hand, in place or replaced, even with the same size and modification time', async () => {
      await write(randomStore(14, 9000).data);
      const original = readFileSync(store, 'utf8');
      const before = statSync(store);
      expect(readIndexCache(store, NOW)).to.not.equal(null);
      // An edit in place that keeps the size.
      const edited = original.replace('"learningWindowDays": 30', '"learningWindowDays": 31');
      expect(edited.length).to.equal(original.length);
      writeFileSync(store, edited);
      expect(readIndexCache(store, NOW), 'edited in place').to.equal(null);
      // The same, with the modification time put back.
      utimesSync(store, before.atime, before.mtime);
      expect(readIndexCache(store, NOW), 'edited in place, mtime put back').to.equal(null);
      // Replaced by another file of the same size and mtime, as `git checkout` does.
      const other = path.join(dir, 'checkout.tmp');
      writeFileSync(other, original);
      utimesSync(other, before.atime, before.mtime);
      renameSync(other, store);
      expect(statSync(store).size).to.equal(before.size);
      expect(readIndexCache(store, NOW), 'replaced').to.equal(null);
      // The store gone: no cache answers for it.
      rmSync(store);
      expect(readIndexCache(store, NOW)).to.equal(null);
    });

    it('is ignored when broken, and never fails a read', async () => {
      await write(randomStore(15, 9000).data);
      const cache = indexCacheFile(store);
      const bytes = readFileSync(cache);
      writeFileSync(cache, bytes.subarray(0, bytes.length >> 1));
      expect(readIndexCache(store, NOW), 'truncated').to.equal(null);
      writeFileSync(cache, 'not a cache');
      expect(readIndexCache(store, NOW), 'foreign').to.equal(null);
      rmSync(cache);
      mkdirSync(cache);
      expect(readIndexCache(store, NOW), 'a folder in its place').to.equal(null);
    });

    it('is left matching the store when a write is refused, and a cache that cannot be written never fails the write', async () => {
      const {data} = randomStore(16, 9000);
      await write(data);
      const cache = indexCacheFile(store);
      const cacheBytes = readFileSync(cache);
      const storeBytes = readFileSync(store);
      // A change that throws: nothing is written.
      let thrown: unknown;
      try {
        await updateStore(store, NOW, (current) => {
          current.account.push({entry: '192.0.2.1', source: 'manual', label: null, addedAt: NOW.toISOString(), expiresAt: null});
          throw new Error('refused');
        });
      } catch (error) {
        thrown = error;
      }
      expect((thrown as Error).message).to.equal('refused');
      // A change the writer refuses (not a store keyward can write): nothing is written.
      thrown = undefined;
      try {
        await updateStore(store, NOW, (current) => {
          current.account.push({entry: '192.0.2.1/8', source: 'manual', label: null, addedAt: NOW.toISOString(), expiresAt: null});
        });
      } catch (error) {
        thrown = error;
      }
      expect(thrown, 'the writer refused a bad entry').to.be.instanceOf(Error);
      // A dry run writes nothing.
      await updateStore(store, NOW, (current) => void current.account.pop(), {dryRun: true});
      expect(readFileSync(store).equals(storeBytes)).to.equal(true);
      expect(readFileSync(cache).equals(cacheBytes)).to.equal(true);
      expect(readIndexCache(store, NOW), "still the store's cache").to.not.equal(null);

      // The cache's place taken by a folder: the store is written all the same, and no cache answers for it.
      rmSync(cache);
      mkdirSync(cache);
      writeFileSync(path.join(cache, 'keep'), '');
      await updateStore(store, NOW, (current) => void current.account.pop());
      expect(JSON.parse(readFileSync(store, 'utf8')).account.length).to.equal(data.account.length - 1);
      expect(readIndexCache(store, NOW)).to.equal(null);
      rmSync(cache, {recursive: true});

      // A cache that disagrees with a newly written store is replaced.
      writeFileSync(cache, cacheBytes);
      await updateStore(store, NOW, (current) => void current.account.pop());
      const cached = readIndexCache(store, NOW);
      expect(cached).to.not.equal(null);
      // (It indexes the enabled entries: disabled ones never match.)
      expect(cached!.account.size).to.equal(JSON.parse(readFileSync(store, 'utf8')).account.filter((r: EntryRecord) => r.enabled !== false).length);
    });
  });
});

// Keep the identity helper honest: it reads nanosecond times as decimal strings.
describe('store: the index cache identity', () => {
  it('takes device, inode, size and times with their fraction of a millisecond from a stat', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'keyward-cache-'));
    try {
      const file = path.join(dir, 'f');
      writeFileSync(file, 'x');
      const stat = statSync(file);
      const id = identityOf(stat);
      expect(id.size).to.equal('1');
      expect(id.mtimeMs).to.match(/^\d+(\.\d+)?$/);
      expect(Number(id.mtimeMs)).to.equal(stat.mtimeMs);
      expect(id.ino).to.equal(String(stat.ino));
    } finally {
      rmSync(dir, {recursive: true, force: true});
    }
  });
});
