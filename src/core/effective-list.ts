/**
 * The effective allowlist of the account or of one key at one moment (what
 * `export` writes, by the rules of `check`), and its aggregate. The formats
 * it is written in are in render/.
 */
import {aggregate, aggregateTimed} from './aggregate.js';
import {isLive} from './decision.js';
import {InputError, SafetyError} from './errors.js';
import {findKey} from './keys.js';
import {nearest} from './nearest.js';
import {BlockingState, Channel, EntryRecord, EntrySource, groupOf, isDeny, isEnabled, StoreData} from './model.js';
import {entryJson, EntryJson} from './reports.js';
import {Prefix} from './prefix.js';
import {CompiledIndex} from './prefix-index.js';
import {intersect, sortByPrefix, subtract, TimedPrefix} from './set-ops.js';

/** One exported entry, with the fields of `list --json`. Aggregated entries have no source, label or date. */
export interface ExportRow {
  prefix: Prefix;
  /** "account", or the key's name for an entry of its own list. */
  scope: string;
  source: EntrySource | null;
  label: string | null;
  addedAt: string | null;
  /** When the entry leaves the effective list (for a key: the earlier of its expiry and the account entries covering it). */
  expiresAt: string | null;
  /** A deny row refuses its addresses whatever the allow rows say (renderers put deny rules first, or subtract). */
  effect: 'allow' | 'deny';
  /** The entry's group, null (or absent) for none, and for aggregated ranges. */
  group?: string | null;
}

/** What is exported and why. */
export interface EffectiveList {
  /** "account" or the key's name. */
  scope: string;
  /** The list in words, for header comments and messages: "the account list", "key billing (api): …". */
  description: string;
  rows: ExportRow[];
  /** For a key: its channel and that channel's blocking state at the moment of export. */
  channel: Channel | null;
  state: BlockingState | null;
}

function expiresMs(record: EntryRecord): number {
  return record.expiresAt === null ? Number.POSITIVE_INFINITY : Date.parse(record.expiresAt);
}

function isoOrNull(ms: number): string | null {
  return ms === Number.POSITIVE_INFINITY ? null : new Date(ms).toISOString();
}

function rowOf(record: EntryRecord, scope: string, expires: number = expiresMs(record)): ExportRow {
  return {
    prefix: Prefix.parse(record.entry),
    scope,
    source: record.source,
    label: record.label,
    addedAt: record.addedAt,
    expiresAt: isoOrNull(expires),
    effect: isDeny(record) ? 'deny' : 'allow',
    group: groupOf(record),
  };
}

/** Rows in list order (Prefix.compare); no two rows have the same range. */
function sortRows(rows: ExportRow[]): ExportRow[] {
  return sortByPrefix(rows, (r) => r.prefix);
}

/**
 * The allowlist in force at `now` for the account (no key) or for a key, by
 * the rules of `check`: expired entries are left out, learned ones kept.
 *
 * - account: the account list.
 * - a key whose channel blocks (`active`): its own list intersected with the
 *   account list, or the account list when it has no list.
 * - a key whose channel does not block (`learning`, `inactive`): its own list.
 *
 * A key that nothing restricts (no list of its own, blocking not active)
 * allows every address, which no allowlist can say: a SafetyError (exit 4).
 * A revoked key allows no use at all: an InputError (exit 2).
 */
export function effectiveList(data: StoreData, keyName: string | undefined, now: Date): EffectiveList {
  const nowMs = now.getTime();
  // Disabled entries never match: they are left out, as expired ones are.
  const inForce = (r: EntryRecord) => isLive(r, now) && isEnabled(r);
  const account = data.account.filter((r) => inForce(r) && !isDeny(r));
  const accountDeny = data.account.filter((r) => inForce(r) && isDeny(r)).map((r) => rowOf(r, 'account'));
  if (keyName === undefined) {
    return {scope: 'account', description: 'the account list', rows: sortRows([...accountDeny, ...account.map((r) => rowOf(r, 'account'))]), channel: null, state: null};
  }
  const key = findKey(data.keys, keyName);
  const who = `key ${key.name} (${key.type})`;
  if (key.status === 'revoked') {
    throw new InputError(
      `${who} is revoked: it is refused from every address, so it has no allowlist to export`,
      'remove its rule from the gateway, or export another key; `keyward keys list` shows the keys',
    );
  }
  const state = data.blocking[key.type].state;
  // A key whose list holds only expired (or disabled) allow entries still has a list: it allows nothing (as in `check`).
  const hasList = key.allow.some((r) => !isDeny(r));
  const own = key.allow.filter((r) => inForce(r) && !isDeny(r));
  // Deny entries of the key's list and of the account list refuse in every state (SPEC "Decisions" step 2a).
  const deny = [...key.allow.filter((r) => inForce(r) && isDeny(r)).map((r) => rowOf(r, key.name)), ...accountDeny];
  const base = {scope: key.name, channel: key.type, state};
  if (state !== 'active') {
    if (!hasList) {
      throw new SafetyError(
        `${who} is not restricted: it has no list of its own and ${key.type} blocking is ${state}, so every address may use it; an allowlist cannot say "every address"`,
        `give it a list (keyward authorize --key ${key.name} ENTRY), turn blocking on (keyward activate --${key.type}), or export the account list (keyward export)`,
      );
    }
    return {...base, description: `${who}: its own list (${key.type} blocking ${state})`, rows: sortRows([...deny, ...own.map((r) => rowOf(r, key.name))])};
  }
  if (!hasList) {
    return {
      ...base,
      description: `${who}: the account list (${key.type} blocking active; the key has no list of its own)`,
      rows: sortRows([...deny, ...account.map((r) => rowOf(r, 'account'))]),
    };
  }
  const timed = (records: EntryRecord[]): TimedPrefix[] => records.map((r) => ({prefix: Prefix.parse(r.entry), expiresMs: expiresMs(r)}));
  const pieces = intersect(timed(own), timed(account)).filter((p) => p.expiresMs > nowMs);
  const rows = pieces.map((p) => (p.from.list === 'a' ? rowOf(own[p.from.index], key.name, p.expiresMs) : rowOf(account[p.from.index], 'account', p.expiresMs)));
  return {...base, description: `${who}: its own list intersected with the account list (${key.type} blocking active)`, rows: sortRows([...deny, ...rows])};
}

/** The deny rows and the allow rows, each in the order given. */
export function byEffect(rows: readonly ExportRow[]): {deny: ExportRow[]; allow: ExportRow[]} {
  return {deny: rows.filter((r) => r.effect === 'deny'), allow: rows.filter((r) => r.effect === 'allow')};
}

/**
 * The allow rows without the addresses of the deny rows, for formats that
 * have no deny rule: an allow row no deny row touches stays as it is; one a
 * deny row cuts into becomes the ranges left around it (with the row's
 * label and dates); one a deny row contains goes.
 */
export function allowedRows(rows: readonly ExportRow[]): ExportRow[] {
  const known = allowedOf.get(rows);
  if (known !== undefined) return known;
  const {deny, allow} = byEffect(rows);
  const holes = deny.map((r) => r.prefix);
  const allowed =
    deny.length === 0 ? allow : sortRows(allow.flatMap((row) => subtract(row.prefix, holes).map((prefix) => (prefix.equals(row.prefix.masked()) ? row : {...row, prefix}))));
  allowedOf.set(rows, allowed);
  return allowed;
}

/** Whether `allowedRows(rows)` holds any row: found at the first allow row the deny rows leave an address of (not every row subtracted). */
export function anyAllowed(rows: readonly ExportRow[]): boolean {
  const known = allowedOf.get(rows);
  if (known !== undefined) return known.length > 0;
  const {deny, allow} = byEffect(rows);
  const holes = deny.map((r) => r.prefix);
  return allow.some((row) => deny.length === 0 || subtract(row.prefix, holes).length > 0);
}

/** `allowedRows` of a list of rows, kept while the list lives: an export asks it for the count, the output and its warnings. */
const allowedOf = new WeakMap<readonly ExportRow[], ExportRow[]>();

/**
 * The effective list with only the rows of group `group` (SPEC "Groups":
 * `export --group`). With `everyDeny` (a gateway's format), the list's deny
 * rows of other groups and of none are kept too: deny wins everywhere, and a
 * gateway loading the group's file alone must never let in an address
 * keyward denies. Without it (plain, csv, json: files `sync --group` reads
 * back) only the group's own rows, so that the round trip leaves other
 * entries where they are.
 */
/**
 * Refuses `export --group NAME` (exit 2) when no entry of any list has
 * group NAME and no change in the history touched one: a typo, which would
 * otherwise write a gateway file that refuses every address. A group that
 * was used and is now empty exports as empty (with a warning), since a file
 * still holding its old entries would let in what was revoked.
 */
export function checkGroupKnown(data: StoreData, group: string): void {
  const inUse = new Set<string>();
  for (const list of [data.account, ...data.keys.map((k) => k.allow)]) {
    for (const record of list) {
      const g = groupOf(record);
      if (g !== null) inUse.add(g);
    }
  }
  if (inUse.has(group)) return;
  const touched = (data.history ?? []).some((r) => r.changes.entries.some((e) => e.groups?.includes(group)));
  if (touched) return;
  const names = [...inUse].sort();
  const meant = nearest(group, names);
  throw new InputError(
    `no entry has group ${group}, and no change in the history touched one${meant === null ? '' : `; did you mean ${meant}?`}`,
    names.length === 0 ? 'no entry has a group: give one with authorize --group NAME' : `groups in use: ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', …' : ''}`,
  );
}

export function inGroup(list: EffectiveList, group: string, everyDeny = false): EffectiveList {
  const rows = list.rows.filter((r) => (r.group ?? null) === group || (everyDeny && r.effect === 'deny'));
  return {...list, description: `${list.description}, group ${group}${everyDeny ? ' (and every deny entry)' : ''}`, rows};
}

/**
 * The fewest CIDR ranges covering the rows' addresses. For a format that
 * writes expiries (`timed`), ranges of one expiry each: every address keeps
 * the latest expiry of the rows holding it (see aggregateTimed), so that a
 * range neither outlives the entries it stands for nor dies before them.
 * Else the ranges of the union, each with the earliest expiry inside it
 * (what the warning that a file outlives an entry names).
 */
export function aggregateRows(rows: readonly ExportRow[], scope: string, timed = false): ExportRow[] {
  const {deny, allow} = byEffect(rows);
  const of = timed ? timedAggregateOf : aggregateOf;
  return [...of(deny, scope, 'deny'), ...of(allow, scope, 'allow')];
}

function timedAggregateOf(rows: readonly ExportRow[], scope: string, effect: 'allow' | 'deny'): ExportRow[] {
  const ranges = aggregateTimed(rows.map((r) => ({prefix: r.prefix, ms: r.expiresAt === null ? Number.POSITIVE_INFINITY : Date.parse(r.expiresAt)})));
  return ranges.map(({prefix, ms}) => ({prefix, scope, source: null, label: null, addedAt: null, expiresAt: isoOrNull(ms), group: null, effect}));
}

function aggregateOf(rows: readonly ExportRow[], scope: string, effect: 'allow' | 'deny'): ExportRow[] {
  const ranges = aggregate(rows.map((r) => r.prefix));
  const earliest = ranges.map(() => Number.POSITIVE_INFINITY);
  // Every row lies inside exactly one of the ranges.
  const index = CompiledIndex.fromTexts(ranges.map(String));
  for (const row of rows) {
    if (row.expiresAt === null) continue;
    const ms = Date.parse(row.expiresAt);
    const p = row.prefix.masked();
    for (const i of index.covering(p.family, p.address.words(), p.bits)) if (ms < earliest[i]) earliest[i] = ms;
  }
  return ranges.map((prefix, i) => ({prefix, scope, source: null, label: null, addedAt: null, expiresAt: isoOrNull(earliest[i]), group: null, effect}));
}

/** The earliest expiry among rows (ISO), or null. */
export function firstExpiry(rows: readonly ExportRow[]): string | null {
  let first: string | null = null;
  for (const r of rows) if (r.expiresAt !== null && (first === null || Date.parse(r.expiresAt) < Date.parse(first))) first = r.expiresAt;
  return first;
}

/** The rows as `list --json` writes entries. */
export function jsonRows(rows: readonly ExportRow[]): EntryJson[] {
  return rows.map((r) => entryJson(r.prefix.toString(), r.scope, {...r, enabled: true}));
}
