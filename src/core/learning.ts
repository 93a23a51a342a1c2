/**
 * Learning and blocking over a log of events (SPEC "Learning and blocking"):
 * events applied in time order move the API learning phase, authorize new
 * callers' networks, put refused addresses on the blocked list and keep a
 * compact record of recently seen traffic.
 */
import {Family, formatIPv4, formatIPv6, isNat64} from './address.js';
import {addEntries} from './allowlist.js';
import {decideWords, EntryIndex, isDenied, isLive, KeyPolicy, Policy, Refusal, refusalOf} from './decision.js';
import {EntryBatch} from './entry-parse.js';
import {isCanonicalEntry, ScannedPrefix, scanPrefix} from './prefix.js';
import {sortByDigits} from './radix.js';
import {networkOf, putWords} from './words.js';
import {InputError, visible} from './errors.js';
import {afterBearer, lookupKey} from './keys.js';
import {ApiBlocking, BlockedRecord, Channel, isDeny, isEnabled, KeyRecord, LEARNED_GROUP, SeenRecord, Settings, StoreData} from './model.js';
import {hintOf, looksLikeSecret} from './secret.js';
import {DAY_MS, isoOf} from './time.js';
import {grouped} from './count.js';

/**
 * How far after now an event may be dated (clocks of hosts disagree a
 * little); one dated later would pass any quiet window at once.
 */
export const FUTURE_SLACK_MS = 5 * 60_000;

/** Refuses (InputError) an event dated more than FUTURE_SLACK_MS after `now`: a bad line. */
export function checkEventTime(at: number, now: Date): void {
  if (at > now.getTime() + FUTURE_SLACK_MS) {
    const when = Math.abs(at) <= 8.64e15 ? new Date(at).toISOString() : String(at);
    throw new InputError(`dated in the future (${when}, more than 5 minutes after now)`);
  }
}

/** Where a learning phase stands: its quiet window, and how much of it traffic was observed for. */
export interface LearningProgress {
  /** Where the quiet window starts: the later of the start of learning and the last new address. */
  quietSince: Date;
  /** The end of the window: the first event dated at or after it turns blocking on. */
  activatesAt: Date;
  /** The latest API event applied in this phase, or null when none was. */
  lastEventAt: Date | null;
  /** Quiet time observed, in ms: from quietSince to the latest event (0 when no event is later). */
  quietMs: number;
}

/**
 * The progress of API learning, or null when the API is not learning.
 * activatesAt = max(learningSince, lastNewAddressAt) + window: the window
 * never starts before learning did, however old the events.
 */
export function learningProgress(api: ApiBlocking, settings: Settings): LearningProgress | null {
  if (api.state !== 'learning') return null;
  const since = Date.parse(api.learningSince ?? api.changedAt);
  const start = api.lastNewAddressAt === null ? since : Math.max(since, Date.parse(api.lastNewAddressAt));
  const last = api.lastEventAt === null ? null : Date.parse(api.lastEventAt);
  return {
    quietSince: new Date(start),
    activatesAt: new Date(start + settings.learningWindowDays * DAY_MS),
    lastEventAt: last === null ? null : new Date(last),
    quietMs: last === null ? 0 : Math.max(0, last - start),
  };
}

/** When an event can turn API blocking on (see learningProgress), or null when the API is not learning. */
export function activatesAt(api: ApiBlocking, settings: Settings): Date | null {
  return learningProgress(api, settings)?.activatesAt ?? null;
}

/** A typed array of `size` elements holding `old`'s first (the tables below grow by doubling). */
function resized<T extends Int32Array | Uint8Array | Uint32Array | Float64Array>(old: T, size: number): T {
  const next = new (old.constructor as new (n: number) => T)(size);
  next.set(old);
  return next;
}

/** Events held compactly (no text) so that millions fit: key id, address words, time. */
export class EventLog {
  private capacity = 1024;
  count = 0;
  keyIds = new Int32Array(this.capacity);
  families = new Uint8Array(this.capacity);
  words = new Uint32Array(this.capacity * 4);
  times = new Float64Array(this.capacity);
  /** By event, 1 for a request the gateway refused (see add); null while there is none. */
  refused: Uint8Array | null = null;
  /** Distinct key strings as given (a name or a secret), indexed by key id. */
  readonly keys: string[] = [];
  /** By key id: whether the key was read from a mail log's logins, where only an SMTP key is a use (see add). */
  readonly smtpOnly: boolean[] = [];
  private readonly keyIdOf = new Map<string, number>();
  private sorted = true;

  /**
   * One event; `smtpOnly` for a Postfix SASL login, which is a use of an SMTP
   * key only, never of an API key of that name; `refused` for a request the
   * gateway answered 401 or 403, which is no proof that its key was used
   * (a key's name is no credential: anyone may send it).
   */
  add(key: string, family: Family, words: Uint32Array, at: number, smtpOnly = false, refused = false): void {
    if (this.count === this.capacity) this.grow();
    const as = smtpOnly ? `\0${key}` : key;
    let id = this.keyIdOf.get(as);
    if (id === undefined) {
      id = this.keys.length;
      this.keys.push(key);
      this.smtpOnly.push(smtpOnly);
      this.keyIdOf.set(as, id);
    }
    const i = this.count++;
    this.keyIds[i] = id;
    this.families[i] = family;
    putWords(this.words, i, family, words);
    if (i > 0 && at < this.times[i - 1]) this.sorted = false;
    this.times[i] = at;
    if (refused) (this.refused ??= new Uint8Array(this.capacity))[i] = 1;
  }

  /** Event positions in time order (stable: equal times keep their order in the input). */
  order(): Uint32Array | null {
    if (this.sorted) return null;
    const n = this.count;
    const times = this.times;
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    let whole = true;
    for (let i = 0; i < n; i++) {
      const t = times[i];
      if (t < min) min = t;
      if (t > max) max = t;
      if (!Number.isInteger(t)) whole = false;
    }
    if (!whole || max - min > Number.MAX_SAFE_INTEGER) return order.sort((a, b) => times[a] - times[b] || a - b);
    // A log's lines come nearly in time order (a few minutes of jitter): buckets of time, each put in order in place.
    const nearly = nearlySortedOrder(times, n, min, max);
    if (nearly !== null) return nearly;
    // Times are whole milliseconds: a radix sort on their offsets from the earliest, as two 32-bit words.
    const keys = new Uint32Array(n * 2);
    for (let i = 0; i < n; i++) {
      const offset = times[i] - min;
      keys[i * 2] = offset % 0x1_0000_0000;
      keys[i * 2 + 1] = Math.floor(offset / 0x1_0000_0000);
    }
    sortByDigits(order, [
      {keys, stride: 2, offset: 0, shift: 0},
      {keys, stride: 2, offset: 0, shift: 16},
      {keys, stride: 2, offset: 1, shift: 0},
      {keys, stride: 2, offset: 1, shift: 16},
    ]);
    return order;
  }

  private grow(): void {
    this.capacity *= 2;
    this.keyIds = resized(this.keyIds, this.capacity);
    this.families = resized(this.families, this.capacity);
    this.words = resized(this.words, this.capacity * 4);
    this.times = resized(this.times, this.capacity);
    if (this.refused !== null) this.refused = resized(this.refused, this.capacity);
  }
}

/** The buckets of time nearlySortedOrder spreads the events over. */
const TIME_BUCKETS = 1 << 16;

/**
 * Positions 0..n-1 by `times` (whole milliseconds from `min` to `max`),
 * stably, for times that come nearly in order: one counting pass puts each
 * position in its bucket of time (in input order), then each bucket is put
 * in order by insertion, which moves an event only past the few that came
 * before it out of order. Null, having given up, when the events are so far
 * out of order that the insertions would move more than 8 times their number
 * (the caller then sorts them by radix, in time linear whatever the order).
 * `buckets` (at most 65,536) is for tests.
 */
export function nearlySortedOrder(times: Float64Array, n: number, min: number, max: number, buckets = TIME_BUCKETS): Uint32Array | null {
  const width = Math.ceil((max - min + 1) / buckets);
  const starts = new Uint32Array(buckets + 1);
  const bucketOf = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const b = Math.floor((times[i] - min) / width);
    bucketOf[i] = b;
    starts[b + 1]++;
  }
  for (let b = 1; b <= buckets; b++) starts[b] += starts[b - 1];
  const order = new Uint32Array(n);
  const next = starts.slice(0, buckets);
  for (let i = 0; i < n; i++) order[next[bucketOf[i]]++] = i;
  // The times beside their positions, so that the insertions read them in order.
  const sorted = new Float64Array(n);
  for (let i = 0; i < n; i++) sorted[i] = times[order[i]];
  let budget = 8 * n;
  for (let b = 0; b < buckets; b++) {
    const from = starts[b];
    const to = starts[b + 1];
    for (let i = from + 1; i < to; i++) {
      const t = sorted[i];
      if (sorted[i - 1] <= t) continue;
      const p = order[i];
      let j = i - 1;
      // (Strictly later times only: equal times keep their input order.)
      while (j >= from && sorted[j] > t) {
        sorted[j + 1] = sorted[j];
        order[j + 1] = order[j];
        j--;
      }
      budget -= i - 1 - j;
      if (budget < 0) return null;
      sorted[j + 1] = t;
      order[j + 1] = p;
    }
  }
  return order;
}

export interface UnknownKey {
  /** The key as given, or its hint when it was given as a secret. */
  key: string;
  events: number;
}

/** Learning's own switch of API blocking to active. */
export interface Activation {
  /** The time of the event that showed the quiet window over: the switch is dated so. */
  at: string;
  /** Where the quiet window started (see learningProgress). */
  quietSince: string;
}

export interface LearnOutcome {
  events: number;
  /** Entries learning authorized, in the order learned. */
  learned: string[];
  /** Addresses newly put on the blocked list. */
  blocked: BlockedRecord[];
  unknownKeys: UnknownKey[];
  /** Set when an event of this run turned API blocking on. */
  activation: Activation | null;
  /** Records dropped to keep the seen and blocked lists within their caps (MAX_SEEN, MAX_BLOCKED), least recently seen first. */
  dropped?: {seen: number; blocked: number};
  /** Events of requests the gateway refused (401, 403): never learned from (see EventLog.add). */
  refused?: number;
}

/**
 * The most seen records a store keeps (one per address and channel): past
 * it, the least recently seen are dropped, so that traffic from a million
 * addresses cannot make a store that every command reads grow without bound
 * (about 330 bytes each as written: about 3.3 MB at the cap). `activate`,
 * `revoke` and `sync` name, from these, the recent callers a change would cut off.
 */
export const MAX_SEEN = 10_000;

/**
 * The most blocked records a store keeps (one per address, key and channel):
 * past it, the least recently seen are dropped and counted (learn says how
 * many; the history record counts them as removed).
 */
export const MAX_BLOCKED = 10_000;

/**
 * The `max` most recently seen of `records` (by `lastSeen`, ISO texts of one
 * form order as their times; of equal times, the later in the list, the one
 * added last), in their order; the list itself when it is within the cap.
 */
export function mostRecent<T extends {lastSeen: string}>(records: T[], max: number): T[] {
  if (records.length <= max) return records;
  const order = records.map((_, i) => i).sort((a, b) => (records[a].lastSeen > records[b].lastSeen ? -1 : records[a].lastSeen < records[b].lastSeen ? 1 : b - a));
  const kept = new Uint8Array(records.length);
  for (let i = 0; i < max; i++) kept[order[i]] = 1;
  return records.filter((_, i) => kept[i] === 1);
}

/** How many key names a seen record keeps. */
const SEEN_KEYS_KEPT = 8;

/**
 * Applies an event log to the store data in place. `now` is the time for
 * entry expiry (events without a time of their own are given it by the
 * reader). Time alone never turns blocking on: only an applied API event
 * that `check` allows (an active key, its own list passed) from an address
 * already covered, dated at or after activatesAt, does, while learning.
 */
export function applyEvents(data: StoreData, log: EventLog, now: Date, account?: EntryIndex): LearnOutcome {
  return new Learner(data, now, account).run(log);
}

/**
 * Distinct addresses (or networks) of a run, numbered from 0 in an
 * open-addressing table over their words, each with its text written once:
 * a million events from twenty thousand addresses cost twenty thousand texts.
 */
class AddressIds {
  private slots = new Int32Array(1 << 12).fill(-1);
  private families = new Uint8Array(1 << 11);
  private words = new Uint32Array(1 << 13);
  private readonly texts: (string | undefined)[] = [];
  private count = 0;

  /** The number of the address in `words` (IPv4 in words[0]), given one the first time it is seen. */
  id(family: Family, words: Uint32Array): number {
    const w0 = words[0];
    const w1 = family === 6 ? words[1] : 0;
    const w2 = family === 6 ? words[2] : 0;
    const w3 = family === 6 ? words[3] : 0;
    const mask = this.slots.length - 1;
    let h = hashWords(family, w0, w1, w2, w3) & mask;
    for (;;) {
      const id = this.slots[h];
      if (id < 0) break;
      const at = id * 4;
      if (this.families[id] === family && this.words[at] === w0 && this.words[at + 1] === w1 && this.words[at + 2] === w2 && this.words[at + 3] === w3) return id;
      h = (h + 1) & mask;
    }
    const id = this.count++;
    if (id === this.families.length) this.growEntries();
    this.families[id] = family;
    this.words[id * 4] = w0;
    this.words[id * 4 + 1] = w1;
    this.words[id * 4 + 2] = w2;
    this.words[id * 4 + 3] = w3;
    this.slots[h] = id;
    if (this.count * 2 > this.slots.length) this.rehash();
    return id;
  }

  /** The canonical text of address `id`. */
  text(id: number): string {
    let text = this.texts[id];
    if (text === undefined) {
      text = this.families[id] === 4 ? formatIPv4(this.words[id * 4]) : formatIPv6(this.words.subarray(id * 4, id * 4 + 4));
      this.texts[id] = text;
    }
    return text;
  }

  private growEntries(): void {
    this.families = resized(this.families, this.families.length * 2);
    this.words = resized(this.words, this.words.length * 2);
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = slots.length - 1;
    for (let id = 0; id < this.count; id++) {
      const at = id * 4;
      let h = hashWords(this.families[id], this.words[at], this.words[at + 1], this.words[at + 2], this.words[at + 3]) & mask;
      while (slots[h] >= 0) h = (h + 1) & mask;
      slots[h] = id;
    }
    this.slots = slots;
  }
}

function hashWords(family: number, w0: number, w1: number, w2: number, w3: number): number {
  let h = Math.imul(family ^ 0x2545f491, 0x9e3779b1);
  h = Math.imul(h ^ w0, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ w1, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ w2, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ w3, 0x85ebca6b);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The seen records a run touches, by address id and channel (slot id * 2
 * for api, id * 2 + 1 for smtp), each a track: the record, where it is in
 * the seen list, and this run's events on it: their first and last times
 * (ms; none yet: first Infinity, last -Infinity), how many, and the key
 * (its place in the store's keys) of the latest. Held in typed arrays, not
 * an object per record: a wide log touches 200,000 records a million times.
 * A record new in this run is made only at its end, and only when it is
 * kept (see Learner.makeSeenRecords): until then its track holds its slot
 * and its keys' names. A wide log's run sees 200,000 addresses and keeps
 * 10,000 (MAX_SEEN).
 */
class SeenTracks {
  count = 0;
  /** The record, or null for one new in this run and not made yet. */
  readonly records: (SeenRecord | null)[] = [];
  /** The keys' names of a record not made yet (null for a record that is). */
  readonly pendingKeys: (string[] | null)[] = [];
  /** The slot of each track. */
  slots = new Int32Array(1024);
  /** The record's place in the seen list. */
  index = new Int32Array(1024);
  first = new Float64Array(1024);
  last = new Float64Array(1024);
  /** Events this run added to the record's count (written into it by writeCounts). */
  events = new Int32Array(1024);
  /** The key of the latest event, -1 for none: an event of the same key cannot add it to the record's keys again. */
  lastKey = new Int32Array(1024);
  private bySlot = new Int32Array(2048).fill(-1);

  /** The track of `slot`, or -1. */
  of(slot: number): number {
    return slot < this.bySlot.length ? this.bySlot[slot] : -1;
  }

  /**
   * A new track for `record` (at `index` in the seen list) in `slot`, with its
   * first and last times, its events and latest key; for a record not made
   * yet (null), the names of its keys so far.
   */
  add(slot: number, record: SeenRecord | null, index: number, first: number, last: number, events: number, key: number, keys: string[] | null = null): void {
    if (slot >= this.bySlot.length) {
      const bySlot = new Int32Array(Math.max(slot + 1, this.bySlot.length * 2)).fill(-1);
      bySlot.set(this.bySlot);
      this.bySlot = bySlot;
    }
    const t = this.count++;
    if (t === this.index.length) this.grow();
    this.bySlot[slot] = t;
    this.records.push(record);
    this.pendingKeys.push(keys);
    this.slots[t] = slot;
    this.index[t] = index;
    this.first[t] = first;
    this.last[t] = last;
    this.events[t] = events;
    this.lastKey[t] = key;
  }

  private grow(): void {
    const size = this.index.length * 2;
    this.slots = resized(this.slots, size);
    this.index = resized(this.index, size);
    this.first = resized(this.first, size);
    this.last = resized(this.last, size);
    this.events = resized(this.events, size);
    this.lastKey = resized(this.lastKey, size);
  }
}

/** The latest time (ms) whose ISO text has the plain form, year 9999: up to it, texts order as their times do. */
const LAST_PLAIN_ISO_MS = 253_402_300_799_999;

class Learner {
  private policy: Policy;
  private policyStale = false;
  /** Per key, its policy with the channel's state read as active (see apply). */
  private readonly activePolicies = new Map<KeyRecord, KeyPolicy>();
  private readonly addresses = new AddressIds();
  private readonly networks = new AddressIds();
  private readonly learned = new Set<number>();
  /** Networks of this run that learning may not authorize (held entries, see heldEntries): their events are not observed. */
  private readonly unlearnable = new Set<number>();
  /**
   * Ranges the account list holds as deny entries or disabled entries: never
   * learned, so that learning neither switches a disabled entry back on (a
   * second, enabled copy) nor puts an allow entry beside a deny entry. Found
   * when first needed (most runs learn nothing), with `expiredEntries`.
   */
  private heldEntries: Set<string> | null = null;
  /** Ranges the account list holds only as expired allow entries: learning one renews its record (see learn). */
  private expiredEntries: Set<string> | null = null;
  private readonly blockedIndex = new Map<string, BlockedRecord>();
  private readonly seenTracks = new SeenTracks();
  /** The seen list's length, counting the records new in this run that are not made yet (see SeenTracks). */
  private seenLength: number;
  private activationMs: number;
  /** The latest API event applied while learning (ms), or -Infinity. */
  private lastEventMs = Number.NEGATIVE_INFINITY;
  private readonly nowMs: number;
  private readonly outcome: LearnOutcome = {events: 0, learned: [], blocked: [], unknownKeys: [], activation: null};
  private readonly scratch = new Uint32Array(4);
  private readonly scratchNetwork = new Uint32Array(4);

  constructor(
    private readonly data: StoreData,
    private readonly now: Date,
    account?: EntryIndex,
  ) {
    this.nowMs = now.getTime();
    this.seenLength = data.seen.length;
    this.policy = new Policy(data, now, account);
    for (const b of data.blocked) this.blockedIndex.set(`${b.ip} ${b.key}`, b);
    const scanned: ScannedPrefix = {family: 4, bits: 0, words: new Uint32Array(4)};
    for (const [index, s] of data.seen.entries()) {
      // Events are addresses in canonical text; a record of anything else is never matched, as by text.
      if (!isSingleCanonicalAddress(s.ip, scanned)) continue;
      const id = this.addresses.id(scanned.family, scanned.words);
      const slot = id * 2 + (s.channel === 'api' ? 0 : 1);
      // (A second record of one address and channel, from a hand edit, takes the slot: events count on the last one.)
      this.seenTracks.add(slot, s, index, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -1);
    }
    this.activationMs = this.nextActivation();
  }

  run(log: EventLog): LearnOutcome {
    // A mail log's login of an API key (a key named as a mail user is) is no use of it: not learned, not blocked.
    const keys = log.keys.map((given, id) => {
      const key = this.resolve(given);
      return key !== null && log.smtpOnly[id] && key.type !== 'smtp' ? null : key;
    });
    // Each key's place in the store's keys (names and secrets of one key: one place).
    const places = keys.map((key) => (key === null ? -1 : this.data.keys.indexOf(key)));
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
      this.apply(key, places[id], family, words, log.times[i], log.refused !== null && log.refused[i] === 1);
    }
    this.writeCounts();
    this.writeLastEvent();
    // A wide log's run sees far more addresses than the store keeps: which it keeps is chosen by time, and only
    // those are made and given their ISO texts (the same records, see seenKeptByTime); else every record's text first.
    const kept = this.seenKeptByTime();
    this.makeSeenRecords(kept);
    this.writeLastSeen(kept);
    this.pruneSeen(kept);
    this.writeFirstSeen();
    // One unknown key however its lines spell it (`SECRET`, `Bearer SECRET`, upper case): one row, its events added.
    const rows = new Map<string, UnknownKey>();
    for (const [id, events] of unknown) {
      const given = unknownKeyText(log.keys[id]);
      const api = log.smtpOnly[id] && this.resolve(log.keys[id]) !== null;
      const as = api ? `${given}\0api` : given;
      const row = rows.get(as);
      if (row !== undefined) row.events += events;
      else rows.set(as, {key: api ? `${displayKey(given)} (an API key: a mail log's logins are SMTP key uses)` : displayKey(given), events});
    }
    this.outcome.unknownKeys.push(...rows.values());
    return this.outcome;
  }

  private resolve(given: string): KeyRecord | null {
    return lookupKey(this.data.keys, given);
  }

  // Texts and ISO times are made only where a record needs them, not per event.
  private apply(key: KeyRecord, place: number, family: Family, words: Uint32Array, at: number, refused: boolean): void {
    this.outcome.events++;
    const channel = key.type;
    const id = this.addresses.id(family, words);
    // Only traffic that `check` lets through while learning is observed: a revoked key's, or one its own
    // list refuses (a stolen key), neither learns nor counts as quiet time; a new address is learned first,
    // and learning it restarts the window, so the event that turns blocking on is always a known caller's.
    // An address no live entry covers whose range learning may not authorize (a disabled entry's) is not
    // covered after its event either: it neither learns nor counts as quiet time.
    // An address a deny entry refuses is never learned and never quiet time, and it goes on the blocked list
    // in every state (the notification is how an operator hears of a stolen key's caller), as the contract
    // says. Learning adds no deny entries, so the policy built at the start still knows them all. A request the
    // gateway refused too (below) is counted as refused and is not seen traffic, as anywhere else.
    if (isDenied(this.policy.forKey(key), family, words)) {
      this.block(id, key, channel, at, refusalOf(key, decideWords(this.policy.forKey(key), '', family, words)));
      if (refused) this.outcome.refused = (this.outcome.refused ?? 0) + 1;
      else this.see(id, key, place, channel, at);
      return;
    }
    const state = channel === 'api' ? this.data.blocking.api.state : this.data.blocking.smtp.state;
    // A request the gateway refused (401, 403) shows no use of its key, only that someone sent the key's name or
    // secret: never learned, never traffic, never seen. Once blocking is on, keyward's own refusal of its address
    // still puts it on the blocked list (a stolen key's caller refused by an exported allowlist).
    if (refused) {
      this.outcome.refused = (this.outcome.refused ?? 0) + 1;
      if (state === 'active') this.blockIfDenied(id, key, channel, family, words, at);
      return;
    }
    if (channel === 'api' && state === 'learning' && key.status === 'active' && this.keyListAllows(key, family, words)) {
      if (this.learn(key, family, words, at)) this.observe(at);
    }
    // (Learning may have just turned blocking on: the event that did is a known caller's, and is allowed.)
    const after = channel === 'api' ? this.data.blocking.api.state : state;
    if (after === 'active') this.blockIfDenied(id, key, channel, family, words, at);
    this.see(id, key, place, channel, at);
  }

  /** Puts the address on the blocked list when the key's policy, blocking on, refuses it. */
  private blockIfDenied(id: number, key: KeyRecord, channel: Channel, family: Family, words: Uint32Array, at: number): void {
    if (this.policyStale) {
      this.policy = new Policy(this.data, this.now);
      this.activePolicies.clear();
      this.policyStale = false;
    }
    let policy = this.activePolicies.get(key);
    if (policy === undefined) {
      policy = {...this.policy.forKey(key), state: 'active'};
      this.activePolicies.set(key, policy);
    }
    const decision = decideWords(policy, '', family, words);
    if (decision.decision === 'deny') this.block(id, key, channel, at, refusalOf(key, decision));
  }

  /** Whether the key has no list of its own, or its list (live entries) holds the address. */
  private keyListAllows(key: KeyRecord, family: Family, words: Uint32Array): boolean {
    const policy = this.policy.forKey(key);
    return !policy.restricted || (policy.own !== null && policy.own.has(family, words, this.nowMs));
  }

  /**
   * An allowed API event observed while learning, after `learn`: it extends
   * the observed quiet time, and one dated at or after activatesAt (traffic
   * kept flowing for the whole window without a new address) turns blocking
   * on, dated so. A new address has just moved activatesAt past the event.
   * An event dated after now (by a clock a few minutes ahead: FUTURE_SLACK_MS)
   * counts as happening now: quiet time is observed up to now at most.
   */
  private observe(dated: number): void {
    const api = this.data.blocking.api;
    const at = Math.min(dated, this.nowMs);
    if (at > this.lastEventMs) this.lastEventMs = at;
    if (at < this.activationMs) return;
    const when = isoOf(at);
    this.outcome.activation = {at: when, quietSince: isoOf(this.activationMs - this.data.settings.learningWindowDays * DAY_MS)};
    api.state = 'active';
    api.changedAt = when;
  }

  private nextActivation(): number {
    return activatesAt(this.data.blocking.api, this.data.settings)?.getTime() ?? Number.POSITIVE_INFINITY;
  }

  /** Keeps the latest event time of the learning phase, for the quiet time status reports. */
  private writeLastEvent(): void {
    if (this.lastEventMs === Number.NEGATIVE_INFINITY) return;
    const api = this.data.blocking.api;
    if (api.lastEventAt === null || Date.parse(api.lastEventAt) < this.lastEventMs) api.lastEventAt = isoOf(this.lastEventMs);
  }

  /**
   * Authorizes the network of an address no live entry of the account list
   * covers (learned once a run). Whether the address is covered afterwards:
   * false when the list holds its network as a deny or disabled entry, which
   * learning never learns over. A network the list holds only as an expired
   * entry is renewed as `authorize` renews it (addEntries: label, source and
   * date kept, no expiry), and counts as learned.
   */
  private learn(key: KeyRecord, family: Family, words: Uint32Array, at: number): boolean {
    const api = this.data.blocking.api;
    if (this.policy.account.has(family, words, this.nowMs)) return true;
    const {learnPrefixV4, learnPrefixV6} = this.data.settings;
    // An IPv4 client seen through NAT64 is learned as its IPv4 network is (a /24 is 64:ff9b::a.b.c.0/120), never as a /64:
    // anywhere in the translation space, the last 32 bits are taken for the IPv4 address (the narrowest reading).
    const bits = family === 4 ? learnPrefixV4 : isNat64(words) ? 96 + learnPrefixV4 : learnPrefixV6;
    const networkWords = networkOf(family, words, bits, this.scratchNetwork);
    const network = this.networks.id(family, networkWords);
    if (this.learned.has(network)) return true;
    if (this.unlearnable.has(network)) return false;
    const entry = this.networks.text(network);
    const text = bits === (family === 4 ? 32 : 128) ? entry : `${entry}/${bits}`;
    if (this.heldEntries === null) this.findHeldEntries();
    if (this.heldEntries!.size > 0 && this.heldEntries!.has(text)) {
      this.unlearnable.add(network);
      return false;
    }
    this.learned.add(network);
    const iso = isoOf(at);
    if (this.expiredEntries!.size > 0 && this.expiredEntries!.has(text)) {
      const renewal = new EntryBatch(16);
      renewal.add(text, family, bits, networkWords, null, 'learned', null);
      addEntries(this.data.account, renewal, this.now);
    } else {
      this.data.account.push({entry: text, source: 'learned', label: `learned from ${key.name}`, group: LEARNED_GROUP, addedAt: iso, expiresAt: null});
    }
    this.outcome.learned.push(text);
    this.policyStale = true;
    if (api.lastNewAddressAt === null || Date.parse(api.lastNewAddressAt) < at) api.lastNewAddressAt = iso;
    this.activationMs = this.nextActivation();
    return true;
  }

  /** Finds the account list's held entries and expired ones (see heldEntries, expiredEntries), in one pass. */
  private findHeldEntries(): void {
    // (A live copy of a range covers its addresses: learning never gets that far for it.)
    const held = new Set<string>();
    const expired = new Set<string>();
    for (const r of this.data.account) {
      if (isDeny(r) || !isEnabled(r)) held.add(r.entry);
      else if (!isLive(r, this.now)) expired.add(r.entry);
    }
    this.heldEntries = held;
    this.expiredEntries = expired;
  }

  private block(address: number, key: KeyRecord, channel: Channel, at: number, why: Refusal): void {
    const ip = this.addresses.text(address);
    const iso = isoOf(at);
    const id = `${ip} ${key.name}`;
    const known = this.blockedIndex.get(id);
    if (known) {
      // The record says why the latest event was refused (a deny entry added since, a key list changed).
      if (iso >= known.lastSeen) {
        known.lastSeen = iso;
        known.reason = why.reason;
        if (why.deniedBy) known.deniedBy = why.deniedBy;
        else delete known.deniedBy;
      }
      // (Events come in time order within a run, not across runs: two followers, a rotated file read after its successor.)
      if (iso < known.firstSeen) known.firstSeen = iso;
      // (A count stops at the largest the store holds, 2^53 - 1: a hand-edited one there must not stop learning.)
      if (known.count < Number.MAX_SAFE_INTEGER) known.count++;
      return;
    }
    const record: BlockedRecord = {ip, key: key.name, channel, firstSeen: iso, lastSeen: iso, count: 1, ...why};
    this.blockedIndex.set(id, record);
    this.data.blocked.push(record);
    this.outcome.blocked.push(record);
  }

  private see(address: number, key: KeyRecord, place: number, channel: Channel, at: number): void {
    const slot = address * 2 + (channel === 'api' ? 0 : 1);
    const tracks = this.seenTracks;
    const t = tracks.of(slot);
    if (t < 0) {
      // Its record is made at the end, if it is kept (makeSeenRecords), with its times (writeLastSeen, writeFirstSeen).
      tracks.add(slot, null, this.seenLength++, at, at, 0, place, [key.name]);
      return;
    }
    tracks.events[t]++;
    if (at > tracks.last[t]) tracks.last[t] = at;
    if (at < tracks.first[t]) tracks.first[t] = at;
    if (tracks.lastKey[t] === place) return;
    tracks.lastKey[t] = place;
    const keys = tracks.records[t]?.keys ?? tracks.pendingKeys[t]!;
    if (keys.length < SEEN_KEYS_KEPT && !keys.includes(key.name)) keys.push(key.name);
  }

  /**
   * Makes the records new in this run that are kept (all of them when
   * `kept` is null), each at its place in the seen list: after the store's
   * records, in the order their addresses were first seen. A place not kept
   * is left a hole, which the pruning's filter passes over. A new record
   * counts its first event and every one after it.
   */
  private makeSeenRecords(kept: Uint8Array | null): void {
    const tracks = this.seenTracks;
    const seen = this.data.seen;
    if (this.seenLength === seen.length) return;
    seen.length = this.seenLength;
    for (let t = 0; t < tracks.count; t++) {
      const keys = tracks.pendingKeys[t];
      if (keys === null) continue;
      const index = tracks.index[t];
      if (kept !== null && kept[index] !== 1) continue;
      const slot = tracks.slots[t];
      const record: SeenRecord = {
        ip: this.addresses.text(slot >>> 1),
        channel: (slot & 1) === 0 ? 'api' : 'smtp',
        keys,
        firstSeen: '',
        lastSeen: '',
        count: 1 + tracks.events[t],
      };
      tracks.records[t] = record;
      tracks.pendingKeys[t] = null;
      seen[index] = record;
    }
  }

  /** Adds this run's events to the seen records' counts. */
  private writeCounts(): void {
    const tracks = this.seenTracks;
    for (let t = 0; t < tracks.count; t++) {
      const events = tracks.events[t];
      const record = tracks.records[t];
      // (A record not made yet counts its events when it is made: makeSeenRecords.)
      if (events === 0 || record === null) continue;
      // (A count stops at the largest the store holds, 2^53 - 1: a hand-edited one near it must not stop learning.)
      record.count = Math.max(record.count, Math.min(record.count + events, Number.MAX_SAFE_INTEGER));
    }
  }

  /**
   * Writes this run's first and last times into the seen records. ISO texts
   * of one form order as their times do, so the latest text is the text of
   * the latest time: the same result as comparing every event's text.
   */
  private writeLastSeen(kept: Uint8Array | null): void {
    const tracks = this.seenTracks;
    for (let t = 0; t < tracks.count; t++) {
      const record = tracks.records[t];
      if (tracks.last[t] < tracks.first[t] || (kept !== null && kept[tracks.index[t]] !== 1) || record === null) continue;
      const last = isoOf(tracks.last[t]);
      if (last > record.lastSeen) record.lastSeen = last;
    }
  }

  /**
   * What pruneSeen keeps, chosen by the seen records' last times as numbers
   * rather than by their ISO texts (which then need making only for the
   * records kept): 1 kept, 2 within the retention window but past MAX_SEEN,
   * 0 older, by position in the seen list. The same choice as the texts make
   * (ISO texts of the plain form order as their times do; of equal times the
   * later in the list is kept), so it is made only when every text involved
   * has that form: the store's own texts, and every time up to year 9999.
   * Null when the seen list is within the cap (nothing to save) or a text is
   * of another form: then the texts decide, as before.
   */
  private seenKeptByTime(): Uint8Array | null {
    const seen = this.data.seen;
    // (The list's length with the records new in this run, not made yet: they are after the store's.)
    const length = this.seenLength;
    if (length <= MAX_SEEN) return null;
    const last = new Float64Array(length).fill(Number.NEGATIVE_INFINITY);
    for (let i = 0; i < seen.length; i++) {
      const text = seen[i].lastSeen;
      // ('': a record new in this run, whose time is its track's.)
      if (text === '') continue;
      const ms = Date.parse(text);
      if (!(ms >= 0 && ms <= LAST_PLAIN_ISO_MS) || isoOf(ms) !== text) return null;
      last[i] = ms;
    }
    const tracks = this.seenTracks;
    for (let t = 0; t < tracks.count; t++) {
      if (tracks.last[t] < tracks.first[t]) continue;
      if (!(tracks.last[t] >= 0 && tracks.last[t] <= LAST_PLAIN_ISO_MS)) return null;
      if (tracks.last[t] > last[tracks.index[t]]) last[tracks.index[t]] = tracks.last[t];
    }
    const since = this.now.getTime() - this.data.settings.seenRetentionDays * DAY_MS;
    const sinceText = new Date(since).toISOString();
    if (!(since >= 0 && since <= LAST_PLAIN_ISO_MS) || isoOf(since) !== sinceText) return null;
    const kept = new Uint8Array(length);
    const within: number[] = [];
    for (let i = 0; i < length; i++) {
      if (last[i] >= since) {
        kept[i] = 2;
        within.push(last[i]);
      }
    }
    if (within.length <= MAX_SEEN) {
      for (let i = 0; i < kept.length; i++) if (kept[i] === 2) kept[i] = 1;
      return kept;
    }
    // The MAX_SEEN latest: every one later than the cut, and of those at the cut the last in the list.
    const sorted = Float64Array.from(within).sort();
    const cut = sorted[sorted.length - MAX_SEEN];
    let atCut = 0;
    for (let k = sorted.length - MAX_SEEN; k < sorted.length && sorted[k] === cut; k++) atCut++;
    for (let i = 0; i < kept.length; i++) if (kept[i] === 2 && last[i] > cut) kept[i] = 1;
    for (let i = kept.length - 1; i >= 0 && atCut > 0; i--) {
      if (kept[i] === 2 && last[i] === cut) {
        kept[i] = 1;
        atCut--;
      }
    }
    return kept;
  }

  /**
   * The first times, after pruning (which goes by the last times alone):
   * only for the records kept (a wide log's run drops most of the addresses
   * it saw, past MAX_SEEN).
   */
  private writeFirstSeen(): void {
    const kept = new Set<SeenRecord>(this.data.seen);
    const tracks = this.seenTracks;
    for (let t = 0; t < tracks.count; t++) {
      const record = tracks.records[t];
      if (tracks.last[t] < tracks.first[t] || record === null || !kept.has(record)) continue;
      const first = isoOf(tracks.first[t]);
      // ('': a record new in this run.)
      if (record.firstSeen === '' || first < record.firstSeen) record.firstSeen = first;
    }
  }

  /**
   * Forgets traffic not seen within the retention window, and past the caps
   * (MAX_SEEN, MAX_BLOCKED) the least recently seen, so the store does not
   * grow without bound.
   */
  private pruneSeen(kept: Uint8Array | null): void {
    let seen: number;
    if (kept === null) {
      const since = new Date(this.now.getTime() - this.data.settings.seenRetentionDays * DAY_MS).toISOString();
      this.data.seen = this.data.seen.filter((s) => s.lastSeen >= since);
      seen = this.data.seen.length;
      this.data.seen = mostRecent(this.data.seen, MAX_SEEN);
    } else {
      // (2: within the retention window but past the cap; 1: kept.)
      seen = 0;
      for (let i = 0; i < kept.length; i++) if (kept[i] !== 0) seen++;
      this.data.seen = this.data.seen.filter((_, i) => kept[i] === 1);
    }
    const blocked = this.data.blocked.length;
    this.data.blocked = mostRecent(this.data.blocked, MAX_BLOCKED);
    if (seen > this.data.seen.length || blocked > this.data.blocked.length) {
      this.outcome.dropped = {seen: seen - this.data.seen.length, blocked: blocked - this.data.blocked.length};
    }
  }
}

/** Whether `text` is one address (not a range) in canonical form; its words go into `into`. */
function isSingleCanonicalAddress(text: string, into: ScannedPrefix): boolean {
  try {
    if (!isCanonicalEntry(text)) return false;
  } catch {
    return false;
  }
  scanPrefix(text, into);
  return into.bits === (into.family === 4 ? 32 : 128);
}

/** A key as reports show it: a secret only by its hint. */
/** The key an unknown key field names, spelled one way: without `Bearer `, a secret in lower case. */
function unknownKeyText(given: string): string {
  const bare = afterBearer(given) ?? given;
  return /^[0-9a-f]{40}$/i.test(bare) ? bare.toLowerCase() : bare;
}

function displayKey(given: string): string {
  return looksLikeSecret(given) ? hintOf(given) : visible(given);
}

/** Settings a `learn` run may change (kept in the store). */
export type LearnSettings = Partial<Pick<Settings, 'learningWindowDays' | 'seenRetentionDays' | 'learnPrefixV4' | 'learnPrefixV6'>>;

/**
 * One `learn` run on the store, in place: the settings given, then the
 * events (see applyEvents). `strict` refuses (InputError) a run with events
 * of unknown keys.
 */
/**
 * Applies `log` to the store. `account`, when given, is the store's account
 * list as it is now, compiled (the store's index cache): learning then
 * does not compile it again.
 */
export function learn(data: StoreData, log: EventLog, options: {settings: LearnSettings; strict: boolean; now: Date; account?: EntryIndex | null}): LearnOutcome {
  for (const [name, value] of Object.entries(options.settings) as [keyof LearnSettings, number | undefined][]) {
    if (value !== undefined) data.settings[name] = value;
  }
  const outcome = applyEvents(data, log, options.now, options.account ?? undefined);
  if (options.strict && outcome.unknownKeys.length > 0) {
    throw new InputError(`unknown key ${outcome.unknownKeys[0].key} (${grouped(outcome.unknownKeys.length)} unknown in all); nothing was written`);
  }
  return outcome;
}

/** `learn --json`. */
export function learnJson(outcome: LearnOutcome, data: StoreData, read: {badLines: number; untimed: number}, dryRun: boolean) {
  return {
    events: outcome.events,
    learned: outcome.learned,
    blocked: outcome.blocked.map((b) => ({ip: b.ip, key: b.key})),
    unknownKeys: outcome.unknownKeys.reduce((n, u) => n + u.events, 0),
    badLines: read.badLines,
    untimed: read.untimed,
    refused: outcome.refused ?? 0,
    api: {state: data.blocking.api.state, activatesAt: activatesAt(data.blocking.api, data.settings)?.toISOString() ?? null},
    dryRun,
  };
}

/** Whole days of quiet time a learning phase has observed. */
export function quietDays(progress: LearningProgress): number {
  return Math.floor(progress.quietMs / DAY_MS);
}
