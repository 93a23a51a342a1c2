/**
 * Decisions: may key K be used from address A, now? A pure function of the
 * store's data and the time (SPEC "Decisions"), built once per process into
 * indexes so that a stream of addresses costs a binary search each.
 */
import {Family, formatIPv4, formatIPv6, scanDecisionAddress} from './address.js';
import {scanPrefix} from './prefix.js';
import {InputError, show} from './errors.js';
import {findKey} from './keys.js';
import {BlockingState, Channel, EntryRecord, KeyRecord, StoreData} from './model.js';
import {CompiledIndex} from './prefix-index.js';

/** Whether an entry record is in force at `now` (expired entries never match). */
export function isLive(record: EntryRecord, now: Date): boolean {
  return record.expiresAt === null || Date.parse(record.expiresAt) > now.getTime();
}

export type Verdict = 'allow' | 'deny';
export type Reason = 'key-revoked' | 'not-in-key-allowlist' | 'not-authorized' | 'learning' | 'blocking-inactive' | 'authorized';

export interface Decision {
  key: string;
  ip: string;
  decision: Verdict;
  reason: Reason;
  matched: string[];
}

/** An index over entry records with their canonical texts, for reports; expiry is judged at lookup. */
export class EntryIndex {
  constructor(
    readonly compiled: CompiledIndex,
    /** The canonical text of the entry at a position of the original list. */
    private readonly text: (position: number) => string,
  ) {}

  static fromRecords(records: readonly EntryRecord[]): EntryIndex {
    const texts = records.map((r) => r.entry);
    const expires = records.map((r) => (r.expiresAt === null ? Number.POSITIVE_INFINITY : Date.parse(r.expiresAt)));
    return new EntryIndex(CompiledIndex.fromTexts(texts, expires), (i) => texts[i]);
  }

  get size(): number {
    return this.compiled.size;
  }

  /** Whether an entry live at `nowMs` contains the address. */
  has(family: Family, words: Uint32Array, nowMs: number): boolean {
    return this.compiled.has(family, words, nowMs);
  }

  /** Canonical texts of the entries live at `nowMs` containing the address, outermost first. */
  matchedTexts(family: Family, words: Uint32Array, nowMs: number): string[] {
    return this.compiled.matches(family, words, nowMs).map(this.text);
  }

  /** The canonical text of the entry at a position of the original list (see CompiledIndex.matches). */
  textAt(position: number): string {
    return this.text(position);
  }
}

/** Everything a decision needs for one key, fixed at one moment. */
export interface KeyPolicy {
  readonly key: KeyRecord;
  readonly state: BlockingState;
  /** The key's own list, or null when it has none. */
  readonly allow: EntryIndex | null;
  readonly account: EntryIndex;
  /** The moment entries are judged live at, in ms. */
  readonly nowMs: number;
}

/**
 * The policy of the store at `now`: entries indexed, blocking states as
 * stored (time alone never changes one; see learning.ts). Key lists are indexed on first use. The account index may be
 * given ready-made (from the index cache), else it is built from the data.
 */
export class Policy {
  readonly account: EntryIndex;
  readonly states: Record<Channel, BlockingState>;
  private readonly keyPolicies = new Map<string, KeyPolicy>();

  constructor(
    readonly data: StoreData,
    readonly now: Date,
    account?: EntryIndex,
  ) {
    this.account = account ?? EntryIndex.fromRecords(data.account);
    this.states = {api: data.blocking.api.state, smtp: data.blocking.smtp.state};
  }

  /** The key named by its name or its secret (see keys.ts). */
  findKey(nameOrSecret: string): KeyRecord {
    return findKey(this.data.keys, nameOrSecret);
  }

  forKey(key: KeyRecord): KeyPolicy {
    let policy = this.keyPolicies.get(key.name);
    if (!policy) {
      // A key whose list has only expired entries still has a list: it allows nothing.
      const allow = key.allow.length > 0 ? EntryIndex.fromRecords(key.allow) : null;
      policy = {key, state: this.states[key.type], allow, account: this.account, nowMs: this.now.getTime()};
      this.keyPolicies.set(key.name, policy);
    }
    return policy;
  }
}

/**
 * The decision for an address already scanned and unmapped into `words`
 * (see `scanDecisionAddress`). `ip` is the text reported back.
 */
export function decideWords(policy: KeyPolicy, ip: string, family: Family, words: Uint32Array): Decision {
  const own = policy.allow === null ? null : policy.allow.matchedTexts(family, words, policy.nowMs);
  const {decision, reason, matched} = decideOutcome(policy, own, () => policy.account.matchedTexts(family, words, policy.nowMs));
  return {key: policy.key.name, ip, decision, reason, matched};
}

/** A decision without its key and address; `matched` holds whatever the caller names entries by. */
export interface Outcome<T> {
  decision: Verdict;
  reason: Reason;
  matched: T[];
}

/**
 * The rules of SPEC "Decisions" for one address, given the live entries that
 * contain it, outermost first: `own` in the key's list (null when the key has
 * none) and `account` in the account list (asked only when it matters).
 */
export function decideOutcome<T>(policy: KeyPolicy, own: T[] | null, account: () => T[]): Outcome<T> {
  if (policy.key.status === 'revoked') return {decision: 'deny', reason: 'key-revoked', matched: []};
  const matched = own ?? [];
  if (own !== null && own.length === 0) return {decision: 'deny', reason: 'not-in-key-allowlist', matched};
  const inAccount = account();
  if (inAccount.length > 0) return {decision: 'allow', reason: 'authorized', matched: matched.length === 0 ? inAccount : [...matched, ...inAccount]};
  switch (policy.state) {
    case 'active':
      return {decision: 'deny', reason: 'not-authorized', matched};
    case 'learning':
      return {decision: 'allow', reason: 'learning', matched};
    case 'inactive':
      return {decision: 'allow', reason: 'blocking-inactive', matched};
  }
}

const scratch = new Uint32Array(4);

/** Parses `text` strictly and decides; throws InputError for a bad address. */
export function decide(policy: KeyPolicy, text: string): Decision {
  if (text.includes('/') && isRange(text)) {
    throw new InputError(`${show(text)} is a range; check takes single addresses`);
  }
  const family = scanDecisionAddress(text, scratch);
  // Accepted IPv4 text is already canonical; IPv6 text may not be (and 4-in-6 is reported as written).
  const ip = family === 6 ? formatIPv6(scratch) : text.includes(':') ? `::ffff:${formatIPv4(scratch[0])}` : text;
  return decideWords(policy, ip, family, scratch);
}

/** Whether `text` is a well-formed range (so that "is a range" is only said of ranges). */
function isRange(text: string): boolean {
  try {
    scanPrefix(text, {family: 4, bits: 0, words: new Uint32Array(4)});
    return true;
  } catch {
    return false;
  }
}
