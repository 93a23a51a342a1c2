/**
 * `authorize`: entries added to the account list or a key list, and the
 * blocked addresses they let through taken off the blocked list.
 */
import {AddResult, addEntries, switchEntries, SwitchResult} from './allowlist.js';
import {EntryBatch} from './entry-parse.js';
import {releaseBlocked} from './blocked-list.js';
import {untrusted} from './errors.js';
import {findKey} from './keys.js';
import {StoreData} from './model.js';
import {Prefix} from './prefix.js';

export interface AuthorizeResult extends AddResult {
  /** How many blocked records the entries released. */
  unblocked: number;
  /** Blocked records the entries cover that another list still refuses ("ADDRESS (key NAME)"): they stay listed. */
  stillRefused: string[];
}

/** `authorize --json` (SPEC "Machine output"). */
export interface AuthorizeJson {
  added: string[];
  covered: AddResult['covered'];
  updated: {entry: string; label: string | null; group: null; expiresAt: string | null}[];
  unchanged: string[];
  dryRun: boolean;
}

/** What `authorize` is told besides its entries. */
export interface AuthorizeOptions {
  /** A key's name or secret: its list, instead of the account list. */
  key?: string;
  /** The label of entries that have none of their own (--label). */
  label: string | null;
  /** The expiry of every entry (--expires), or null. */
  expiresAt: string | null;
  now: Date;
}

/**
 * Adds `entries` to the list of key `key`, else to the account list, in
 * place (see addEntries): an entry without a label of its own takes
 * `label`, every entry `expiresAt`.
 * Only what the change lets in leaves the blocked list: an address added to
 * a key list that the account list does not cover (or the reverse) is still
 * refused, and stays listed.
 */
export function authorize(data: StoreData, entries: EntryBatch, options: AuthorizeOptions): AuthorizeResult {
  for (let i = 0; i < entries.count; i++) {
    entries.labels[i] ??= options.label;
    entries.expiresAt[i] = options.expiresAt;
  }
  const key = options.key === undefined ? undefined : findKey(data.keys, options.key);
  const change = addEntries(key ? key.allow : data.account, entries, options.now);
  const {released, stillRefused} = releaseBlocked(data, entries, options.now, key?.name);
  return {...change, unblocked: released, stillRefused: stillRefused.map((b) => `${b.ip} (key ${untrusted(b.key)})`)};
}

/**
 * `deny`: deny entries added to the account list or a key list, as
 * `authorize` adds allow entries (same labels, expiry, covers among deny
 * entries, exact entries updated). An entry the list holds as an allow
 * entry is refused (see addEntries). Nothing leaves the blocked list.
 */
export function deny(data: StoreData, entries: EntryBatch, options: AuthorizeOptions): AddResult {
  for (let i = 0; i < entries.count; i++) {
    entries.labels[i] ??= options.label;
    entries.expiresAt[i] = options.expiresAt;
  }
  const key = options.key === undefined ? undefined : findKey(data.keys, options.key);
  return addEntries(key ? key.allow : data.account, entries, options.now, 'deny');
}

/** `enable` / `disable`: exact entries (allow or deny) of the account list or a key list switched on or off. */
export function switchListEntries(data: StoreData, prefixes: readonly Prefix[], options: {key?: string; enabled: boolean}): SwitchResult {
  const key = options.key === undefined ? undefined : findKey(data.keys, options.key);
  return switchEntries(key ? key.allow : data.account, prefixes, options.enabled);
}

export function authorizeJson(result: AddResult, dryRun: boolean): AuthorizeJson {
  // Groups are not in the store yet: every entry's group is null.
  const updated = result.updated.map((u) => ({entry: u.entry, label: u.label, group: null, expiresAt: u.expiresAt}));
  return {added: result.added, covered: result.covered, updated, unchanged: result.unchanged, dryRun};
}
