/**
 * A key's decisions by outcome, for streams: the decision for an address
 * depends only on the innermost entry containing it in the key's list and in
 * the account list, so each such pair is ruled once (by `decideOutcome`, the rules
 * decideWords applies) and every later address with the same pair costs one
 * search per list. Callers render each outcome once.
 */
import {Family} from './address.js';
import {decideOutcome, EntryIndex, KeyPolicy, Matches, Outcome, Reason} from './decision.js';
import {FamilyArrays} from './prefix-index.js';
import {lastAtOrBelow} from './words.js';

/**
 * Finds the innermost IPv4 entry containing an address in one step or two:
 * entries are bucketed by the top 16 bits of their start, and the binary
 * search runs only within the address's bucket. Each entry's start, end,
 * parent and a slot for the caller sit side by side in `cells`, so that a
 * lookup touches few cache lines.
 */
class IPv4Locator {
  /** firstAt[h]: the first sorted position whose start has top 16 bits >= h; firstAt[65536] = n. */
  private readonly firstAt = new Int32Array(65537);
  /** Per sorted position i: start at 4i, end at 4i+1, parent + 1 at 4i+2, slot at 4i+3. */
  readonly cells: Uint32Array;

  constructor(f: FamilyArrays) {
    const n = f.parents.length;
    this.cells = new Uint32Array(4 * n);
    let h = 0;
    for (let i = 0; i < n; i++) {
      this.cells[4 * i] = f.starts[i];
      this.cells[4 * i + 1] = f.ends[i];
      this.cells[4 * i + 2] = f.parents[i] + 1;
      const top = f.starts[i] >>> 16;
      while (h <= top) this.firstAt[h++] = i;
    }
    while (h <= 65536) this.firstAt[h++] = n;
  }

  /** The sorted position of the innermost entry containing the address `a` (live or not), or -1. */
  innermost(a: number): number {
    const cells = this.cells;
    const h = a >>> 16;
    // Every start before the bucket is below `a`.
    let found = lastAtOrBelow(cells, 4, this.firstAt[h], this.firstAt[h + 1] - 1, a);
    while (found >= 0 && cells[4 * found + 1] < a) found = cells[4 * found + 2] - 1;
    return found;
  }

  /**
   * innermost(values[i]) into found[i] for every i below count, in two
   * passes (every bucket first, then every search) so that the memory reads
   * for different addresses overlap instead of waiting on one another.
   */
  innermostMany(values: Uint32Array, count: number, found: Int32Array): void {
    const firstAt = this.firstAt;
    for (let i = 0; i < count; i++) found[i] = firstAt[values[i] >>> 16];
    const cells = this.cells;
    for (let i = 0; i < count; i++) {
      const a = values[i];
      let at = lastAtOrBelow(cells, 4, found[i], firstAt[(a >>> 16) + 1] - 1, a);
      while (at >= 0 && cells[4 * at + 1] < a) at = cells[4 * at + 2] - 1;
      found[i] = at;
    }
  }
}

/**
 * Finds the innermost IPv6 entry containing an address as IPv4Locator does:
 * entries are bucketed by 16 bits of their start, the 16 bits after the
 * longest prefix every start shares (so that the buckets keep the starts'
 * order), and the search runs only within the address's bucket, comparing
 * 128-bit values word by word on this family's own arrays (a generic
 * comparison over any array-like was most of an IPv6 decision).
 */
class IPv6Locator {
  private readonly n: number;
  /** firstAt[h]: the first sorted position whose bucket is >= h; firstAt[65536] = n. */
  private readonly firstAt = new Int32Array(65537);
  /** The bits every start shares, masked (`prefix`), and the mask; the bucket is the 16 bits after them. */
  private readonly prefix = new Uint32Array(4);
  private readonly mask = new Uint32Array(4);
  private readonly shift: number;

  constructor(private readonly f: FamilyArrays) {
    const n = f.parents.length;
    this.n = n;
    const starts = f.starts;
    // The common prefix of the first and the last start is every start's (they are sorted).
    let shared = 0;
    if (n > 0) {
      const last = 4 * (n - 1);
      while (shared < 112) {
        const w = shared >>> 5;
        const bit = 0x80000000 >>> (shared & 31);
        if ((starts[w] & bit) !== (starts[last + w] & bit)) break;
        shared++;
      }
    }
    this.shift = shared;
    for (let w = 0; w < 4; w++) {
      const bits = Math.max(0, Math.min(32, shared - 32 * w));
      this.mask[w] = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      this.prefix[w] = n > 0 ? (starts[w] & this.mask[w]) >>> 0 : 0;
    }
    let h = 0;
    for (let i = 0; i < n; i++) {
      const top = this.bucket(starts, 4 * i);
      while (h <= top) this.firstAt[h++] = i;
    }
    while (h <= 65536) this.firstAt[h++] = n;
  }

  /** The 16 bits of words[at..at+3] after the shared prefix. */
  private bucket(words: Uint32Array, at: number): number {
    const shift = this.shift;
    const w = shift >>> 5;
    const o = shift & 31;
    if (o <= 16) return (words[at + w] >>> (16 - o)) & 0xffff;
    return ((words[at + w] << (o - 16)) | (words[at + w + 1] >>> (48 - o))) & 0xffff;
  }

  /** The sorted position of the innermost entry containing words[at..at+3] (live or not), or -1. */
  innermost(words: Uint32Array, at: number): number {
    const n = this.n;
    if (n === 0) return -1;
    const a0 = words[at];
    const a1 = words[at + 1];
    const a2 = words[at + 2];
    const a3 = words[at + 3];
    let found: number;
    // Against the shared prefix: below it, every start is above the address; above it, every start is below.
    const order = compare4((a0 & this.mask[0]) >>> 0, (a1 & this.mask[1]) >>> 0, (a2 & this.mask[2]) >>> 0, (a3 & this.mask[3]) >>> 0, this.prefix, 0);
    if (order < 0) return -1;
    if (order > 0) found = n - 1;
    else {
      // Every start before the bucket is below the address.
      const h = this.bucket(words, at);
      return this.searchBucket(a0, a1, a2, a3, this.firstAt[h], this.firstAt[h + 1] - 1);
    }
    return this.containingFrom(a0, a1, a2, a3, found);
  }

  /** The innermost entry containing (a0..a3) among sorted positions lo..hi and their parents (the address is at or after start lo). */
  private searchBucket(a0: number, a1: number, a2: number, a3: number, lo: number, hi: number): number {
    const starts = this.f.starts;
    let found = lo - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (compare4(a0, a1, a2, a3, starts, 4 * mid) >= 0) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return this.containingFrom(a0, a1, a2, a3, found);
  }

  /** From the last entry starting at or before (a0..a3), up its parents to the first that contains it, or -1. */
  private containingFrom(a0: number, a1: number, a2: number, a3: number, found: number): number {
    const ends = this.f.ends;
    const parents = this.f.parents;
    while (found >= 0 && compare4(a0, a1, a2, a3, ends, 4 * found) > 0) found = parents[found];
    return found;
  }

  /**
   * innermost(words, 4 * batch[i]) into found[i] for every i below count, in
   * two passes (every bucket first, then every search), as IPv4Locator's
   * innermostMany, so that the memory reads for different addresses overlap.
   */
  innermostMany(words: Uint32Array, batch: Int32Array, count: number, found: Int32Array): void {
    const firstAt = this.firstAt;
    // (An address outside the shared prefix is answered by innermost, which needs no bucket.)
    for (let i = 0; i < count; i++) found[i] = firstAt[this.bucket(words, 4 * batch[i])];
    for (let i = 0; i < count; i++) found[i] = this.searchFrom(words, 4 * batch[i], found[i]);
  }

  /** innermost(words, at), given firstAt[its bucket] as `lo` when the address has the shared prefix. */
  private searchFrom(words: Uint32Array, at: number, lo: number): number {
    const mask = this.mask;
    const prefix = this.prefix;
    if (
      this.n === 0 ||
      (words[at] & mask[0]) >>> 0 !== prefix[0] ||
      (words[at + 1] & mask[1]) >>> 0 !== prefix[1] ||
      (words[at + 2] & mask[2]) >>> 0 !== prefix[2] ||
      (words[at + 3] & mask[3]) >>> 0 !== prefix[3]
    ) {
      return this.innermost(words, at);
    }
    return this.searchBucket(words[at], words[at + 1], words[at + 2], words[at + 3], lo, this.firstAt[this.bucket(words, at) + 1] - 1);
  }
}

/** The order of the 128-bit value (a0, a1, a2, a3) against values[at..at+3]: -1, 0 or 1. */
function compare4(a0: number, a1: number, a2: number, a3: number, values: Uint32Array, at: number): number {
  let b = values[at];
  if (a0 !== b) return a0 < b ? -1 : 1;
  b = values[at + 1];
  if (a1 !== b) return a1 < b ? -1 : 1;
  b = values[at + 2];
  if (a2 !== b) return a2 < b ? -1 : 1;
  b = values[at + 3];
  return a3 === b ? 0 : a3 < b ? -1 : 1;
}

/** Where addresses fall in one index: the innermost containing entry's sorted position, or -1. */
class Locator {
  private readonly v4: IPv4Locator;
  private readonly v6: IPv6Locator;

  constructor(private readonly index: EntryIndex) {
    this.v4 = new IPv4Locator(index.compiled.arrays.v4);
    this.v6 = new IPv6Locator(index.compiled.arrays.v6);
  }

  /** Where an IPv4 address falls, with a slot per entry for the caller. */
  get ipv4(): IPv4Locator {
    return this.v4;
  }

  get ipv6(): IPv6Locator {
    return this.v6;
  }

  /** For an address scanned and unmapped into `words`. */
  innermost(family: Family, words: Uint32Array): number {
    return family === 4 ? this.v4.innermost(words[0]) : this.v6.innermost(words, 0);
  }

  /** The texts of the entries live at `nowMs` from sorted position `at` outwards, outermost first, by effect (as EntryIndex.matchedTexts). */
  texts(family: Family, at: number, nowMs: number): Matches<string> {
    return this.index.textsOf(this.positions(family, at, nowMs).reverse());
  }

  /** The list positions of those entries, by effect: outermost first when `ordered`, else in no particular order. */
  live(family: Family, at: number, nowMs: number, ordered = false): Matches<number> {
    const positions = this.positions(family, at, nowMs);
    return this.index.effectsOf(ordered ? positions.reverse() : positions);
  }

  /**
   * What live's answer holds, as a mask and without a list: LIVE_DENY when a
   * live entry from sorted position `at` outwards is a deny entry, LIVE_ALLOW
   * when one is an allow entry.
   */
  liveMask(family: Family, at: number, nowMs: number): number {
    const f = family === 4 ? this.index.compiled.arrays.v4 : this.index.compiled.arrays.v6;
    const deny = this.index.deny;
    let mask = 0;
    for (let i = at; i >= 0; i = f.parents[i]) {
      if (f.expires[i] > nowMs) mask |= deny !== null && deny[f.origin[i]] === 1 ? LIVE_DENY : LIVE_ALLOW;
    }
    return mask;
  }

  /** The list positions of the entries live at `nowMs` from sorted position `at` outwards, innermost first. */
  private positions(family: Family, at: number, nowMs: number): number[] {
    const f = family === 4 ? this.index.compiled.arrays.v4 : this.index.compiled.arrays.v6;
    const positions: number[] = [];
    for (let i = at; i >= 0; i = f.parents[i]) if (f.expires[i] > nowMs) positions.push(f.origin[i]);
    return positions;
  }
}

const LIVE_DENY = 1;
const LIVE_ALLOW = 2;

/** A copy of `values` twice as long. */
function grown(values: Int32Array): Int32Array<ArrayBuffer> {
  const longer = new Int32Array(2 * values.length);
  longer.set(values);
  return longer;
}

/**
 * Stand-ins for live's answer by liveMask (index: the mask), for ruling a
 * decision alone: decideOutcome reads only whether each list is empty, and
 * a decisions-only outcome is prepared with `matched` empty.
 */
const MASKED: readonly Matches<number>[] = [
  {allow: [], deny: []},
  {allow: [], deny: [-1]},
  {allow: [-1], deny: []},
  {allow: [-1], deny: [-1]},
];

/** How a DecisionTable hands outcomes to be prepared (by default, each with its matched entries' texts, to `prepare`). */
export interface TableOptions {
  /**
   * The caller wants only each outcome's decision and reason (`check
   * --print`): outcomes are ruled from the entries' positions, without their
   * texts, handed to `prepare` with `matched` empty, and prepared once for
   * each reason.
   */
  decisionsOnly?: boolean;
  /**
   * For a key without a list of its own: outcomes go here instead, `matched`
   * holding positions in the account list (outermost first, as the texts
   * would be; see EntryIndex.textAt), so that the caller can render them
   * without a string for each.
   */
  prepareAccount?: (outcome: Outcome<number>) => number;
  /**
   * As prepareAccount, and preferred to it: the outcome comes with `matched`
   * empty, and its matched account list positions (outermost first) in
   * positions[0, count), a buffer the table reuses (read it before
   * returning). Ruled without a list or an object for each outcome.
   */
  prepareAccountPositions?: (outcome: Outcome<number>, positions: Int32Array, count: number) => number;
}

/** An outcome ruled from a mask of live effects alone, and which of the account's lists it names (0: none). */
interface MaskRule {
  outcome: Outcome<number>;
  list: number;
}

/**
 * The outcomes of one key's policy, each prepared once: the decision for an
 * address depends only on the innermost entries containing it (in the key's
 * list and in the account list), so it is ruled once for each such pair,
 * handed to `prepare`, and the number `prepare` returns (say, where the
 * caller keeps its rendering) is what `lookup` answers for every address with
 * that outcome, without the caller keeping a table of its own.
 */
export class DecisionTable {
  /** How many outcomes have been ruled. */
  size = 0;
  private readonly account: Locator;
  private readonly own: Locator | null;
  /** Prepared number + 1 by innermost account position + 1 (0: not ruled yet). */
  private readonly byAccount: Record<Family, Int32Array>;
  /** Prepared number by (key-list position, account position, family), for keys with a list. */
  private readonly byPair = new Map<number, number>();
  /** Decisions only: the prepared number by reason (which names its decision), all an outcome is then. */
  private readonly byReason = new Map<Reason, number>();
  private readonly scratch = new Uint32Array(4);
  private readonly decisionsOnly: boolean;
  private readonly prepareAccount: ((outcome: Outcome<number>) => number) | null;
  private readonly prepareAccountPositions: ((outcome: Outcome<number>, positions: Int32Array, count: number) => number) | null;
  /** For prepareAccountPositions: the rule of each mask of live effects, and the buffers of an entry's chain and matched positions. */
  private readonly maskRules: (MaskRule | null)[] = [null, null, null, null];
  private chain = new Int32Array(64);
  private matched = new Int32Array(64);

  constructor(
    readonly policy: KeyPolicy,
    /** Returns a number from 0 to 2^31 - 2 for the caller to get back. */
    private readonly prepare: (outcome: Outcome<string>) => number,
    options: TableOptions = {},
  ) {
    this.decisionsOnly = options.decisionsOnly ?? false;
    this.prepareAccount = policy.own === null ? (options.prepareAccount ?? null) : null;
    this.prepareAccountPositions = policy.own === null ? (options.prepareAccountPositions ?? null) : null;
    this.account = new Locator(policy.account);
    this.own = policy.own === null ? null : new Locator(policy.own);
    const arrays = policy.account.compiled.arrays;
    // IPv4 outcomes are kept in the locator's cells; slot 0 here is for addresses in no entry.
    this.byAccount = {4: new Int32Array(1), 6: new Int32Array(arrays.v6.parents.length + 1)};
  }

  /** The prepared number of the outcome for an address scanned and unmapped into `words` (see `scanDecisionAddress`). */
  lookup(family: Family, words: Uint32Array): number {
    return family === 4 ? this.lookupIPv4(words[0]) : this.lookupAny(6, words);
  }

  /** lookup(4, [a]), without the array. */
  lookupIPv4(a: number): number {
    if (this.own !== null) {
      this.scratch[0] = a;
      return this.lookupAny(4, this.scratch);
    }
    return this.atIPv4(this.account.ipv4.innermost(a));
  }

  /** The common case (no key list): the outcome for the innermost IPv4 account entry at `at` (or -1), kept + 1 beside the entry's bounds. */
  private atIPv4(at: number): number {
    const cells = this.account.ipv4.cells;
    const cell = 4 * at + 3;
    const known = at < 0 ? this.byAccount[4][0] : cells[cell];
    if (known > 0) return known - 1;
    const prepared = this.add(null, 4, at);
    if (at < 0) this.byAccount[4][0] = prepared + 1;
    else cells[cell] = prepared + 1;
    return prepared;
  }

  /** lookupIPv4(values[i]) into out[i] for every i below count; faster than one at a time. */
  lookupIPv4Many(values: Uint32Array, count: number, out: Int32Array): void {
    if (this.own === null) {
      const v4 = this.account.ipv4;
      v4.innermostMany(values, count, out);
      const cells = v4.cells;
      const outside = this.byAccount[4][0];
      for (let i = 0; i < count; i++) {
        // The prepared number + 1, or 0 for an outcome not ruled yet.
        const known = out[i] < 0 ? outside : cells[4 * out[i] + 3];
        out[i] = known > 0 ? known - 1 : this.atIPv4(out[i]);
      }
      return;
    }
    for (let i = 0; i < count; i++) out[i] = this.lookupIPv4(values[i]);
  }

  /**
   * lookup(6, words[4 * batch[i] .. 4 * batch[i] + 3]) into out[i] for every
   * i below count (IPv6 addresses, not 4-in-6); faster than one at a time.
   */
  lookupIPv6Many(words: Uint32Array, batch: Int32Array, count: number, out: Int32Array): void {
    if (this.own === null) {
      this.account.ipv6.innermostMany(words, batch, count, out);
      const slots = this.byAccount[6];
      for (let i = 0; i < count; i++) {
        const at = out[i];
        const known = slots[at + 1];
        if (known > 0) out[i] = known - 1;
        else {
          const prepared = this.add(null, 6, at);
          slots[at + 1] = prepared + 1;
          out[i] = prepared;
        }
      }
      return;
    }
    const scratch = this.scratch;
    for (let i = 0; i < count; i++) {
      const w = 4 * batch[i];
      scratch[0] = words[w];
      scratch[1] = words[w + 1];
      scratch[2] = words[w + 2];
      scratch[3] = words[w + 3];
      out[i] = this.lookupAny(6, scratch);
    }
  }

  /**
   * For a key without a list of its own, rules at once the outcome of every
   * IPv4 account entry not ruled yet (handing each to `prepare`, as lookups
   * do). A long stream over a large list meets most entries: one loop over
   * them costs less than ruling each as it comes. False, and nothing done,
   * for a key with a list. Decisions only: an entry's outcome is then its
   * live entries' effects (liveMask) alone, each of the four ruled once.
   */
  ruleIPv4Entries(): boolean {
    if (this.own !== null) return false;
    if (this.decisionsOnly) {
      const cells = this.account.ipv4.cells;
      const nowMs = this.policy.nowMs;
      const byMask = [-1, -1, -1, -1];
      for (let at = 0, n = cells.length >> 2; at < n; at++) {
        const cell = 4 * at + 3;
        if (cells[cell] > 0) continue;
        const mask = this.account.liveMask(4, at, nowMs);
        let prepared = byMask[mask];
        if (prepared < 0) prepared = byMask[mask] = this.add(null, 4, at);
        else this.size++;
        cells[cell] = prepared + 1;
      }
      return true;
    }
    const prepare = this.prepareAccountPositions;
    if (prepare !== null) {
      // (atIPv4's work, in one loop.)
      const cells = this.account.ipv4.cells;
      const nowMs = this.policy.nowMs;
      for (let at = 0, n = cells.length >> 2; at < n; at++) {
        const cell = 4 * at + 3;
        if (cells[cell] > 0) continue;
        const prepared = this.prepareFromPositions(prepare, 4, at, nowMs);
        if (!(prepared >= 0 && prepared < 0x7fffffff)) throw new RangeError(`prepared number out of range: ${prepared}`);
        this.size++;
        cells[cell] = prepared + 1;
      }
      return true;
    }
    for (let at = 0, n = this.account.ipv4.cells.length >> 2; at < n; at++) this.atIPv4(at);
    return true;
  }

  private lookupAny(family: Family, words: Uint32Array): number {
    const account = this.account.innermost(family, words);
    if (this.own === null) {
      const slots = this.byAccount[family];
      const known = slots[account + 1];
      if (known > 0) return known - 1;
      const prepared = this.add(null, family, account);
      slots[account + 1] = prepared + 1;
      return prepared;
    }
    const own = this.own.innermost(family, words);
    const pair = ((own + 1) * (this.policy.account.size + 1) + account + 1) * 2 + (family === 4 ? 0 : 1);
    const known = this.byPair.get(pair);
    if (known !== undefined) return known;
    const prepared = this.add(own, family, account);
    this.byPair.set(pair, prepared);
    return prepared;
  }

  /**
   * For a key without a list of its own: rules the outcome for the innermost
   * account entry at sorted position `at` (or -1) from the mask of its live
   * entries' effects (decideOutcome once for each of the four masks), and
   * hands its matched positions, outermost first, as decideOutcome would
   * list them (the deny entries for `denied`, the allow entries for
   * `authorized`, else none), to `prepare` in a reused buffer.
   */
  private prepareFromPositions(prepare: (outcome: Outcome<number>, positions: Int32Array, count: number) => number, family: Family, at: number, nowMs: number): number {
    const f = family === 4 ? this.policy.account.compiled.arrays.v4 : this.policy.account.compiled.arrays.v6;
    const deny = this.policy.account.deny;
    const parents = f.parents;
    const expires = f.expires;
    const origin = f.origin;
    let chain = this.chain;
    let n = 0;
    let mask = 0;
    // Innermost first; a deny entry's position is kept as -1 - position.
    for (let i = at; i >= 0; i = parents[i]) {
      if (expires[i] > nowMs) {
        const position = origin[i];
        if (n === chain.length) chain = this.chain = grown(chain);
        if (deny !== null && deny[position] === 1) {
          mask |= LIVE_DENY;
          chain[n++] = -1 - position;
        } else {
          mask |= LIVE_ALLOW;
          chain[n++] = position;
        }
      }
    }
    const rule = this.maskRules[mask] ?? this.ruleMask(mask);
    if (this.matched.length < n) this.matched = new Int32Array(chain.length);
    const matched = this.matched;
    let count = 0;
    if (rule.list === LIVE_DENY) {
      for (let j = n - 1; j >= 0; j--) if (chain[j] < 0) matched[count++] = -1 - chain[j];
    } else if (rule.list === LIVE_ALLOW) {
      for (let j = n - 1; j >= 0; j--) if (chain[j] >= 0) matched[count++] = chain[j];
    }
    return prepare(rule.outcome, matched, count);
  }

  /** decideOutcome for an account entry whose live entries' effects are `mask` (no key list), once. */
  private ruleMask(mask: number): MaskRule {
    const inAccount = MASKED[mask];
    const {decision, reason, matched} = decideOutcome(this.policy, null, () => inAccount);
    // (decideOutcome lists the account's deny entries, or its allow entries, or none.)
    const list = matched.length === 0 ? 0 : matched === inAccount.deny ? LIVE_DENY : matched === inAccount.allow ? LIVE_ALLOW : -1;
    if (list < 0) throw new Error('internal error: an outcome listing entries of neither effect');
    const rule = {outcome: {decision, reason, matched: []}, list};
    this.maskRules[mask] = rule;
    return rule;
  }

  /** Rules the outcome for the innermost entries at `own` in the key's list (null: the key has no list) and `account`, and prepares it. */
  private add(own: number | null, family: Family, account: number): number {
    this.size++;
    const nowMs = this.policy.nowMs;
    let prepared: number;
    if (this.decisionsOnly) {
      const ownLive = own === null || this.own === null ? null : this.own.live(family, own, nowMs);
      // (Without the lists of positions: tens of thousands of outcomes may be ruled at once.)
      const inAccount = MASKED[this.account.liveMask(family, account, nowMs)];
      const {decision, reason} = decideOutcome(this.policy, ownLive, () => inAccount);
      const known = this.byReason.get(reason);
      prepared = known ?? this.prepare({decision, reason, matched: []});
      if (known === undefined) this.byReason.set(reason, prepared);
    } else if (this.prepareAccountPositions !== null) {
      prepared = this.prepareFromPositions(this.prepareAccountPositions, family, account, nowMs);
    } else if (this.prepareAccount !== null) {
      // (No list of the key's own: every matched entry is the account list's.)
      prepared = this.prepareAccount(decideOutcome(this.policy, null, () => this.account.live(family, account, nowMs, true)));
    } else {
      const ownTexts = own === null || this.own === null ? null : this.own.texts(family, own, nowMs);
      prepared = this.prepare(decideOutcome(this.policy, ownTexts, () => this.account.texts(family, account, nowMs)));
    }
    if (!(prepared >= 0 && prepared < 0x7fffffff)) throw new RangeError(`prepared number out of range: ${prepared}`);
    return prepared;
  }
}
