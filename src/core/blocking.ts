/** Blocking states: turning them on and off, and recording learning's own switch to active. */
import {activatesAt, effectiveState} from './decision.js';
import {BlockingState, Channel, StoreData} from './model.js';

export interface Transition {
  channel: Channel;
  from: BlockingState;
  to: BlockingState;
  at: string;
  /** Whether learning did it by itself, rather than the operator. */
  automatic: boolean;
}

/**
 * Records in `data` a switch that time has already made: learning whose
 * window has passed is written as active, dated when the window ended.
 * Returns the transition, or null when there was none.
 */
export function settle(data: StoreData, now: Date): Transition | null {
  const api = data.blocking.api;
  if (api.state !== 'learning' || effectiveState(data, 'api', now) !== 'active') return null;
  const at = (activatesAt(api, data.settings) as Date).toISOString();
  api.state = 'active';
  api.changedAt = at;
  return {channel: 'api', from: 'learning', to: 'active', at, automatic: true};
}

/** Sets a channel's blocking state; returns the transition, or null when it was already so. */
export function setBlocking(data: StoreData, channel: Channel, to: 'active' | 'inactive' | 'learning', now: Date): Transition | null {
  settle(data, now);
  const from = effectiveState(data, channel, now);
  if (from === to) return null;
  const at = now.toISOString();
  if (channel === 'api') {
    const api = data.blocking.api;
    api.state = to;
    api.changedAt = at;
    if (to === 'learning') {
      api.learningSince = at;
      api.firstEventAt = null;
      api.lastNewAddressAt = null;
    }
  } else {
    if (to === 'learning') throw new RangeError('SMTP keys have no learning phase');
    data.blocking.smtp = {state: to, changedAt: at};
  }
  return {channel, from, to, at, automatic: false};
}
