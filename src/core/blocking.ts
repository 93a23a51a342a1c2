/** Blocking states: the operator turning them on and off, and what that asks (learning's own switch is in learning.ts). */
import {cutOff, CutOff} from './impact.js';
import {BlockingState, Channel, StoreData} from './model.js';
import {Question} from './question.js';

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

/** `activate`: what turning a channel's blocking on would refuse, and the question that needs. */
export interface ActivatePlan {
  channel: Channel;
  /** Recently seen addresses that blocking would now refuse. */
  refused: CutOff[];
  /** SMTP with an empty account list: every connection would be refused. */
  emptyAccount: boolean;
  question: Question | null;
}

export function planActivate(data: StoreData, channel: Channel, now: Date): ActivatePlan {
  const after: StoreData = {...data, blocking: structuredClone(data.blocking)};
  setBlocking(after, channel, 'active', now);
  const refused = cutOff(data, after, now, [channel]);
  const emptyAccount = channel === 'smtp' && data.account.length === 0;
  const reasons = [...(refused.length > 0 ? ['seen traffic would be refused'] : []), ...(emptyAccount ? ['the account list is empty'] : [])];
  const question =
    reasons.length === 0
      ? null
      : {
          text: `Activate ${channel} blocking anyway?`,
          refusal: {
            message: `not activating ${channel} blocking: ${reasons.join(' and ')}`,
            hint: 'authorize the addresses first (keyward authorize ADDRESS), or pass --force',
          },
        };
  return {channel, refused, emptyAccount, question};
}

/** `deactivate`: asked unless the channel's blocking is already off. */
export function planDeactivate(data: StoreData, channel: Channel): {channel: Channel; question: Question | null} {
  const on = data.blocking[channel].state !== 'inactive';
  return {channel, question: on ? {text: `Deactivate ${channel} blocking? Every address will be allowed for ${channel} keys.`} : null};
}

/** What `activate` and `deactivate` print under --json. */
export function switchJson(transition: Transition | null, channel: Channel, state: 'active' | 'inactive') {
  return {channel, state, changed: transition !== null};
}
