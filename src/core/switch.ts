/** `enable` and `disable`: the plan of switching exact entries on or off, what it does to traffic, and applying it. */
import {listName, switchEntries, SwitchResult} from './allowlist.js';
import {count} from './count.js';
import {cutOff, CutOff} from './impact.js';
import {findKey} from './keys.js';
import {CHANNELS, EntryRecord, isDeny, StoreData} from './model.js';
import {Prefix} from './prefix.js';
import {Question} from './question.js';

export interface SwitchPlan extends SwitchResult {
  /** The key whose list it is (its name), or null for the account list. */
  key: string | null;
  /** The list as it will be. */
  list: EntryRecord[];
  /** Recently seen traffic the switch refuses from now on (disabling allow entries, enabling deny entries). */
  cutOff: CutOff[];
  /** Asked when the switch cuts off recently seen traffic. */
  question: Question | null;
}

/**
 * Plans switching `prefixes` (exact entries) on or off in key `key`'s list (a
 * name or secret), else in the account list. Throws an InputError for an
 * entry not in the list (see switchEntries). A switch that refuses addresses
 * (an allow entry off, a deny entry on) asks when it cuts off recently seen
 * traffic, as `activate` does: in any blocking state, since a key list and a
 * deny entry refuse in every state. `data` is left as it is.
 */
export function planSwitch(data: StoreData, prefixes: readonly Prefix[], options: {key?: string; enabled: boolean; now: Date}): SwitchPlan {
  const key = options.key === undefined ? undefined : findKey(data.keys, options.key);
  const list = [...(key ? key.allow : data.account)];
  const result = switchEntries(list, prefixes, options.enabled, listName(key?.name));
  const plan: SwitchPlan = {key: key?.name ?? null, ...result, list, cutOff: [], question: null};
  const changed = new Set(result.changed);
  if (!list.some((r) => changed.has(r.entry) && isDeny(r) === options.enabled)) return plan;
  const after: StoreData = key ? {...data, keys: data.keys.map((k) => (k === key ? {...k, allow: list} : k))} : {...data, account: list};
  plan.cutOff = cutOff(data, after, options.now, key ? [key.type] : CHANNELS);
  if (plan.cutOff.length > 0) plan.question = {text: `${options.enabled ? 'Enable' : 'Disable'} ${count(result.changed.length, 'entry', 'entries')}?`};
  return plan;
}

/** Applies a plan made from `data` (see planSwitch). */
export function applySwitch(data: StoreData, plan: SwitchPlan): SwitchResult {
  if (plan.key === null) data.account = plan.list;
  else findKey(data.keys, plan.key).allow = plan.list;
  return {changed: plan.changed, unchanged: plan.unchanged};
}
