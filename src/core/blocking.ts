/** Blocking states: the operator turning them on and off, and what that asks (learning's own switch is in learning.ts). */
import {cutOff, CutOff} from './impact.js';
import {count} from './count.js';
import {isLive} from './decision.js';
import {BlockingState, Channel, EntryRecord, isDeny, isEnabled, StoreData} from './model.js';
import {Prefix} from './prefix.js';
import {subtract} from './set-ops.js';
import {Question} from './question.js';
import {SafetyError} from './errors.js';

export interface Transition {
  channel: Channel;
  from: BlockingState;
  to: BlockingState;
  at: string;
}

/** Sets a channel's blocking state; returns the transition, or null when it was already so. */
export function setBlocking(data: StoreData, channel: Channel, to: 'active' | 'inactive' | 'learning', now: Date): Transition | null {
  const from = data.blocking[channel].state;
  if (from === to) return null;
  const at = now.toISOString();
  if (channel === 'api') {
    const api = data.blocking.api;
    api.state = to;
    api.changedAt = at;
    if (to === 'learning') {
      api.learningSince = at;
      api.lastNewAddressAt = null;
      api.lastEventAt = null;
    }
  } else {
    if (to === 'learning') throw new RangeError('SMTP keys have no learning phase');
    data.blocking.smtp = {state: to, changedAt: at};
  }
  return {channel, from, to, at};
}

/** `activate`: what turning blocking on would refuse, and the question that needs. */
export interface ActivatePlan {
  channels: Channel[];
  /** Recently seen addresses that blocking would now refuse. */
  refused: CutOff[];
  /**
   * With SMTP blocking not yet on, why the account list allows no address
   * ("the account list is empty", or only deny, disabled or expired entries):
   * every SMTP connection would be refused, and only --force goes ahead. Else null.
   */
  emptyAccount: string | null;
  /** Asked when seen traffic would be refused: a terminal's yes or --yes answers it (--force too). */
  question: Question | null;
}

/** "api", "smtp", "api and smtp": the channels a message names. */
export function channelNames(channels: readonly Channel[]): string {
  return channels.join(' and ');
}

/**
 * Plans turning blocking on for `channels` (one or both). Seen traffic it
 * would refuse is a question (a terminal, --yes or --force answers it); an
 * empty account list under SMTP blocking refuses every connection, so it is a
 * refusal that is not a question (SPEC "Exit codes"): a SafetyError unless
 * `force`, asked on no terminal and not answered by --yes.
 */
export function planActivate(data: StoreData, channels: readonly Channel[], now: Date, options: {force?: boolean} = {}): ActivatePlan {
  const after: StoreData = {...data, blocking: structuredClone(data.blocking)};
  for (const channel of channels) setBlocking(after, channel, 'active', now);
  const refused = cutOff(data, after, now, [...channels]);
  // Deny, disabled and expired entries never let anyone in, nor an allow entry every address of which a deny entry
  // refuses: a list of only those is as empty as no list (found by outside testers).
  const allowsNone = channels.includes('smtp') && data.blocking.smtp.state !== 'active' && !allowsSome(data.account, now);
  const emptyAccount = allowsNone ? emptiness(data) : null;
  const names = channelNames(channels);
  if (emptyAccount !== null && !options.force) {
    throw new SafetyError(
      `not activating ${names} blocking: ${emptyAccount}, so every SMTP connection would be refused`,
      'authorize the addresses your SMTP clients use first (keyward authorize ADDRESS), or pass --force to refuse every SMTP connection',
    );
  }
  const question =
    refused.length === 0
      ? null
      : {
          text: `Activate ${names} blocking anyway?`,
          refusal: {
            message: `not activating ${names} blocking: seen traffic would be refused`,
            hint: 'authorize the addresses first (keyward authorize ADDRESS), or pass --yes',
          },
        };
  return {channels: [...channels], refused, emptyAccount, question};
}

/** Whether `list` lets some address in at `now`: a live, enabled allow entry not wholly under its live, enabled deny entries. */
function allowsSome(list: readonly EntryRecord[], now: Date): boolean {
  const inForce = list.filter((r) => isEnabled(r) && isLive(r, now));
  const denied = inForce.filter(isDeny).map((r) => Prefix.parse(r.entry));
  // (The first allow entry a deny entry does not wholly cover answers: nearly always the first.)
  return inForce.some((r) => !isDeny(r) && subtract(Prefix.parse(r.entry), denied).length > 0);
}

/** Why an account list that allows no address allows none, for messages: "the account list is empty", or what its entries are. */
function emptiness(data: StoreData): string {
  const n = data.account.length;
  return n === 0
    ? 'the account list is empty'
    : `the account list allows no address (${count(n, 'entry is a', 'entries are each a')} deny, disabled or expired entry, or an allow entry its deny entries cover)`;
}

/** `deactivate`: asked unless every channel's blocking is already off. */
export function planDeactivate(data: StoreData, channels: readonly Channel[]): {channels: Channel[]; question: Question | null} {
  const on = channels.filter((channel) => data.blocking[channel].state !== 'inactive');
  const names = channelNames(on);
  return {channels: [...channels], question: on.length > 0 ? {text: `Deactivate ${names} blocking? Every address will be allowed for ${names} keys.`} : null};
}

/**
 * What `activate` and `deactivate` print under --json: `channel` is "api",
 * "smtp" or "both"; `changed` whether any channel's state changed.
 */
export function switchJson(transitions: readonly (Transition | null)[], channels: readonly Channel[], state: 'active' | 'inactive') {
  return {channel: channels.length === 1 ? channels[0] : 'both', state, changed: transitions.some((t) => t !== null)};
}
