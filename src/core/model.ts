/**
 * The store's data as plain values: what keyward knows about entries, keys,
 * blocking states and traffic. The store persists these shapes; the core
 * decides over them. Times are ISO 8601 strings in UTC.
 */

export type Channel = 'api' | 'smtp';
export const CHANNELS: readonly Channel[] = ['api', 'smtp'];

/**
 * What the operator (or learning, on an event past its quiet window) last
 * set: the stored state is the state in force; time alone never changes it.
 */
export type BlockingState = 'learning' | 'active' | 'inactive';

export type EntrySource = 'manual' | 'learned' | 'import' | 'blocked';

export interface EntryRecord {
  /** Canonical entry text (see Prefix.toString). */
  entry: string;
  source: EntrySource;
  label: string | null;
  /**
   * The group the entry belongs to (SPEC "Groups"): the unit `sync --group`
   * replaces. Absent (or null) for none; written only when set, so stores
   * from before groups load unchanged. Names follow the key-name grammar.
   */
  group?: string | null;
  addedAt: string;
  expiresAt: string | null;
  /**
   * `deny` for a deny entry (SPEC "Deny entries"); absent for an allow entry,
   * so that stores written before deny entries existed stay valid as they are.
   */
  effect?: 'deny';
  /** `false` for a disabled entry (it never matches); absent when enabled. */
  enabled?: false;
}

/** Whether a record is a deny entry. */
export const isDeny = (record: EntryRecord): boolean => record.effect === 'deny';

/** Whether a record is switched on (disabled entries never match). */
export const isEnabled = (record: EntryRecord): boolean => record.enabled !== false;
/** The group learning puts its entries in (SPEC "Groups"). */
export const LEARNED_GROUP = 'learned';

/** An entry record's group, null for none (absent and null are the same). */
export function groupOf(record: {group?: string | null}): string | null {
  return record.group ?? null;
}

export type KeyStatus = 'active' | 'revoked';

export interface KeyRecord {
  name: string;
  type: Channel;
  /** sha256 of the secret, hex. The secret itself is never stored. */
  hash: string;
  /** First and last four characters of the secret: a1b2…9f0e. */
  hint: string;
  status: KeyStatus;
  createdAt: string;
  rotatedAt: string | null;
  revokedAt: string | null;
  /** The key's own allowlist; empty means the key has none. */
  allow: EntryRecord[];
}

export interface ApiBlocking {
  state: BlockingState;
  changedAt: string;
  /** When the current learning phase began. */
  learningSince: string | null;
  /** The last time learning authorized a new address. */
  lastNewAddressAt: string | null;
  /**
   * The latest API event applied in this learning phase: how far the quiet
   * window has been observed. Absent in stores written before version 2 of
   * the spec (read as null).
   */
  lastEventAt: string | null;
}

export interface SmtpBlocking {
  state: Exclude<BlockingState, 'learning'>;
  changedAt: string;
}

export interface Settings {
  /** Days without a new address after which learning turns API blocking on. */
  learningWindowDays: number;
  /** Prefix lengths that learning authorizes. */
  learnPrefixV4: number;
  learnPrefixV6: number;
  /** Days a seen address is remembered after it was last seen. */
  seenRetentionDays: number;
}

/** The longest learning window and seen retention a store holds, in days (100 years). */
export const MAX_SETTING_DAYS = 36_500;

export const DEFAULT_SETTINGS: Settings = {
  learningWindowDays: 30,
  learnPrefixV4: 24,
  learnPrefixV6: 64,
  seenRetentionDays: 90,
};

/** Why an address was put on the blocked list: the reason of `check`'s refusal (SPEC "Decisions"). */
export type BlockReason = 'not-authorized' | 'not-in-key-allowlist' | 'denied' | 'key-revoked';

export const BLOCK_REASONS: readonly BlockReason[] = ['not-authorized', 'not-in-key-allowlist', 'denied', 'key-revoked'];

export interface BlockedRecord {
  ip: string;
  key: string;
  channel: Channel;
  firstSeen: string;
  lastSeen: string;
  count: number;
  /** Why it was refused, the last time (absent in records written before reasons were kept). */
  reason?: BlockReason;
  /** For reason `denied`: the deny entry that refused it, and whether it is in the account list or the key's. */
  deniedBy?: {entry: string; scope: 'account' | 'key'};
}

/** Recently seen traffic, one record per address and channel, so that `activate` can warn. */
export interface SeenRecord {
  ip: string;
  channel: Channel;
  /** Names of the keys seen from this address (at most a few). */
  keys: string[];
  firstSeen: string;
  lastSeen: string;
  count: number;
}

/** What one scope's list (the account list, or a key's list) gained and lost in one change. */
export interface HistoryEntries {
  /** "account", or the key's name. */
  scope: string;
  /** Entries new to the list; the first few in list order. */
  added: string[];
  /** Entries taken out; the first few in list order. */
  removed: string[];
  /** Entries kept whose record changed: a new label, or an expired copy authorized again. */
  updated: string[];
  /** Exact numbers, however many entries the lists above leave out. */
  counts: {added: number; removed: number; updated: number};
  /**
   * The groups of the entries named above (added, removed or updated, before
   * or after the change), sorted; absent when none had a group. How
   * `history --group` finds the changes that touched a group.
   */
  groups?: string[];
}

export type HistoryKeyAction = 'created' | 'rotated' | 'revoked' | 'restored' | 'deleted';

export interface HistoryKeyChange {
  name: string;
  type: Channel;
  action: HistoryKeyAction;
  /** The key's hint after the change (a1b2…9f0e); never its secret or hash. */
  hint: string;
}

export interface HistoryBlockingChange {
  channel: Channel;
  from: BlockingState;
  to: BlockingState;
  /** True when learning turned blocking on by itself, false when the operator did. */
  automatic: boolean;
}

export interface HistorySettingChange {
  name: keyof Settings;
  from: number;
  to: number;
}

/** What one command changed in the store. Lists are bounded; counts are exact. */
export interface HistoryChanges {
  /** Entries added, removed and updated over every scope, exact. */
  counts: {added: number; removed: number; updated: number};
  entries: HistoryEntries[];
  keys: HistoryKeyChange[];
  blocking: HistoryBlockingChange[];
  /** Addresses that went onto and came off the blocked list (updates of a listed address's count are not changes). */
  blocked: {added: number; removed: number};
  settings: HistorySettingChange[];
}

/** One change to the store: when, by which command and user, and what changed. Never a secret. */
export interface HistoryRecord {
  /** The command's "now" (KEYWARD_NOW honoured); for learning's own switch, when its window ended. */
  at: string;
  /** The command id with spaces: "authorize", "keys rotate". */
  command: string;
  /** Names of the flags given (no values: a value can be a secret). */
  flags: string[];
  user: string;
  changes: HistoryChanges;
}

/**
 * The store's schema version. 2 (contract version 2): entries may carry
 * `effect`, `enabled` and `group`. A version-1 store is read as it is and
 * written as version 2 on its first change, so that a keyward that reads only
 * version 1 refuses it (exit 3) rather than take a deny entry for an allow.
 */
export const SCHEMA_VERSION = 2;
/** The oldest version read (and migrated on the first write). */
export const OLDEST_SCHEMA_VERSION = 1;

export interface StoreData {
  version: number;
  settings: Settings;
  blocking: {api: ApiBlocking; smtp: SmtpBlocking};
  account: EntryRecord[];
  keys: KeyRecord[];
  blocked: BlockedRecord[];
  seen: SeenRecord[];
  /** The audit record, oldest first, bounded (see core/history.ts). Absent in a store that has none yet. */
  history?: HistoryRecord[];
}

/** The long lists of the store that may be read only when first asked for (see deferList). */
export type DeferredList = 'account' | 'seen' | 'history';

type ListOf<N extends DeferredList> = N extends 'account' ? EntryRecord[] : N extends 'seen' ? SeenRecord[] : HistoryRecord[];
type ReadHook = (list: unknown[], text: string | null) => void;

/**
 * Store data whose long lists are read only when first asked for: a
 * `learn --follow` commit on a large store seldom looks at the account
 * list, and parsing its 100,000 records was most of the commit; a one-entry
 * `authorize` looks at neither the seen list nor the history (issue 15;
 * store/read.ts). Until then such a list is a getter, and what must know
 * the list as it was read (the history's diff, the writer's copy) registers
 * for it with onListRead instead of asking.
 */
const unread = new WeakMap<StoreData, Map<DeferredList, ReadHook[]>>();

/**
 * What was put into a list not read (see addToUnreadAccount,
 * appendToUnreadHistory): once there is any, the list as read is not the
 * list, and reading it would be a defect (no change may go on from it).
 */
const addedUnread = new WeakMap<StoreData, {account?: EntryRecord; history?: {records: HistoryRecord[]; limit: number}}>();

/**
 * Makes `data[name]` the list `load` gives, loaded when first asked for or
 * replaced (see unread). `load` may also give the list's text as the file
 * held it (the hooks get it).
 */
export function deferList<N extends DeferredList>(data: StoreData, name: N, load: () => {list: ListOf<N>; text: string | null}): void {
  const hooks: ReadHook[] = [];
  const lists = unread.get(data) ?? new Map<DeferredList, ReadHook[]>();
  lists.set(name, hooks);
  unread.set(data, lists);
  // The list as read is given to the hooks before anyone can change it.
  const settle = (list: ListOf<N>, read: {list: ListOf<N>; text: string | null}) => {
    lists.delete(name);
    Object.defineProperty(data, name, {value: list, writable: true, enumerable: true, configurable: true});
    for (const hook of hooks) hook(read.list, read.text);
    return list;
  };
  const loaded = () => {
    if (addedUnread.get(data)?.[name as 'account' | 'history'] !== undefined) {
      throw new Error(`the ${name} list was asked for after records were put into it unread; nothing was written`);
    }
    return load();
  };
  Object.defineProperty(data, name, {
    enumerable: true,
    configurable: true,
    get: () => {
      const read = loaded();
      return settle(read.list, read);
    },
    set: (list: ListOf<N>) => settle(list, loaded()),
  });
}

/** Whether `data`'s list `name` was not asked for yet (see deferList): it is then the list as read, but for what was put into it unread. */
export const listUnread = (data: StoreData, name: DeferredList): boolean => unread.get(data)?.has(name) ?? false;

/** Whether `data`'s account list was not asked for yet (see deferList). */
export const accountUnread = (data: StoreData): boolean => listUnread(data, 'account');

/**
 * Has `hook` called with the list `name` as read (and its text, when the
 * loader gave it) when it is first asked for, if it was not yet (see deferList).
 */
export function onListRead<N extends DeferredList>(data: StoreData, name: N, hook: (list: ListOf<N>, text: string | null) => void): void {
  unread
    .get(data)
    ?.get(name)
    ?.push(hook as ReadHook);
}

/**
 * Adds `record` to `data`'s account list without reading it (a one-entry
 * `authorize` on a large store: issue 15): the writer puts its text in the
 * list's own (see store.ts), history records it (see history.ts diffStore).
 * Only for a list not read, once: the list may not be read after it.
 */
export function addToUnreadAccount(data: StoreData, record: EntryRecord): void {
  const added = addedUnread.get(data) ?? {};
  if (!accountUnread(data) || added.account !== undefined) throw new Error('a record can be added unread only once, to an account list not read');
  addedUnread.set(data, {...added, account: record});
}

/** The record added to `data`'s account list unread (see addToUnreadAccount), or null. */
export const accountAddedUnread = (data: StoreData): EntryRecord | null => addedUnread.get(data)?.account ?? null;

/**
 * Appends `records` to `data`'s history without reading it, keeping the
 * newest `limit` (see history.ts appendHistory): the writer cuts the oldest
 * records' text and puts the new ones' after the rest (see store.ts). Only
 * for a history not read; the history may not be read after it.
 */
export function appendToUnreadHistory(data: StoreData, records: readonly HistoryRecord[], limit: number): void {
  if (!listUnread(data, 'history')) throw new Error('records can be appended unread only to a history not read');
  const added = addedUnread.get(data) ?? {};
  addedUnread.set(data, {...added, history: {records: [...(added.history?.records ?? []), ...records], limit}});
}

/** The records appended to `data`'s history unread, and the history's limit (see appendToUnreadHistory), or null. */
export const historyAppendedUnread = (data: StoreData): {records: HistoryRecord[]; limit: number} | null => addedUnread.get(data)?.history ?? null;

/** A new store: API keys learning, SMTP blocking off, nothing authorized. */
export function emptyStore(now: Date): StoreData {
  const at = now.toISOString();
  return {
    version: SCHEMA_VERSION,
    settings: {...DEFAULT_SETTINGS},
    blocking: {
      api: {state: 'learning', changedAt: at, learningSince: at, lastNewAddressAt: null, lastEventAt: null},
      smtp: {state: 'inactive', changedAt: at},
    },
    account: [],
    keys: [],
    blocked: [],
    seen: [],
  };
}
