/** `revoke`: the plan of removing exact entries from a list, what it does to traffic, and applying it. */
import {Effect, effectOf, listName, refuseOpeningKeyList, removeEntries} from './allowlist.js';
import {cutOff, CutOff} from './impact.js';
import {findKey} from './keys.js';
import {aboutInput, InputError} from './errors.js';
import {isLive} from './decision.js';
import {Channel, CHANNELS, EntryRecord, groupOf, isDeny, isEnabled, StoreData} from './model.js';
import {Prefix} from './prefix.js';
import {Question} from './question.js';
import {subtract} from './set-ops.js';
import {count} from './count.js';

export interface RevokePlan {
  /** The key whose list it is (its name), or null for the account list. */
  key: string | null;
  /** The entries removed, as given (canonical). */
  removed: string[];
  /** The list as it will be. */
  list: EntryRecord[];
  /** Channels whose blocking is active: the removed addresses no other entry holds are refused there from now on. */
  blocking: Channel[];
  /**
   * Whether the removed entries' addresses are all still held by other live,
   * enabled allow entries of the same list ('all'), by none of them ('none'),
   * or in part ('some'). Computed only where blocking is active.
   */
  stillHeld: 'all' | 'some' | 'none';
  /** Recently seen traffic the removal refuses (computed only where blocking is active). */
  cutOff: CutOff[];
  /** Asked while blocking is active. */
  question: Question | null;
}

/**
 * Plans removing `prefixes` (exact entries) from key `key`'s list (a name or
 * secret), else from the account list. Throws an InputError for an entry not
 * in the list, and a SafetyError when the last entries of a key list would
 * go without `force` (see refuseOpeningKeyList). `data` is left as it is.
 */
export function planRevoke(data: StoreData, prefixes: readonly Prefix[], options: {key?: string; group?: string; force: boolean; now: Date; effect?: Effect}): RevokePlan {
  const key = options.key === undefined ? undefined : findKey(data.keys, options.key);
  const current = key ? key.allow : data.account;
  let list = [...current];
  let removed: string[];
  if (options.group === undefined) {
    removed = removeEntries(list, prefixes, options.effect, listName(key?.name));
  } else {
    ({list, removed} = removeFromGroup(current, prefixes, options.group, options.effect, listName(key?.name)));
  }
  // Removing deny entries lets addresses in: it never opens a key list nor cuts anyone off.
  if (options.effect === 'deny') return {key: key?.name ?? null, removed, list, blocking: [], stillHeld: 'none', cutOff: [], question: null};
  // Deny entries restrict nothing by themselves (see KeyPolicy.restricted): only allow entries are counted.
  const allowCount = (records: readonly EntryRecord[]) => records.filter((r) => !isDeny(r)).length;
  if (key) refuseOpeningKeyList(key.name, allowCount(current), allowCount(list), options.force);
  const channels = key ? [key.type] : CHANNELS;
  const blocking = channels.filter((ch) => data.blocking[ch].state === 'active');
  if (blocking.length === 0) return {key: key?.name ?? null, removed, list, blocking, stillHeld: 'none', cutOff: [], question: null};
  const after: StoreData = key ? {...data, keys: data.keys.map((k) => (k === key ? {...k, allow: list} : k))} : {...data, account: list};
  const n = removed.length;
  return {
    key: key?.name ?? null,
    removed,
    list,
    blocking,
    stillHeld: stillHeld(removed, list, options.now),
    cutOff: cutOff(data, after, options.now, channels),
    question: {text: `Revoke ${count(n, 'entry', 'entries')}?`},
  };
}

/** How much of the removed entries' addresses the live, enabled allow entries left in `list` still hold (see RevokePlan). */
function stillHeld(removed: readonly string[], list: readonly EntryRecord[], now: Date): 'all' | 'some' | 'none' {
  const holders = list.filter((r) => !isDeny(r) && isEnabled(r) && isLive(r, now)).map((r) => Prefix.parse(r.entry));
  let whole = 0;
  let untouched = 0;
  for (const text of removed) {
    const range = Prefix.parse(text);
    const left = subtract(range, holders);
    if (left.length === 0) whole++;
    else if (left.length === 1 && left[0].bits === range.bits) untouched++;
  }
  if (whole === removed.length) return 'all';
  return untouched === removed.length ? 'none' : 'some';
}

/**
 * `current` without the given entries of group `group` (every entry of the
 * group when none are given), all or nothing: an entry not in the group is an
 * InputError that says where it is, and the entries outside the group are
 * never touched (SPEC "Groups").
 */
export function removeFromGroup(
  current: readonly EntryRecord[],
  prefixes: readonly Prefix[],
  group: string,
  effect: Effect = 'allow',
  where = 'the list',
): {list: EntryRecord[]; removed: string[]} {
  // Allow and deny entries are removed apart, as without --group: `revoke --group` never lifts a deny entry.
  const mine = (r: EntryRecord) => groupOf(r) === group && effectOf(r) === effect;
  const inGroup = current.filter(mine);
  const kind = effect === 'deny' ? 'deny entries' : 'entries';
  if (inGroup.length === 0) throw new InputError(`group ${group} has no ${kind} in ${where}; nothing was removed`, 'see `keyward list --group NAME`');
  const texts = prefixes.length === 0 ? inGroup.map((r) => r.entry) : prefixes.map(String);
  const present = new Set(inGroup.map((r) => r.entry));
  for (const text of texts) {
    if (present.has(text)) continue;
    const other = current.find((r) => r.entry === text && effectOf(r) === effect);
    if (other !== undefined) {
      const where = groupOf(other) === null ? 'no group' : `group ${groupOf(other)}`;
      throw aboutInput(new InputError(`${text} is in ${where}, not in group ${group}; nothing was removed`, 'revoke it without --group, or with its own group'), text);
    }
    // Not in the list with this effect: the message of an exact revoke (the other effect, or the entries covering it).
    removeEntries([...current], [Prefix.parse(text)], effect, where);
  }
  const removing = new Set(texts);
  return {list: current.filter((r) => !(mine(r) && removing.has(r.entry))), removed: [...removing]};
}

/** Applies a plan made from `data` (see planRevoke). */
export function applyRevoke(data: StoreData, plan: RevokePlan): string[] {
  if (plan.key === null) data.account = plan.list;
  else findKey(data.keys, plan.key).allow = plan.list;
  return plan.removed;
}
