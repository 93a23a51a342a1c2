/**
 * What the reading commands report, as values: the rows of `list` (and of
 * `export`'s JSON: one shape for both) and the object of `status`.
 */
import {aggregate} from './aggregate.js';
import {latestBlocked} from './blocked-list.js';
import {isLive} from './decision.js';
import {findKey} from './keys.js';
import {learningProgress, quietDays} from './learning.js';
import {EntryRecord, EntrySource, isDeny, isEnabled, StoreData} from './model.js';
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
  /** A deny entry refuses the addresses it contains, whatever allows them (SPEC "Deny entries"). */
  effect: 'allow' | 'deny';
  /** A disabled entry never matches (SPEC "Disabled entries"). */
  enabled: boolean;
}

/** The one way an entry is written as JSON. */
export function entryJson(
  entry: string,
  scope: string,
  r: {source: EntrySource | null; label: string | null; addedAt: string | null; expiresAt: string | null; effect?: 'allow' | 'deny'; enabled?: boolean},
): EntryJson {
  return {entry, scope, source: r.source, label: r.label, addedAt: r.addedAt, expiresAt: r.expiresAt, effect: r.effect ?? 'allow', enabled: r.enabled ?? true};
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
  const scopes = [{scope: 'account', records: data.account}];
  if (!options.accountOnly) for (const key of data.keys) if (key.allow.length > 0) scopes.push({scope: key.name, records: key.allow});
  return scopes;
}

/** `list --json`: every record of the scopes. */
export function listJson(scopes: readonly ListScope[]): EntryJson[] {
  return scopes.flatMap(({scope, records}) => records.map((r) => entryJson(r.entry, scope, {...r, effect: isDeny(r) ? 'deny' : 'allow', enabled: isEnabled(r)})));
}

/** `list --aggregate --json`: per scope, the fewest CIDR ranges covering its live, enabled allow entries. */
export function aggregatedListJson(scopes: readonly ListScope[], now: Date): {entry: string; scope: string}[] {
  return scopes.flatMap(({scope, records}) =>
    aggregate(records.filter((r) => isLive(r, now) && isEnabled(r) && !isDeny(r)).map((r) => Prefix.parse(r.entry))).map((p) => ({entry: p.toString(), scope})),
  );
}

/** How many of the latest blocked addresses status shows. */
export const STATUS_LATEST = 5;

/** `status --json`: the store read, each channel's blocking, counts, the latest blocked, the settings. */
export function statusJson(data: StoreData, store: string, now: Date) {
  const api = data.blocking.api;
  const progress = learningProgress(api, data.settings);
  const entries = [data.account, ...data.keys.map((k) => k.allow)].flat();
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
      accountEntries: data.account.length,
      learnedEntries: data.account.filter((r) => r.source === 'learned').length,
      keyEntries: entries.length - data.account.length,
      expiredEntries: entries.filter((r) => !isLive(r, now)).length,
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
