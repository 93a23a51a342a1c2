/** Blocking states: the operator turning them on and off (learning's own switch is in learning.ts). */
import {BlockingState, Channel, StoreData} from './model.js';

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
