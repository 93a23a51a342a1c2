/**
 * Declarative sync of one allowlist (the account list or a key list) with a
 * desired set of entries, as kept in a file under version control: the plan
 * of what to add, remove and relabel, the list that results from it, what it
 * does to traffic, and applying it to the store.
 */
import {releaseBlocked} from './blocked-list.js';
import {isLive} from './decision.js';
import {cutOff, CutOff, recentSeen} from './impact.js';
import {InputError, lineOf} from './errors.js';
import {findKey} from './keys.js';
import {Effect, effectOf, refuseOpeningKeyList} from './allowlist.js';
import {EntryInput} from './entry-parse.js';
import {Channel, CHANNELS, EntryRecord, EntrySource, groupOf, isDeny, isEnabled, StoreData} from './model.js';
import {Prefix} from './prefix.js';
import {Question} from './question.js';
import {grouped} from './count.js';
import {labelText} from './render/text.js';

/** `error` about `input`, read from `where` (its line, when that is a line of the file): for its error object. */
function located(error: InputError, input: string, where: string): InputError {
  error.input = input;
  error.line = lineOf(where);
  return error;
}

/** One entry of the desired list, already parsed (see parseEntries). */
export interface DesiredEntry {
  prefix: Prefix;
  label: string | null;
  /** Where it came from, for messages: "line 3 of allowlist.txt". */
  where: string;
  source: EntrySource;
  /** A deny entry (a `!ENTRY` line); absent or 'allow' for an allow entry. */
  effect?: Effect;
  /** The group the file gives it (csv and json exports); undefined when the file does not say (plain): the stored one stays. */
  group?: string | null;
  /** The expiry the file gives it (csv and json exports); undefined when the file does not say (plain): the stored one stays. */
  expiresAt?: string | null;
  /** The file gives no label at all (csv without a label column, json without `label`): the stored one stays (`label` is null). */
  keepLabel?: true;
}

/**
 * Input lines with their `!` taken off: `!ENTRY` names a deny entry (as the
 * plain and CSV exports write one). The texts are then parsed as any entry.
 */
export function splitDenyMarks<T extends EntryInput>(inputs: readonly T[]): {inputs: T[]; effects: Effect[]} {
  const effects: Effect[] = [];
  const plain = inputs.map((input) => {
    const deny = input.text.startsWith('!');
    effects.push(deny ? 'deny' : 'allow');
    return deny ? {...input, text: input.text.slice(1).trimStart()} : input;
  });
  return {inputs: plain, effects};
}

/** How a plan names an entry: its text, with `!` before a deny entry's (allow and deny entries of one range are two entries). */
export function planName(text: string, effect: Effect | undefined): string {
  return effect === 'deny' ? `!${text}` : text;
}

const recordName = (r: EntryRecord) => planName(r.entry, effectOf(r));

export interface SyncOptions {
  /** Entries are judged live (not expired) at this moment. */
  now: Date;
  /** Remove learned entries that the desired list does not name; by default they are kept. */
  pruneLearned: boolean;
  /**
   * Sync only this group's entries of the list (SPEC "Groups"): the desired
   * entries all go into it, entries outside it are never touched, and a
   * desired entry already live outside it is left there (`elsewhere`).
   */
  group?: string;
  /** Let a key's list lose its last allow entry (see refuseOpeningKeyList): `sync --force`. */
  force?: boolean;
  /**
   * For a key's list: the deny entries the account list holds, enabled, live
   * or expired (as plan names, `!ENTRY`), in effect for every key already
   * (or were, when the file was exported). `export --key` writes
   * them with the key's own entries, so a file made by it names them: they
   * are not copied into the key's list (`inAccount`), or lifting the
   * account's deny would leave the key's copy denying.
   */
  accountDenies?: ReadonlySet<string>;
}

/** An entry that stays, with a new group or expiry (as a csv or json file gives them). */
export interface Regroup {
  entry: string;
  group: string | null;
  previousGroup: string | null;
  expiresAt: string | null;
  previousExpiresAt: string | null;
}

/** A desired entry already live in the list outside the group being synced: left where it is. */
export interface Elsewhere {
  entry: string;
  /** Its group, null for none. */
  group: string | null;
}

/** An entry that stays, with a new label. */
export interface Relabel {
  entry: string;
  label: string | null;
  previousLabel: string | null;
}

/** A line that names an entry an earlier line already named. */
export interface Repeat {
  entry: string;
  where: string;
  /** Where the entry was first named. */
  first: string;
}

export interface SyncPlan {
  /** Entries to add (an expired copy in the list is replaced), in list order. */
  added: string[];
  /** Entries to remove, in the order of the current list. */
  removed: string[];
  /** Entries in both, with the same label, in list order. */
  unchanged: string[];
  /** Entries in both whose label changes to the desired one, in list order. */
  relabeled: Relabel[];
  /** Entries in both whose group or expiry changes to the desired one (files that carry them), in list order. */
  updated: Regroup[];
  /** Desired entries live in the list outside the group synced: left there, not added (only with a group). */
  elsewhere: Elsewhere[];
  /** For a key's list: desired deny entries the account list holds (see SyncOptions.accountDenies), not copied. */
  inAccount: string[];
  /** Learned entries the desired list does not name, kept because pruneLearned is off. */
  keptLearned: string[];
  /**
   * Disabled entries the desired list does not name, kept: exports leave them
   * out, so a file made by `export` never names them, and a round trip must
   * not lose them (revoke removes them).
   */
  keptDisabled: string[];
  /**
   * Desired entries the list holds only expired, kept so (and counted
   * unchanged): the file gives no expiry (plain, or a file without that
   * column), so naming the entry cannot say it should live again (an export
   * taken while a temporary entry was live must not bring it back
   * permanent), or it gives one already past (the entry stays dead either way).
   */
  keptExpired: string[];
  /** Lines that repeat an entry; the repeat adds nothing (the first label given wins). */
  repeats: Repeat[];
  /** What to add, with labels and sources, in the order of `added`. */
  additions: DesiredEntry[];
}

/** Whether applying the plan would change the list. */
export function hasChanges(plan: SyncPlan): boolean {
  return plan.added.length > 0 || plan.removed.length > 0 || plan.relabeled.length > 0 || plan.updated.length > 0;
}

/** Whether two plans make the same change (what was confirmed is what is applied). */
export function sameChanges(a: SyncPlan, b: SyncPlan): boolean {
  const same = (x: readonly string[], y: readonly string[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  const relabels = (p: SyncPlan) => p.relabeled.map((r) => `${r.entry}\u0000${r.label ?? '\u0001'}`);
  const updates = (p: SyncPlan) => p.updated.map((r) => `${r.entry}\u0000${r.group ?? '\u0001'}\u0000${r.expiresAt ?? '\u0001'}`);
  return same(a.added, b.added) && same(a.removed, b.removed) && same(relabels(a), relabels(b)) && same(updates(a), updates(b));
}

/** Whether record `r` is in the part of the list a sync with `group` works on (the whole list without a group). */
export function inSyncScope(r: EntryRecord, group: string | undefined): boolean {
  return group === undefined || groupOf(r) === group;
}

const expiryMs = (at: string | null) => (at === null ? Number.POSITIVE_INFINITY : Date.parse(at));

/**
 * Plans making `current` (its part in scope: the entries of `options.group`,
 * else all of it) hold exactly the entries of `desired`: the same set of
 * canonical entries, each with the label the desired list gives it (no label
 * is a label too: it clears the stored one), and the group and expiry it
 * gives, where it gives them (csv and json files; with a group, every entry
 * goes into it). A repeated entry counts once. An entry inside another
 * desired entry is kept as written: the list equals the file, not its
 * aggregate. A live entry in both stays as it is (source and added time
 * kept); an expired one is added again when the file gives it an expiry to
 * come or none (null), else kept expired (see keptExpired). Learned entries
 * the desired list does not name stay unless `pruneLearned`. With a group, a
 * desired entry live in the list outside the group is left there and
 * reported (`elsewhere`), and entries outside the group are never touched.
 * Linear in the sizes of both lists, apart from one sort.
 */
export function planSync(current: readonly EntryRecord[], desired: readonly DesiredEntry[], options: SyncOptions): SyncPlan {
  const group = options.group;
  const wanted = new Map<string, DesiredEntry>();
  const repeats: Repeat[] = [];
  for (const d of desired) {
    const text = planName(d.prefix.toString(), d.effect);
    const earlier = wanted.get(text);
    if (earlier === undefined) {
      wanted.set(text, group === undefined ? d : {...d, group});
      continue;
    }
    repeats.push({entry: text, where: d.where, first: earlier.where});
    // The first label given wins; a repeat may supply one the first line lacked.
    if (earlier.label === null && d.label !== null) wanted.set(text, {...earlier, label: d.label});
  }

  for (const [name, d] of wanted) {
    const other = wanted.get(planName(name, 'deny'));
    if (other !== undefined) {
      throw located(new InputError(`${other.where}: ${name} is both allowed (${d.where}) and denied; nothing was changed`, 'keep one of the two lines'), name, other.where);
    }
  }
  // The live record of each entry in scope (the first, should a list hold copies), and those outside it.
  const live = new Map<string, EntryRecord>();
  const outside = new Map<string, EntryRecord>();
  // The entries in scope held only expired (a live copy, if any, is in `live`).
  const expired = new Set<string>();
  for (const r of current) {
    if (!isLive(r, options.now)) {
      if (inSyncScope(r, group) && isEnabled(r)) expired.add(recordName(r));
      continue;
    }
    const into = inSyncScope(r, group) ? live : outside;
    if (!into.has(recordName(r))) into.set(recordName(r), r);
  }

  const plan: SyncPlan = {
    added: [],
    removed: [],
    unchanged: [],
    relabeled: [],
    updated: [],
    elsewhere: [],
    inAccount: [],
    keptLearned: [],
    keptDisabled: [],
    keptExpired: [],
    repeats,
    additions: [],
  };
  // List order (Prefix.compare).
  const ordered = [...wanted].map(([text, d]) => ({text, d}));
  ordered.sort((a, b) => Prefix.compare(a.d.prefix, b.d.prefix));
  for (const {text, d} of ordered) {
    const record = live.get(text);
    if (record === undefined) {
      // Outside the group with the other effect: the list would hold the range as both (authorize and deny refuse that too).
      const opposite = outside.get(planName(d.prefix.toString(), d.effect === 'deny' ? 'allow' : 'deny'));
      if (opposite !== undefined) {
        const held = `${effectOf(opposite) === 'deny' ? 'a deny' : 'an allow'} entry ${opposite.group ? `of group ${opposite.group}` : 'of no group'}`;
        throw located(
          new InputError(
            `${d.where}: ${text} is held outside the group as ${held}: a list holds a range as an allow entry or a deny entry, never both; nothing was changed`,
            `change or revoke ${opposite.entry} outside the group first, or leave the line out`,
          ),
          text,
          d.where,
        );
      }
      const other = outside.get(text);
      if (other !== undefined) {
        plan.elsewhere.push({entry: text, group: groupOf(other)});
        continue;
      }
      if (options.accountDenies?.has(text)) {
        plan.inAccount.push(text);
        continue;
      }
      if (expired.has(text) && (d.expiresAt === undefined || expiryMs(d.expiresAt) <= options.now.getTime())) {
        plan.keptExpired.push(text);
        plan.unchanged.push(text);
        continue;
      }
      plan.added.push(text);
      plan.additions.push(d);
      continue;
    }
    const regroup = d.group !== undefined && d.group !== groupOf(record);
    const reexpire = d.expiresAt !== undefined && expiryMs(d.expiresAt) !== expiryMs(record.expiresAt);
    // A label the file gives as export writes the stored one (flattened: an empty one as none) is that label: kept.
    const label = d.keepLabel || labelText(record.label) === labelText(d.label) ? record.label : d.label;
    if (record.label !== label) plan.relabeled.push({entry: text, label, previousLabel: record.label});
    if (regroup || reexpire) {
      plan.updated.push({
        entry: text,
        group: regroup ? d.group! : groupOf(record),
        previousGroup: groupOf(record),
        expiresAt: reexpire ? d.expiresAt! : record.expiresAt,
        previousExpiresAt: record.expiresAt,
      });
    }
    if (record.label === label && !regroup && !reexpire) plan.unchanged.push(text);
  }

  const reported = new Set<string>();
  for (const r of current) {
    const name = recordName(r);
    if (!inSyncScope(r, group) || wanted.has(name) || reported.has(name)) continue;
    reported.add(name);
    // A learned or disabled entry is kept, unless the file gives its range the other effect: one range is never both.
    const other = wanted.has(planName(r.entry, effectOf(r) === 'deny' ? 'allow' : 'deny'));
    if (!isEnabled(r) && !other) plan.keptDisabled.push(name);
    else if (r.source === 'learned' && !options.pruneLearned && !other) plan.keptLearned.push(r.entry);
    else plan.removed.push(name);
  }
  return plan;
}

/**
 * The list after the plan: `current` without removed entries (of the scope)
 * and without expired copies of re-added ones, relabeled and regrouped
 * records replaced by changed copies, and the additions appended (added at
 * `now`, with the group and expiry the file gave, else none). Records outside
 * the scope (`group`) stay as they are. `current` and its records are left
 * as they are.
 */
export function syncedList(current: readonly EntryRecord[], plan: SyncPlan, now: Date, group?: string): EntryRecord[] {
  const dropped = new Set([...plan.removed, ...plan.added]);
  const relabel = new Map(plan.relabeled.map((r) => [r.entry, r.label]));
  const regroup = new Map(plan.updated.map((r) => [r.entry, r]));
  const result: EntryRecord[] = [];
  for (const r of current) {
    if (!inSyncScope(r, group)) {
      result.push(r);
      continue;
    }
    // Added entries have no live record in scope: any record of theirs here is an expired copy.
    if (dropped.has(recordName(r))) continue;
    const label = relabel.get(recordName(r));
    const update = regroup.get(recordName(r));
    if ((label === undefined && update === undefined) || !isLive(r, now)) {
      result.push(r);
      continue;
    }
    let next: EntryRecord = label === undefined ? r : {...r, label};
    if (update !== undefined) next = withGroup({...next, expiresAt: update.expiresAt}, update.group);
    result.push(next);
  }
  const at = now.toISOString();
  for (const d of plan.additions) {
    const record: EntryRecord = {entry: d.prefix.toString(), source: d.source, label: d.label, addedAt: at, expiresAt: d.expiresAt ?? null};
    if (d.effect === 'deny') record.effect = 'deny';
    result.push(withGroup(record, d.group ?? group ?? null));
  }
  return result;
}

/** `record` with group `group` (the field left out for none, as the store writes it). */
function withGroup(record: EntryRecord, group: string | null): EntryRecord {
  const rest: EntryRecord = {...record};
  delete rest.group;
  return group === null ? rest : {...rest, group};
}

/** The plan against one state of the store, and what it would do to traffic. */
export interface Assessment {
  /** "account", or the name of the key whose list it is. */
  scope: string;
  /** The group synced, or null for the whole list. */
  group: string | null;
  plan: SyncPlan;
  /** The list as it will be. */
  synced: EntryRecord[];
  cutOff: CutOff[];
  /** Asked when the plan changes the list. */
  question: Question | null;
}

/**
 * The plan for the list in scope (key `key`'s, a name or secret, else the
 * account's), the list it leads to, and the seen traffic it would refuse.
 */
export function assessSync(data: StoreData, desired: readonly DesiredEntry[], options: SyncOptions & {key?: string}): Assessment {
  const key = options.key === undefined ? undefined : findKey(data.keys, options.key);
  const scope = key?.name ?? 'account';
  const list = key ? key.allow : data.account;
  // (Expired ones too: a file exported while one was live names it, and it is the account's, not the key's, to renew.)
  const accountDenies = key ? new Set(data.account.filter((r) => isDeny(r) && isEnabled(r)).map((r) => planName(r.entry, 'deny'))) : undefined;
  const plan = planSync(list, desired, {...options, accountDenies});
  const group = options.group ?? null;
  if (!hasChanges(plan)) return {scope, group, plan, synced: list, cutOff: [], question: null};
  const summary = [
    `${grouped(plan.added.length)} to add`,
    `${grouped(plan.removed.length)} to remove`,
    ...(plan.relabeled.length > 0 ? [`${grouped(plan.relabeled.length)} to relabel`] : []),
    ...(plan.updated.length > 0 ? [`${grouped(plan.updated.length)} to regroup or re-date`] : []),
  ];
  const question = {text: `Apply the sync (${summary.join(', ')})?`};
  const synced = syncedList(list, plan, options.now, options.group);
  // A key's list left with no allow entry restricts nothing: as revoke, only with --force (deny entries restrict nothing alone).
  const allowCount = (records: readonly EntryRecord[]) => records.filter((r) => !isDeny(r)).length;
  if (key) refuseOpeningKeyList(key.name, allowCount(list), allowCount(synced), options.force ?? false);
  // A key list restricts its key in every blocking state; the account list only where blocking is on (cutOff judges both).
  const channels: readonly Channel[] = key ? [key.type] : CHANNELS;
  // No recent traffic on these channels, nothing to cut off: spare indexing both lists.
  if (!recentSeen(data, options.now).some((s) => channels.includes(s.channel))) return {scope, group, plan, synced, cutOff: [], question};
  const after: StoreData = key ? {...data, keys: data.keys.map((k) => (k === key ? {...k, allow: synced} : k))} : {...data, account: synced};
  return {scope, group, plan, synced, cutOff: cutOff(data, after, options.now, channels), question};
}

/**
 * Applies an assessment made from `data`: the list in scope becomes the
 * synced one, and what the additions authorize leaves the blocked list (as
 * with authorize). Returns how many blocked records were released.
 */
export function applySync(data: StoreData, assessment: Assessment, now: Date): number {
  const keyName = assessment.scope === 'account' ? undefined : assessment.scope;
  if (keyName === undefined) data.account = assessment.synced;
  else findKey(data.keys, keyName).allow = assessment.synced;
  return releaseBlocked(
    data,
    assessment.plan.additions.filter((d) => d.effect !== 'deny').map((d) => d.prefix),
    now,
    keyName,
  ).released;
}

/** `sync --json`: one object; entries in canonical form, cut-off traffic one record per address and key (as `blocked`). */
export function syncJson(a: Assessment, applied: boolean, dryRun: boolean) {
  return {
    scope: a.scope,
    added: a.plan.added,
    removed: a.plan.removed,
    unchanged: a.plan.unchanged,
    relabeled: a.plan.relabeled,
    updated: a.plan.updated,
    group: a.group,
    elsewhere: a.plan.elsewhere,
    inAccount: a.plan.inAccount,
    keptLearned: a.plan.keptLearned,
    keptDisabled: a.plan.keptDisabled,
    keptExpired: a.plan.keptExpired,
    cutOff: a.cutOff.flatMap((c) => c.keys.map((key) => ({ip: c.ip, key, channel: c.channel, lastSeen: c.lastSeen}))),
    applied,
    dryRun,
  };
}
