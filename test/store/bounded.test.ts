/**
 * The store under traffic and under single changes (issue 15, store speed):
 * seen traffic and the blocked list stay within their documented caps however
 * many addresses learning sees; a change that does not touch them does not
 * redo them; a file keyward wrote is trusted by its identity only (a hand
 * edit is checked in full); a change that changes nothing rebuilds a missing
 * or stale cache; and every text a change writes is the canonical document.
 */
import {mkdtempSync, openSync, readFileSync, rmSync, statSync, utimesSync, writeSync, closeSync, existsSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {expect} from 'chai';

import {scanDecisionAddress} from '../../src/core/address.js';
import {authorize} from '../../src/core/authorize.js';
import {parseEntries} from '../../src/core/entry-parse.js';
import {newKeyRecord} from '../../src/core/keys.js';
import {EventLog, learn, MAX_BLOCKED, MAX_SEEN} from '../../src/core/learning.js';
import {emptyStore, EntryRecord, StoreData} from '../../src/core/model.js';
import {newSecret} from '../../src/core/secret.js';
import {indexCacheFile, MIN_STORE_BYTES, readIndexCache} from '../../src/store/index-cache.js';
import {readStoreDocument} from '../../src/store/read.js';
import {documentText, validate} from '../../src/store/schema.js';
import {lastChange, updateStore} from '../../src/store/store.js';
import {seeded} from '../reliability/helpers.js';

const NOW = new Date('2026-03-02T00:00:00.000Z');
const ipv4 = (n: number) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

/**
 * The documented bound (docs/store-format.md): the seen list at its cap takes
 * at most 350 bytes a record as written, the blocked list at most 250.
 */
const SEEN_RECORD_BYTES = 350;
const BLOCKED_RECORD_BYTES = 250;

/** A store of `n` account entries (10.x.y.0/24 ranges), keys `api` (blocking active) and `mail`, at least 1 MiB for n ≥ 8,000. */
function baseStore(n: number): StoreData {
  const data = emptyStore(NOW);
  data.blocking.api.state = 'active';
  const records: EntryRecord[] = [];
  for (let i = 0; i < n; i++) {
    records.push({entry: `10.${(i >> 8) & 255}.${i & 255}.0/24`, source: 'import', label: i % 10 === 0 ? `customer ${i}` : null, addedAt: NOW.toISOString(), expiresAt: null});
  }
  data.account = records;
  data.keys.push(newKeyRecord('api', 'api', newSecret(), NOW), newKeyRecord('mail', 'smtp', newSecret(), NOW));
  return data;
}

/** `count` events from distinct public addresses (from `first` on), half for each key, one a millisecond, the last at NOW. */
function distinctTraffic(first: number, count: number): EventLog {
  const log = new EventLog();
  const words = new Uint32Array(4);
  for (let i = 0; i < count; i++) {
    const family = scanDecisionAddress(ipv4(0x50000000 + first + i), words);
    log.add(i % 2 === 0 ? 'api' : 'mail', family, words, NOW.getTime() - 1_000_000 + first + i);
  }
  return log;
}

describe('store: bounded traffic and single changes', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'keyward-bounded-'));
  });
  afterEach(() => rmSync(dir, {recursive: true, force: true}));

  it('keeps the seen and blocked lists within their caps when learning sees 1,000,000 distinct addresses', async () => {
    // Through the core, in memory: ten runs of 100,000 events each, as `learn --follow` would commit them, every event from an address never seen before.
    const data = baseStore(8_000);
    const empty = (await documentText(data)).join('').length;
    const BATCH = 100_000;
    let dropped = {seen: 0, blocked: 0};
    for (let first = 0; first < 1_000_000; first += BATCH) {
      const outcome = learn(data, distinctTraffic(first, BATCH), {settings: {}, strict: false, now: NOW});
      dropped = {seen: dropped.seen + (outcome.dropped?.seen ?? 0), blocked: dropped.blocked + (outcome.dropped?.blocked ?? 0)};
    }
    const size = (await documentText(data)).join('').length;
    const bound = empty + MAX_SEEN * SEEN_RECORD_BYTES + MAX_BLOCKED * BLOCKED_RECORD_BYTES;
    console.log(
      `      1M distinct addresses: ${data.seen.length} seen and ${data.blocked.length} blocked records kept, ${dropped.seen} and ${dropped.blocked} dropped; ` +
        `store ${(size / 1e6).toFixed(2)} MB (${(empty / 1e6).toFixed(2)} MB without traffic; bound ${(bound / 1e6).toFixed(2)} MB)`,
    );
    expect(data.seen.length).to.equal(MAX_SEEN);
    expect(data.blocked.length).to.equal(MAX_BLOCKED);
    // Every event was seen: the ones kept plus the ones dropped (API events blocked: one record per address and key).
    expect(data.seen.length + dropped.seen).to.equal(1_000_000);
    expect(data.blocked.length + dropped.blocked).to.equal(500_000);
    expect(size).to.be.at.most(bound);
    // The most recent are kept: the last batch's addresses, newest first.
    const newest = ipv4(0x50000000 + 999_999);
    expect(data.seen.some((s) => s.ip === newest)).to.equal(true);
    expect(data.seen.some((s) => s.ip === ipv4(0x50000000))).to.equal(false);
  });

  it('does not redo seen traffic, the blocked list or history for a change that does not touch them (work compared at 0 and at the cap)', async () => {
    const figures: string[] = [];
    for (const traffic of [0, MAX_SEEN]) {
      const file = path.join(dir, `store-${traffic}.json`);
      await updateStore(file, NOW, (data) => Object.assign(data, baseStore(8_000)));
      if (traffic > 0) await updateStore(file, NOW, (data) => learn(data, distinctTraffic(0, 2 * traffic), {settings: {}, strict: false, now: NOW}));
      const read = await readStoreDocument(file);
      expect(read!.trusted, 'a file keyward wrote, its cache naming it, is trusted').to.equal(true);
      expect(read!.data.seen.length).to.equal(traffic);
      // One address authorized: the account list changes, nothing else.
      await updateStore(file, NOW, (data) =>
        authorize(data, parseEntries([{text: '192.0.2.7', label: null, where: 'test', source: 'manual'}], {}), {label: null, expiresAt: null, group: null, now: NOW}),
      );
      expect(lastChange.trusted).to.equal(true);
      expect(lastChange.reused).to.include.members(['keys', 'blocked', 'seen']);
      const text = readFileSync(file, 'utf8');
      const seenStart = text.indexOf('\n  "seen": ');
      const seenEnd = text.indexOf('\n  "', seenStart + 1);
      const seenBytes = (seenEnd === -1 ? text.length : seenEnd) - seenStart;
      figures.push(
        `${traffic} seen: store ${(text.length / 1e6).toFixed(2)} MB, of which seen ${(seenBytes / 1e6).toFixed(2)} MB, only parsed (not checked, sorted or written anew) by the change`,
      );
    }
    console.log(`      ${figures.join('; ')}`);
  });

  it('trusts a file by the identity keyward wrote only: a hand edit of the same size and times is checked in full (exit-3 error)', async () => {
    const file = path.join(dir, 'store.json');
    await updateStore(file, NOW, (data) => Object.assign(data, baseStore(8_000)));
    expect(statSync(file).size).to.be.at.least(MIN_STORE_BYTES);
    expect((await readStoreDocument(file))!.trusted).to.equal(true);
    const before = statSync(file);
    const text = readFileSync(file, 'utf8');
    const at = text.indexOf('"10.0.5.0/24"');
    // The same number of bytes, in place, and the modification time put back: only the change time moves.
    const fd = openSync(file, 'r+');
    writeSync(fd, '"10.0.5.9/24"', at);
    closeSync(fd);
    utimesSync(file, before.atime, before.mtime);
    const edited = await readStoreDocument(file).catch((error: Error) => error);
    expect(edited).to.be.instanceOf(Error);
    expect((edited as Error).message).to.match(/not in canonical form/);
  });

  it('rebuilds a missing or stale cache on a change that changes nothing, leaving the store as it was', async () => {
    const file = path.join(dir, 'store.json');
    await updateStore(file, NOW, (data) => Object.assign(data, baseStore(8_000)));
    const cache = indexCacheFile(file);
    for (const damage of ['remove', 'stale format'] as const) {
      if (damage === 'remove') rmSync(cache);
      else {
        const bytes = readFileSync(cache);
        bytes.writeUInt32LE(2, 8); // an older format
        writeFileSync(cache, bytes);
      }
      expect(readIndexCache(file, NOW), damage).to.equal(null);
      const before = statSync(file);
      await updateStore(file, NOW, () => undefined);
      const after = statSync(file);
      expect([after.ino, after.size, after.mtimeMs, after.ctimeMs], 'the store is not written').to.deep.equal([before.ino, before.size, before.mtimeMs, before.ctimeMs]);
      expect(existsSync(cache)).to.equal(true);
      expect(readIndexCache(file, NOW), `${damage}: the cache is back and names the store`).to.not.equal(null);
    }
  });

  it('writes the canonical document after any mix of changes, lists reused or not', async () => {
    const file = path.join(dir, 'store.json');
    await updateStore(file, NOW, (data) => Object.assign(data, baseStore(8_000)));
    const random = seeded(15);
    for (let step = 0; step < 12; step++) {
      const kind = Math.floor(random() * 4);
      await updateStore(file, NOW, (data) => {
        if (kind === 0)
          authorize(data, parseEntries([{text: ipv4(0xc0000200 + Math.floor(random() * 256)), label: 'x', where: 'test', source: 'manual'}], {}), {
            label: null,
            expiresAt: null,
            group: null,
            now: NOW,
          });
        else if (kind === 1) learn(data, distinctTraffic(Math.floor(random() * 1000), 50), {settings: {}, strict: false, now: NOW});
        else if (kind === 2) data.account[Math.floor(random() * data.account.length)].label = `edited ${step}`;
        else data.keys[0].allow.push({entry: ipv4(0xcb007100 + step), source: 'manual', label: null, addedAt: NOW.toISOString(), expiresAt: null});
      });
      const text = readFileSync(file, 'utf8');
      const fresh = (await documentText(validate(JSON.parse(text)))).join('');
      expect(text === fresh, `step ${step} (change ${kind}; reused ${lastChange.reused.join(', ')})`).to.equal(true);
    }
  });
});
