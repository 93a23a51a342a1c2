/**
 * `authorize`: entries added to the account list or a key list, and the
 * blocked addresses they let through taken off the blocked list.
 */
import {AddResult, addEntries, blockedCoveredBy, carryCovered, Effect, effectOf} from './allowlist.js';
import {Family} from './address.js';
import {EntryBatch} from './entry-parse.js';
import {releaseBlocked} from './blocked-list.js';
import {untrusted} from './errors.js';
import {findKey} from './keys.js';
import {EntryIndex, isLive} from './decision.js';
import {EntryRecord, groupOf, isEnabled, StoreData} from './model.js';

export interface AuthorizeResult extends AddResult {
  /** How many blocked records the entries released. */
  unblocked: number;
  /** Blocked records the entries cover that another list still refuses ("ADDRESS (key NAME)"): they stay listed. */
  stillRefused: string[];
  /** With a group: entries already live in the list in another group, left there (SPEC "Groups"). */
  elsewhere: {entry: string; group: string}[];
  /** The group of each updated entry after the change (by entry), for `updated[].group`. */
  groups: Map<string, string | null>;
  /** Entries of the batch the list holds disabled: they stay off (only `enable` switches an entry on). */
  disabled: string[];
}

/** `authorize --json` (SPEC "Machine output"). */
export interface AuthorizeJson {
  added: string[];
  covered: AddResult['covered'];
  updated: {entry: string; label: string | null; group: string | null; expiresAt: string | null}[];
  unchanged: string[];
  /** With --group: entries already in the list in another group, left there (always empty without --group). */
  elsewhere: {entry: string; group: string}[];
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
  /** The group of every entry (--group), or null: an entry already live in another group stays there. */
  group?: string | null;
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
export function authorize(data: StoreData, entries: EntryBatch, options: AuthorizeOptions, effect: Effect = 'allow'): AuthorizeResult {
  for (let i = 0; i < entries.count; i++) {
    entries.labels[i] ??= options.label;
    entries.expiresAt[i] = options.expiresAt;
  }
  const key = options.key === undefined ? undefined : findKey(data.keys, options.key);
  const list = key ? key.allow : data.account;
  const group = options.group ?? null;
  // Entries of the batch already live in another group: they stay there (checked before the batch joins the list).
  const batchTexts = group === null ? null : new Set(entries.texts);
  const elsewhere = new Map<string, string>();
  if (batchTexts !== null) {
    for (const r of list) {
      const g = groupOf(r);
      if (g !== null && g !== group && batchTexts.has(r.entry) && isLive(r, options.now) && !elsewhere.has(r.entry)) elsewhere.set(r.entry, g);
    }
  }
  const change = addEntries(list, entries, options.now, effect);
  if (batchTexts !== null) joinGroup(list, change, batchTexts, elsewhere, group!, options.now);
  const groups = new Map<string, string | null>();
  if (change.updated.length > 0) {
    const updated = new Set(change.updated.map((u) => u.entry));
    for (const r of list) if (updated.has(r.entry) && isLive(r, options.now) && !groups.has(r.entry)) groups.set(r.entry, groupOf(r));
  }
  // (The batch's texts as a set only when the list holds a disabled entry at all: a large import into a list without one skips it.)
  const off = list.filter((r) => !isEnabled(r) && effectOf(r) === effect);
  const inBatch = off.length === 0 ? null : new Set(entries.texts);
  const disabled = inBatch === null ? [] : [...new Set(off.filter((r) => inBatch.has(r.entry)).map((r) => r.entry))];
  // Deny entries let nothing in: nothing leaves the blocked list.
  const {released, stillRefused} = effect === 'deny' ? {released: 0, stillRefused: []} : releaseBlocked(data, entries, options.now, key?.name);
  // Not a spread of `change`: its covered entries stay compact until they are read (see carryCovered).
  return carryCovered(change, {
    added: change.added,
    covered: [],
    updated: change.updated,
    unchanged: change.unchanged,
    unblocked: released,
    stillRefused: stillRefused.map((b) => `${b.ip} (key ${untrusted(b.key)})`),
    elsewhere: [...elsewhere].map(([entry, g]) => ({entry, group: g})),
    groups,
    disabled,
  });
}

/** Whether `authorizeOneUnread` may take this change: one entry into the account list, with no group or expiry. */
export function isOneIntoAccount(count: number, options: Pick<AuthorizeOptions, 'key' | 'group' | 'expiresAt'>): boolean {
  return count === 1 && options.key === undefined && (options.group ?? null) === null && options.expiresAt === null;
}

/**
 * `authorize` of one entry into the account list without reading the list
 * (issue 15: on a large store, parsing the list was most of a one-entry
 * write): what the list holds that bears on the entry is asked of
 * `account`, the list compiled (the store's index cache, which holds every
 * enabled entry), and the record is handed to `add`, which puts it in the
 * list unread (see store.ts ChangeContext.addToAccountUnread) and may
 * refuse. The same result, record and history as `authorize` gives, for the
 * one case it covers: a new entry, no key, group or expiry, that lets no
 * blocked address in. Null, having changed nothing, for anything else (the
 * entry held in any form, live or not, allow or deny, enabled or not; a
 * blocked record it covers, whose release the whole policy decides): the
 * caller then runs `authorize`.
 */
export function authorizeOneUnread(
  data: StoreData,
  entries: EntryBatch,
  options: AuthorizeOptions,
  account: EntryIndex,
  add: (record: EntryRecord) => boolean,
): AuthorizeResult | null {
  if (!isOneIntoAccount(entries.count, options)) return null;
  const family = entries.family[0] as Family;
  const bits = entries.bits[0];
  const network = entries.words.subarray(0, 4);
  const text = entries.texts[0];
  // Every enabled copy, live or not (a disabled one is sought by `add`, beside where the record would go).
  const held = account.textsOf(account.compiled.covering(family, network, bits));
  if (held.allow.includes(text) || held.deny.includes(text)) return null;
  if (blockedCoveredBy(data.blocked, entries).length > 0) return null;
  // The live enabled allow entries that contain it, outermost first: all addEntries would find of the list (it holds no copy).
  const covers = account.textsOf(account.compiled.covering(family, network, bits, options.now.getTime())).allow;
  const list: EntryRecord[] = covers.map((entry) => ({entry, source: 'manual', label: null, addedAt: options.now.toISOString(), expiresAt: null}));
  entries.labels[0] ??= options.label;
  entries.expiresAt[0] = null;
  const change = addEntries(list, entries, options.now);
  if (change.added.length !== 1 || list.length !== covers.length + 1 || !add(list[covers.length])) return null;
  return carryCovered(change, {
    added: change.added,
    covered: [],
    updated: [],
    unchanged: [],
    unblocked: 0,
    stillRefused: [],
    elsewhere: [],
    groups: new Map(),
    disabled: [],
  });
}

/**
 * `deny`: deny entries added to the account list or a key list, as
 * `authorize` adds allow entries (same labels, expiry, group, covers among
 * deny entries, exact entries updated). An entry the list holds as an allow
 * entry is refused (see addEntries). Nothing leaves the blocked list.
 */
export function deny(data: StoreData, entries: EntryBatch, options: AuthorizeOptions): AuthorizeResult {
  return authorize(data, entries, options, 'deny');
}

/**
 * Puts the batch's live records of `list` into `group`, in place, except
 * those in another group (`elsewhere`): added ones, and exact entries already
 * there without a group (these move from unchanged to updated).
 */
function joinGroup(list: EntryRecord[], change: AddResult, batch: Set<string>, elsewhere: Map<string, string>, group: string, now: Date): void {
  const moved = new Map<string, EntryRecord>();
  for (let p = 0; p < list.length; p++) {
    const r = list[p];
    if (!batch.has(r.entry) || elsewhere.has(r.entry) || groupOf(r) === group || !isLive(r, now)) continue;
    list[p] = {...r, group};
    if (!moved.has(r.entry)) moved.set(r.entry, list[p]);
  }
  if (moved.size === 0) return;
  const updated = new Set(change.updated.map((u) => u.entry));
  const unchanged: string[] = [];
  for (const text of change.unchanged) {
    if (!moved.has(text) || updated.has(text)) {
      unchanged.push(text);
      continue;
    }
    const r = moved.get(text)!;
    change.updated.push({entry: text, label: r.label, expiresAt: r.expiresAt});
  }
  change.unchanged = unchanged;
}

/** `authorize --json` and `deny --json`: every field always there (docs/contract.md "Output shapes"). */
export function authorizeJson(result: AuthorizeResult, dryRun: boolean): AuthorizeJson {
  const updated = result.updated.map((u) => ({entry: u.entry, label: u.label, group: result.groups.get(u.entry) ?? null, expiresAt: u.expiresAt}));
  // The covered entries are made only when the output is: printed under --json, never otherwise.
  return carryCovered(result, {added: result.added, covered: [], updated, unchanged: result.unchanged, elsewhere: result.elsewhere, dryRun});
}
