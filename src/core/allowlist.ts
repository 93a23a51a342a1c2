/**
 * Changes to an allowlist (the account list or a key list): adding entries,
 * reporting those already covered, removing exact entries, and the import
 * line format `ENTRY [# label]`.
 */
import {InputError} from './errors.js';
import {decide, isLive, Policy} from './decision.js';
import {BlockedRecord, EntryRecord, EntrySource, StoreData} from './model.js';
import {Family} from './address.js';
import {containsEntry, EntryWordsBuilder, listOrder} from './entry-order.js';
import {EntryOptions, maskScanned, parseEntry, Prefix, scanEntry, ScannedPrefix, scanPrefix} from './prefix.js';
import {CompiledIndex, PrefixIndex} from './prefix-index.js';

/** Replaces a list's contents in place (no spread: lists can hold a million entries). */
function replaceContents<T>(list: T[], kept: T[]): void {
  list.length = 0;
  for (const item of kept) list.push(item);
}

/** One entry read from an argument or a line, before it is checked. */
export interface EntryInput {
  text: string;
  label: string | null;
  /** Where it came from, for messages: "argument 2", "line 58", "line 58 of list.txt". */
  where: string;
  source: EntrySource;
}

/**
 * Splits an import line into entry and label: `10.0.0.0/8  # office VPN`.
 * Returns null for blank lines and comment lines.
 */
export function splitEntryLine(line: string): {text: string; label: string | null} | null {
  const hash = line.indexOf('#');
  const text = (hash >= 0 ? line.slice(0, hash) : line).trim();
  const label = hash >= 0 ? line.slice(hash + 1).trim() || null : null;
  if (text.length === 0) return null;
  return {text, label};
}

/**
 * Parses every input, all or nothing: the first bad one throws an InputError
 * naming where it was, the input, and why.
 */
export function parseEntries(inputs: readonly EntryInput[], options: EntryOptions): Prefix[] {
  return inputs.map((input) => {
    try {
      return parseEntry(input.text, options);
    } catch (error) {
      if (error instanceof InputError) throw new InputError(`${input.where}: ${error.message}`, error.hint);
      throw error;
    }
  });
}

export interface Covered {
  entry: string;
  /** The live entries that already contain it, outermost first. */
  coveredBy: string[];
}

export interface AddResult {
  added: string[];
  unchanged: Covered[];
}

export interface NewEntry {
  prefix: Prefix;
  label: string | null;
  source: EntrySource;
  expiresAt: string | null;
}

/**
 * Entries parsed for adding, as columns (see EntryWords) with their canonical
 * texts, labels, sources and expiry: a large import costs no object and no
 * BigInt per entry.
 */
export class EntryBatch extends EntryWordsBuilder {
  readonly texts: string[] = [];
  readonly labels: (string | null)[] = [];
  readonly sources: EntrySource[] = [];
  readonly expiresAt: (string | null)[] = [];

  add(text: string, family: Family, bits: number, words: ArrayLike<number>, label: string | null, source: EntrySource, expiresAt: string | null): void {
    this.push(family, bits, words);
    this.texts.push(text);
    this.labels.push(label);
    this.sources.push(source);
    this.expiresAt.push(expiresAt);
  }

  static fromEntries(entries: readonly NewEntry[]): EntryBatch {
    const batch = new EntryBatch(Math.max(16, entries.length));
    for (const e of entries) batch.add(e.prefix.toString(), e.prefix.family, e.prefix.bits, e.prefix.address.words(), e.label, e.source, e.expiresAt);
    return batch;
  }
}

/**
 * `parseEntries` into an EntryBatch, for imports: the same rules and the same
 * errors, all or nothing. Labels and sources come from the inputs; no entry
 * expires.
 */
export function parseEntryBatch(inputs: readonly EntryInput[], options: EntryOptions): EntryBatch {
  const batch = new EntryBatch(Math.max(16, inputs.length));
  const scanned: ScannedPrefix = {family: 4, bits: 0, words: new Uint32Array(4)};
  for (const input of inputs) {
    let text: string;
    try {
      text = scanEntry(input.text, options, scanned);
    } catch (error) {
      if (error instanceof InputError) throw new InputError(`${input.where}: ${error.message}`, error.hint);
      throw error;
    }
    batch.add(text, scanned.family, scanned.bits, scanned.words, input.label, input.source, null);
  }
  return batch;
}

/**
 * Adds entries to `list` in place. An entry already covered by a live entry,
 * or by a wider one of the same batch, is reported as unchanged; an expired
 * copy of the same entry is replaced. Reports are in list order.
 */
export function addEntries(list: EntryRecord[], entries: readonly NewEntry[] | EntryBatch, now: Date): AddResult {
  const batch = entries instanceof EntryBatch ? entries : EntryBatch.fromEntries(entries);
  const liveTexts: string[] = [];
  const expired = new Set<string>();
  for (const r of list) {
    if (isLive(r, now)) liveTexts.push(r.entry);
    else expired.add(r.entry);
  }
  const existing = CompiledIndex.fromTexts(liveTexts);
  const order = listOrder(batch);
  // Wider entries sort first, so the batch entries containing this one are the open ones on the stack.
  const open: number[] = [];
  const added: string[] = [];
  const unchanged: Covered[] = [];
  const replaced = new Set<string>();
  const at = now.toISOString();
  const network = new Uint32Array(4);
  for (let n = 0; n < order.length; n++) {
    const i = order[n];
    while (open.length > 0 && !containsEntry(batch, open[open.length - 1], i)) open.pop();
    const family = batch.family[i] as Family;
    network.set(batch.words.subarray(i * 4, i * 4 + 4));
    const covering = existing.size === 0 ? [] : existing.covering(family, network, batch.bits[i]);
    const text = batch.texts[i];
    if (covering.length > 0 || open.length > 0) {
      const coveredBy = covering.map((position) => liveTexts[position]);
      for (const o of open) coveredBy.push(batch.texts[o]);
      unchanged.push({entry: text, coveredBy});
      continue;
    }
    if (expired.size > 0 && expired.has(text)) replaced.add(text);
    list.push({entry: text, source: batch.sources[i], label: batch.labels[i], addedAt: at, expiresAt: batch.expiresAt[i]});
    open.push(i);
    added.push(text);
  }
  if (replaced.size > 0) {
    const kept = list.filter((r) => !(replaced.has(r.entry) && !isLive(r, now)));
    replaceContents(list, kept);
  }
  return {added, unchanged};
}

/**
 * Removes exact entries from `list` in place, all or nothing: an entry that is
 * not in the list throws an InputError naming the entries that cover it.
 */
export function removeEntries(list: EntryRecord[], prefixes: readonly Prefix[]): string[] {
  const texts = prefixes.map(String);
  const index = new PrefixIndex(list.map((r) => Prefix.parse(r.entry)));
  const present = new Set(list.map((r) => r.entry));
  for (const [i, text] of texts.entries()) {
    if (present.has(text)) continue;
    const covering = index.covering(prefixes[i]).map(String);
    const hint = covering.length > 0
      ? `it is covered by ${covering.join(', ')}; revoke takes exact entries`
      : 'see `keyward list`';
    throw new InputError(`${text} is not in the list; nothing was removed`, hint);
  }
  const removing = new Set(texts);
  replaceContents(list, list.filter((r) => !removing.has(r.entry)));
  return [...removing];
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
): {released: BlockedRecord[]; stillRefused: BlockedRecord[]} {
  const covered = blockedCoveredBy(data.blocked, entries, key);
  if (covered.length === 0) return {released: [], stillRefused: []};
  // Built only when a blocked record is covered: it indexes the whole list.
  const policy = new Policy(data, now);
  const released: BlockedRecord[] = [];
  const stillRefused: BlockedRecord[] = [];
  for (const b of covered) {
    const owner = data.keys.find((k) => k.name === b.key);
    const allowed = owner === undefined || decide(policy.forKey(owner), b.ip).decision === 'allow';
    (allowed ? released : stillRefused).push(b);
  }
  return {released, stillRefused};
}
