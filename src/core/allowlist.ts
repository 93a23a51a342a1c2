/**
 * Changes to an allowlist (the account list or a key list): adding entries,
 * reporting those already covered, removing exact entries, and the import
 * line format `ENTRY [# label]`.
 */
import {InputError} from './errors.js';
import {isLive} from './decision.js';
import {BlockedRecord, EntryRecord, EntrySource} from './model.js';
import {EntryOptions, parseEntry, Prefix} from './prefix.js';
import {PrefixIndex} from './prefix-index.js';

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
 * Adds entries to `list` in place. An entry already covered by a live entry,
 * or by a wider one of the same batch, is reported as unchanged; an expired
 * copy of the same entry is replaced. Reports are in list order.
 */
export function addEntries(list: EntryRecord[], entries: readonly NewEntry[], now: Date): AddResult {
  const existing = new PrefixIndex(list.filter((r) => isLive(r, now)).map((r) => Prefix.parse(r.entry)));
  const expired = new Set(list.filter((r) => !isLive(r, now)).map((r) => r.entry));
  const sorted = [...entries].sort((a, b) => Prefix.compare(a.prefix, b.prefix));
  // Wider entries sort first, so the batch entries containing this one are the open ones on the stack.
  const open: Prefix[] = [];
  const added: string[] = [];
  const unchanged: Covered[] = [];
  const replaced = new Set<string>();
  const at = now.toISOString();
  for (const e of sorted) {
    const p = e.prefix;
    while (open.length > 0 && (open[open.length - 1].family !== p.family || open[open.length - 1].last < p.first)) open.pop();
    const coveredBy = [...existing.covering(p), ...open].map(String);
    if (coveredBy.length > 0) {
      unchanged.push({entry: p.toString(), coveredBy});
      continue;
    }
    const text = p.toString();
    if (expired.has(text)) replaced.add(text);
    list.push({entry: text, source: e.source, label: e.label, addedAt: at, expiresAt: e.expiresAt});
    open.push(p);
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
export function blockedCoveredBy(blocked: readonly BlockedRecord[], entries: readonly Prefix[], key?: string): BlockedRecord[] {
  const index = new PrefixIndex(entries);
  return blocked.filter((b) => (key === undefined || b.key === key) && index.covering(Prefix.parse(b.ip)).length > 0);
}
