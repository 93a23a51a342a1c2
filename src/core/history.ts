/**
 * The audit record: what one command changed in the store, found by comparing
 * the store before and after the change, and kept small (a bounded number of
 * records, a bounded number of entries named in each, exact counts).
 */
import {
  BlockedRecord,
  BlockingState,
  Channel,
  CHANNELS,
  EntryRecord,
  HistoryBlockingChange,
  HistoryChanges,
  HistoryEntries,
  HistoryKeyChange,
  HistoryRecord,
  HistorySettingChange,
  KeyRecord,
  Settings,
  StoreData,
  accountAddedUnread,
  accountUnread,
  appendToUnreadHistory,
  groupOf,
  listUnread,
  onListRead,
} from './model.js';
import {maskSecrets} from './errors.js';

/** How many records the store keeps: the newest. */
export const HISTORY_RECORDS = 500;
/** How many entries (and scopes, and keys) one record names per list; counts stay exact beyond it. */
export const HISTORY_SAMPLES = 50;

interface KeySnapshot {
  name: string;
  type: Channel;
  /** Compared to see a rotation; never written to history. */
  hash: string;
  hint: string;
  status: KeyRecord['status'];
  allow: readonly EntryRecord[];
}

/**
 * The store as it was before a change, as far as history compares it. Lists
 * are copied as arrays of the same record objects (cheap even for a million
 * entries); the fields that commands change in place (a key's hash and
 * status, blocking states, settings) are copied as values.
 */
export interface StoreSnapshot {
  settings: Settings;
  blocking: Record<Channel, BlockingState>;
  /** Null while the store's account list was not asked for (see model.ts deferList): it is then unchanged. */
  account: readonly EntryRecord[] | null;
  keys: readonly KeySnapshot[];
  blocked: readonly BlockedRecord[];
}

export function snapshot(data: StoreData): StoreSnapshot {
  const taken: StoreSnapshot = {
    settings: {...data.settings},
    blocking: {api: data.blocking.api.state, smtp: data.blocking.smtp.state},
    account: accountUnread(data) ? null : data.account.slice(),
    keys: data.keys.map((k) => ({name: k.name, type: k.type, hash: k.hash, hint: k.hint, status: k.status, allow: k.allow.slice()})),
    blocked: data.blocked.slice(),
  };
  onListRead(data, 'account', (list) => (taken.account = list.slice()));
  return taken;
}

/** What one list gained, lost and changed: exact counts, and the first `samples` items of each kind in list order. */
export interface ListDiff<T> {
  added: T[];
  removed: T[];
  /** Items whose key is in both lists but that are not `same` (a new label, an expired copy authorized again). */
  updated: T[];
  counts: {added: number; removed: number; updated: number};
}

/** Below this many items, the smaller side of a match is searched by scanning rather than hashed. */
const SCAN = 16;

/**
 * Compares two versions of a list by key (keys are unique within a list).
 *
 * Linear, and hashing little: every writing command keeps the records it
 * does not touch in their order, drops some, replaces some in place and
 * appends new ones at the end. So the common head and tail are skipped, one
 * pass pairs the rest in order (an item that does not pair is taken as
 * dropped), and what is left after the pass is taken as appended. Only then
 * are the dropped and the appended matched by key, through the smaller of
 * the two: an item in both was moved (an expired copy authorized again goes
 * to the end), not added. With unique keys the result is exact whatever the
 * order; the match grows large only when a command reorders the list.
 */
export function diffList<T>(before: readonly T[], after: readonly T[], keyOf: (item: T) => string, same: (a: T, b: T) => boolean, samples: number): ListDiff<T> {
  const diff: ListDiff<T> = {added: [], removed: [], updated: [], counts: {added: 0, removed: 0, updated: 0}};
  const note = (kind: 'added' | 'removed' | 'updated', item: T) => {
    if (diff.counts[kind]++ < samples) diff[kind].push(item);
  };

  let start = 0;
  const shorter = Math.min(before.length, after.length);
  while (start < shorter && same(before[start], after[start])) start++;
  let endBefore = before.length;
  let endAfter = after.length;
  while (endBefore > start && endAfter > start && same(before[endBefore - 1], after[endAfter - 1])) {
    endBefore--;
    endAfter--;
  }

  const dropped: T[] = [];
  let i = start;
  let j = start;
  while (i < endBefore && j < endAfter) {
    const was = before[i++];
    const is = after[j];
    if (same(was, is)) {
      j++;
    } else if (keyOf(was) === keyOf(is)) {
      note('updated', is);
      j++;
    } else {
      dropped.push(was);
    }
  }
  while (i < endBefore) dropped.push(before[i++]);
  // after[j .. endAfter) is what the pass takes as appended.

  if (dropped.length === 0) {
    diff.added = after.slice(j, Math.min(endAfter, j + samples));
    diff.counts.added = endAfter - j;
    return diff;
  }
  if (j === endAfter) {
    for (const item of dropped) note('removed', item);
    return diff;
  }
  const moved = (was: T, is: T) => {
    if (!same(was, is)) note('updated', is);
  };
  if (dropped.length <= endAfter - j) {
    const found = match(dropped, keyOf);
    for (let k = j; k < endAfter; k++) {
      const is = after[k];
      const was = found.take(keyOf(is));
      if (was === undefined) note('added', is);
      else moved(was, is);
    }
    for (const item of found.left()) note('removed', item);
  } else {
    const appended = after.slice(j, endAfter);
    const found = match(appended, keyOf);
    for (const was of dropped) {
      const is = found.take(keyOf(was));
      if (is === undefined) note('removed', was);
      else moved(was, is);
    }
    for (const item of found.left()) note('added', item);
  }
  return diff;
}

/** Items to be taken by key once each: scanned when few, hashed when many. */
function match<T>(items: readonly T[], keyOf: (item: T) => string): {take(key: string): T | undefined; left(): T[]} {
  if (items.length <= SCAN) {
    const keys = items.map(keyOf);
    const taken = items.map(() => false);
    return {
      take(key) {
        for (let k = 0; k < keys.length; k++) {
          if (!taken[k] && keys[k] === key) {
            taken[k] = true;
            return items[k];
          }
        }
        return undefined;
      },
      left: () => items.filter((_, k) => !taken[k]),
    };
  }
  const waiting = new Map(items.map((item) => [keyOf(item), item]));
  return {
    take(key) {
      const item = waiting.get(key);
      if (item !== undefined) waiting.delete(key);
      return item;
    },
    left: () => items.filter((item) => waiting.get(keyOf(item)) === item),
  };
}

const sameEntry = (a: EntryRecord, b: EntryRecord) =>
  a === b ||
  (a.entry === b.entry &&
    a.label === b.label &&
    a.expiresAt === b.expiresAt &&
    a.addedAt === b.addedAt &&
    a.source === b.source &&
    groupOf(a) === groupOf(b) &&
    a.effect === b.effect &&
    a.enabled === b.enabled);
/** A deny entry is named `!ENTRY` (as sync and the plain export name it): it is another entry than the allow entry of its range. */
const entryText = (r: EntryRecord) => (r.effect === 'deny' ? `!${r.entry}` : r.entry);

const blockedKey = (b: BlockedRecord) => `${b.ip} ${b.key} ${b.channel}`;
// A listed address whose count or last-seen time moved is the same record: traffic, not a change.
const sameBlocked = (a: BlockedRecord, b: BlockedRecord) => a === b || (a.ip === b.ip && a.key === b.key && a.channel === b.channel);

function diffEntries(scope: string, before: readonly EntryRecord[], after: readonly EntryRecord[], samples: number): HistoryEntries | null {
  const d = diffList(before, after, entryText, sameEntry, samples);
  if (d.counts.added + d.counts.removed + d.counts.updated === 0) return null;
  const result: HistoryEntries = {scope, added: d.added.map(entryText), removed: d.removed.map(entryText), updated: d.updated.map(entryText), counts: d.counts};
  const groups = changedGroups(d.added, d.removed, d.updated, before, after);
  if (groups.length > 0) result.groups = groups;
  return result;
}

/**
 * The groups of the named records (added, removed, updated), an updated one's
 * group before the change included (an entry moved out of a group touched it).
 */
function changedGroups(
  added: readonly EntryRecord[],
  removed: readonly EntryRecord[],
  updated: readonly EntryRecord[],
  before: readonly EntryRecord[],
  after: readonly EntryRecord[],
): string[] {
  const groups = new Set<string>();
  const note = (r: EntryRecord | undefined) => {
    const g = r === undefined ? null : groupOf(r);
    if (g !== null) groups.add(g);
  };
  for (const r of [...added, ...removed, ...updated]) note(r);
  if (updated.length > 0) {
    const names = new Set(updated.map(entryText));
    for (const r of before) if (names.has(r.entry)) note(r);
    for (const r of after) if (names.has(r.entry)) note(r);
  }
  return [...groups].sort();
}

function keyActions(before: KeySnapshot | undefined, after: KeyRecord | undefined): HistoryKeyChange[] {
  if (after === undefined) return before === undefined ? [] : [{name: before.name, type: before.type, action: 'deleted', hint: before.hint}];
  const change = (action: HistoryKeyChange['action']): HistoryKeyChange => ({name: after.name, type: after.type, action, hint: after.hint});
  if (before === undefined) return [change('created'), ...(after.status === 'revoked' ? [change('revoked')] : [])];
  const actions: HistoryKeyChange[] = [];
  if (before.hash !== after.hash) actions.push(change('rotated'));
  if (before.status !== after.status) actions.push(change(after.status === 'revoked' ? 'revoked' : 'restored'));
  return actions;
}

export interface DiffOptions {
  /** Whether the command is the operator setting a blocking state (activate, deactivate); otherwise a switch is learning's own. */
  operatorSetsBlocking?: boolean;
  samples?: number;
}

/**
 * What changed between `before` and `after`, or null when nothing history
 * records did. Traffic bookkeeping (seen addresses, counts on the blocked
 * list, the start of the learning clock) is not recorded.
 */
export function diffStore(before: StoreSnapshot, after: StoreData, options: DiffOptions = {}): HistoryChanges | null {
  const samples = options.samples ?? HISTORY_SAMPLES;
  const changes = noChanges();
  const addScope = (scope: HistoryEntries | null) => {
    if (scope === null) return;
    changes.counts.added += scope.counts.added;
    changes.counts.removed += scope.counts.removed;
    changes.counts.updated += scope.counts.updated;
    if (changes.entries.length < samples) changes.entries.push(scope);
  };

  // A list never asked for since the snapshot is as it was, but for a record added to it unread (see model.ts addToUnreadAccount).
  const addedUnread = before.account === null ? accountAddedUnread(after) : null;
  if (before.account !== null) addScope(diffEntries('account', before.account, after.account, samples));
  else if (addedUnread !== null) addScope(diffEntries('account', [], [addedUnread], samples));
  const beforeKeys = new Map(before.keys.map((k) => [k.name, k]));
  const afterKeys = new Map(after.keys.map((k) => [k.name, k]));
  const names = [...new Set([...beforeKeys.keys(), ...afterKeys.keys()])].sort();
  for (const name of names) {
    const was = beforeKeys.get(name);
    const is = afterKeys.get(name);
    addScope(diffEntries(name, was?.allow ?? [], is?.allow ?? [], samples));
    for (const action of keyActions(was, is)) if (changes.keys.length < samples) changes.keys.push(action);
  }

  for (const channel of CHANNELS) {
    const from = before.blocking[channel];
    const to = after.blocking[channel].state;
    if (from !== to) changes.blocking.push({channel, from, to, automatic: !options.operatorSetsBlocking} satisfies HistoryBlockingChange);
  }

  const blocked = diffList(before.blocked, after.blocked, blockedKey, sameBlocked, 0);
  changes.blocked = {added: blocked.counts.added, removed: blocked.counts.removed};

  for (const name of Object.keys(after.settings) as (keyof Settings)[]) {
    const from = before.settings[name];
    const to = after.settings[name];
    if (from !== to) changes.settings.push({name, from, to} satisfies HistorySettingChange);
  }

  return isEmpty(changes) ? null : changes;
}

function isEmpty(c: HistoryChanges): boolean {
  return (
    c.counts.added + c.counts.removed + c.counts.updated === 0 &&
    c.keys.length === 0 &&
    c.blocking.length === 0 &&
    c.blocked.added + c.blocked.removed === 0 &&
    c.settings.length === 0
  );
}

/** An empty change, to build a record by hand (learning's own switch). */
export function noChanges(): HistoryChanges {
  return {counts: {added: 0, removed: 0, updated: 0}, entries: [], keys: [], blocking: [], blocked: {added: 0, removed: 0}, settings: []};
}

/** Appends records to the store's history, keeping the newest `limit`. */
export function appendHistory(data: StoreData, records: readonly HistoryRecord[], limit = HISTORY_RECORDS): void {
  if (records.length === 0) return;
  // A history not read (a store keyward wrote, changed by a command that does not look at it): its text is cut and added to.
  if (listUnread(data, 'history')) return appendToUnreadHistory(data, records, limit);
  const history = data.history ?? [];
  history.push(...records);
  if (history.length > limit) history.splice(0, history.length - limit);
  data.history = history;
}

/** Records at or after `since`, then the newest `limit` of them, oldest first. */
export function selectHistory(records: readonly HistoryRecord[], options: {since?: Date; limit?: number; group?: string} = {}): HistoryRecord[] {
  const since = options.since?.getTime();
  let chosen = since === undefined ? records.slice() : records.filter((r) => Date.parse(r.at) >= since);
  // A change touched a group when an entry it named was in that group, before or after it (HistoryEntries.groups).
  const group = options.group;
  if (group !== undefined) chosen = chosen.filter((r) => r.changes.entries.some((e) => e.groups?.includes(group)));
  return options.limit === undefined ? chosen : chosen.slice(Math.max(0, chosen.length - options.limit));
}

/** The store's history records `options` select (see selectHistory). */
export function historyOf(data: StoreData, options: {since?: Date; limit?: number; group?: string} = {}): HistoryRecord[] {
  return selectHistory(data.history ?? [], options);
}

/**
 * `history --json`: the records with every field always there (docs/contract.md
 * "Output shapes"); `groups` of an entries change is [] when none of its entries
 * had a group (the store leaves it out).
 */
export function historyJson(records: readonly HistoryRecord[]): HistoryRecord[] {
  // (The user and the flags are the store's own text, which a hand edit may make anything: a secret is shown by its hint, as in the table.)
  return records.map((r) => ({
    ...r,
    command: maskSecrets(r.command),
    flags: r.flags.map(maskSecrets),
    user: maskSecrets(r.user),
    changes: {...r.changes, entries: r.changes.entries.map((e) => ({...e, groups: e.groups ?? []})), keys: r.changes.keys.map((k) => ({...k, hint: maskSecrets(k.hint)}))},
  }));
}
