/**
 * Reading entries: the import line format `ENTRY [# label]`, and the one
 * parser of entries, by the spec's rules (grammar, host bits, breadth), for
 * one entry (`parseEntry`) or a list read from arguments or lines
 * (`parseEntries`, all or nothing).
 */
import {bytesOfText, Family, isMappedWords} from './address.js';
import {scanPrefixBytes} from './address-bytes.js';
import {EntryWordsBuilder} from './entry-order.js';
import {AddressError, BAD_INPUTS_SHOWN, BadInputs, InputError, lineOf, locatedInputError, maskSecrets, SafetyError, show} from './errors.js';
import {EntrySource} from './model.js';
import {formatScanned, Prefix, ScannedPrefix, scanPrefix} from './prefix.js';
import {maskWords, widthOf} from './words.js';

export interface EntryOptions {
  /** Accept a range with host bits set and clear them (192.168.1.25/24 → 192.168.1.0/24). */
  normalize?: boolean;
  /** Accept an entry broader than BROADEST allows (0.0.0.0/1, ::/0): a safety override. */
  force?: boolean;
}

/**
 * The broadest entry accepted without --force, per family: /8 for IPv4, /16
 * for IPv6 (SPEC "Addresses"). Anything broader opens a large part of the
 * internet.
 */
export const BROADEST: Readonly<Record<Family, number>> = {4: 8, 6: 16};

/** How many addresses a prefix of `bits` opens, in words: "2,147,483,648 addresses (1/2 of IPv4)". */
export function addressesOpened(family: Family, bits: number): string {
  const width = family === 4 ? 32 : 128;
  const count = family === 4 ? (2 ** (width - bits)).toLocaleString('en-US') : `2^${width - bits}`;
  const share = bits === 0 ? 'all' : `1/${(2 ** bits).toLocaleString('en-US')}`;
  return `${count} addresses (${share} of IPv${family})`;
}

/**
 * Refuses an entry broader than BROADEST unless forced: a SafetyError (exit 4)
 * that says how many addresses it opens. `text` is the input as given.
 */
function checkBreadth(text: string, family: Family, bits: number, entry: () => string, options: EntryOptions): void {
  if (bits >= BROADEST[family] || options.force) return;
  const canonical = entry();
  const named = canonical === text ? show(text) : `${show(text)} (${canonical})`;
  throw new SafetyError(
    `${named} opens ${addressesOpened(family, bits)}: an entry broader than /${BROADEST[family]} needs --force`,
    'pass --force if that is really meant, or give narrower ranges',
  );
}

/**
 * Parses one entry of an allowlist by the spec's rules: strict grammar,
 * 4-in-6 unmapped, host bits refused unless normalized (an AddressError), an
 * entry broader than BROADEST refused unless forced (a SafetyError). Writes
 * the network into `into` (masked; IPv4 in words[0] and zeros after it) and
 * returns the canonical text, without allocating a value: large imports
 * parse a million entries.
 */
function scanEntry(text: string, options: EntryOptions, into: ScannedPrefix): string {
  const p = scanPrefix(text, into);
  // An accepted IPv4 text is canonical as written (see isCanonicalEntry) unless it changes below.
  let asWritten = p.family === 4 && (p.bits !== 32 || text.indexOf('/') < 0);
  if (p.family === 6 && p.bits >= 96 && isMappedWords(p.words)) {
    p.family = 4;
    p.words[0] = p.words[3];
    p.bits -= 96;
  }
  if (p.family === 4) {
    p.words[1] = 0;
    p.words[2] = 0;
    p.words[3] = 0;
  }
  if (maskWords(p.words, p.bits, widthOf(p.family))) {
    const network = formatScanned(p);
    if (!options.normalize) {
      throw new AddressError(text, `has host bits set: the network is ${network}`, `write ${network}, or pass --normalize to accept it as that`);
    }
    asWritten = false;
  }
  checkBreadth(text, p.family, p.bits, () => (asWritten ? text : formatScanned(p)), options);
  return asWritten ? text : formatScanned(p);
}

/**
 * Whether scanEntry would accept `text` as far as a usage error goes (the
 * grammar, host bits), without building a refusal: for counting the bad
 * inputs past those a refusal names. Breadth is not judged: a bad input is
 * refused before a broad one.
 */
function acceptable(text: string, options: EntryOptions, into: ScannedPrefix): boolean {
  if (!scanPrefixBytes(bytesOfText(text), 0, text.length, into)) return false;
  if (options.normalize) return true;
  let family = into.family;
  let bits = into.bits;
  if (family === 6 && bits >= 96 && isMappedWords(into.words)) {
    family = 4;
    into.words[0] = into.words[3];
    bits -= 96;
  }
  if (family === 4) into.words.fill(0, 1);
  return !maskWords(into.words, bits, widthOf(family));
}

/**
 * Parses one entry of an allowlist: see scanEntry for the rules. The result
 * is masked and canonical.
 */
export function parseEntry(text: string, options: EntryOptions = {}): Prefix {
  const into: ScannedPrefix = {family: 4, bits: 0, words: new Uint32Array(4)};
  scanEntry(text, options, into);
  return Prefix.fromScanned(into);
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
  // A secret pasted into a label is kept by its hint only: labels are stored, listed and exported.
  const label = hash >= 0 ? maskSecrets(line.slice(hash + 1).trim()) || null : null;
  if (text.length === 0) return null;
  return {text, label};
}

/** The bad inputs of a list read so far: the first BAD_INPUTS_SHOWN errors and how many in all. */
interface BadSoFar {
  errors: InputError[];
  count: number;
}

/**
 * Where an input was, before the error it caused. A bad input (an InputError)
 * is kept in `bad` (up to BAD_INPUTS_SHOWN, the rest counted) and the reading
 * goes on, so that every bad line is reported at once; a broad one (a
 * SafetyError) is kept in `broad`, so that a bad line anywhere is a usage
 * error (exit 2) before a broad one is a safety refusal (exit 4).
 */
function located(error: unknown, input: EntryInput, bad: BadSoFar, broad: {first: SafetyError | null; count: number}): void {
  if (error instanceof InputError) {
    if (bad.count++ < BAD_INPUTS_SHOWN) bad.errors.push(locatedInputError(error, input));
    return;
  }
  if (!(error instanceof SafetyError)) throw error;
  if (broad.count++ === 0) {
    broad.first = new SafetyError(`${input.where}: ${error.message}`, error.hint);
    broad.first.input = input.text;
    broad.first.line = lineOf(input.where);
  }
}

/** Throws what the bad inputs of a list were: the one error, or all of them (BadInputs). */
export function refuseBad(bad: BadSoFar, noun = 'entries'): void {
  if (bad.count === 0) return;
  throw bad.count === 1 ? bad.errors[0] : new BadInputs(bad.errors, bad.count, noun);
}

/** Throws the first broad entry an input held, saying how many more there were. */
function refuseBroad(broad: {first: SafetyError | null; count: number}): void {
  if (broad.first === null) return;
  const others = broad.count - 1;
  const more = others > 0 ? `; ${others} more ${others === 1 ? 'entry is' : 'entries are'} broad too` : '';
  const refused = new SafetyError(`${broad.first.message}${more}; nothing was written`, broad.first.hint);
  refused.input = broad.first.input;
  refused.line = broad.first.line;
  throw refused;
}

export interface NewEntry {
  prefix: Prefix;
  label: string | null;
  source: EntrySource;
  expiresAt: string | null;
}

/** The longest text ownCopy copies. */
const OWN_COPY_MAX = 256;
let scratch: Buffer | null = null;

/**
 * `text` as one flat string of its own, when it is at most OWN_COPY_MAX
 * characters of Latin-1 (an entry text always is: its grammar is ASCII);
 * else `text` itself. A text read from a line is a slice of the chunk of
 * input the line was in, and V8 keeps the whole chunk for it; a text
 * formatted is a chain of concatenations. A 1M-entry import peaked about
 * 120 MiB higher with them, and took 0.6-0.8 s more CPU, most of it in
 * writing the store (docs/performance.md, issue 15, round 8).
 */
function ownCopy(text: string): string {
  if (text.length > OWN_COPY_MAX) return text;
  scratch ??= Buffer.allocUnsafe(OWN_COPY_MAX);
  const copy = scratch.toString('latin1', 0, scratch.write(text, 0, 'latin1'));
  // (A character past Latin-1 is written as its low byte: the copy is then not the text, and not used.)
  return copy === text ? copy : text;
}

/**
 * Entries parsed for adding, as columns (see EntryWords) with their canonical
 * texts, labels, sources and expiry: a large import costs no object per
 * entry (`prefixAt` makes a value where one is needed).
 *
 * The four columns are JavaScript arrays grown here, twice as long at a time
 * (see `grownColumn`), not by push(); each is read at its length `count`.
 */
export class EntryBatch extends EntryWordsBuilder {
  private textColumn: string[];
  private labelColumn: (string | null)[];
  private sourceColumn: EntrySource[];
  private expiryColumn: (string | null)[];

  constructor(capacity = 1024) {
    super(capacity);
    this.textColumn = new Array<string>(capacity);
    this.labelColumn = new Array<string | null>(capacity);
    this.sourceColumn = new Array<EntrySource>(capacity);
    this.expiryColumn = new Array<string | null>(capacity);
  }

  get texts(): string[] {
    return atCount(this.textColumn, this.count);
  }

  get labels(): (string | null)[] {
    return atCount(this.labelColumn, this.count);
  }

  get sources(): EntrySource[] {
    return atCount(this.sourceColumn, this.count);
  }

  get expiresAt(): (string | null)[] {
    return atCount(this.expiryColumn, this.count);
  }

  add(text: string, family: Family, bits: number, words: ArrayLike<number>, label: string | null, source: EntrySource, expiresAt: string | null): void {
    const i = this.push(family, bits, words);
    if (i >= this.textColumn.length) {
      this.textColumn = grownColumn(this.textColumn, i);
      this.labelColumn = grownColumn(this.labelColumn, i);
      this.sourceColumn = grownColumn(this.sourceColumn, i);
      this.expiryColumn = grownColumn(this.expiryColumn, i);
    }
    // Kept as long as the change is: copies of their own (see ownCopy), not slices of the input.
    this.textColumn[i] = ownCopy(text);
    this.labelColumn[i] = label === null ? null : ownCopy(label);
    this.sourceColumn[i] = source;
    this.expiryColumn[i] = expiresAt;
  }

  /** Entry i as a Prefix value. */
  prefixAt(i: number): Prefix {
    const w = i * 4;
    return Prefix.fromScanned({family: this.family[i] as Family, bits: this.bits[i], words: this.words.subarray(w, w + 4)});
  }

  /** Every entry as a Prefix value, in input order. */
  prefixes(): Prefix[] {
    return Array.from({length: this.count}, (_, i) => this.prefixAt(i));
  }

  static fromEntries(entries: readonly NewEntry[]): EntryBatch {
    const batch = new EntryBatch(Math.max(16, entries.length));
    for (const e of entries) batch.add(e.prefix.toString(), e.prefix.family, e.prefix.bits, e.prefix.address.words(), e.label, e.source, e.expiresAt);
    return batch;
  }
}

/**
 * `column` holding its first `count` values, at least twice as long: a copy
 * made here. An array grown by push() (half as long again each time, each
 * time a new one) touches about five times the memory it ends with, and on
 * a machine where fresh memory is slow that was seconds of a 1M-entry import
 * (docs/performance.md, issue 15, round 11).
 */
function grownColumn<T>(column: T[], count: number): T[] {
  const grown = new Array<T>(Math.max(16, 2 * count));
  for (let i = 0; i < count; i++) grown[i] = column[i];
  return grown;
}

/** `column` cut to its first `count` values (its spare room given back in place), as readers of a batch see it. */
function atCount<T>(column: T[], count: number): T[] {
  if (column.length !== count) column.length = count;
  return column;
}

/**
 * Parses inputs one by one into a batch, all or nothing (see parseEntries):
 * a large import is parsed as it is read, with no object kept per line.
 */
export class EntryParser {
  /** How many inputs were given, bad ones included. */
  inputs = 0;
  private readonly batch: EntryBatch;
  private readonly scanned: ScannedPrefix = {family: 4, bits: 0, words: new Uint32Array(4)};
  private readonly broad = {first: null as SafetyError | null, count: 0};
  private readonly bad: BadSoFar = {errors: [], count: 0};

  constructor(
    private readonly options: EntryOptions,
    capacity = 1024,
  ) {
    this.batch = new EntryBatch(Math.max(16, capacity));
  }

  add(input: EntryInput): void {
    this.inputs++;
    // Past the bad inputs a refusal names, the others are only counted: no message is built for them.
    if (this.bad.count >= BAD_INPUTS_SHOWN) {
      if (!acceptable(input.text, this.options, this.scanned)) this.bad.count++;
      return;
    }
    let text: string;
    try {
      text = scanEntry(input.text, this.options, this.scanned);
    } catch (error) {
      located(error, input, this.bad, this.broad);
      return;
    }
    // After a bad input nothing will be added: the reading goes on only to find the others.
    if (this.bad.count === 0) this.batch.add(text, this.scanned.family, this.scanned.bits, this.scanned.words, input.label, input.source, null);
  }

  /** The batch, or the refusal of the bad inputs (first) or of the broad ones. */
  finish(): EntryBatch {
    refuseBad(this.bad);
    refuseBroad(this.broad);
    return this.batch;
  }
}

/**
 * Parses every input, all or nothing: bad ones throw an InputError naming
 * where it was, the input, and why (BadInputs for several: every one of
 * them, up to BAD_INPUTS_SHOWN, then a count); otherwise an entry broader than the
 * options allow throws a SafetyError (see parseEntry). Labels and sources
 * come from the inputs; no entry expires.
 */
export function parseEntries(inputs: readonly EntryInput[], options: EntryOptions): EntryBatch {
  const parser = new EntryParser(options, inputs.length);
  for (const input of inputs) parser.add(input);
  return parser.finish();
}
