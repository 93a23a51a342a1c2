/**
 * The blocked list (Brevo's "Unauthorized IPs"): which records a listing
 * selects, which ones authorizing entries releases, dismissing records, and
 * picking records to authorize.
 */
import {blockedCoveredBy, blockedReleasedBy} from './allowlist.js';
import {EntryBatch, EntryInput} from './entry-parse.js';
import {InputError} from './errors.js';
import {findKey} from './keys.js';
import {BlockedRecord, Channel, StoreData} from './model.js';
import {Prefix} from './prefix.js';

/** Which blocked records a command looks at: of one key, one channel, seen since a time (ISO). */
export interface BlockedFilter {
  /** A key's name or secret. */
  key?: string;
  channel?: Channel;
  since?: string;
}

/** A predicate for `filter` (the key resolved once: an unknown one is an InputError). */
function selector(data: StoreData, filter: BlockedFilter): (b: BlockedRecord) => boolean {
  const keyName = filter.key === undefined ? undefined : findKey(data.keys, filter.key).name;
  return (b) =>
    (keyName === undefined || b.key === keyName) &&
    (filter.channel === undefined || b.channel === filter.channel) &&
    (filter.since === undefined || b.lastSeen >= filter.since);
}

/** Newest first, by last seen. */
function newestFirst(a: BlockedRecord, b: BlockedRecord): number {
  return a.lastSeen < b.lastSeen ? 1 : a.lastSeen > b.lastSeen ? -1 : 0;
}

/** The records `filter` selects, newest first (`blocked --json`). */
export function selectBlocked(data: StoreData, filter: BlockedFilter = {}): BlockedRecord[] {
  return data.blocked.filter(selector(data, filter)).sort(newestFirst);
}

/** The `count` most recently seen records. */
export function latestBlocked(data: StoreData, count: number): BlockedJson[] {
  return [...data.blocked]
    .sort((a, b) => (a.lastSeen < b.lastSeen ? 1 : -1))
    .slice(0, count)
    .map(blockedJson);
}

/** A `blocked --json` row: every field always there (`reason` and `deniedBy` null where a record does not know them). */
export interface BlockedJson {
  ip: string;
  key: string;
  channel: BlockedRecord['channel'];
  firstSeen: string;
  lastSeen: string;
  count: number;
  reason: NonNullable<BlockedRecord['reason']> | null;
  deniedBy: NonNullable<BlockedRecord['deniedBy']> | null;
}

/** The row of `blocked --json` for `b`, one shape whatever the record holds. */
export function blockedJson(b: BlockedRecord): BlockedJson {
  return {ip: b.ip, key: b.key, channel: b.channel, firstSeen: b.firstSeen, lastSeen: b.lastSeen, count: b.count, reason: b.reason ?? null, deniedBy: b.deniedBy ?? null};
}

/** A record `dismissBlocked` took off the list. */
export interface Dismissed {
  ip: string;
  key: string;
}

/**
 * Takes off the blocked list, in place, the records `filter` selects that
 * `wanted` covers; an InputError when there is none.
 */
export function dismissBlocked(data: StoreData, wanted: readonly Prefix[], filter: BlockedFilter = {}): Dismissed[] {
  const gone = blockedCoveredBy(data.blocked.filter(selector(data, filter)), wanted);
  if (gone.length === 0) throw new InputError('none of the given addresses is on the blocked list', 'see `keyward blocked`');
  const leaving = new Set(gone);
  data.blocked = data.blocked.filter((b) => !leaving.has(b));
  return gone.map((b) => ({ip: b.ip, key: b.key}));
}

/**
 * Takes off the blocked list, in place, what `entries` (just added to the
 * account list, or to key `key`'s list) now let through, and returns what
 * was released and what is covered but still refused by another list.
 */
export function releaseBlocked(data: StoreData, entries: readonly Prefix[] | EntryBatch, now: Date, key?: string): {released: number; stillRefused: BlockedRecord[]} {
  const {released, stillRefused} = blockedReleasedBy(data, entries, now, key);
  const gone = new Set(released);
  if (gone.size > 0) data.blocked = data.blocked.filter((b) => !gone.has(b));
  // A record still refused says why now (another list refuses it), so that `blocked` and its ways out are right
  // (found by an outside tester: it kept the reason the new entry had answered).
  for (const {record, refusal} of stillRefused) {
    record.reason = refusal.reason;
    if (refusal.deniedBy) record.deniedBy = refusal.deniedBy;
    else delete record.deniedBy;
  }
  return {released: gone.size, stillRefused: stillRefused.map((s) => s.record)};
}

/** The records `authorize --from-blocked` may pick from (of one key, when given); an InputError when there is none. */
export function blockedCandidates(data: StoreData, key?: string): BlockedRecord[] {
  const keyName = key === undefined ? undefined : findKey(data.keys, key).name;
  const candidates = data.blocked.filter((b) => keyName === undefined || b.key === keyName);
  if (candidates.length === 0) throw new InputError('the blocked list has nothing to authorize', 'see `keyward blocked`');
  return candidates;
}

/** The candidates that `wanted` covers; an InputError when there is none. */
export function blockedChosen(candidates: readonly BlockedRecord[], wanted: readonly Prefix[]): BlockedRecord[] {
  const chosen = blockedCoveredBy(candidates, wanted);
  if (chosen.length === 0) throw new InputError('none of the given addresses is on the blocked list', 'see `keyward blocked`');
  return chosen;
}

/** Chosen records as entries to authorize: each address once, labelled with the key it was blocked for. */
export function blockedInputs(chosen: readonly BlockedRecord[]): EntryInput[] {
  const seen = new Set<string>();
  return chosen
    .filter((b) => !seen.has(b.ip) && seen.add(b.ip))
    .map((b) => ({text: b.ip, label: `blocked: key ${b.key}`, where: `blocked ${b.ip}`, source: 'blocked' as const}));
}
