/**
 * The impact of a change on real traffic: which recently seen addresses are
 * allowed now and would be refused after the change. `activate`, `revoke` and
 * anything else that narrows access warn with it before they act.
 */
import {scanDecisionAddress} from './address.js';
import {decideWords, Policy} from './decision.js';
import {Channel, SeenRecord, StoreData} from './model.js';
import {DAY_MS} from './time.js';

export interface CutOff {
  ip: string;
  channel: Channel;
  /** The keys seen from the address that would be refused. */
  keys: string[];
  lastSeen: string;
}

/** Seen records still within the retention window at `now`. */
export function recentSeen(data: StoreData, now: Date): SeenRecord[] {
  const since = now.getTime() - data.settings.seenRetentionDays * DAY_MS;
  return data.seen.filter((s) => Date.parse(s.lastSeen) >= since);
}

/** Recently seen addresses of `channels` that `before` allows and `after` refuses, newest first. */
export function cutOff(before: StoreData, after: StoreData, now: Date, channels: readonly Channel[]): CutOff[] {
  const was = new Policy(before, now);
  const will = new Policy(after, now);
  const words = new Uint32Array(4);
  const result: CutOff[] = [];
  for (const seen of recentSeen(before, now)) {
    if (!channels.includes(seen.channel)) continue;
    const family = scanDecisionAddress(seen.ip, words);
    const keys = seen.keys.filter((name) => {
      const beforeKey = before.keys.find((k) => k.name === name);
      const afterKey = after.keys.find((k) => k.name === name);
      if (!beforeKey || !afterKey) return false;
      const allowedBefore = decideWords(was.forKey(beforeKey), seen.ip, family, words).decision === 'allow';
      return allowedBefore && decideWords(will.forKey(afterKey), seen.ip, family, words).decision === 'deny';
    });
    if (keys.length > 0) result.push({ip: seen.ip, channel: seen.channel, keys, lastSeen: seen.lastSeen});
  }
  return result.sort((a, b) => (a.lastSeen < b.lastSeen ? 1 : a.lastSeen > b.lastSeen ? -1 : 0));
}
