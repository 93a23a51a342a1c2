/**
 * What the reading commands report, as values: the rows of `list` (and of
 * `export`'s JSON: one shape for both) and the object of `status`.
 */
import {aggregate} from './aggregate.js';
import {latestBlocked} from './blocked-list.js';
import {isLive} from './decision.js';
import {findKey} from './keys.js';
import {learningProgress, quietDays} from './learning.js';
import {Address} from './address.js';
import {CHANNELS, EntryRecord, EntrySource, groupOf, isDeny, isEnabled, KeyRecord, StoreData} from './model.js';
import {Prefix} from './prefix.js';

/** One entry of `list --json` and `export --format json` (SPEC "Machine output"). Aggregated entries have no source, label or date. */
export interface EntryJson {
  entry: string;
  /** "account", or the key's name for an entry of its own list. */
  scope: string;
  source: EntrySource | null;
  label: string | null;
  addedAt: string | null;
  expiresAt: string | null;
  /** The entry's group (SPEC "Groups"), null for none. */
  group: string | null;
  /** A deny entry refuses the addresses it contains, whatever allows them (SPEC "Deny entries"). */
  effect: 'allow' | 'deny';
  /** A disabled entry never matches (SPEC "Disabled entries"). */
  enabled: boolean;
}

/** The one way an entry is written as JSON. */
export function entryJson(
  entry: string,
  scope: string,
  r: {source: EntrySource | null; label: string | null; addedAt: string | null; expiresAt: string | null; group?: string | null; effect?: 'allow' | 'deny'; enabled?: boolean},
): EntryJson {
  return {
    entry,
    scope,
    source: r.source,
    label: r.label,
    addedAt: r.addedAt,
    expiresAt: r.expiresAt,
    group: r.group ?? null,
    effect: r.effect ?? 'allow',
    enabled: r.enabled ?? true,
  };
}

/** A list `list` shows: "account" or a key's name, and its records. */
export interface ListScope {
  scope: string;
  records: EntryRecord[];
}

/** The lists `list` shows: key `key`'s (a name or secret), else the account list and (unless `accountOnly`) every key list that has entries. */
export function listScopes(data: StoreData, options: {key?: string; accountOnly?: boolean} = {}): ListScope[] {
  if (options.key !== undefined) {
    const key = findKey(data.keys, options.key);
    return [{scope: key.name, records: key.allow}];
  }
  return [{scope: 'account', records: data.account}, ...(options.accountOnly ? [] : keyScopes(data.keys))];
}

/** The key lists `list` shows after the account list: every one that has entries. */
export function keyScopes(keys: readonly KeyRecord[]): ListScope[] {
  return keys.filter((key) => key.allow.length > 0).map((key) => ({scope: key.name, records: key.allow}));
}

/** `list --json`: every record of the scopes. */
export function listJson(scopes: readonly ListScope[]): EntryJson[] {
  const rows: EntryJson[] = [];
  // Field by field, in entryJson's order: a list of 100,000 entries is built in a few milliseconds.
  for (const {scope, records} of scopes) {
    for (const r of records) {
      rows.push({
        entry: r.entry,
        scope,
        source: r.source,
        label: r.label,
        addedAt: r.addedAt,
        expiresAt: r.expiresAt,
        group: groupOf(r),
        effect: isDeny(r) ? 'deny' : 'allow',
        enabled: isEnabled(r),
      });
    }
  }
  return rows;
}

/** `list --aggregate --json`: per scope, the fewest CIDR ranges covering its live, enabled allow entries. */
export function aggregatedListJson(scopes: readonly ListScope[], now: Date): {entry: string; scope: string}[] {
  return scopes.flatMap(({scope, records}) =>
    aggregate(records.filter((r) => isLive(r, now) && isEnabled(r) && !isDeny(r)).map((r) => Prefix.parse(r.entry))).map((p) => ({entry: p.toString(), scope})),
  );
}

/** How many of the latest blocked addresses status shows. */
export const STATUS_LATEST = 5;

/**
 * What `status` counts of the account list: its records, the learned ones,
 * and the expiry times given (null ones left out). A store keyward provably
 * wrote gives these from its text without the records being parsed (see
 * store/read.ts readStoreSummary).
 */
export interface AccountSummary {
  entries: number;
  learned: number;
  /** Each expiry time given, with how many records have it. */
  expiries: [string, number][];
}

/** The AccountSummary of a list of records. */
export function accountSummary(records: readonly EntryRecord[]): AccountSummary {
  let learned = 0;
  const expiries = new Map<string, number>();
  for (const r of records) {
    if (r.source === 'learned') learned++;
    if (r.expiresAt !== null) expiries.set(r.expiresAt, (expiries.get(r.expiresAt) ?? 0) + 1);
  }
  return {entries: records.length, learned, expiries: [...expiries]};
}

/**
 * `status --json`: the store read, each channel's blocking, counts, the
 * latest blocked, the settings. The account list is counted from `account`
 * when given (then `data.account` is not read), else from `data.account`.
 */
export function statusJson(data: StoreData, store: string, now: Date, account: AccountSummary = accountSummary(data.account)) {
  const api = data.blocking.api;
  const progress = learningProgress(api, data.settings);
  const keyEntries = data.keys.flatMap((k) => k.allow);
  const expired = (expiresAt: string) => !(Date.parse(expiresAt) > now.getTime());
  return {
    // Which store was read: a mistyped --store is an error, and this says which file the answer is about.
    store,
    api: {
      state: api.state,
      learningSince: api.state === 'learning' ? api.learningSince : null,
      lastNewAddressAt: api.lastNewAddressAt,
      activatesAt: progress?.activatesAt.toISOString() ?? null,
      // Quiet time observed (whole days from the window's start to the latest API event) and that latest event.
      quietDays: progress === null ? null : quietDays(progress),
      lastEventAt: progress?.lastEventAt?.toISOString() ?? null,
    },
    smtp: {state: data.blocking.smtp.state},
    counts: {
      accountEntries: account.entries,
      learnedEntries: account.learned,
      keyEntries: keyEntries.length,
      // (Not live: see isLive.)
      expiredEntries: account.expiries.reduce((sum, [at, n]) => (expired(at) ? sum + n : sum), 0) + keyEntries.filter((r) => !isLive(r, now)).length,
      keys: data.keys.length,
      activeKeys: data.keys.filter((k) => k.status === 'active').length,
      blocked: data.blocked.length,
      seen: data.seen.length,
    },
    latestBlocked: latestBlocked(data, STATUS_LATEST),
    settings: data.settings,
  };
}

export type StatusJson = ReturnType<typeof statusJson>;

/** What `list --group/--source/--label/--expired/--disabled` keep (every given condition must hold). */
export interface ListFilter {
  group?: string;
  source?: EntrySource;
  /** A substring of the label, in any case. */
  label?: string;
  /** Only entries expired at `now`. */
  expired?: boolean;
  /** Only disabled entries. */
  disabled?: boolean;
}

/** Whether a filter says anything. */
export function filters(filter: ListFilter): boolean {
  return filter.group !== undefined || filter.source !== undefined || filter.label !== undefined || filter.expired === true || filter.disabled === true;
}

/** Whether record `r` passes `filter` at `now`. */
export function passes(r: EntryRecord, filter: ListFilter, now: Date): boolean {
  if (filter.group !== undefined && groupOf(r) !== filter.group) return false;
  if (filter.source !== undefined && r.source !== filter.source) return false;
  if (filter.label !== undefined && (r.label === null || !r.label.toLowerCase().includes(filter.label.toLowerCase()))) return false;
  if (filter.expired === true && isLive(r, now)) return false;
  if (filter.disabled === true && isEnabled(r)) return false;
  return true;
}

/** The scopes with only the records that pass `filter`; a scope left empty is dropped. */
export function filterScopes(scopes: readonly ListScope[], filter: ListFilter, now: Date): ListScope[] {
  if (!filters(filter)) return [...scopes];
  return scopes.map(({scope, records}) => ({scope, records: records.filter((r) => passes(r, filter, now))})).filter((s) => s.records.length > 0);
}

/** One row of `list --contains`: an entry holding the address, whether it applies, and why (or why not). */
export interface ContainsRow extends EntryJson {
  applies: boolean;
  why: string;
}

/**
 * Every entry of the account list and of every key list (the scopes given)
 * that holds `address`, with whether it applies and why: an expired entry
 * never matches; a revoked key's list applies to nothing; a key's own list
 * applies to that key only; the account list applies to the keys whose
 * channel blocks. With `forKey` (a key's name) the question is about that
 * key: another key's list does not apply to it, and the account list applies
 * only while its channel blocks.
 */
export function containsRows(data: StoreData, scopes: readonly ListScope[], address: Address, now: Date, forKey?: string): ContainsRow[] {
  const key = forKey === undefined ? undefined : data.keys.find((k) => k.name === forKey);
  const rows: ContainsRow[] = [];
  for (const {scope, records} of scopes) {
    const owner = scope === 'account' ? undefined : data.keys.find((k) => k.name === scope);
    for (const r of records) {
      if (!Prefix.parse(r.entry).contains(address)) continue;
      rows.push({...entryJson(r.entry, scope, {...r, effect: isDeny(r) ? 'deny' : 'allow', enabled: isEnabled(r)}), ...whyApplies(data, r, owner, key, now)});
    }
  }
  return rows;
}

function whyApplies(data: StoreData, r: EntryRecord, owner: KeyRecord | undefined, key: KeyRecord | undefined, now: Date): {applies: boolean; why: string} {
  if (!isLive(r, now)) return {applies: false, why: `expired at ${r.expiresAt}: never matches`};
  if (!isEnabled(r)) return {applies: false, why: 'disabled: never matches (keyward enable switches it back on)'};
  if (isDeny(r)) {
    const whose = owner === undefined ? 'every key' : `key ${owner.name}`;
    if (owner !== undefined && key !== undefined && key.name !== owner.name) return {applies: false, why: `deny entry of key ${owner.name}'s own list: not for ${key.name}`};
    return {applies: true, why: `deny entry: refuses ${whose} in every blocking state, whatever allows it`};
  }
  if (owner !== undefined) {
    if (owner.status === 'revoked') return {applies: false, why: `key ${owner.name} is revoked: refused from every address`};
    if (key !== undefined && key.name !== owner.name) return {applies: false, why: `key ${owner.name}'s own list: applies to that key only, not to ${key.name}`};
    return {applies: true, why: `key ${owner.name}'s own list: applies to key ${owner.name} only`};
  }
  if (key !== undefined) {
    if (key.status === 'revoked') return {applies: false, why: `key ${key.name} is revoked: refused from every address`};
    const state = data.blocking[key.type].state;
    return state === 'active'
      ? {applies: true, why: `account list: checked for key ${key.name} (${key.type} blocking active)`}
      : {applies: false, why: `account list: not checked for key ${key.name} while ${key.type} blocking is ${state}`};
  }
  const states = CHANNELS.map((ch) => `${ch} ${data.blocking[ch].state}`).join(', ');
  return {applies: true, why: `account list: applies to every key whose channel blocks (${states})`};
}
