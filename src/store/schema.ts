/**
 * The store document's schema: checking a parsed document is a store keyward
 * can use, and writing it with a stable key order and sorted lists so that it
 * diffs well in git.
 */
import {AddressError, show} from '../core/errors.js';
import {
  ApiBlocking,
  BlockedRecord,
  CHANNELS,
  EntryRecord,
  KeyRecord,
  SCHEMA_VERSION,
  SeenRecord,
  Settings,
  SmtpBlocking,
  StoreData,
} from '../core/model.js';
import {isCanonicalEntry, Prefix} from '../core/prefix.js';

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

function time(value: unknown, path: string): string {
  const text = string(value, path);
  if (Number.isNaN(Date.parse(text))) fail(path, `is not a time: ${show(text)}`);
  return text;
}

function nullableTime(value: unknown, path: string): string | null {
  return value === null ? null : time(value, path);
}

function count(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) fail(path, 'is not a count');
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

function entryRecord(value: unknown, path: string): EntryRecord {
  const o = object(value, path);
  return {
    entry: entry(o.entry, `${path}.entry`),
    source: oneOf(o.source, ['manual', 'learned', 'import', 'blocked'] as const, `${path}.source`),
    label: nullableString(o.label, `${path}.label`),
    addedAt: time(o.addedAt, `${path}.addedAt`),
    expiresAt: nullableTime(o.expiresAt, `${path}.expiresAt`),
  };
}

function keyRecord(value: unknown, path: string): KeyRecord {
  const o = object(value, path);
  const hash = string(o.hash, `${path}.hash`);
  if (!/^[0-9a-f]{64}$/.test(hash)) fail(`${path}.hash`, 'is not a sha256 hash');
  return {
    name: string(o.name, `${path}.name`),
    type: oneOf(o.type, CHANNELS, `${path}.type`),
    hash,
    hint: string(o.hint, `${path}.hint`),
    status: oneOf(o.status, ['active', 'revoked'] as const, `${path}.status`),
    createdAt: time(o.createdAt, `${path}.createdAt`),
    rotatedAt: nullableTime(o.rotatedAt, `${path}.rotatedAt`),
    revokedAt: nullableTime(o.revokedAt, `${path}.revokedAt`),
    allow: array(o.allow, `${path}.allow`).map((r, i) => entryRecord(r, `${path}.allow[${i}]`)),
  };
}

function settings(value: unknown, path: string): Settings {
  const o = object(value, path);
  const positive = (v: unknown, p: string, max: number) => {
    const n = count(v, p);
    if (n > max) fail(p, `is more than ${max}`);
    return n;
  };
  return {
    learningWindowDays: positive(o.learningWindowDays, `${path}.learningWindowDays`, 36_500),
    learnPrefixV4: positive(o.learnPrefixV4, `${path}.learnPrefixV4`, 32),
    learnPrefixV6: positive(o.learnPrefixV6, `${path}.learnPrefixV6`, 128),
    seenRetentionDays: positive(o.seenRetentionDays, `${path}.seenRetentionDays`, 36_500),
  };
}

function apiBlocking(value: unknown, path: string): ApiBlocking {
  const o = object(value, path);
  return {
    state: oneOf(o.state, ['learning', 'active', 'inactive'] as const, `${path}.state`),
    changedAt: time(o.changedAt, `${path}.changedAt`),
    learningSince: nullableTime(o.learningSince, `${path}.learningSince`),
    firstEventAt: nullableTime(o.firstEventAt, `${path}.firstEventAt`),
    lastNewAddressAt: nullableTime(o.lastNewAddressAt, `${path}.lastNewAddressAt`),
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
  };
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
  if (o.version !== SCHEMA_VERSION) fail('version', `is ${JSON.stringify(o.version)}, expected ${SCHEMA_VERSION}`);
  const blocking = object(o.blocking, 'blocking');
  return {
    version: SCHEMA_VERSION,
    settings: settings(o.settings, 'settings'),
    blocking: {api: apiBlocking(blocking.api, 'blocking.api'), smtp: smtpBlocking(blocking.smtp, 'blocking.smtp')},
    account: array(o.account, 'account').map((r, i) => entryRecord(r, `account[${i}]`)),
    keys: array(o.keys, 'keys').map((r, i) => keyRecord(r, `keys[${i}]`)),
    blocked: array(o.blocked, 'blocked').map((r, i) => blockedRecord(r, `blocked[${i}]`)),
    seen: array(o.seen, 'seen').map((r, i) => seenRecord(r, `seen[${i}]`)),
  };
}

/** Entry records in list order: by family, network, then wider first. */
export function sortEntryRecords(records: EntryRecord[]): EntryRecord[] {
  const keyed = records.map((r) => ({r, p: Prefix.parse(r.entry)}));
  keyed.sort((a, b) => Prefix.compare(a.p, b.p));
  return keyed.map((k) => k.r);
}

function byAddressThen<T extends {ip: string}>(records: T[], tie: (a: T, b: T) => number): T[] {
  const keyed = records.map((r) => ({r, p: Prefix.parse(r.ip)}));
  keyed.sort((a, b) => Prefix.compare(a.p, b.p) || tie(a.r, b.r));
  return keyed.map((k) => k.r);
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The document as it is written: every object rebuilt in schema key order
 * (validate builds them so) and every list sorted.
 */
export function canonicalize(data: StoreData): StoreData {
  const fresh = validate(JSON.parse(JSON.stringify(data)));
  fresh.account = sortEntryRecords(fresh.account);
  fresh.keys.sort((a, b) => compareText(a.name, b.name));
  for (const key of fresh.keys) key.allow = sortEntryRecords(key.allow);
  fresh.blocked = byAddressThen(fresh.blocked, (a, b) => compareText(a.key, b.key) || compareText(a.channel, b.channel));
  fresh.seen = byAddressThen(fresh.seen, (a, b) => compareText(a.channel, b.channel));
  for (const s of fresh.seen) s.keys.sort(compareText);
  return fresh;
}
