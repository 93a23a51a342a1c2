/**
 * Decisions: may key K be used from address A, now? A pure function of the
 * store's data and the time (SPEC "Decisions"), built once per process into
 * indexes so that a stream of addresses costs a binary search each.
 */
import {Family, formatIPv4, formatIPv6, scanDecisionAddress} from './address.js';
import {scanPrefix} from './prefix.js';
import {InputError, show} from './errors.js';
import {findCheckKey, findKey} from './keys.js';
import {BlockedRecord, BlockingState, BlockReason, Channel, EntryRecord, isDeny, isEnabled, KeyRecord, StoreData} from './model.js';
import {CompiledIndex} from './prefix-index.js';

/** Whether an entry record is in force at `now` (expired entries never match). */
export function isLive(record: EntryRecord, now: Date): boolean {
  return record.expiresAt === null || Date.parse(record.expiresAt) > now.getTime();
}

export type Verdict = 'allow' | 'deny';
export type Reason = 'key-revoked' | 'denied' | 'not-in-key-allowlist' | 'not-authorized' | 'learning' | 'blocking-inactive' | 'authorized';

export interface Decision {
  key: string;
  ip: string;
  decision: Verdict;
  reason: Reason;
  matched: string[];
}

/** The live entries of one list containing an address, outermost first, by effect. */
export interface Matches<T> {
  allow: T[];
  deny: T[];
}

const NO_MATCHES: Matches<never> = {allow: [], deny: []};

/**
 * An index over the enabled entry records of one list (disabled entries never
 * match, so they are not in it), with their canonical texts and effects, for
 * decisions and reports; expiry is judged at lookup.
 */
export class EntryIndex {
  constructor(
    readonly compiled: CompiledIndex,
    /** The canonical text of the entry at a position of the indexed list. */
    private readonly text: (position: number) => string,
    /** 1 at the position of a deny entry; null when the list has none (the common case). */
    readonly deny: Uint8Array | null = null,
  ) {}

  static fromRecords(records: readonly EntryRecord[]): EntryIndex {
    const enabled = records.every(isEnabled) ? records : records.filter(isEnabled);
    const texts = enabled.map((r) => r.entry);
    const expires = enabled.map((r) => (r.expiresAt === null ? Number.POSITIVE_INFINITY : Date.parse(r.expiresAt)));
    return new EntryIndex(CompiledIndex.fromTexts(texts, expires), (i) => texts[i], denyFlags(enabled));
  }

  get size(): number {
    return this.compiled.size;
  }

  /** Whether a live allow entry contains the address (deny entries are not asked). */
  has(family: Family, words: Uint32Array, nowMs: number): boolean {
    if (this.deny === null) return this.compiled.has(family, words, nowMs);
    const deny = this.deny;
    return this.compiled.matches(family, words, nowMs).some((i) => deny[i] === 0);
  }

  /** Whether a live deny entry contains the address. */
  denies(family: Family, words: Uint32Array, nowMs: number): boolean {
    if (this.deny === null) return false;
    const deny = this.deny;
    return this.compiled.matches(family, words, nowMs).some((i) => deny[i] === 1);
  }

  /** Canonical texts of the entries live at `nowMs` containing the address, outermost first, by effect. */
  matchedTexts(family: Family, words: Uint32Array, nowMs: number): Matches<string> {
    return this.textsOf(this.compiled.matches(family, words, nowMs));
  }

  /** The texts of entries at positions of the indexed list (outermost first), by effect. */
  textsOf(positions: readonly number[]): Matches<string> {
    if (positions.length === 0) return NO_MATCHES;
    if (this.deny === null) return {allow: positions.map(this.text), deny: []};
    const matches: Matches<string> = {allow: [], deny: []};
    for (const i of positions) (this.deny[i] === 1 ? matches.deny : matches.allow).push(this.text(i));
    return matches;
  }

  /** Positions of the indexed list by effect, as given (textsOf without the texts). */
  effectsOf(positions: number[]): Matches<number> {
    if (positions.length === 0) return NO_MATCHES;
    if (this.deny === null) return {allow: positions, deny: []};
    const matches: Matches<number> = {allow: [], deny: []};
    for (const i of positions) (this.deny[i] === 1 ? matches.deny : matches.allow).push(i);
    return matches;
  }

  /** The canonical text of the entry at a position of the indexed list (see CompiledIndex.matches). */
  textAt(position: number): string {
    return this.text(position);
  }
}

/** 1 for each deny record, or null when there is none. */
export function denyFlags(records: readonly EntryRecord[]): Uint8Array | null {
  if (!records.some(isDeny)) return null;
  const flags = new Uint8Array(records.length);
  for (let i = 0; i < records.length; i++) if (isDeny(records[i])) flags[i] = 1;
  return flags;
}

/** Everything a decision needs for one key, fixed at one moment. */
export interface KeyPolicy {
  readonly key: KeyRecord;
  readonly state: BlockingState;
  /** The key's own list (its enabled allow and deny entries), or null when it has no entries at all. */
  readonly own: EntryIndex | null;
  /**
   * Whether the key has a key list in the sense of step 3: at least one allow
   * entry, live or not, enabled or not (a list whose entries are expired or
   * disabled allows nothing). Deny entries alone restrict nothing else.
   */
  readonly restricted: boolean;
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

  /** The KEY of `check KEY ADDRESS...`: as findKey, and arguments given the wrong way round said so (see keys.ts). */
  findCheckKey(key: string, addresses: readonly string[]): KeyRecord {
    return findCheckKey(this.data.keys, key, addresses);
  }

  forKey(key: KeyRecord): KeyPolicy {
    let policy = this.keyPolicies.get(key.name);
    if (!policy) {
      // A key whose list has only expired (or disabled) allow entries still has a list: it allows nothing.
      const own = key.allow.length > 0 ? EntryIndex.fromRecords(key.allow) : null;
      const restricted = key.allow.some((r) => !isDeny(r));
      policy = {key, state: this.states[key.type], own, restricted, account: this.account, nowMs: this.now.getTime()};
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
  const own = policy.own === null ? null : policy.own.matchedTexts(family, words, policy.nowMs);
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
 * contain it, outermost first, by effect: `own` in the key's list (null when
 * the key has no entries) and `account` in the account list (asked only when
 * it matters). Deny entries (step 2a) win over every allow in every state.
 */
export function decideOutcome<T>(policy: KeyPolicy, own: Matches<T> | null, account: () => Matches<T>): Outcome<T> {
  if (policy.key.status === 'revoked') return {decision: 'deny', reason: 'key-revoked', matched: []};
  const inAccount = account();
  if (inAccount.deny.length > 0 || (own !== null && own.deny.length > 0)) {
    const denied = own === null || own.deny.length === 0 ? inAccount.deny : [...own.deny, ...inAccount.deny];
    return {decision: 'deny', reason: 'denied', matched: denied};
  }
  const matched = own === null ? [] : own.allow;
  if (policy.restricted && matched.length === 0) return {decision: 'deny', reason: 'not-in-key-allowlist', matched};
  if (inAccount.allow.length > 0) {
    return {decision: 'allow', reason: 'authorized', matched: matched.length === 0 ? inAccount.allow : [...matched, ...inAccount.allow]};
  }
  switch (policy.state) {
    case 'active':
      return {decision: 'deny', reason: 'not-authorized', matched};
    case 'learning':
      return {decision: 'allow', reason: 'learning', matched};
    case 'inactive':
      return {decision: 'allow', reason: 'blocking-inactive', matched};
  }
}

/** Whether a deny entry of the key's list or the account list (enabled, live) contains the address (step 2a). */
export function isDenied(policy: KeyPolicy, family: Family, words: Uint32Array): boolean {
  return policy.account.denies(family, words, policy.nowMs) || (policy.own !== null && policy.own.denies(family, words, policy.nowMs));
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

/** Why an address is on the blocked list: the refusal's reason, and the deny entry for a deny. */
export type Refusal = Pick<BlockedRecord, 'reason' | 'deniedBy'>;

/** The refusal `decision` (a deny) is, for the blocked record of `key`. */
export function refusalOf(key: KeyRecord, decision: Decision): Refusal {
  const reason = decision.reason as BlockReason;
  if (reason !== 'denied' || decision.matched.length === 0) return {reason};
  const entry = decision.matched[0];
  const inKeyList = key.allow.some((r) => r.entry === entry && isDeny(r));
  return {reason, deniedBy: {entry, scope: inKeyList ? 'key' : 'account'}};
}
