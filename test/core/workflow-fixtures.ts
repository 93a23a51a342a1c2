/** Stores for the workflow tests (authorize, revoke, blocking, keys, reports): built by hand, in memory. */
import {newKeyRecord} from '../../src/core/keys.js';
import {BlockedRecord, Channel, emptyStore, EntryRecord, SeenRecord, StoreData} from '../../src/core/model.js';

export const T0 = new Date('2026-01-01T00:00:00.000Z');
export const NOW = new Date('2026-01-10T00:00:00.000Z');

export function record(entry: string, fields: Partial<EntryRecord> = {}): EntryRecord {
  return {entry, source: 'manual', label: null, addedAt: T0.toISOString(), expiresAt: null, ...fields};
}

export function blocked(ip: string, key: string, channel: Channel = 'api', lastSeen = NOW.toISOString()): BlockedRecord {
  return {ip, key, channel, firstSeen: T0.toISOString(), lastSeen, count: 1};
}

export function seen(ip: string, keys: string[], channel: Channel = 'api'): SeenRecord {
  return {ip, channel, keys, firstSeen: T0.toISOString(), lastSeen: NOW.toISOString(), count: 1};
}

/** A store with `account` entries and keys `name: [entries]` (api keys unless named smtp*). */
export function store(account: string[], keys: Record<string, string[]> = {}, fields: Partial<StoreData> = {}): StoreData {
  const data = emptyStore(T0);
  data.account = account.map((e) => record(e));
  let n = 0;
  for (const [name, entries] of Object.entries(keys)) {
    const key = newKeyRecord(name, name.startsWith('smtp') ? 'smtp' : 'api', `${++n}`.repeat(40), T0);
    key.allow = entries.map((e) => record(e));
    data.keys.push(key);
  }
  return {...data, ...fields};
}

/** The secret `store` gave its i-th key (from 1). */
export const secretOf = (i: number) => `${i}`.repeat(40);
