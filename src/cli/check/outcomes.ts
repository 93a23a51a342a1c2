/**
 * Each outcome of a key's decisions rendered once, in the chosen format, as
 * a small record in one buffer: writing a decision is then copying the text
 * before the address, the address, and the record's text after it. The
 * record layout and the slack bytes are described in README.md.
 */
import type {ChalkInstance} from 'chalk';
import {Decision, EntryIndex, Outcome, Reason, Verdict} from '../../core/decision.js';

/** `print`: only the addresses with one decision, each as given, one a line (`check --print`). */
export type DecisionFormat = 'human' | 'json' | 'ndjson' | 'print';

/** A decision apart from its address: the outcome and the key it is for. */
export type KeyedOutcome = Omit<Decision, 'ip'>;

/** How a decision is written: `before` its address, the address, `after` it (without the separators of a JSON array). */
export interface Layout {
  /** Depends only on the key and the decision. */
  before(d: KeyedOutcome): string;
  after(d: KeyedOutcome): string;
  /** For JSON, `after` is `open` + each matched entry as a JSON string, comma-separated + `close`. */
  list: {open(d: KeyedOutcome): string; close: string} | null;
}

/** `printed`: under `print`, the decision whose addresses are printed. */
export function layoutFor(format: DecisionFormat, c: ChalkInstance, printed: Verdict = 'allow'): Layout {
  if (format === 'print') {
    // The address alone (as given: the writers print the given text, not `ip`), and only for one decision.
    return {before: () => '', after: (d) => (d.decision === printed ? '\n' : ''), list: null};
  }
  if (format === 'human') {
    return {
      before: (d) => `${d.decision === 'allow' ? c.green('allow') : c.red('deny ')}  `,
      after: (d) => `  ${d.reason}${d.matched.length > 0 ? `  ${c.dim(d.matched.join(', '))}` : ''}\n`,
      list: null,
    };
  }
  // JSON.stringify(decision), field by field; an address text never needs escaping.
  const open = (d: KeyedOutcome) => `","decision":${JSON.stringify(d.decision)},"reason":${JSON.stringify(d.reason)},"matched":[`;
  const close = format === 'ndjson' ? ']}\n' : ']}';
  return {
    before: (d) => `{"key":${JSON.stringify(d.key)},"ip":"`,
    after: (d) => `${open(d)}${d.matched.map((text) => JSON.stringify(text)).join(',')}${close}`,
    list: {open, close},
  };
}

/** Bytes to spare past the end of what copyInWords reads and writes. */
export const SLACK = 3;

/** A text written whole into every decision of an outcome, with SLACK bytes after it so that it can be copied four bytes at a time. */
export interface RenderedText {
  view: DataView;
  length: number;
}

export function rendered(text: string): RenderedText {
  const bytes = Buffer.alloc(Buffer.byteLength(text) + SLACK);
  return {view: viewOf(bytes), length: bytes.write(text)};
}

export const NO_TEXT = rendered('');

export function viewOf(bytes: Buffer): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
}

/**
 * Copies n bytes from src[from] to dst[at] four at a time (a decision is
 * mostly such copies): both must have SLACK bytes to spare past them, where
 * the last read and write may reach (what is written there is written over
 * next, or never passed on).
 */
export function copyInWords(dst: DataView, at: number, src: DataView, from: number, n: number): void {
  for (let k = 0; k < n; k += 4) dst.setUint32(at + k, src.getUint32(from + k, true), true);
}

/**
 * Writes `text` as bytes at out[at] when every character is printable ASCII
 * other than `"` and `\\` (so that it is its own JSON string content and its
 * own UTF-8); returns the position after it, or -1 (nothing meaningful written).
 */
function putPlain(text: string, out: Buffer, at: number): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return -1;
    out[at++] = c;
  }
  return at;
}

/**
 * The texts of the account list's entries as bytes (latin1, one byte a
 * character): entry `p` is bytes[offsets[p], offsets[p + 1]) (the index
 * cache's text section), for the list `index` alone.
 */
export interface AccountTexts {
  index: EntryIndex;
  bytes: Uint8Array;
  offsets: Uint32Array;
}

/**
 * The account texts of `index` as bytes, as the index cache holds them (for
 * a list read from the JSON store, and for tests); null when a text has a
 * character beyond latin1.
 */
export function accountTextsOf(index: EntryIndex): AccountTexts | null {
  const offsets = new Uint32Array(index.size + 1);
  const texts: string[] = [];
  for (let p = 0; p < index.size; p++) {
    const text = index.textAt(p);
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) return null;
    texts.push(text);
    offsets[p + 1] = offsets[p] + text.length;
  }
  return {index, bytes: Buffer.from(texts.join(''), 'latin1'), offsets};
}

/** The records buffer starts sized to the lists, within these bounds, and grows. */
const RECORDS_MIN_BYTES = 1 << 16;
const RECORDS_MAX_BYTES = 1 << 23;

/** The bytes of a record before its text (see README.md). */
export const RECORD_HEADER = 5;

/** A record's byte 0: the head's number (bits 0-5), whether the decision misses `wanted`, whether `print` leaves it out. */
export const HEAD_BITS = 0x3f;
export const MISSES = 0x80;
export const NOT_PRINTED = 0x40;

/** The outcomes met so far, each rendered once into a record. */
export class OutcomeRecords {
  /**
   * Each outcome as one small record, so that writing a decision reads
   * little memory that is not already at hand (layout in README.md).
   * Replaced by a larger copy when full: records keep their offsets.
   */
  bytes: Buffer;
  view: DataView;
  private used = 0;
  /** The texts before an address, one for each decision, numbered by a record's byte 0. */
  readonly heads: RenderedText[] = [];
  private readonly headOf = new Map<Verdict, number>();
  /** The JSON texts after the address and before the matched entries, one for each decision and reason, numbered + 1 by a record's byte 1. */
  readonly openings: RenderedText[] = [];
  private readonly openingOf = new Map<Reason, number>();
  private readonly close: Buffer;
  /** addFromPositions's last outcome, and its head's and opening's numbers. */
  private lastOutcome: Outcome<number> | null = null;
  private lastHead = 0;
  private lastOpening = 0;

  constructor(
    private readonly layout: Layout,
    private readonly keyName: string,
    private readonly wanted: Verdict,
    /** How many entries addresses may fall in: about one record for each, at most, for a start. */
    entries: number,
    /** Under `print`, the decision whose addresses are printed (the others' records have NOT_PRINTED). */
    private readonly printed: Verdict | null = null,
    /** The account entries' texts as bytes, when at hand (the index cache's): records are then written from them (addFromPositions). */
    readonly accountTexts: AccountTexts | null = null,
  ) {
    // (Records written from the texts' bytes hold their opening too: about twice as long. Pages never written cost no memory.)
    const perEntry = accountTexts === null ? 64 : 128;
    this.bytes = Buffer.allocUnsafe(Math.min(2 * RECORDS_MAX_BYTES, Math.max(RECORDS_MIN_BYTES, perEntry * entries)));
    this.view = viewOf(this.bytes);
    this.close = Buffer.from(layout.list?.close ?? '');
  }

  /** Renders a new outcome around the address, once; returns where its record starts. */
  add(outcome: Outcome<string>): number {
    if (this.printed !== null) return this.addPrinted(outcome);
    const head = this.headNumber(outcome);
    return this.finish(outcome, head, this.putTextAfterAddress(outcome));
  }

  /**
   * As add, for an outcome whose matched entries are given by their
   * positions in the account list `account`: under a JSON format their texts
   * are written straight into the record, without a string for each list.
   */
  addFromAccount(outcome: Outcome<number>, account: EntryIndex): number {
    const list = this.layout.list;
    if (this.printed === null && list !== null) {
      const head = this.headNumber(outcome);
      const opening = this.openingNumber(list.open, outcome);
      if (opening !== 0) {
        const record = this.putMatched(opening, outcome.matched, account);
        if (record >= 0) return this.finish(outcome, head, record);
      }
    }
    // (Anything else, or a text JSON must escape: as texts.)
    return this.add({decision: outcome.decision, reason: outcome.reason, matched: outcome.matched.map((position) => account.textAt(position))});
  }

  /**
   * As addFromAccount, for an outcome given with `matched` empty and its
   * matched account positions in positions[0, count), under a JSON format
   * written straight from `accountTexts`' bytes (no string for each entry).
   */
  addFromPositions(outcome: Outcome<number>, positions: Int32Array, count: number, account: EntryIndex): number {
    const list = this.layout.list;
    const texts = this.accountTexts;
    if (this.printed === null && list !== null && texts !== null && texts.index === account) {
      // (The table hands the same outcome object for each rule: its head and opening are looked up once.)
      if (outcome !== this.lastOutcome) {
        this.lastHead = this.headNumber(outcome);
        this.lastOpening = this.openingNumber(list.open, outcome);
        this.lastOutcome = outcome;
      }
      if (this.lastOpening !== 0) {
        const record = this.putMatchedBytes(this.openings[this.lastOpening - 1], positions, count, texts);
        if (record >= 0) return this.finish(outcome, this.lastHead, record);
      }
    }
    return this.addFromAccount({decision: outcome.decision, reason: outcome.reason, matched: Array.from(positions.subarray(0, count))}, account);
  }

  /**
   * putMatched from the texts' bytes: a record of the opening's text and
   * the entries at positions[0, count) as JSON strings, then the close; -1
   * (nothing kept) when a text is not its own JSON string content.
   */
  private putMatchedBytes(opening: RenderedText, positions: Int32Array, count: number, texts: AccountTexts): number {
    const offsets = texts.offsets;
    const source = texts.bytes;
    let size = RECORD_HEADER + opening.length + this.close.length;
    for (let i = 0; i < count; i++) size += offsets[positions[i] + 1] - offsets[positions[i]] + 3;
    this.reserve(size);
    const bytes = this.bytes;
    const record = this.used;
    // The opening is written into the record (byte 1: 0), so that a decision is three copies, not four.
    bytes[record + 1] = 0;
    let at = record + RECORD_HEADER;
    copyInWords(this.view, at, opening.view, 0, opening.length);
    at += opening.length;
    for (let i = 0; i < count; i++) {
      if (i > 0) bytes[at++] = 44; // ,
      bytes[at++] = 34; // "
      for (let k = offsets[positions[i]], end = offsets[positions[i] + 1]; k < end; k++) {
        const c = source[k];
        if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return -1;
        bytes[at++] = c;
      }
      bytes[at++] = 34;
    }
    const close = this.close;
    for (let i = 0; i < close.length; i++) bytes[at++] = close[i];
    this.used = at;
    return record;
  }

  /** The number of the head for an outcome's decision. */
  private headNumber(outcome: Outcome<unknown>): number {
    let head = this.headOf.get(outcome.decision);
    if (head === undefined) {
      head = this.heads.push(rendered(this.layout.before(this.keyed({...outcome, matched: []})))) - 1;
      this.headOf.set(outcome.decision, head);
    }
    return head;
  }

  /**
   * Writes a record of the opening `opening` (a number + 1) and the texts of
   * the account entries at `positions` as JSON strings, then the close;
   * returns where it starts, or -1 (nothing kept) when a text is not its own
   * JSON string content.
   */
  private putMatched(opening: number, positions: readonly number[], account: EntryIndex): number {
    const count = positions.length;
    const texts: string[] = [];
    let size = RECORD_HEADER + this.close.length;
    for (let i = 0; i < count; i++) {
      const text = account.textAt(positions[i]);
      texts.push(text);
      size += text.length + 3;
    }
    this.reserve(size);
    const bytes = this.bytes;
    const record = this.used;
    bytes[record + 1] = opening;
    let at = record + RECORD_HEADER;
    for (let i = 0; i < count; i++) {
      if (i > 0) bytes[at++] = 44; // ,
      bytes[at++] = 34; // "
      at = putPlain(texts[i], bytes, at);
      if (at < 0) return -1;
      bytes[at++] = 34;
    }
    const close = this.close;
    for (let i = 0; i < close.length; i++) bytes[at++] = close[i];
    this.used = at;
    return record;
  }

  /** Completes the record at `record` (its text written, up to `used`) with its head, flags and length. */
  private finish(outcome: Outcome<unknown>, head: number, record: number): number {
    const length = this.used - record - RECORD_HEADER;
    if (length >= 1 << 24) throw new RangeError('internal error: a decision too long to keep');
    const bytes = this.bytes;
    bytes[record] = head | (outcome.decision !== this.wanted ? MISSES : 0) | (this.printed !== null && outcome.decision !== this.printed ? NOT_PRINTED : 0);
    bytes[record + 2] = length & 255;
    bytes[record + 3] = (length >>> 8) & 255;
    bytes[record + 4] = length >>> 16;
    return record;
  }

  /** Under `print`, a record is its flags alone: the address and its newline are all that is written. */
  private addPrinted(outcome: Outcome<string>): number {
    this.reserve(RECORD_HEADER);
    const bytes = this.bytes;
    const record = this.used;
    bytes[record] = (outcome.decision !== this.wanted ? MISSES : 0) | (outcome.decision !== this.printed ? NOT_PRINTED : 0);
    bytes[record + 1] = 0;
    bytes[record + 2] = 0;
    bytes[record + 3] = 0;
    bytes[record + 4] = 0;
    this.used = record + RECORD_HEADER;
    return record;
  }

  /** The decision as the layout takes it. */
  private keyed(outcome: Outcome<string>): KeyedOutcome {
    return {key: this.keyName, decision: outcome.decision, reason: outcome.reason, matched: outcome.matched};
  }

  /** The number + 1 of the opening for an outcome's reason (which names its decision), or 0 when there are too many to number in a byte. */
  private openingNumber(open: (d: KeyedOutcome) => string, outcome: Outcome<unknown>): number {
    let at = this.openingOf.get(outcome.reason);
    if (at === undefined) {
      // (The opening depends on the decision and reason only: the matched entries are not read.)
      at = this.openings.length < 255 ? this.openings.push(rendered(open(this.keyed({...outcome, matched: []})))) : 0;
      this.openingOf.set(outcome.reason, at);
    }
    return at;
  }

  /** Writes a record for the text after the address (its bytes 0 and 2-4 left to the caller); returns where it starts. */
  private putTextAfterAddress(outcome: Outcome<string>): number {
    const list = this.layout.list;
    const matched = outcome.matched;
    if (list !== null) {
      const opening = this.openingNumber(list.open, outcome);
      const inline = opening === 0 ? Buffer.from(list.open(this.keyed(outcome))) : null;
      let size = RECORD_HEADER + (inline === null ? 0 : inline.length) + this.close.length;
      for (const text of matched) size += text.length + 3;
      this.reserve(size);
      const bytes = this.bytes;
      const record = this.used;
      bytes[record + 1] = opening;
      let at = record + RECORD_HEADER;
      if (inline !== null) {
        bytes.set(inline, at);
        at += inline.length;
      }
      for (let i = 0; i < matched.length && at >= 0; i++) {
        if (i > 0) bytes[at++] = 44; // ,
        bytes[at++] = 34; // "
        at = putPlain(matched[i], bytes, at);
        if (at >= 0) bytes[at++] = 34;
      }
      if (at >= 0) {
        bytes.set(this.close, at);
        this.used = at + this.close.length;
        return record;
      }
    }
    // Anything else (human text, colours, texts JSON must escape) as a string.
    const text = this.layout.after(this.keyed(outcome));
    this.reserve(RECORD_HEADER + Buffer.byteLength(text));
    const record = this.used;
    this.bytes[record + 1] = 0;
    this.used += RECORD_HEADER + this.bytes.write(text, record + RECORD_HEADER);
    return record;
  }

  /** Makes room for `length` more bytes, growing the buffer when it is full (records keep their offsets). */
  private reserve(length: number): void {
    // (With SLACK bytes to spare after the record: see copyInWords.)
    if (this.used + length + SLACK <= this.bytes.length) return;
    const grown = Buffer.allocUnsafe(Math.max(2 * this.bytes.length, this.used + length + SLACK));
    this.bytes.copy(grown, 0, 0, this.used);
    this.bytes = grown;
    this.view = viewOf(grown);
  }
}
