/**
 * Changes to an allowlist (the account list or a key list): adding entries,
 * reporting those already covered, removing exact entries. Entries are read
 * by entry-parse.ts.
 */
import {aboutInput, InputError, SafetyError} from './errors.js';
import {decide, isLive, Policy, Refusal, refusalOf} from './decision.js';
import {BlockedRecord, EntryRecord, isDeny, isEnabled, StoreData} from './model.js';
import {Family} from './address.js';
import {containsEntry, EntryWordsBuilder, listOrder, rememberEntryWords, sameEntry} from './entry-order.js';
import {EntryBatch, NewEntry} from './entry-parse.js';
import {formatScanned, maskScanned, Prefix, ScannedPrefix, scanPrefix} from './prefix.js';
import {CompiledIndex, PrefixIndex} from './prefix-index.js';

/** Replaces a list's contents in place (no spread: lists can hold a million entries). */
function replaceContents<T>(list: T[], kept: T[]): void {
  list.length = 0;
  for (const item of kept) list.push(item);
}

export interface Covered {
  entry: string;
  /** The live entries that already contain it (of the list, or wider ones of the same change), outermost first. */
  coveredBy: string[];
}

/** An exact entry already in the list that the change gave a new label or expiry (or renewed, when it had expired). */
export interface Updated {
  entry: string;
  label: string | null;
  expiresAt: string | null;
}

/**
 * The covered entries of a change as numbers, not objects (a large import
 * reports hundreds of thousands of them): for each, the batch index of the
 * entry and its covers, a cover being `-1 - c` for the list's live entry `c`
 * or a batch index. `Covered` values are made from it only where they are
 * read: all of them for `--json` (the `covered` property), the first few for
 * the human report (`coveredCount`, `coveredAt`).
 */
class CoveredReport {
  readonly entries: number[] = [];
  /** Where each entry's covers start in `covers`; one more than there are entries. */
  readonly starts: number[] = [0];
  readonly covers: number[] = [];
  constructor(
    private readonly liveTexts: readonly string[],
    private readonly batchTexts: readonly string[],
  ) {}

  get count(): number {
    return this.entries.length;
  }

  at(k: number): Covered {
    const coveredBy: string[] = [];
    let live = false;
    let batch = false;
    for (let c = this.starts[k]; c < this.starts[k + 1]; c++) {
      const cover = this.covers[c];
      if (cover < 0) live = true;
      else batch = true;
      coveredBy.push(cover < 0 ? this.liveTexts[-1 - cover] : this.batchTexts[cover]);
    }
    // Both kinds of cover: outermost (shortest prefix) first.
    if (live && batch) coveredBy.sort((x, y) => prefixLength(x) - prefixLength(y));
    return {entry: this.batchTexts[this.entries[k]], coveredBy};
  }
}

/** The compact form behind a result's `covered`, until that is read (see lazyCovered). */
const coveredReports = new WeakMap<object, CoveredReport>();

/**
 * Gives `result` a `covered` property made from `report` when first read
 * (then an ordinary array, the report let go), and keeps the report for
 * `coveredCount` / `coveredAt` meanwhile.
 */
function lazyCovered(result: object, report: CoveredReport): void {
  coveredReports.set(result, report);
  Object.defineProperty(result, 'covered', {
    configurable: true,
    enumerable: true,
    get(): Covered[] {
      const covered = Array.from({length: report.count}, (_, k) => report.at(k));
      Object.defineProperty(result, 'covered', {configurable: true, enumerable: true, writable: true, value: covered});
      coveredReports.delete(result);
      return covered;
    },
    set(value: Covered[]) {
      Object.defineProperty(result, 'covered', {configurable: true, enumerable: true, writable: true, value});
      coveredReports.delete(result);
    },
  });
}

/** Gives `to` (which has a `covered` key) `from`'s covered entries as they are: still compact when they were not read. */
export function carryCovered<T extends Pick<AddResult, 'covered'>>(from: AddResult, to: T): T {
  const report = coveredReports.get(from);
  if (report === undefined) to.covered = from.covered;
  else lazyCovered(to, report);
  return to;
}

/** How many covered entries a result reports, without making them all. */
export function coveredCount(result: AddResult): number {
  return coveredReports.get(result)?.count ?? result.covered.length;
}

/** A result's covered entries from `start` up to (not including) `end`, without making the others. */
export function coveredSlice(result: AddResult, start: number, end: number): Covered[] {
  const report = coveredReports.get(result);
  if (report === undefined) return result.covered.slice(start, end);
  const out: Covered[] = [];
  for (let k = start; k < Math.min(end, report.count); k++) out.push(report.at(k));
  return out;
}

/** What `addEntries` did, each part in list order (SPEC "Machine output", `authorize`). */
export interface AddResult {
  /** Entries new to the list, covered ones included. */
  added: string[];
  /** Added entries that other live entries already contain: stored all the same. */
  covered: Covered[];
  updated: Updated[];
  /** Exact entries already in the list with the same label and expiry. */
  unchanged: string[];
}

/**
 * Adds entries to `list` in place. Every entry is stored, also one that a
 * live entry (or a wider one of the same batch) already contains: a cover
 * that expires or is revoked must never take a permanent entry with it. Such
 * an entry is added and reported as covered, with its covers.
 *
 * An exact entry already live in the list keeps its record; the batch's label
 * and expiry, where given (not null), replace the record's, and it is reported
 * updated, else unchanged. An expired exact copy is renewed: its expiry
 * becomes the batch's (none, unless given), its label the batch's if given.
 * An entry the batch repeats counts once, with the first label given.
 *
 * Linear apart from sorting the batch (a radix sort) and one index over the
 * list's live entries.
 */
export function addEntries(list: EntryRecord[], entries: readonly NewEntry[] | EntryBatch, now: Date, effect: Effect = 'allow'): AddResult {
  const batch = entries instanceof EntryBatch ? entries : EntryBatch.fromEntries(entries);
  const deny = effect === 'deny';
  const mixed = deny || list.some(isDeny);
  if (mixed) refuseOtherEffect(list, batch.texts, effect);
  // The list's live entries (texts, and where each record is), and the first expired copy of each other entry.
  const liveTexts: string[] = [];
  const livePositions: number[] = [];
  const expired = new Map<string, number>();
  let expiredCopies = false;
  // Whether a live record is switched off: it is still the entry's record (it is kept, not added again), but it covers nothing.
  let disabledLive = false;
  for (let p = 0; p < list.length; p++) {
    const r = list[p];
    // Deny and allow entries are two lists in one: an entry is added to, and covered by, its own kind only.
    if (mixed && isDeny(r) !== deny) continue;
    if (isLive(r, now)) {
      liveTexts.push(r.entry);
      livePositions.push(p);
      if (!isEnabled(r)) disabledLive = true;
    } else if (expired.has(r.entry)) {
      expiredCopies = true;
    } else {
      expired.set(r.entry, p);
    }
  }
  const covers = coversOf(liveTexts, batch.count);
  const order = listOrder(batch);
  // Wider entries sort first, so the batch entries containing this one are the open ones on the stack.
  const open: number[] = [];
  // (`covered` first made as the others, so that it keeps its place among the result's keys.)
  const result: AddResult = {added: [], covered: [], updated: [], unchanged: []};
  const report = new CoveredReport(liveTexts, batch.texts);
  lazyCovered(result, report);
  const renewed = new Set<string>();
  const at = now.toISOString();
  const network = new Uint32Array(4);
  // The appended records' networks, in list order, for the writer (see KnownEntryWords): it need not parse them again.
  const from = list.length;
  const appended = new EntryWordsBuilder(Math.max(16, Math.min(batch.count, 1 << 20)));
  // Room for the whole batch made at once, cut to what was added after the loop: a list grown by push() to 1M
  // records touched about twice the memory (see grownColumn in entry-parse.ts).
  let last = from;
  let added = 0;
  list.length = from + batch.count;
  result.added.length = batch.count;
  try {
    for (let n = 0; n < order.length;) {
      const i = order[n];
      // Copies of one entry sort together, in input order: the first label given wins.
      let label = batch.labels[i];
      for (n++; n < order.length && sameEntry(batch, i, order[n]); n++) label ??= batch.labels[order[n]];
      while (open.length > 0 && !containsEntry(batch, open[open.length - 1], i)) open.pop();
      const family = batch.family[i] as Family;
      const bits = batch.bits[i];
      const text = batch.texts[i];
      const expiresAt = batch.expiresAt[i];
      network.set(batch.words.subarray(i * 4, i * 4 + 4));
      const covering = covers(family, network, bits);
      // The exact entry, if live in the list, is innermost among its covers (with its copies, should the list hold any).
      let position = -1;
      for (let c = covering.length - 1; c >= 0 && liveTexts[covering[c]] === text; c--) {
        if (position < 0 || livePositions[covering[c]] < position) position = livePositions[covering[c]];
      }
      if (position >= 0) {
        // Already there: only what the batch gives replaces what the record (its first live copy) has.
        const r = list[position];
        const next = {label: label ?? r.label, expiresAt: expiresAt ?? r.expiresAt};
        if (next.label === r.label && next.expiresAt === r.expiresAt) {
          result.unchanged.push(text);
        } else {
          // A new record, not an edit of the old one: snapshots of the list (history) hold the old one.
          list[position] = {...r, ...next};
          result.updated.push({entry: text, ...next});
        }
        continue;
      }
      open.push(i);
      const stale = expired.size > 0 ? expired.get(text) : undefined;
      if (stale !== undefined) {
        const r = list[stale];
        const next = {label: label ?? r.label, expiresAt};
        list[stale] = {...r, ...next};
        renewed.add(text);
        result.updated.push({entry: text, ...next});
        continue;
      }
      list[last++] = deny
        ? {entry: text, source: batch.sources[i], label, addedAt: at, expiresAt, effect: 'deny'}
        : {entry: text, source: batch.sources[i], label, addedAt: at, expiresAt};
      result.added[added++] = text;
      appended.push(family, bits, network);
      // A disabled entry never matches (SPEC "Disabled entries"): it lets nothing in, so it covers nothing.
      const coveredBy = disabledLive ? covering.filter((c) => isEnabled(list[livePositions[c]])) : covering;
      if (coveredBy.length > 0 || open.length > 1) {
        report.entries.push(i);
        for (const c of coveredBy) report.covers.push(-1 - c);
        for (let o = 0; o < open.length - 1; o++) report.covers.push(open[o]);
        report.starts.push(report.covers.length);
      }
    }
  } finally {
    list.length = last;
    result.added.length = added;
  }
  if (expiredCopies && renewed.size > 0) {
    // The list held more than one expired copy of a renewed entry: the renewed record stands for them all.
    replaceContents(
      list,
      list.filter((r, p) => !(renewed.has(r.entry) && isDeny(r) === deny && !isLive(r, now) && p !== expired.get(r.entry))),
    );
  }
  if (result.added.length > 0) rememberEntryWords(list, {from, texts: result.added, words: appended});
  return result;
}

/** Below this many entries in a batch, its covers are looked up by text (see coversOf). */
const FEW = 64;

/**
 * The positions in `texts` (canonical entries) of the entries that contain
 * every address of a range, outermost first: `CompiledIndex.covering`. For a
 * batch of a few entries, by text instead: each of the range's networks,
 * from /0 to its own length, written as an entry is (33 texts for an IPv4
 * range, at most 129 for IPv6) and looked for among the list's texts, in
 * one pass over them for each of the first few ranges, then in a map of
 * them, so that adding one address to 100,000 entries neither parses them
 * all nor puts them all in a map. A list holding an entry twice (a hand
 * edit) is compiled as before (the pass: when it meets a cover twice).
 */
export function coversOf(texts: readonly string[], batchSize: number): (family: Family, network: Uint32Array, bits: number) => number[] {
  if (texts.length === 0) return () => [];
  const compiled = () => {
    const index = CompiledIndex.fromTexts(texts);
    return (family: Family, network: Uint32Array, bits: number) => index.covering(family, network, bits);
  };
  if (batchSize > FEW) return compiled();
  let byText: ((family: Family, network: Uint32Array, bits: number) => number[]) | null = null;
  let asked = 0;
  const scratch: ScannedPrefix = {family: 4, bits: 0, words: new Uint32Array(4)};
  return (family, network, bits) => {
    // The first few ranges (one address added: one) by one pass over the texts, looking each up among the range's own networks
    // (a map of at most 129 texts): no map of the whole list. More ranges than that: the list's texts in a map, once.
    if (byText === null && ++asked > SCANS) byText = textMap(texts, compiled, scratch);
    if (byText !== null) return byText(family, network, bits);
    const wanted = new Map<string, number>();
    for (let b = 0; b <= bits; b++) wanted.set(networkText(scratch, family, network, b), b);
    const at = new Int32Array(bits + 1).fill(-1);
    for (let i = 0; i < texts.length; i++) {
      const b = wanted.get(texts[i]);
      if (b === undefined) continue;
      // An entry held twice among the covers (a hand edit): the compiled index answers, as for a list holding any entry twice.
      if (at[b] >= 0) return (byText = compiled())(family, network, bits);
      at[b] = i;
    }
    const found: number[] = [];
    for (let b = 0; b <= bits; b++) if (at[b] >= 0) found.push(at[b]);
    return found;
  };
}

/** How many ranges coversOf answers by a pass over the texts before it puts them in a map. */
const SCANS = 4;

/** The text of `network`'s first `bits` bits, written as an entry is. */
function networkText(scratch: ScannedPrefix, family: Family, network: Uint32Array, bits: number): string {
  scratch.family = family;
  scratch.bits = bits;
  scratch.words.set(network);
  maskScanned(scratch);
  return formatScanned(scratch);
}

/** coversOf by a map of the texts, or by the compiled index for a list holding an entry twice. */
function textMap(
  texts: readonly string[],
  compiled: () => (family: Family, network: Uint32Array, bits: number) => number[],
  scratch: ScannedPrefix,
): (family: Family, network: Uint32Array, bits: number) => number[] {
  const at = new Map<string, number>();
  for (let i = 0; i < texts.length; i++) {
    if (at.has(texts[i])) return compiled();
    at.set(texts[i], i);
  }
  return (family, network, bits) => {
    const found: number[] = [];
    for (let b = 0; b <= bits; b++) {
      const i = at.get(networkText(scratch, family, network, b));
      if (i !== undefined) found.push(i);
    }
    return found;
  };
}

/** The prefix length of a canonical entry text. */
function prefixLength(text: string): number {
  const slash = text.lastIndexOf('/');
  return slash >= 0 ? Number(text.slice(slash + 1)) : text.includes(':') ? 128 : 32;
}

/** An entry's effect: an allow entry lets an address in, a deny entry keeps it out whatever allows it. */
export type Effect = 'allow' | 'deny';

export const effectOf = (record: EntryRecord): Effect => (isDeny(record) ? 'deny' : 'allow');

/**
 * Refuses (InputError, exit 2) entries that the list already holds with the
 * other effect: one range both allowed and denied in one list would say two
 * things; the operator revokes the one first.
 */
function refuseOtherEffect(list: readonly EntryRecord[], texts: readonly string[], effect: Effect): void {
  const other = new Set<string>();
  for (const r of list) if (effectOf(r) !== effect) other.add(r.entry);
  if (other.size === 0) return;
  for (const text of texts) {
    if (!other.has(text)) continue;
    const was = effect === 'deny' ? 'allow' : 'deny';
    throw aboutInput(
      new InputError(
        `${text} is already ${was === 'deny' ? 'a deny' : 'an allow'} entry of this list; nothing was changed`,
        `revoke it first: keyward revoke${was === 'deny' ? ' --deny' : ''} ${text}`,
      ),
      text,
    );
  }
}

/** How a message names a list: "key billing's list", "the account list". */
export function listName(key: string | undefined): string {
  return key === undefined ? 'the account list' : `key ${key}'s list`;
}

/**
 * Removes exact entries of one effect from `list` in place, all or nothing:
 * an entry that is not in the list (with that effect) throws an InputError
 * naming the entries of that effect that cover it.
 */
export function removeEntries(list: EntryRecord[], prefixes: readonly Prefix[], effect: Effect = 'allow', listName = 'the list'): string[] {
  const texts = prefixes.map(String);
  const mine = list.filter((r) => effectOf(r) === effect);
  const index = new PrefixIndex(mine.map((r) => Prefix.parse(r.entry)));
  const present = new Set(mine.map((r) => r.entry));
  for (const [i, text] of texts.entries()) {
    if (present.has(text)) continue;
    if (list.some((r) => r.entry === text)) {
      const flag = effect === 'deny' ? '' : ' --deny';
      throw aboutInput(
        new InputError(
          `${text} is ${effect === 'deny' ? 'an allow' : 'a deny'} entry, not ${effect === 'deny' ? 'a deny' : 'an allow'} entry; nothing was removed`,
          `keyward revoke${flag} ${text}`,
        ),
        text,
      );
    }
    const covering = index.covering(prefixes[i]).map(String);
    const hint = covering.length > 0 ? `it is covered by ${covering.join(', ')}; revoke takes exact entries` : 'see `keyward list`';
    throw aboutInput(new InputError(`${text} is not in ${listName}${effect === 'deny' ? ' of deny entries' : ''}; nothing was removed`, hint), text);
  }
  const removing = new Set(texts);
  replaceContents(
    list,
    list.filter((r) => !(removing.has(r.entry) && effectOf(r) === effect)),
  );
  return [...removing];
}

/** What switching entries on or off did, each in the order given. */
export interface SwitchResult {
  /** Entries whose state changed. */
  changed: string[];
  /** Entries already in that state. */
  unchanged: string[];
}

/**
 * Switches exact entries (allow or deny) of `list` on or off in place, keeping
 * their label, source and dates; all or nothing: an entry not in the list
 * throws an InputError naming the entries covering it. A switched record is
 * a new object (history's snapshots hold the old one).
 */
export function switchEntries(list: EntryRecord[], prefixes: readonly Prefix[], enabled: boolean, listName = 'the list'): SwitchResult {
  const texts = [...new Set(prefixes.map(String))];
  const at = new Map<string, number[]>();
  list.forEach((r, p) => at.set(r.entry, [...(at.get(r.entry) ?? []), p]));
  const index = new PrefixIndex(list.map((r) => Prefix.parse(r.entry)));
  for (const text of texts) {
    if (at.has(text)) continue;
    const covering = index.covering(Prefix.parse(text)).map(String);
    const hint = covering.length > 0 ? `it is covered by ${covering.join(', ')}; ${enabled ? 'enable' : 'disable'} takes exact entries` : 'see `keyward list`';
    throw aboutInput(new InputError(`${text} is not in ${listName}; nothing was changed`, hint), text);
  }
  const result: SwitchResult = {changed: [], unchanged: []};
  for (const text of texts) {
    let changed = false;
    for (const p of at.get(text) ?? []) {
      const r = list[p];
      if ((r.enabled !== false) === enabled) continue;
      const next: EntryRecord = {...r};
      if (enabled) delete next.enabled;
      else next.enabled = false;
      list[p] = next;
      changed = true;
    }
    (changed ? result.changed : result.unchanged).push(text);
  }
  return result;
}

/** An expired entry `pruneExpired` took out, and the list it was in ("account" or a key's name). */
export interface PrunedEntry {
  entry: string;
  scope: string;
  expiresAt: string | null;
}

/**
 * Takes expired entries out of the account list and every key list, in
 * place, changing no decision: a key list whose allow entries have all
 * expired is kept whole (it refuses every address; without an allow entry,
 * deny entries or none, the key would be restricted by nothing) and named in
 * `keptKeyLists`.
 */
export function pruneExpired(data: StoreData, now: Date): {removed: PrunedEntry[]; keptKeyLists: string[]} {
  const removed: PrunedEntry[] = [];
  const gone = (records: EntryRecord[], scope: string) => records.filter((r) => !isLive(r, now)).map((r) => ({entry: r.entry, scope, expiresAt: r.expiresAt}));
  removed.push(...gone(data.account, 'account'));
  data.account = data.account.filter((r) => isLive(r, now));
  const keptKeyLists: string[] = [];
  for (const key of data.keys) {
    const kept = key.allow.filter((r) => isLive(r, now));
    // A list restricts its key while it holds an allow entry (deny entries alone restrict nothing: SPEC "Decisions").
    if (key.allow.some((r) => !isDeny(r)) && !kept.some((r) => !isDeny(r))) {
      keptKeyLists.push(key.name);
      continue;
    }
    removed.push(...gone(key.allow, key.name));
    key.allow = kept;
  }
  return {removed, keptKeyLists};
}

/**
 * Refuses (SafetyError, exit 4) a removal that leaves key `key`'s list empty
 * when it had entries: a key without a list is restricted by nothing (SPEC
 * "Decisions", step 3), so its last entry going would open it to every
 * address its channel lets through. `force` takes it anyway.
 */
export function refuseOpeningKeyList(key: string, had: number, left: number, force: boolean): void {
  if (force || had === 0 || left > 0) return;
  throw new SafetyError(
    `removing the last ${had === 1 ? 'entry' : `${had} entries`} of key ${key}'s list would leave the key restricted by nothing: it would be allowed from every address; nothing was removed`,
    `pass --force to do it anyway, or retire the key with \`keyward keys revoke ${key}\``,
  );
}

/**
 * Blocked records that the given entries now authorize, for the account list
 * (any key) or for one key's list.
 */
export function blockedCoveredBy(blocked: readonly BlockedRecord[], entries: readonly Prefix[] | EntryBatch, key?: string): BlockedRecord[] {
  const candidates = blocked.filter((b) => key === undefined || b.key === key);
  // Nothing blocked (the usual case of a large import): no index over the entries is needed.
  if (candidates.length === 0) return [];
  const index = CompiledIndex.fromTexts(entries instanceof EntryBatch ? entries.texts : entries.map(String));
  const scanned: ScannedPrefix = {family: 4, bits: 0, words: new Uint32Array(4)};
  return candidates.filter((b) => {
    const p = scanPrefix(b.ip, scanned);
    maskScanned(p);
    return index.covering(p.family, p.words, p.bits).length > 0;
  });
}

/**
 * Blocked records that `entries`, just added to the account list (or to key
 * `key`'s list), now let through: covered by them and allowed by the store's
 * policy at `now`. A record still refused (by another list) is not among them.
 */
export function blockedReleasedBy(
  data: StoreData,
  entries: readonly Prefix[] | EntryBatch,
  now: Date,
  key?: string,
): {released: BlockedRecord[]; stillRefused: {record: BlockedRecord; refusal: Refusal}[]} {
  const covered = blockedCoveredBy(data.blocked, entries, key);
  if (covered.length === 0) return {released: [], stillRefused: []};
  // Built only when a blocked record is covered: it indexes the whole list.
  const policy = new Policy(data, now);
  const released: BlockedRecord[] = [];
  const stillRefused: {record: BlockedRecord; refusal: Refusal}[] = [];
  for (const b of covered) {
    const owner = data.keys.find((k) => k.name === b.key);
    const d = owner === undefined ? null : decide(policy.forKey(owner), b.ip);
    if (d === null || d.decision === 'allow') released.push(b);
    else stillRefused.push({record: b, refusal: refusalOf(owner!, d)});
  }
  return {released, stillRefused};
}
