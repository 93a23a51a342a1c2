/**
 * Learning and blocking over a log of events (SPEC "Learning and blocking"):
 * events applied in time order move the API learning phase, authorize new
 * callers' networks, put refused addresses on the blocked list and keep a
 * compact record of recently seen traffic.
 */
import {Family, formatIPv4, formatIPv6} from './address.js';
import {Transition} from './blocking.js';
import {activatesAt, decideWords, Policy} from './decision.js';
import {KeywardError, visible} from './errors.js';
import {findKey} from './keys.js';
import {BlockedRecord, Channel, KeyRecord, SeenRecord, StoreData} from './model.js';
import {hintOf, looksLikeSecret} from './secret.js';
import {DAY_MS} from './time.js';

/** Events held compactly (no text) so that millions fit: key id, address words, time. */
export class EventLog {
  private capacity = 1024;
  count = 0;
  keyIds = new Int32Array(this.capacity);
  families = new Uint8Array(this.capacity);
  words = new Uint32Array(this.capacity * 4);
  times = new Float64Array(this.capacity);
  /** Distinct key strings as given (a name or a secret), indexed by key id. */
  readonly keys: string[] = [];
  private readonly keyIdOf = new Map<string, number>();
  private sorted = true;

  add(key: string, family: Family, words: Uint32Array, at: number): void {
    if (this.count === this.capacity) this.grow();
    let id = this.keyIdOf.get(key);
    if (id === undefined) {
      id = this.keys.length;
      this.keys.push(key);
      this.keyIdOf.set(key, id);
    }
    const i = this.count++;
    this.keyIds[i] = id;
    this.families[i] = family;
    const w = i * 4;
    this.words[w] = words[0];
    if (family === 6) {
      this.words[w + 1] = words[1];
      this.words[w + 2] = words[2];
      this.words[w + 3] = words[3];
    }
    if (i > 0 && at < this.times[i - 1]) this.sorted = false;
    this.times[i] = at;
  }

  /** Event positions in time order (stable: equal times keep their order in the input). */
  order(): Uint32Array | null {
    if (this.sorted) return null;
    const order = Uint32Array.from({length: this.count}, (_, i) => i);
    const times = this.times;
    return order.sort((a, b) => times[a] - times[b] || a - b);
  }

  private grow(): void {
    this.capacity *= 2;
    const grow = <T extends Int32Array | Uint8Array | Uint32Array | Float64Array>(old: T, size: number): T => {
      const next = new (old.constructor as new (n: number) => T)(size);
      next.set(old);
      return next;
    };
    this.keyIds = grow(this.keyIds, this.capacity);
    this.families = grow(this.families, this.capacity);
    this.words = grow(this.words, this.capacity * 4);
    this.times = grow(this.times, this.capacity);
  }
}

export interface UnknownKey {
  /** The key as given, or its hint when it was given as a secret. */
  key: string;
  events: number;
}

export interface LearnOutcome {
  events: number;
  /** Entries learning authorized, in the order learned. */
  learned: string[];
  /** Addresses newly put on the blocked list. */
  blocked: BlockedRecord[];
  unknownKeys: UnknownKey[];
  transitions: Transition[];
}

/** How many key names a seen record keeps. */
const SEEN_KEYS_KEPT = 8;

/**
 * Applies an event log to the store data in place. `now` is the time for
 * entry expiry and for events without a time of their own.
 */
export function applyEvents(data: StoreData, log: EventLog, now: Date): LearnOutcome {
  return new Learner(data, now).run(log);
}

class Learner {
  private policy: Policy;
  private policyStale = false;
  private readonly learnedV4 = new Set<number>();
  private readonly learnedV6 = new Set<string>();
  private readonly blockedIndex = new Map<string, BlockedRecord>();
  private readonly seenIndex = new Map<string, SeenRecord>();
  private activationMs: number;
  private readonly outcome: LearnOutcome = {events: 0, learned: [], blocked: [], unknownKeys: [], transitions: []};
  private readonly scratch = new Uint32Array(4);
  private readonly scratchNetwork = new Uint32Array(4);

  constructor(
    private readonly data: StoreData,
    private readonly now: Date,
  ) {
    this.policy = new Policy(data, now);
    for (const b of data.blocked) this.blockedIndex.set(`${b.ip} ${b.key}`, b);
    for (const s of data.seen) this.seenIndex.set(`${s.channel} ${s.ip}`, s);
    this.activationMs = this.nextActivation();
  }

  run(log: EventLog): LearnOutcome {
    const keys = log.keys.map((given) => this.resolve(given));
    const unknown = new Map<number, number>();
    const order = log.order();
    const words = this.scratch;
    for (let n = 0; n < log.count; n++) {
      const i = order === null ? n : order[n];
      const id = log.keyIds[i];
      const key = keys[id];
      if (key === null) {
        unknown.set(id, (unknown.get(id) ?? 0) + 1);
        continue;
      }
      const family = log.families[i] as Family;
      words[0] = log.words[i * 4];
      if (family === 6) {
        words[1] = log.words[i * 4 + 1];
        words[2] = log.words[i * 4 + 2];
        words[3] = log.words[i * 4 + 3];
      }
      this.apply(key, family, words, log.times[i]);
    }
    this.settleAt(this.now.getTime());
    this.pruneSeen();
    for (const [id, events] of unknown) this.outcome.unknownKeys.push({key: displayKey(log.keys[id]), events});
    return this.outcome;
  }

  private resolve(given: string): KeyRecord | null {
    try {
      return findKey(this.data.keys, given);
    } catch (error) {
      if (error instanceof KeywardError) return null;
      throw error;
    }
  }

  private apply(key: KeyRecord, family: Family, words: Uint32Array, at: number): void {
    this.outcome.events++;
    this.settleAt(at);
    const channel = key.type;
    const state = channel === 'api' ? this.data.blocking.api.state : this.data.blocking.smtp.state;
    const ip = family === 4 ? formatIPv4(words[0]) : formatIPv6(words);
    const iso = new Date(at).toISOString();
    if (state === 'learning') {
      if (key.status === 'active') this.learn(key, family, words, at, iso);
    } else if (state === 'active') {
      if (this.policyStale) {
        this.policy = new Policy(this.data, this.now);
        this.policyStale = false;
      }
      const policy = {...this.policy.forKey(key), state};
      if (decideWords(policy, ip, family, words).decision === 'deny') this.block(ip, key, channel, iso);
    }
    this.see(ip, key, channel, iso);
  }

  /** Records learning's own switch to active once an event (or now) passes the window. */
  private settleAt(at: number): void {
    if (this.data.blocking.api.state !== 'learning' || at < this.activationMs) return;
    const when = new Date(this.activationMs).toISOString();
    this.data.blocking.api.state = 'active';
    this.data.blocking.api.changedAt = when;
    this.outcome.transitions.push({channel: 'api', from: 'learning', to: 'active', at: when, automatic: true});
  }

  private nextActivation(): number {
    return activatesAt(this.data.blocking.api, this.data.settings)?.getTime() ?? Number.POSITIVE_INFINITY;
  }

  private learn(key: KeyRecord, family: Family, words: Uint32Array, at: number, iso: string): void {
    const api = this.data.blocking.api;
    if (api.firstEventAt === null) {
      api.firstEventAt = iso;
      this.activationMs = this.nextActivation();
    }
    if (this.policy.account.has(family, words, this.now.getTime())) return;
    const bits = family === 4 ? this.data.settings.learnPrefixV4 : this.data.settings.learnPrefixV6;
    const network = maskWords(family, words, bits, this.scratchNetwork);
    const entry = family === 4 ? formatIPv4(network[0]) : formatIPv6(network);
    if (family === 4) {
      if (this.learnedV4.has(network[0])) return;
      this.learnedV4.add(network[0]);
    } else {
      if (this.learnedV6.has(entry)) return;
      this.learnedV6.add(entry);
    }
    const text = bits === (family === 4 ? 32 : 128) ? entry : `${entry}/${bits}`;
    this.data.account.push({entry: text, source: 'learned', label: `learned from ${key.name}`, addedAt: iso, expiresAt: null});
    this.outcome.learned.push(text);
    this.policyStale = true;
    if (api.lastNewAddressAt === null || Date.parse(api.lastNewAddressAt) < at) api.lastNewAddressAt = iso;
    this.activationMs = this.nextActivation();
  }

  private block(ip: string, key: KeyRecord, channel: Channel, iso: string): void {
    const id = `${ip} ${key.name}`;
    const known = this.blockedIndex.get(id);
    if (known) {
      if (iso > known.lastSeen) known.lastSeen = iso;
      known.count++;
      return;
    }
    const record: BlockedRecord = {ip, key: key.name, channel, firstSeen: iso, lastSeen: iso, count: 1};
    this.blockedIndex.set(id, record);
    this.data.blocked.push(record);
    this.outcome.blocked.push(record);
  }

  private see(ip: string, key: KeyRecord, channel: Channel, iso: string): void {
    const id = `${channel} ${ip}`;
    const known = this.seenIndex.get(id);
    if (!known) {
      const record: SeenRecord = {ip, channel, keys: [key.name], firstSeen: iso, lastSeen: iso, count: 1};
      this.seenIndex.set(id, record);
      this.data.seen.push(record);
      return;
    }
    known.count++;
    if (iso > known.lastSeen) known.lastSeen = iso;
    if (iso < known.firstSeen) known.firstSeen = iso;
    if (known.keys.length < SEEN_KEYS_KEPT && !known.keys.includes(key.name)) known.keys.push(key.name);
  }

  /** Forgets traffic not seen within the retention window, so the store does not grow without bound. */
  private pruneSeen(): void {
    const since = new Date(this.now.getTime() - this.data.settings.seenRetentionDays * DAY_MS).toISOString();
    this.data.seen = this.data.seen.filter((s) => s.lastSeen >= since);
  }
}

/** The address in `words` with every bit past `bits` cleared, into `out`. */
function maskWords(family: Family, words: Uint32Array, bits: number, out: Uint32Array): Uint32Array {
  const count = family === 4 ? 1 : 4;
  for (let w = 0; w < count; w++) {
    const keep = Math.max(0, Math.min(32, bits - w * 32));
    out[w] = keep === 0 ? 0 : keep === 32 ? words[w] : (words[w] & (0xffffffff << (32 - keep))) >>> 0;
  }
  return out;
}

/** A key as reports show it: a secret only by its hint. */
function displayKey(given: string): string {
  return looksLikeSecret(given) ? hintOf(given) : visible(given);
}
