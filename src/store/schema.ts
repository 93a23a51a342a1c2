/**
 * The store document's schema: checking a parsed document is a store keyward
 * can use, and writing it with a stable key order and sorted lists so that it
 * diffs well in git.
 */
import {AddressError, holdsSecret, maskSecrets, show} from '../core/errors.js';
import {
  ApiBlocking,
  BLOCK_REASONS,
  BlockedRecord,
  CHANNELS,
  DEFAULT_SETTINGS,
  EntryRecord,
  HistoryChanges,
  HistoryRecord,
  KeyRecord,
  MAX_SETTING_DAYS,
  OLDEST_SCHEMA_VERSION,
  SCHEMA_VERSION,
  SeenRecord,
  Settings,
  SmtpBlocking,
  StoreData,
  DeferredList,
  accountUnread,
  listUnread,
  onListRead,
} from '../core/model.js';
import {EntryWords, entryWordsOf, entryWordsOfRecords, inListOrder, knownEntryWords, listOrder, rememberEntryWords, sameEntry} from '../core/entry-order.js';
import {compareWords} from '../core/words.js';
import {isCanonicalEntry} from '../core/prefix.js';
import {BROADEST} from '../core/entry-parse.js';
import {isKeyName} from '../core/keys.js';
import {inCalendar} from '../core/time.js';

/** A document that is not a keyward store of a version this build reads. */
export class ShapeError extends Error {}

type Json = Record<string, unknown>;

function fail(path: string, what: string): never {
  throw new ShapeError(`${path} ${what}`);
}

function object(value: unknown, path: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, 'is not an object');
  return value as Json;
}

function array(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) fail(path, 'is not a list');
  return value;
}

function string(value: unknown, path: string): string {
  if (typeof value !== 'string') fail(path, 'is not a string');
  return value;
}

function nullableString(value: unknown, path: string): string | null {
  return value === null ? null : string(value, path);
}

/** Whether a label holds a secret-shaped run (a hand-edited store: keyward stores the hint): read as its hint, never shown whole. */
const holdsSecretLabel = (label: string) => label.length >= 32 && holdsSecret(label);

function label(value: unknown, path: string): string | null {
  const text = nullableString(value, path);
  return text !== null && holdsSecretLabel(text) ? maskSecrets(text) : text;
}

/** The last text `time` accepted: the records of one import share their times, and Date.parse is not free. */
let lastTime = '';

/**
 * An ISO 8601 time with its offset (`Z` or `±HH:MM`): one without would be
 * read in the local time zone of whoever runs keyward, so the same store
 * would decide differently under another TZ. A date alone has no offset either.
 */
const TIME_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}:?\d{2})$/;

/**
 * Values already proven within one store change (see `withProvenValues`): a
 * change checks its document twice or three times (as read, before and after
 * the change, to write it), and a value once proven an entry in canonical
 * form or a time with an offset stays one (strings do not change). Null
 * outside a change, so a long-running process keeps nothing.
 */
let proven: {entries: Set<string>; times: Set<string>; trusted: DocumentReuse | null} | null = null;

/**
 * Runs `work` (one store change) with the values its checks prove
 * remembered, so that the checks of the document after the change look only
 * at what the change made. `trusted`, when given, holds copies of the lists
 * of a document keyward provably wrote (see read.ts), taken before the
 * change: their entries and times count as proven (taken in only when a list
 * of entries is checked: a change whose lists are all written as the file's
 * text needs none of them).
 */
export async function withProvenValues<T>(trusted: DocumentReuse | null, work: () => Promise<T>): Promise<T> {
  const outer = proven;
  proven = {entries: new Set(), times: new Set(), trusted};
  try {
    return await work();
  } finally {
    proven = outer;
  }
}

/**
 * Takes the trusted lists' entries and times into the proven values, once,
 * before a list of `length` entries is checked: only when that list is long
 * enough to pay for it (marking a value costs about what checking it does,
 * so a key list of 20 entries is checked faster alone than by marking
 * 100,000 account entries first; issue 15).
 */
function takeInTrusted(length: number): void {
  if (proven?.trusted == null) return;
  const {entries, times, trusted} = proven;
  const keys = (trusted.values.get('keys') ?? []) as KeyRecord[];
  const account = trusted.account;
  let total = account?.count ?? 0;
  for (const key of keys) total += key.allow.length;
  if (2 * length < total) return;
  proven.trusted = null;
  const mark = (records: EntryRecord[]) => {
    for (const r of records) {
      entries.add(r.entry);
      times.add(r.addedAt);
      if (r.expiresAt !== null) times.add(r.expiresAt);
    }
  };
  if (account !== null) {
    const {fields, count} = account;
    for (let i = 0; i < count; i++) {
      entries.add(fields[i * FIELDS + 0] as string);
      times.add(fields[i * FIELDS + 4] as string);
      if (fields[i * FIELDS + 5] !== null) times.add(fields[i * FIELDS + 5] as string);
    }
  }
  for (const key of keys) mark(key.allow);
}

function isTime(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  if (value === lastTime || proven?.times.has(value)) return true;
  if (!TIME_WITH_OFFSET.test(value) || !inCalendar(value) || Number.isNaN(Date.parse(value))) return false;
  lastTime = value;
  proven?.times.add(value);
  return true;
}

/** A time as keyward writes it: UTC, to the millisecond (`Date.prototype.toISOString`). */
const CANONICAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Whether `value` is a time kept as it is (in keyward's form); another is made canonical by `time`. */
const isKeptTime = (value: unknown) => isTime(value) && CANONICAL_TIME.test(value as string);

/**
 * A time field's value, in keyward's form: a hand-edited time with an offset
 * (`2026-12-03T18:00:00+02:00`, `2027-01-02 10:00:00.5+0530`) is read as the
 * UTC time it names, so that every output shows UTC, times compare as text,
 * and the next write puts it back in the canonical form.
 */
function time(value: unknown, path: string): string {
  const text = string(value, path);
  if (isTime(text)) return CANONICAL_TIME.test(text) ? text : new Date(Date.parse(text)).toISOString();
  if (!Number.isNaN(Date.parse(text)) && /^\d{4}-\d{2}-\d{2}(?:[Tt ][\d:.]+)?$/.test(text)) {
    fail(path, `has no time zone offset: ${show(text)} (write it with Z for UTC, or an offset such as +02:00)`);
  }
  fail(path, `is not an ISO 8601 time with an offset: ${show(text)}`);
}

function nullableTime(value: unknown, path: string): string | null {
  return value === null ? null : time(value, path);
}

function count(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) fail(path, 'is not a count');
  return value;
}

function oneOf<T extends string>(value: unknown, options: readonly T[], path: string): T {
  if (!options.includes(value as T)) fail(path, `is not one of ${options.join(', ')}`);
  return value as T;
}

function entry(value: unknown, path: string): string {
  const text = string(value, path);
  try {
    if (!isCanonicalEntry(text)) fail(path, `is not in canonical form: ${show(text)}`);
  } catch (error) {
    if (error instanceof AddressError) fail(path, `is not a valid entry: ${error.message}`);
    throw error;
  }
  return text;
}

/** Whether `value` is a group a store may hold: absent, null, or a name with the key-name grammar that holds no secret. */
function isGroup(value: unknown): value is string | null | undefined {
  return value === undefined || value === null || (typeof value === 'string' && isKeyName(value) && !holdsSecret(value));
}

/** A record's group: absent or null (none) or a group name (SPEC "Groups"); anything else names the field. */
function group(value: unknown, path: string): string | null {
  if (!isGroup(value)) fail(path, 'is not a group name (1 to 64 letters, digits, ".", "_" or "-", or null)');
  return value ?? null;
}

/** A record as written: `group` only when the entry has one (stores from before groups stay byte for byte). */
function record(entry: string, source: EntryRecord['source'], label: string | null, grouped: string | null, addedAt: string, expiresAt: string | null): EntryRecord {
  return grouped === null ? {entry, source, label, addedAt, expiresAt} : {entry, source, label, group: grouped, addedAt, expiresAt};
}

function entryRecord(value: unknown, path: string): EntryRecord {
  const o = object(value, path);
  const built = record(
    entry(o.entry, `${path}.entry`),
    oneOf(o.source, SOURCES, `${path}.source`),
    label(o.label, `${path}.label`),
    group(o.group, `${path}.group`),
    time(o.addedAt, `${path}.addedAt`),
    nullableTime(o.expiresAt, `${path}.expiresAt`),
  );
  return withSwitches(built, o, path);
}

/**
 * The optional members of an entry record: `"effect": "deny"` (absent for an
 * allow entry) and `"enabled": false` (absent when enabled). The other values
 * are refused, so that one spelling means one thing in a diff.
 */
function withSwitches(record: EntryRecord, o: Json, path: string): EntryRecord {
  if (o.effect !== undefined) {
    if (o.effect !== 'deny') fail(`${path}.effect`, `is not "deny" (leave it out for an allow entry): ${show(JSON.stringify(o.effect) ?? String(o.effect))}`);
    record.effect = 'deny';
  }
  if (o.enabled !== undefined) {
    if (o.enabled !== false) fail(`${path}.enabled`, `is not false (leave it out for an enabled entry): ${show(JSON.stringify(o.enabled) ?? String(o.enabled))}`);
    record.enabled = false;
  }
  return record;
}

const SOURCES = ['manual', 'learned', 'import', 'blocked'] as const;

/**
 * A list of entry records: `entryRecord` for each, without building the six
 * path strings per record that it needs only to name a fault (a million
 * records are common). A record the quick check doubts goes through
 * `entryRecord`, which names the fault as always.
 */
function entryRecords(value: unknown, path: string): EntryRecord[] {
  const list = array(value, path);
  takeInTrusted(list.length);
  const records: EntryRecord[] = new Array(list.length);
  // Entries a change appended from its own batch are canonical already (see KnownEntryWords): not parsed again.
  const known = knownEntryWords(list);
  const provenFrom = known === null ? list.length : known.from;
  for (let i = 0; i < list.length; i++) {
    const o = list[i] as Json;
    if (typeof o === 'object' && o !== null && !Array.isArray(o)) {
      const {entry, source, label, addedAt, expiresAt} = o;
      const grouped = o.group;
      if (
        o.effect === undefined &&
        o.enabled === undefined &&
        typeof entry === 'string' &&
        SOURCES.includes(source as EntryRecord['source']) &&
        (label === null || (typeof label === 'string' && !holdsSecretLabel(label))) &&
        isGroup(grouped) &&
        isKeptTime(addedAt) &&
        (expiresAt === null || isKeptTime(expiresAt)) &&
        (i >= provenFrom || isCanonicalQuietly(entry))
      ) {
        // A record the change appended, as the schema builds it (these members, in this order): kept, not copied.
        if (i >= provenFrom && grouped === undefined && isBuiltRecord(o)) {
          records[i] = o as unknown as EntryRecord;
          continue;
        }
        records[i] = record(entry, source as EntryRecord['source'], label as string | null, grouped ?? null, addedAt as string, expiresAt as string | null);
        continue;
      }
    }
    records[i] = entryRecord(o, `${path}[${i}]`);
  }
  // The checked copy holds the same texts at the same positions: what is known of them holds for it too.
  if (known !== null) rememberEntryWords(records, known);
  return records;
}

/** The members of an entry record without group or switches, in the order `record` builds them. */
const RECORD_MEMBERS = ['entry', 'source', 'label', 'addedAt', 'expiresAt'];

/** Whether `o` has exactly the members `record` gives a record without group or switches, in its order. */
function isBuiltRecord(o: Json): boolean {
  let k = 0;
  for (const name in o) if (name !== RECORD_MEMBERS[k++]) return false;
  return k === RECORD_MEMBERS.length;
}

function isCanonicalQuietly(text: string): boolean {
  if (proven?.entries.has(text)) return true;
  try {
    if (!isCanonicalEntry(text)) return false;
  } catch {
    return false;
  }
  proven?.entries.add(text);
  return true;
}

/** A key name is printed by every command: one a hand edit filled with control characters is refused on load. */
function keyName(value: unknown, path: string): string {
  const name = string(value, path);
  if (!isKeyName(name)) fail(path, `is not a key name (1 to 64 letters, digits, ".", "_" or "-"): ${show(name)}`);
  // (keys create refuses such a name: every message would show it by its hint, a name no one could type back.)
  if (holdsSecret(name)) fail(path, `is shaped like a key's secret (32 or more hex digits), which no key name may be: ${show(name)}`);
  return name;
}

function keyRecord(value: unknown, path: string): KeyRecord {
  const o = object(value, path);
  const hash = string(o.hash, `${path}.hash`);
  if (!/^[0-9a-f]{64}$/.test(hash)) fail(`${path}.hash`, 'is not a sha256 hash');
  return {
    name: keyName(o.name, `${path}.name`),
    type: oneOf(o.type, CHANNELS, `${path}.type`),
    hash,
    hint: string(o.hint, `${path}.hint`),
    status: oneOf(o.status, ['active', 'revoked'] as const, `${path}.status`),
    createdAt: time(o.createdAt, `${path}.createdAt`),
    rotatedAt: nullableTime(o.rotatedAt, `${path}.rotatedAt`),
    revokedAt: nullableTime(o.revokedAt, `${path}.revokedAt`),
    allow: entryRecords(o.allow, `${path}.allow`),
  };
}

/**
 * The keys, each name and each secret's hash once: a hand edit that gives
 * two keys one name (`keys revoke billing` would revoke one, `check billing`
 * decide by the other) or one hash (a secret decided as another key) makes
 * every decision about them ambiguous.
 */
function distinctKeys(keys: KeyRecord[]): KeyRecord[] {
  const names = new Map<string, number>();
  const hashes = new Map<string, number>();
  for (const [i, key] of keys.entries()) {
    const sameName = names.get(key.name);
    if (sameName !== undefined) fail(`keys[${i}].name`, `is ${show(key.name)}, the name of keys[${sameName}] too`);
    const sameHash = hashes.get(key.hash);
    if (sameHash !== undefined) fail(`keys[${i}].hash`, `is the hash of keys[${sameHash}] too: one secret would be two keys`);
    names.set(key.name, i);
    hashes.set(key.hash, i);
  }
  return keys;
}

function settings(value: unknown, path: string): Settings {
  const o = object(value, path);
  const positive = (v: unknown, p: string, max: number, min = 0) => {
    const n = count(v, p);
    if (n > max) fail(p, `is more than ${max}`);
    // (Learning authorizes no range broader than an entry may be without --force: BROADEST, as learn --prefix-v4 and --prefix-v6 allow.)
    if (n < min) fail(p, `is less than ${min}: learning would authorize more than an entry may without --force`);
    return n;
  };
  return {
    learningWindowDays: positive(o.learningWindowDays, `${path}.learningWindowDays`, MAX_SETTING_DAYS),
    learnPrefixV4: positive(o.learnPrefixV4, `${path}.learnPrefixV4`, 32, BROADEST[4]),
    learnPrefixV6: positive(o.learnPrefixV6, `${path}.learnPrefixV6`, 128, BROADEST[6]),
    seenRetentionDays: positive(o.seenRetentionDays, `${path}.seenRetentionDays`, MAX_SETTING_DAYS),
  };
}

function apiBlocking(value: unknown, path: string): ApiBlocking {
  const o = object(value, path);
  return {
    state: oneOf(o.state, ['learning', 'active', 'inactive'] as const, `${path}.state`),
    changedAt: time(o.changedAt, `${path}.changedAt`),
    learningSince: nullableTime(o.learningSince, `${path}.learningSince`),
    lastNewAddressAt: nullableTime(o.lastNewAddressAt, `${path}.lastNewAddressAt`),
    // Optional: stores written before it have none (and may have firstEventAt, which no rule reads any more: dropped).
    lastEventAt: o.lastEventAt === undefined ? null : nullableTime(o.lastEventAt, `${path}.lastEventAt`),
  };
}

function smtpBlocking(value: unknown, path: string): SmtpBlocking {
  const o = object(value, path);
  return {
    state: oneOf(o.state, ['active', 'inactive'] as const, `${path}.state`),
    changedAt: time(o.changedAt, `${path}.changedAt`),
  };
}

function blockedRecord(value: unknown, path: string): BlockedRecord {
  const o = object(value, path);
  return {
    ip: entry(o.ip, `${path}.ip`),
    key: string(o.key, `${path}.key`),
    channel: oneOf(o.channel, CHANNELS, `${path}.channel`),
    firstSeen: time(o.firstSeen, `${path}.firstSeen`),
    lastSeen: time(o.lastSeen, `${path}.lastSeen`),
    count: count(o.count, `${path}.count`),
    // Optional (records written before reasons were kept have none); written only when present.
    ...(o.reason === undefined ? {} : {reason: oneOf(o.reason, BLOCK_REASONS, `${path}.reason`)}),
    ...(o.deniedBy === undefined ? {} : {deniedBy: deniedBy(o.deniedBy, `${path}.deniedBy`)}),
  };
}

function deniedBy(value: unknown, path: string): {entry: string; scope: 'account' | 'key'} {
  const o = object(value, path);
  return {entry: entry(o.entry, `${path}.entry`), scope: oneOf(o.scope, ['account', 'key'] as const, `${path}.scope`)};
}

function seenRecord(value: unknown, path: string): SeenRecord {
  const o = object(value, path);
  return {
    ip: entry(o.ip, `${path}.ip`),
    channel: oneOf(o.channel, CHANNELS, `${path}.channel`),
    keys: array(o.keys, `${path}.keys`).map((k, i) => string(k, `${path}.keys[${i}]`)),
    firstSeen: time(o.firstSeen, `${path}.firstSeen`),
    lastSeen: time(o.lastSeen, `${path}.lastSeen`),
    count: count(o.count, `${path}.count`),
  };
}

function boolean(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') fail(path, 'is not true or false');
  return value;
}

function strings(value: unknown, path: string): string[] {
  return array(value, path).map((v, i) => string(v, `${path}[${i}]`));
}

function addedRemoved(value: unknown, path: string): {added: number; removed: number} {
  const o = object(value, path);
  return {added: count(o.added, `${path}.added`), removed: count(o.removed, `${path}.removed`)};
}

function addedRemovedUpdated(value: unknown, path: string): {added: number; removed: number; updated: number} {
  return {...addedRemoved(value, path), updated: count((value as Json).updated, `${path}.updated`)};
}

const STATES = ['learning', 'active', 'inactive'] as const;
const SETTING_NAMES = Object.keys(DEFAULT_SETTINGS) as (keyof Settings)[];

// History is checked for shape only (entries as strings, not parsed): it is a record of the past, read by people.
function historyChanges(value: unknown, path: string): HistoryChanges {
  const o = object(value, path);
  return {
    counts: addedRemovedUpdated(o.counts, `${path}.counts`),
    entries: array(o.entries, `${path}.entries`).map((v, i) => {
      const p = `${path}.entries[${i}]`;
      const e = object(v, p);
      return {
        scope: string(e.scope, `${p}.scope`),
        added: strings(e.added, `${p}.added`),
        removed: strings(e.removed, `${p}.removed`),
        updated: strings(e.updated, `${p}.updated`),
        counts: addedRemovedUpdated(e.counts, `${p}.counts`),
        ...(e.groups === undefined ? {} : {groups: strings(e.groups, `${p}.groups`)}),
      };
    }),
    keys: array(o.keys, `${path}.keys`).map((v, i) => {
      const p = `${path}.keys[${i}]`;
      const k = object(v, p);
      return {
        name: string(k.name, `${p}.name`),
        type: oneOf(k.type, CHANNELS, `${p}.type`),
        action: oneOf(k.action, ['created', 'rotated', 'revoked', 'restored', 'deleted'] as const, `${p}.action`),
        hint: string(k.hint, `${p}.hint`),
      };
    }),
    blocking: array(o.blocking, `${path}.blocking`).map((v, i) => {
      const p = `${path}.blocking[${i}]`;
      const b = object(v, p);
      return {
        channel: oneOf(b.channel, CHANNELS, `${p}.channel`),
        from: oneOf(b.from, STATES, `${p}.from`),
        to: oneOf(b.to, STATES, `${p}.to`),
        automatic: boolean(b.automatic, `${p}.automatic`),
      };
    }),
    blocked: addedRemoved(o.blocked, `${path}.blocked`),
    settings: array(o.settings, `${path}.settings`).map((v, i) => {
      const p = `${path}.settings[${i}]`;
      const s = object(v, p);
      return {name: oneOf(s.name, SETTING_NAMES, `${p}.name`), from: count(s.from, `${p}.from`), to: count(s.to, `${p}.to`)};
    }),
  };
}

function historyRecord(value: unknown, path: string): HistoryRecord {
  const o = object(value, path);
  return {
    at: time(o.at, `${path}.at`),
    command: string(o.command, `${path}.command`),
    flags: strings(o.flags, `${path}.flags`),
    user: string(o.user, `${path}.user`),
    changes: historyChanges(o.changes, `${path}.changes`),
  };
}

/** The version a document claims, or undefined when it has none. */
export function versionOf(document: unknown): number | undefined {
  if (typeof document !== 'object' || document === null) return undefined;
  const v = (document as Json).version;
  return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
}

/**
 * Checks a parsed document of the current schema version and returns it as
 * StoreData built in the schema's key order. Throws ShapeError naming the
 * first field that is wrong.
 */
export function validate(document: unknown): StoreData {
  const o = object(document, 'the store');
  if (typeof o.version !== 'number' || o.version < OLDEST_SCHEMA_VERSION || o.version > SCHEMA_VERSION) {
    fail('version', `is ${JSON.stringify(o.version)}, expected ${OLDEST_SCHEMA_VERSION} to ${SCHEMA_VERSION}`);
  }
  const blocking = object(o.blocking, 'blocking');
  return {
    version: SCHEMA_VERSION,
    settings: settings(o.settings, 'settings'),
    blocking: {api: apiBlocking(blocking.api, 'blocking.api'), smtp: smtpBlocking(blocking.smtp, 'blocking.smtp')},
    account: entryRecords(o.account, 'account'),
    keys: distinctKeys(array(o.keys, 'keys').map((r, i) => keyRecord(r, `keys[${i}]`))),
    blocked: array(o.blocked, 'blocked').map((r, i) => blockedRecord(r, `blocked[${i}]`)),
    seen: array(o.seen, 'seen').map((r, i) => seenRecord(r, `seen[${i}]`)),
    // Optional: a store written before history (or with none yet) has no field; it is written only when it holds a record.
    ...(o.history === undefined ? {} : nonEmpty(array(o.history, 'history').map((r, i) => historyRecord(r, `history[${i}]`)))),
  };
}

function nonEmpty(history: HistoryRecord[]): {history?: HistoryRecord[]} {
  return history.length > 0 ? {history} : {};
}

/** Entry records in list order: by family, network, then wider first (stable). */
export function sortEntryRecords(records: EntryRecord[]): EntryRecord[] {
  // A list a change appended to knows its new entries' words (see KnownEntryWords); a fresh import is in list order already.
  const words = entryWordsOfRecords(records);
  if (inListOrder(words)) return records.slice();
  const order = listOrder(words);
  const sorted: EntryRecord[] = new Array(records.length);
  for (let i = 0; i < order.length; i++) sorted[i] = records[order[i]];
  return sorted;
}

/** Records in list order of their address, records with the same address by `tie` (stable). */
function byAddressThen<T extends {ip: string}>(records: T[], tie: (a: T, b: T) => number): T[] {
  const keys = entryWordsOf(records.map((r) => r.ip));
  const order = listOrder(keys);
  const sorted: T[] = [];
  for (let start = 0; start < order.length;) {
    let end = start + 1;
    while (end < order.length && sameEntry(keys, order[start], order[end])) end++;
    const run = Array.from(order.subarray(start, end), (i) => records[i]);
    if (run.length > 1) run.sort(tie);
    for (const r of run) sorted.push(r);
    start = end;
  }
  return sorted;
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The document as it is written: every object rebuilt in schema key order
 * (validate builds them so) and every list sorted.
 */
export function canonicalize(data: StoreData): StoreData {
  // validate builds every object afresh (no JSON round trip needed): sorting below leaves `data` as it was.
  const fresh = validate(data);
  fresh.account = sortEntryRecords(fresh.account);
  fresh.keys.sort((a, b) => compareText(a.name, b.name));
  for (const key of fresh.keys) key.allow = sortEntryRecords(key.allow);
  fresh.blocked = byAddressThen(fresh.blocked, (a, b) => compareText(a.key, b.key) || compareText(a.channel, b.channel));
  fresh.seen = byAddressThen(fresh.seen, (a, b) => compareText(a.channel, b.channel));
  for (const s of fresh.seen) s.keys.sort(compareText);
  // history is not sorted: it is a log, oldest first, and appends at the end read well in git.
  return fresh;
}

/**
 * Records per JSON.stringify of a long list: a text of some 40 KB, which V8
 * makes among its young objects, in memory it uses again. A text of 20,000
 * records (2.6 MB) was memory of its own, new for every one: the 1M-entry
 * import's writing touched some 40,000 fresh pages for it, and took twice as
 * long (docs/performance.md, issue 15, round 11).
 */
const STRINGIFY_RECORDS = 256;

/** A long list is written this many records at a time, with a turn of the event loop between (see nextTurn): a whole number of stringified pieces. */
const PIECE_RECORDS = 80 * STRINGIFY_RECORDS;

// A timer, not setImmediate: from the poll phase setImmediate runs before the loop reaches its timers again.
const nextTurn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** The top-level members of a store document, in the order they are written. */
const MEMBERS = ['version', 'settings', 'blocking', 'account', 'keys', 'blocked', 'seen', 'history'] as const;
/** The members a document text may take from the file it was read from: the long lists. */
const REUSABLE = ['account', 'keys', 'blocked', 'seen', 'history'] as const;
type Reusable = (typeof REUSABLE)[number];

/** A copy of plain JSON values (objects, lists, strings, numbers, booleans, null). */
function copyJson(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = copyJson(value[i]);
    return out;
  }
  const out: Json = {};
  for (const key in value as Json) out[key] = copyJson((value as Json)[key]);
  return out;
}

/** Whether two plain JSON values are equal (member order aside; a member set to undefined is not absent). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const key of ka) if (!Object.hasOwn(b, key) || !sameJson((a as Json)[key], (b as Json)[key])) return false;
  return true;
}

/**
 * What stands in a document's text for a list not decoded (the account list,
 * the seen list, the history: see read.ts deferredDocument): never
 * text a store holds, nor one JSON.stringify makes (a raw NUL), so that it
 * cannot be written as text unnoticed (see store.ts SourceBytes).
 */
export const UNREAD_LIST = '[\u0000]';

/**
 * What a document keyward provably wrote (see read.ts) lends to the text of
 * the same store after a change: the text of each long list as the file
 * holds it, and a copy of its value as read. A list the change left equal to
 * its copy is written as the file's own text — the very text canonicalizing
 * and stringifying it again would make — so a change to the seen list does
 * not check, sort and stringify 100,000 account entries.
 */
export interface DocumentReuse {
  /** The document's text the reusable members were cut from. */
  source: string;
  texts: Map<Reusable, string>;
  /** Where each of `texts` starts in `source`. */
  starts: Map<Reusable, number>;
  /** Copies of the lists as read, but the account list's (see `account`). */
  values: Map<Reusable, unknown>;
  /** The account list as read, by columns, when the file has one. */
  account: AccountCopy | null;
  /**
   * Where a list not decoded stands in `source` (its UNREAD_LIST), for one
   * the change read after all: left as it was, it is written as that
   * placeholder there (the file's bytes), which is the text compared with.
   */
  unreadStarts: Map<Reusable, number>;
}

/** The members of an entry record that its text is made of (validate builds a record from these alone). */
const RECORD_FIELDS = ['entry', 'source', 'label', 'group', 'addedAt', 'expiresAt', 'effect', 'enabled'] as const;
const FIELDS = RECORD_FIELDS.length;

/**
 * The account list as read, as its records' values in one column
 * (`fields[FIELDS * i + f]`, f indexing RECORD_FIELDS): copying 100,000
 * records as objects and comparing them member by member cost more than the
 * rest of a follow commit (issue 15); a record's text is made of these
 * values only, so equal values are the same text.
 */
interface AccountCopy {
  count: number;
  fields: unknown[];
}

function copyAccount(list: readonly EntryRecord[]): AccountCopy {
  const fields = new Array<unknown>(list.length * FIELDS);
  for (let i = 0, at = 0; i < list.length; i++) {
    const r = list[i];
    fields[at++] = r.entry;
    fields[at++] = r.source;
    fields[at++] = r.label;
    fields[at++] = r.group;
    fields[at++] = r.addedAt;
    fields[at++] = r.expiresAt;
    fields[at++] = r.effect;
    fields[at++] = r.enabled;
  }
  return {count: list.length, fields};
}

/** Whether `r` (a record of the list after the change) has the values the copy holds at position `i`. */
function sameRecord(r: unknown, copy: AccountCopy, i: number): boolean {
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return false;
  const o = r as EntryRecord;
  const f = copy.fields;
  const at = i * FIELDS;
  return (
    o.entry === f[at] &&
    o.source === f[at + 1] &&
    o.label === f[at + 2] &&
    o.group === f[at + 3] &&
    o.addedAt === f[at + 4] &&
    o.expiresAt === f[at + 5] &&
    o.effect === f[at + 6] &&
    o.enabled === f[at + 7]
  );
}

/** Whether the account list after the change is the list as read (every record's values the same, in the same order). */
function sameAccount(list: unknown, copy: AccountCopy): boolean {
  if (!Array.isArray(list) || list.length !== copy.count) return false;
  for (let i = 0; i < list.length; i++) if (!sameRecord(list[i], copy, i)) return false;
  return true;
}

/**
 * The reuse a canonical document `text` (as keyward writes it) and its
 * parsed `data` offer, taken before the change. In that text a line that
 * starts with exactly two spaces and a quote starts a top-level member:
 * strings hold no raw line breaks, and every deeper line is indented more.
 */
export function documentReuse(text: string, data: StoreData): DocumentReuse | null {
  if (!text.startsWith('{\n  "') || !text.endsWith('\n}\n')) return null;
  const starts: number[] = [];
  for (let at = text.indexOf('\n  "'); at !== -1; at = text.indexOf('\n  "', at + 1)) starts.push(at + 1);
  const texts = new Map<Reusable, string>();
  const places = new Map<Reusable, number>();
  const values = new Map<Reusable, unknown>();
  const reuse: DocumentReuse = {source: text, texts, starts: places, values, account: null, unreadStarts: new Map()};
  for (let i = 0; i < starts.length; i++) {
    const line = starts[i];
    const colon = text.indexOf('": ', line);
    const name = text.slice(line + 3, colon) as Reusable;
    if (!REUSABLE.includes(name)) continue;
    const end = i + 1 < starts.length ? starts[i + 1] - 2 : text.length - 3;
    if (text[end] !== (i + 1 < starts.length ? ',' : '\n')) return null;
    // A list not read yet (see model.ts deferList) is copied when it is, before it can change.
    const unread = name !== 'keys' && name !== 'blocked' && listUnread(data, name);
    const value = unread ? [] : (data as unknown as Json)[name];
    if (!Array.isArray(value)) return null;
    texts.set(name, text.slice(colon + 3, end));
    places.set(name, colon + 3);
    if (unread) {
      onListRead(data, name as DeferredList, (list: unknown[], listText: string | null) => {
        if (name === 'account') reuse.account = copyAccount(list as EntryRecord[]);
        else values.set(name, copyJson(list));
        // A list not decoded (see read.ts deferredDocument) read after all: spliced from its text, written as text (it
        // is not in the source's).
        if (listText !== null && texts.get(name) === UNREAD_LIST) {
          texts.set(name, listText);
          reuse.unreadStarts.set(name, places.get(name)!);
          places.delete(name);
        }
      });
    } else if (name === 'account') reuse.account = copyAccount(value as EntryRecord[]);
    else values.set(name, copyJson(value));
  }
  return texts.size > 0 ? reuse : null;
}

/** Which members of `data` are as `reuse` copied them: their text is the file's. */
function reusedMembers(data: StoreData, reuse: DocumentReuse | null): Set<Reusable> {
  const same = new Set<Reusable>();
  if (reuse === null) return same;
  for (const [name, value] of reuse.values) if (sameJson((data as unknown as Json)[name], value)) same.add(name);
  // A list never read since (see model.ts deferList) is as it was (but for what was put into it unread: see store.ts).
  for (const name of ['seen', 'history'] as const) if (reuse.texts.has(name) && listUnread(data, name)) same.add(name);
  if (reuse.texts.has('account') && accountUnread(data)) same.add('account');
  else if (reuse.account !== null && sameAccount(data.account, reuse.account)) same.add('account');
  return same;
}

/** The records of account lists whose text was spliced (see accountSplice), in the order written. */
const writtenOrder = new WeakMap<readonly unknown[], EntryRecord[]>();

/**
 * The account list of `data` in the order the document was written, when
 * its text was spliced (see accountSplice) and the list is as it was then;
 * else null. The index cache compiled from it needs no sort (its words come
 * in list order).
 */
export function accountAsWritten(data: StoreData): EntryRecord[] | null {
  if (accountUnread(data)) return null;
  const written = writtenOrder.get(data.account);
  return written !== undefined && written.length === data.account.length ? written : null;
}

/** At most this many records changed in place or appended for the account list's text to be spliced (see accountSplice). */
const SPLICE_MAX = 64;

/** A record's text as the document writes it in a list member: `    {` … `    }`. */
function recordText(name: string, record: EntryRecord | HistoryRecord): string {
  const piece = JSON.stringify({[name]: [record]}, null, 2);
  const head = `{\n  ${JSON.stringify(name)}: [\n`;
  return piece.slice(head.length, piece.length - '\n  ]\n}'.length);
}

/** List order of two entries of EntryWords (see listOrder): by family, network, then wider first. */
function compareEntries(a: EntryWords, i: number, b: EntryWords, j: number): number {
  if (a.family[i] !== b.family[j]) return a.family[i] - b.family[j];
  return compareWords(a.words, i * 4, b.words, j * 4, a.family[i] === 4 ? 1 : 4) || a.bits[i] - b.bits[j];
}

/**
 * The text of the account list after a change that kept the list as read
 * but for a few records changed in place (the same entry) and a few
 * appended, made from the file's own text (see DocumentReuse): the changed
 * records' new texts put in their places, the appended ones' at the places
 * sorting would give them (after the records of the same entry: the sort is
 * stable). The very text `canonicalize` and stringifying would make, without
 * parsing, sorting and stringifying 100,000 entries for one (issue 15). Null
 * when the change did anything else (or too much): then the list is written
 * the long way. Throws ShapeError, naming it as `validate` would, for a
 * changed record that is not one.
 */
function accountSplice(list: unknown, reuse: DocumentReuse): {pieces: string[]; starts: number[]} | null {
  const copy = reuse.account;
  const text = reuse.texts.get('account');
  if (copy === null || text === undefined || !Array.isArray(list) || list.length < copy.count || copy.count === 0) return null;
  if (list.length - copy.count > SPLICE_MAX) return null;
  const changed = new Map<number, string>();
  for (let i = 0; i < copy.count; i++) {
    const r = list[i] as unknown;
    if (sameRecord(r, copy, i)) continue;
    if (typeof r !== 'object' || r === null || (r as EntryRecord).entry !== copy.fields[i * FIELDS] || changed.size >= SPLICE_MAX) return null;
    changed.set(i, recordText('account', entryRecord(r, `account[${i}]`)));
  }
  const appended = list.slice(copy.count).map((r, k) => entryRecord(r, `account[${copy.count + k}]`));
  if (!text.startsWith('[\n    {') || !text.endsWith('\n  ]')) return null;
  // Places in the file's text: a record starts on a line of four spaces and a brace (records hold no objects); past the
  // last record, `end` stands for the next start (each record ends two characters before the next starts, at ",\n").
  const end = text.length - 2;
  const nextStart = (from: number) => {
    const at = text.indexOf('\n    {', from - 1);
    return at === -1 ? end : at + 1;
  };
  const entryAt = (start: number) => {
    const open = text.indexOf('"entry": "', start) + 10;
    return entryWordsOf([text.slice(open, text.indexOf('"', open))]);
  };
  // The appended records in list order (stably), each placed before the first record of the list as read that sorts
  // after it: found by halving the text, not by counting its records.
  const words = entryWordsOf(appended.map((r) => r.entry));
  const order = listOrder(words);
  const placeOf = (k: number) => sortedPlace(end, nextStart, (start) => compareEntries(entryAt(start), 0, words, k));
  // The same places as positions in the list as read (halving its values): the list in the order written, for its index cache.
  const probe = (i: number) => entryWordsOf([copy.fields[i * FIELDS] as string]);
  const positionOf = (k: number) => {
    let low = 0;
    let high = copy.count;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareEntries(probe(middle), 0, words, k) <= 0) low = middle + 1;
      else high = middle;
    }
    return low;
  };
  const written: EntryRecord[] = [];
  let from = 0;
  for (const k of order) {
    const position = positionOf(k);
    for (let i = from; i < position; i++) written.push(list[i] as EntryRecord);
    written.push(list[copy.count + k] as EntryRecord);
    from = position;
  }
  for (let i = from; i < copy.count; i++) written.push(list[i] as EntryRecord);
  writtenOrder.set(list, written);
  const events: {at: number; to: number; text: string}[] = Array.from(order, (k) => {
    const at = placeOf(k);
    return {at, to: at, text: recordText('account', appended[k])};
  });
  if (changed.size > 0) {
    // Records changed in place: found by counting (where record i starts), their text replaced.
    const starts: number[] = [];
    for (let at = 2; at !== end; at = nextStart(at + 1)) starts.push(at);
    if (starts.length !== copy.count) return null;
    for (const [i, replaced] of changed) events.push({at: starts[i], to: i + 1 < starts.length ? starts[i + 1] : end, text: replaced});
    // By place; at one place the appended (kept in their order) before the record changed there.
    events.sort((a, b) => a.at - b.at || (a.to === a.at ? 0 : 1) - (b.to === b.at ? 0 : 1));
  }
  const pieces: string[] = ['[\n'];
  // Where each piece cut from the file's text starts in it (see pieceSource); -1 for the others.
  const starts: number[] = [-1];
  const base = reuse.starts.get('account') ?? Number.NaN;
  const put = (piece: string, start = -1) => {
    if (pieces.length > 1) {
      pieces.push(',\n');
      starts.push(-1);
    }
    pieces.push(piece);
    starts.push(start);
  };
  let at = 2;
  for (const event of events) {
    if (event.at > at) put(text.slice(at, event.at - 2), base + at);
    put(event.text);
    at = Math.max(at, event.to);
  }
  if (end > at) put(text.slice(at, end - 2), base + at);
  pieces.push('\n  ]');
  starts.push(-1);
  return {pieces, starts};
}

/**
 * Where a record goes in an account list's text (or bytes) as keyward
 * writes it, `[\n` then records: before the first record that sorts after
 * it (`order(start)` > 0 for the record starting at `start`), found by
 * halving the text, not by counting its records. `nextStart(from)` is
 * where the first record at or after `from` starts, else `end`, which
 * stands for the start after the last record.
 */
function sortedPlace(end: number, nextStart: (from: number) => number, order: (start: number) => number): number {
  let low = 2;
  let high = end;
  while (low < high) {
    const middle = nextStart(low + ((high - low) >>> 1));
    const start = middle >= high ? low : middle;
    if (order(start) <= 0) low = nextStart(start + 1);
    else high = start;
  }
  return low;
}

/**
 * The history's text after `appended` (the history as read keeping the
 * newest `limit` records), from `list`, the bytes of the history as keyward
 * writes it (`[\n    {` … `}\n  ]`), without parsing it: the oldest
 * records' text cut (`cut` bytes after the `[\n`), the new records' text
 * put after the last (at `at`). A record starts on a line of four spaces
 * and a brace (its members' lines are indented more). Null when the list is
 * not laid out so. Throws ShapeError, naming it as `validate` would, for a
 * record that is not one.
 */
export function unreadHistoryEdits(list: Buffer, appended: readonly HistoryRecord[], limit: number): {cut: number; at: number; text: string} | null {
  if (list.toString('latin1', 0, 7) !== '[\n    {' || list.toString('latin1', list.length - 4) !== '\n  ]') return null;
  const starts: number[] = [];
  for (let at = 1; at !== -1; at = list.indexOf('\n    {', at + 1, 'latin1')) starts.push(at + 1);
  const kept = appended.slice(Math.max(0, appended.length - limit));
  const drop = starts.length + kept.length - limit;
  // (Every old record dropped: the history is the new records alone, a cut of all the old ones' text and its comma.)
  if (drop >= starts.length)
    return {cut: list.length - 6, at: list.length - 4, text: kept.map((r, i) => recordText('history', historyRecord(r, `history[${i}]`))).join(',\n')};
  const text = kept.map((r, i) => `,\n${recordText('history', historyRecord(r, `history[${starts.length - Math.max(0, drop) + i}]`))}`).join('');
  return {cut: drop > 0 ? starts[drop] - 2 : 0, at: list.length - 4, text};
}

/** What starts a record in the account list's text keyward writes: a line of four spaces and a brace, then the entry's line. */
const RECORD_START = '    {\n      "entry": "';

/**
 * Where `record` goes in `list`, the bytes of an account list as keyward
 * writes it (`[\n    {` … `}\n  ]`), and the text that goes there: the
 * record's text, placed where sorting would place it (before the first
 * record that sorts after it), found by halving the bytes as accountSplice
 * halves the text. The list is neither decoded nor parsed (a one-entry
 * `authorize` on a large store: issue 15). Null when the list holds a record
 * of the same entry (an update or a renewal, which the list must be read
 * for), is empty, or is not laid out so. Throws ShapeError, naming it as
 * `validate` would, for a record that is not one.
 */
export function unreadAccountInsertion(list: Buffer, record: EntryRecord): {at: number; text: string} | null {
  const text = recordText('account', entryRecord(record, 'account[0]'));
  if (list.toString('latin1', 0, 2 + RECORD_START.length) !== `[\n${RECORD_START}` || list.toString('latin1', list.length - 4) !== '\n  ]') return null;
  // As in accountSplice: `end` stands for the start after the last record; a record ends two bytes before the next starts.
  const end = list.length - 2;
  const nextStart = (from: number) => {
    const at = list.indexOf('\n    {', from - 1, 'latin1');
    return at === -1 || at + 1 > end ? end : at + 1;
  };
  const entryAt = (start: number): EntryWords | null => {
    if (list.toString('latin1', start, start + RECORD_START.length) !== RECORD_START) return null;
    const open = start + RECORD_START.length;
    const close = list.indexOf(0x22, open);
    try {
      return close < 0 ? null : entryWordsOf([list.toString('latin1', open, close)]);
    } catch {
      return null;
    }
  };
  const words = entryWordsOf([record.entry]);
  let laidOut = true;
  const low = sortedPlace(end, nextStart, (start) => {
    const found = entryAt(start);
    laidOut &&= found !== null;
    return found === null ? 1 : compareEntries(found, 0, words, 0);
  });
  if (!laidOut) return null;
  if (low === 2) return {at: 2, text: `${text},\n`};
  // The record before the place sorts at or before the new one: one of the same entry is not added this way.
  const last = entryAt(list.lastIndexOf('\n    {', low - 3, 'latin1') + 1);
  if (last === null || compareEntries(last, 0, words, 0) === 0) return null;
  return low === end ? {at: end - 2, text: `,\n${text}`} : {at: low, text: `${text},\n`};
}

/**
 * The text of the store as written, `JSON.stringify(canonicalize(data), null,
 * 2)` and a newline, in pieces to write one after another. The event loop
 * gets a turn before and after canonicalizing and between pieces (the store
 * lock is kept fresh by a timer, and a lock not refreshed for 10 s is taken
 * over): a long top-level list is stringified a piece at a time, so no single
 * string holds a large store whole either. With `reuse` (see DocumentReuse),
 * the lists a change left as they were are the file's own text; `reused`,
 * when given, is told which.
 */
export async function documentText(data: StoreData, reuse: DocumentReuse | null = null, reused?: Set<string>): Promise<string[]> {
  const parts: string[] = [];
  for await (const part of documentPieces(data, reuse, reused)) parts.push(part);
  return parts;
}

/**
 * The piece documentPieces gave last, when it is cut from the text the
 * reuse was made from (DocumentReuse's `source`): that piece (the same
 * string) and where it starts there; else `text` is null. A reader that
 * compares the pieces with that very text (the writer: what changed) need
 * not compare a piece that comes from where it is reading (issue 15: the
 * account list's 16 MB at each follow commit).
 */
export const pieceSource: {text: string | null; start: number} = {text: null, start: -1};

/**
 * The pieces of `documentText`, made one at a time as they are asked for: a
 * writer that writes each before asking for the next never holds the whole
 * text (a 1M-entry store's is 160 MB). The document is checked and sorted
 * when the first piece is asked for (a fault throws then); `reused` is told
 * by then too.
 */
export async function* documentPieces(data: StoreData, reuse: DocumentReuse | null = null, reused?: Set<string>): AsyncGenerator<string> {
  // Nothing said yet (a text whose writing stopped half way may have left its last piece here).
  pieceSource.text = null;
  await nextTurn();
  const same = reusedMembers(data, reuse);
  for (const name of same) reused?.add(name);
  // The account list changed by a few records: its text spliced (see accountSplice), the list not checked whole, sorted or stringified.
  const spliced = reuse !== null && !same.has('account') ? accountSplice(data.account, reuse) : null;
  if (spliced !== null) reused?.add('account spliced');
  // A piece cut from the file's text is said to the reader (see pieceSource) as it is given.
  const cut = (piece: string, start: number | undefined) => {
    pieceSource.text = start === undefined || start < 0 || Number.isNaN(start) ? null : piece;
    pieceSource.start = start ?? -1;
    return piece;
  };
  const blank = [...same, ...(spliced === null ? [] : ['account'])];
  // Member by member, not spread: a list not read yet (see model.ts deferList) stays unread.
  const partial =
    blank.length === 0
      ? data
      : (Object.fromEntries(Object.keys(data).map((name) => [name, blank.includes(name) ? [] : (data as unknown as Json)[name]])) as unknown as StoreData);
  const document = canonicalize(partial) as unknown as Json;
  await nextTurn();
  const members = MEMBERS.filter((name) => same.has(name as Reusable) || document[name] !== undefined);
  yield '{\n';
  for (const [m, name] of members.entries()) {
    const value = document[name];
    if (name === 'account' && spliced !== null) {
      yield `  ${JSON.stringify(name)}: `;
      for (let i = 0; i < spliced.pieces.length; i++) yield cut(spliced.pieces[i], spliced.starts[i]);
      pieceSource.text = null;
    } else if (same.has(name as Reusable)) {
      yield `  ${JSON.stringify(name)}: `;
      // (A list not decoded, read by the change and left as it was: still the file's bytes, as if never read.)
      const unreadAt = reuse!.unreadStarts.get(name as Reusable);
      yield unreadAt === undefined ? cut(reuse!.texts.get(name as Reusable)!, reuse!.starts.get(name as Reusable)) : cut(UNREAD_LIST, unreadAt);
      pieceSource.text = null;
    } else if (Array.isArray(value) && value.length > STRINGIFY_RECORDS) {
      // Each piece is the member alone, `{\n  "name": [\n` … `\n  ]\n}`: its items are indented as in the document.
      const head = `{\n  ${JSON.stringify(name)}: [\n`;
      const tail = '\n  ]\n}';
      yield head.slice(2);
      for (let start = 0; start < value.length; start += STRINGIFY_RECORDS) {
        if (start > 0) {
          yield ',\n';
          if (start % PIECE_RECORDS === 0) await nextTurn();
        }
        const piece = JSON.stringify({[name]: value.slice(start, start + STRINGIFY_RECORDS)}, null, 2);
        yield piece.slice(head.length, piece.length - tail.length);
      }
      yield tail.slice(0, -2);
    } else {
      // `{\n` + the member as the document writes it + `\n}`.
      const member = JSON.stringify({[name]: value}, null, 2);
      yield member.slice(2, -2);
    }
    yield m < members.length - 1 ? ',\n' : '\n';
  }
  yield '}\n';
}
