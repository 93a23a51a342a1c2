/**
 * The decisions `check` prints: addresses from arguments and from a stream,
 * decided by the core and written in the chosen format, in blocks, with
 * output backpressure. Shared by the oclif command and bin/run.js's fast path.
 *
 * The stream is read as bytes: a line that is a plain address is scanned in
 * place (core/address-bytes.ts), decided by outcome (core/decision-table.ts)
 * and written from pre-rendered pieces; every other line (blank, comment,
 * BOM, non-ASCII, refused, too long) is decoded and goes the way of an
 * argument, through `decide`, so that both ways print the same bytes.
 */
import {readSync} from 'node:fs';
import {Readable} from 'node:stream';
import type {ChalkInstance} from 'chalk';
import {MAX_IPV6_TEXT, NOT_ACCEPTED, scanAddressBytes, scanIPv4Line, writeIPv6Bytes} from '../core/address-bytes.js';
import {Decision, decide, KeyPolicy, Reason, Ruling, Verdict} from '../core/decision.js';
import {DecisionTable} from '../core/decision-table.js';
import {InputError} from '../core/errors.js';
import {MAX_LINE_LENGTH} from './input.js';
import {write} from './write.js';

/** Output is written in blocks of about this many bytes (and, for line formats, whenever input pauses). */
const BLOCK = 1 << 18;

/**
 * After this many decisions, a stream that has met a new outcome at least
 * once in SPREAD_RATIO decisions has every IPv4 outcome ruled at once.
 */
const SPREAD_AFTER = 16384;
const SPREAD_RATIO = 8;

/** Plain addresses are decided this many at a time (see decideBatch). */
const BATCH = 1024;

/** The rendered outcomes are kept in one buffer, sized to the lists at first, that grows. */
const ARENA_MIN = 1 << 16;
const ARENA_MAX = 1 << 23;

export type DecisionFormat = 'human' | 'json' | 'ndjson';

export interface DecisionRun {
  policy: KeyPolicy;
  /** Addresses given as arguments, with `-` already removed; `where` names each for errors. */
  addresses: {text: string; where: string}[];
  /** Where to read addresses from, one a line (`#` comments and blank lines skipped): a stream, a file descriptor, or nothing. */
  stream: Readable | DescriptorInput | null;
  out: NodeJS.WritableStream;
  format: DecisionFormat;
  /** Under `json`: one object (not an array), for exactly one argument address and no stream. */
  single: boolean;
  wanted: Verdict;
  /** Colours for the human format. */
  colour: ChalkInstance;
}

/** A file or a pipe to read with blocking reads (see DecisionWriter.readDescriptor). */
export interface DescriptorInput {
  fd: number;
  /** A pipe's reads may wait for its writer; a file's never do. */
  pipe: boolean;
  /** The same input as a stream, to read on with should the descriptor turn out to be non-blocking. */
  stream: () => Readable;
}

export interface DecisionTally {
  count: number;
  /** Decisions that differed from `wanted`. */
  misses: number;
}

/**
 * Decides every address and writes the decisions; throws an InputError naming
 * a bad address. Under `ndjson` and `human` the decisions before the bad
 * address are written first; under `json` nothing more is written (an array
 * that cannot be closed is of no use).
 */
export async function writeDecisions(run: DecisionRun): Promise<DecisionTally> {
  const writer = new DecisionWriter(run);
  try {
    for (const {text, where} of run.addresses) await writer.addText(text, where);
    if (run.stream instanceof Readable) await writer.readStream(run.stream);
    else if (run.stream !== null) await writer.readDescriptor(run.stream);
  } catch (error) {
    if (error instanceof InputError && run.format !== 'json') await writer.flush();
    throw error;
  }
  return writer.finish();
}

/** How a decision is written: `before` its address, the address, `after` it (without the separators of a JSON array). */
interface Layout {
  /** Depends only on the key and the decision. */
  before(d: Ruled): string;
  after(d: Ruled): string;
  /** For JSON, `after` is `open` + each matched entry as a JSON string, comma-separated + `close`. */
  list: {open(d: Ruled): string; close: string} | null;
}

/** A decision apart from its address. */
type Ruled = Omit<Decision, 'ip'>;

function layout(format: DecisionFormat, c: ChalkInstance): Layout {
  if (format === 'human') {
    return {
      before: (d) => `${d.decision === 'allow' ? c.green('allow') : c.red('deny ')}  `,
      after: (d) => `  ${d.reason}${d.matched.length > 0 ? `  ${c.dim(d.matched.join(', '))}` : ''}\n`,
      list: null,
    };
  }
  // JSON.stringify(decision), field by field; an address text never needs escaping.
  const open = (d: Ruled) => `","decision":${JSON.stringify(d.decision)},"reason":${JSON.stringify(d.reason)},"matched":[`;
  const close = format === 'ndjson' ? ']}\n' : ']}';
  return {
    before: (d) => `{"key":${JSON.stringify(d.key)},"ip":"`,
    after: (d) => `${open(d)}${d.matched.map((text) => JSON.stringify(text)).join(',')}${close}`,
    list: {open, close},
  };
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

const LF = 10;

/** A piece of text written whole into every decision of an outcome, with room to be copied four bytes at a time. */
interface Piece {
  view: DataView;
  length: number;
}

/** Bytes to spare past the end of what copy4 reads and writes. */
const SLACK = 3;

function piece(text: string): Piece {
  const bytes = Buffer.alloc(Buffer.byteLength(text) + SLACK);
  return {view: viewOf(bytes), length: bytes.write(text)};
}

const NO_PIECE = piece('');

function viewOf(bytes: Buffer): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
}

/**
 * Copies n bytes from src[from] to dst[at] four at a time (a decision is
 * mostly such copies): both must have SLACK bytes to spare past them, where
 * the last read and write may reach (what is written there is written over
 * next, or never passed on).
 */
function copy4(dst: DataView, at: number, src: DataView, from: number, n: number): void {
  for (let k = 0; k < n; k += 4) dst.setUint32(at + k, src.getUint32(from + k, true), true);
}
const CR = 13;
const HASH = 35;

/** What String.prototype.trim removes, among ASCII bytes. */
function isAsciiSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

function tooLong(line: number): InputError {
  return new InputError(`line ${line} is longer than ${MAX_LINE_LENGTH} characters`);
}

/**
 * A line over this many bytes is surely over MAX_LINE_LENGTH characters: no
 * UTF-8 sequence (or invalid byte run) of more than 3 bytes decodes to one
 * UTF-16 unit.
 */
const SURELY_TOO_LONG = 3 * MAX_LINE_LENGTH + 3;

/** Reads of a file descriptor are this large: a line that may yet be an address always fits, many times over. */
const READ = Math.max(1 << 18, 4 * SURELY_TOO_LONG);

class DecisionWriter {
  private readonly policy: KeyPolicy;
  /** Built at the first streamed line: arguments are decided by decide(), and building it costs a single check more than the decision. */
  private tableOrNull: DecisionTable | null = null;
  private readonly layout: Layout;
  private readonly jsonArray: boolean;
  private readonly lineFormat: boolean;
  private readonly wanted: Verdict;
  private readonly out: NodeJS.WritableStream;
  /** The texts before an address, one for each decision. */
  private readonly heads: Piece[] = [];
  private readonly headOf = new Map<Verdict, number>();
  /**
   * Each outcome as one small record in one buffer, so that writing a
   * decision reads little memory that is not already at hand: a byte with its
   * head (bits 0-6) and whether it misses `wanted` (bit 7), a byte with the
   * number + 1 of its opening (0: none), three bytes of length, then the rest
   * of the text after the address.
   */
  private arena: Buffer;
  private arenaView: DataView;
  private arenaUsed = 0;
  /** The JSON texts after the address and before the matched entries, one for each decision and reason, and where each is. */
  private readonly openings: Piece[] = [];
  private readonly openingOf = new Map<Reason, number>();
  private readonly close: Buffer;
  private buffer: Buffer = Buffer.allocUnsafe(BLOCK);
  private view = viewOf(this.buffer);
  /** Blocks the output is done with, to be filled again. */
  private readonly spare: Buffer[] = [];
  private at = 0;
  /** A write waiting for the output to drain, to be awaited before the next decision. */
  private pending: Promise<void> | void = undefined;
  private count = 0;
  private missCount = 0;
  /** Lines read so far from the stream. */
  private line = 0;
  private readonly words = new Uint32Array(4);
  /** The batch of plain addresses being decided: family as scanned, where each is in its chunk, its words, its outcome. */
  private readonly batchKinds = new Uint8Array(BATCH);
  private readonly batchStarts = new Int32Array(BATCH);
  private readonly batchEnds = new Int32Array(BATCH);
  private readonly batchWords = new Uint32Array(4 * BATCH);
  private readonly batchRecords = new Int32Array(BATCH);
  /** The IPv4 addresses of the batch (4-in-6 unmapped), where each is in the batch, and their outcomes. */
  private readonly batchIPv4 = new Uint32Array(BATCH);
  private readonly batchIPv4Of = new Int32Array(BATCH);
  private readonly batchIPv4Records = new Int32Array(BATCH);
  /** Kept so that the reads of the records are not optimized away. */
  touched = 0;
  /** Whether every IPv4 outcome has been ruled at once (see decideBatch). */
  private ruledAll = false;

  constructor(private readonly run: DecisionRun) {
    this.policy = run.policy;
    // About one record for each entry that addresses fall in, at most, for a start.
    const entries = run.policy.account.size + (run.policy.allow?.size ?? 0);
    this.arena = Buffer.allocUnsafe(Math.min(ARENA_MAX, Math.max(ARENA_MIN, 64 * entries)));
    this.arenaView = viewOf(this.arena);
    this.layout = layout(run.format, run.colour);
    this.close = Buffer.from(this.layout.list?.close ?? '');
    this.jsonArray = run.format === 'json' && !run.single;
    this.lineFormat = run.format !== 'json';
    this.wanted = run.wanted;
    this.out = run.out;
  }

  private get table(): DecisionTable {
    this.tableOrNull ??= new DecisionTable(this.policy, (ruling) => this.prepare(ruling));
    return this.tableOrNull;
  }

  /** Decides an address given as text (an argument, or a line that is not a plain address). */
  async addText(text: string, where: string): Promise<void> {
    this.decideText(text, where);
    await this.settle();
  }

  private decideText(text: string, where: string): void {
    let d: Decision;
    try {
      d = decide(this.policy, text);
    } catch (error) {
      if (error instanceof InputError) throw new InputError(`${where}: ${error.message}`, error.hint);
      throw error;
    }
    if (d.decision !== this.wanted) this.missCount++;
    const rendered = `${this.jsonArray ? (this.count === 0 ? '[\n' : ',\n') : ''}${this.layout.before(d)}${d.ip}${this.layout.after(d)}`;
    this.count++;
    const length = Buffer.byteLength(rendered);
    this.room(length);
    this.at += this.buffer.write(rendered, this.at);
  }

  /**
   * Reads a file or a pipe with blocking reads into one buffer: no hand-off
   * to another thread and no new buffer for each read. Before each read of a
   * pipe (which may wait for its writer) the decisions so far are passed on,
   * as readStream does when its input pauses. A descriptor that turns out to
   * be non-blocking (EAGAIN) is read on as a stream.
   */
  async readDescriptor(input: DescriptorInput): Promise<void> {
    const buffer = Buffer.allocUnsafe(READ);
    // The bytes of an unfinished line, at the start of the buffer.
    let kept = 0;
    for (;;) {
      if (input.pipe && this.lineFormat) await this.flush();
      let read: number;
      try {
        read = readSync(input.fd, buffer, kept, READ - kept, null);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
        await this.readStream(input.stream(), kept > 0 ? Buffer.from(buffer.subarray(0, kept)) : null);
        return;
      }
      if (read === 0) break;
      const chunk = buffer.subarray(0, kept + read);
      let from = 0;
      for (;;) {
        from = this.lines(chunk, from);
        if (this.pending === undefined) break;
        await this.settle();
      }
      kept = chunk.length - from;
      if (kept > SURELY_TOO_LONG) throw tooLong(this.line + 1);
      buffer.copyWithin(0, from, chunk.length);
    }
    if (kept > 0) {
      this.line++;
      this.oneLine(buffer, 0, kept);
      await this.settle();
    }
  }

  /** Reads the stream line by line (see eachLine in input.ts for the rules this keeps), after the unfinished line `carry` when there is one. */
  async readStream(stream: Readable, carry: Buffer | null = null): Promise<void> {
    for await (const piece of stream) {
      const chunk: Buffer = typeof piece === 'string' ? Buffer.from(piece) : (piece as Buffer);
      let from = 0;
      if (carry !== null) {
        const newline = chunk.indexOf(LF);
        if (newline < 0) {
          carry = Buffer.concat([carry, chunk]);
          if (carry.length > SURELY_TOO_LONG) throw tooLong(this.line + 1);
          continue;
        }
        const whole: Buffer = Buffer.concat([carry, chunk.subarray(0, newline)]);
        carry = null;
        this.line++;
        this.oneLine(whole, 0, whole.length);
        await this.settle();
        from = newline + 1;
      }
      for (;;) {
        from = this.lines(chunk, from);
        if (this.pending === undefined) break;
        await this.settle();
      }
      if (from < chunk.length) {
        carry = Buffer.from(chunk.subarray(from));
        if (carry.length > SURELY_TOO_LONG) throw tooLong(this.line + 1);
      }
      // Answer as lines come: a pause in the input is a moment to pass the decisions on.
      if (this.lineFormat && stream.readableLength === 0) await this.flush();
    }
    if (carry !== null) {
      this.line++;
      this.oneLine(carry, 0, carry.length);
      await this.settle();
    }
  }

  /**
   * Decides the whole lines of chunk[from, …); returns where the first
   * unfinished line starts, or stops early when a write must be awaited.
   * Plain addresses are decided in batches (see BATCH); any other line is
   * taken alone, after the batch before it.
   */
  private lines(chunk: Buffer, from: number): number {
    const end = chunk.length;
    const words = this.words;
    const kinds = this.batchKinds;
    const starts = this.batchStarts;
    const ends = this.batchEnds;
    const batchWords = this.batchWords;
    let start = from;
    let n = 0;
    while (start < end) {
      // The commonest line, a dotted quad, is split and scanned in one pass; any other is split first.
      let newline = scanIPv4Line(chunk, start, end, words);
      let stop: number;
      let family: 4 | 6 | typeof NOT_ACCEPTED;
      if (newline >= 0) {
        stop = chunk[newline - 1] === CR ? newline - 1 : newline;
        family = 4;
      } else {
        newline = start;
        while (newline < end && chunk[newline] !== LF) newline++;
        if (newline === end) break;
        stop = newline;
        if (stop > start && chunk[stop - 1] === CR) stop--;
        // (A BOM on line 1 is never part of an address: such a line goes the other way.)
        family = scanAddressBytes(chunk, start, stop, words);
      }
      this.line++;
      if (family !== NOT_ACCEPTED) {
        kinds[n] = family;
        starts[n] = start;
        ends[n] = stop;
        const w = 4 * n;
        batchWords[w] = words[0];
        batchWords[w + 1] = words[1];
        batchWords[w + 2] = words[2];
        batchWords[w + 3] = words[3];
        start = newline + 1;
        if (++n < BATCH) continue;
        this.decideBatch(chunk, n);
        n = 0;
      } else {
        if (n > 0) this.decideBatch(chunk, n);
        n = 0;
        this.otherLine(chunk, start, newline);
        start = newline + 1;
      }
      if (this.pending !== undefined) return start;
    }
    if (n > 0) this.decideBatch(chunk, n);
    return start;
  }

  /**
   * Decides the first n plain addresses of the batch, scanned from `chunk`:
   * all their lookups first, then all their writing, so that each loop keeps
   * to its own memory (the index, then the output).
   */
  private decideBatch(chunk: Buffer, n: number): void {
    const table = this.table;
    if (this.count >= SPREAD_AFTER && !this.ruledAll && table.size * SPREAD_RATIO >= this.count) {
      // A stream spread over the list: rule every IPv4 outcome now, in one loop (see ruleIPv4Entries).
      this.ruledAll = true;
      table.ruleIPv4Entries();
    }
    const kinds = this.batchKinds;
    const batchWords = this.batchWords;
    const records = this.batchRecords;
    const words = this.words;
    const v4 = this.batchIPv4;
    const v4Of = this.batchIPv4Of;
    let m = 0;
    for (let i = 0; i < n; i++) {
      const w = 4 * i;
      if (kinds[i] === 4) {
        v4[m] = batchWords[w];
        v4Of[m++] = i;
      } else if (batchWords[w] === 0 && batchWords[w + 1] === 0 && batchWords[w + 2] === 0xffff) {
        // 4-in-6 is decided as its IPv4 address and reported in the canonical mapped form.
        v4[m] = batchWords[w + 3];
        v4Of[m++] = i;
      } else {
        words[0] = batchWords[w];
        words[1] = batchWords[w + 1];
        words[2] = batchWords[w + 2];
        words[3] = batchWords[w + 3];
        records[i] = table.lookup(6, words);
      }
    }
    const v4Records = this.batchIPv4Records;
    table.lookupIPv4Many(v4, m, v4Records);
    for (let j = 0; j < m; j++) records[v4Of[j]] = v4Records[j];
    // Read each outcome's record once here, where the reads overlap, so that the writing below finds them at hand.
    const arena = this.arena;
    const arenaView = this.arenaView;
    let seen = 0;
    for (let i = 0; i < n; i++) seen |= arena[records[i]];
    this.touched = seen;
    const starts = this.batchStarts;
    const ends = this.batchEnds;
    const heads = this.heads;
    const openings = this.openings;
    const jsonArray = this.jsonArray;
    let out = this.buffer;
    let view = this.view;
    let at = this.at;
    let misses = 0;
    for (let i = 0; i < n; i++) {
      const record = records[i];
      const flags = arena[record];
      const opening = arena[record + 1];
      const length = arena[record + 2] | (arena[record + 3] << 8) | (arena[record + 4] << 16);
      const before = heads[flags & 0x7f];
      const open = opening === 0 ? NO_PIECE : openings[opening - 1];
      const most = 2 + before.length + MAX_IPV6_TEXT + open.length + length + SLACK;
      if (at + most > out.length) {
        this.at = at;
        this.room(most);
        out = this.buffer;
        view = this.view;
        at = this.at;
      }
      if (jsonArray) {
        out[at++] = this.count + i > 0 ? 44 : 91; // , or [
        out[at++] = LF;
      }
      copy4(view, at, before.view, 0, before.length);
      at += before.length;
      if (kinds[i] === 4) {
        const end = ends[i];
        for (let c = starts[i]; c < end; c++) out[at++] = chunk[c];
      } else at = writeIPv6Bytes(batchWords, out, at, 4 * i);
      copy4(view, at, open.view, 0, open.length);
      at += open.length;
      copy4(view, at, arenaView, record + 5, length);
      at += length;
      misses += flags >>> 7;
    }
    this.at = at;
    this.count += n;
    this.missCount += misses;
  }

  /** One line: chunk[start, newline), without its LF. */
  private oneLine(chunk: Buffer, start: number, newline: number): void {
    let end = newline;
    if (end > start && chunk[end - 1] === CR) end--;
    // (A BOM on line 1 is never part of an address: such a line goes the other way.)
    const family = scanAddressBytes(chunk, start, end, this.words);
    if (family !== NOT_ACCEPTED) this.decideBytes(chunk, start, end, family);
    else this.otherLine(chunk, start, newline);
  }

  /** A line that is not a plain address: the rules of eachLine, then a plain address again, or decide() on its text. */
  private otherLine(chunk: Buffer, start: number, end: number): void {
    if (this.line === 1 && end - start >= 3 && chunk[start] === 0xef && chunk[start + 1] === 0xbb && chunk[start + 2] === 0xbf) start += 3;
    if (end - start > MAX_LINE_LENGTH) {
      const text = chunk.toString('utf8', start, end);
      if (text.length > MAX_LINE_LENGTH) throw tooLong(this.line);
      this.decodedLine(text);
      return;
    }
    for (let i = start; i < end; i++) {
      if (chunk[i] >= 0x80) {
        this.decodedLine(chunk.toString('utf8', start, end));
        return;
      }
    }
    while (start < end && isAsciiSpace(chunk[start])) start++;
    while (end > start && isAsciiSpace(chunk[end - 1])) end--;
    if (start === end || chunk[start] === HASH) return;
    const family = scanAddressBytes(chunk, start, end, this.words);
    if (family !== NOT_ACCEPTED) this.decideBytes(chunk, start, end, family);
    else this.decideText(chunk.toString('latin1', start, end), `line ${this.line}`);
  }

  private decodedLine(raw: string): void {
    const text = raw.trim();
    if (text.length === 0 || text.startsWith('#')) return;
    this.decideText(text, `line ${this.line}`);
  }

  /** Writes the decision for the address scanned from chunk[start, end) into this.words. */
  private decideBytes(chunk: Buffer, start: number, end: number, family: 4 | 6): void {
    this.batchKinds[0] = family;
    this.batchStarts[0] = start;
    this.batchEnds[0] = end;
    this.batchWords.set(this.words);
    this.decideBatch(chunk, 1);
  }

  /** Renders a new outcome around the address, once. */
  private prepare(ruling: Ruling<string>): number {
    let head = this.headOf.get(ruling.decision);
    if (head === undefined) {
      head = this.heads.push(piece(this.layout.before(this.ruled(ruling)))) - 1;
      this.headOf.set(ruling.decision, head);
    }
    const record = this.putAfter(ruling);
    const length = this.arenaUsed - record - 5;
    if (length >= 1 << 24) throw new RangeError('internal error: a decision too long to keep');
    const arena = this.arena;
    arena[record] = head | (ruling.decision !== this.wanted ? 0x80 : 0);
    arena[record + 2] = length & 255;
    arena[record + 3] = (length >>> 8) & 255;
    arena[record + 4] = length >>> 16;
    return record;
  }

  /** The decision as the layout takes it. */
  private ruled(ruling: Ruling<string>): Ruled {
    return {key: this.policy.key.name, decision: ruling.decision, reason: ruling.reason, matched: ruling.matched};
  }

  /** The number + 1 of the opening for a ruling's reason (which names its decision), or 0 when there are too many to number in a byte. */
  private opening(open: (d: Ruled) => string, ruling: Ruling<string>): number {
    let at = this.openingOf.get(ruling.reason);
    if (at === undefined) {
      at = this.openings.length < 255 ? this.openings.push(piece(open(this.ruled(ruling)))) : 0;
      this.openingOf.set(ruling.reason, at);
    }
    return at;
  }

  /** Writes a record for the text after the address into the arena (its bytes 0 and 2-4 left to the caller); returns where it starts. */
  private putAfter(ruling: Ruling<string>): number {
    const list = this.layout.list;
    const matched = ruling.matched;
    if (list !== null) {
      const opening = this.opening(list.open, ruling);
      const inline = opening === 0 ? Buffer.from(list.open(this.ruled(ruling))) : null;
      let size = 5 + (inline === null ? 0 : inline.length) + this.close.length;
      for (const text of matched) size += text.length + 3;
      this.arenaRoom(size);
      const arena = this.arena;
      const record = this.arenaUsed;
      arena[record + 1] = opening;
      let at = record + 5;
      if (inline !== null) {
        arena.set(inline, at);
        at += inline.length;
      }
      for (let i = 0; i < matched.length && at >= 0; i++) {
        if (i > 0) arena[at++] = 44; // ,
        arena[at++] = 34; // "
        at = putPlain(matched[i], arena, at);
        if (at >= 0) arena[at++] = 34;
      }
      if (at >= 0) {
        arena.set(this.close, at);
        this.arenaUsed = at + this.close.length;
        return record;
      }
    }
    // Anything else (human text, colours, texts JSON must escape) as a string.
    const text = this.layout.after(this.ruled(ruling));
    this.arenaRoom(5 + Buffer.byteLength(text));
    const record = this.arenaUsed;
    this.arena[record + 1] = 0;
    this.arenaUsed += 5 + this.arena.write(text, record + 5);
    return record;
  }

  /** Makes room for `length` more bytes in the arena, growing it when it is full (records keep their offsets). */
  private arenaRoom(length: number): void {
    // (With SLACK bytes to spare after the record: see copy4.)
    if (this.arenaUsed + length + SLACK <= this.arena.length) return;
    const grown = Buffer.allocUnsafe(Math.max(2 * this.arena.length, this.arenaUsed + length + SLACK));
    this.arena.copy(grown, 0, 0, this.arenaUsed);
    this.arena = grown;
    this.arenaView = viewOf(grown);
  }

  /** Makes room for `length` more bytes, passing the block on when it is full. */
  private room(length: number): void {
    if (this.at + length <= this.buffer.length) return;
    const full = this.buffer;
    const block = full.subarray(0, this.at);
    this.buffer = length <= BLOCK ? this.block() : Buffer.allocUnsafe(length);
    this.view = viewOf(this.buffer);
    this.at = 0;
    if (block.length === 0) return;
    const written = this.pass(full, block);
    if (written !== undefined) this.pending = this.pending === undefined ? written : Promise.all([this.pending, written]).then(() => undefined);
  }

  /** An empty block of BLOCK bytes, one the output is done with when there is one. */
  private block(): Buffer {
    return this.spare.pop() ?? Buffer.allocUnsafe(BLOCK);
  }

  /**
   * Writes `block`, the start of `full`, and keeps `full` to fill again once
   * the output is done with it: at once when the output holds nothing after
   * the write (a file, or a pipe that took it all), else at its callback.
   */
  private pass(full: Buffer, block: Buffer): Promise<void> | void {
    if (full.length !== BLOCK) return write(this.out, block);
    let kept = false;
    const keep = () => {
      if (!kept) this.spare.push(full);
      kept = true;
    };
    const written = write(this.out, block, keep);
    if ((this.out as {writableLength?: number}).writableLength === 0) keep();
    return written;
  }

  private async settle(): Promise<void> {
    if (this.pending !== undefined) {
      const waiting = this.pending;
      this.pending = undefined;
      await waiting;
    }
  }

  /** Writes what is decided so far. */
  async flush(): Promise<void> {
    await this.settle();
    if (this.at === 0) return;
    const full = this.buffer;
    const block = full.subarray(0, this.at);
    this.buffer = this.block();
    this.view = viewOf(this.buffer);
    this.at = 0;
    await this.pass(full, block);
  }

  async finish(): Promise<DecisionTally> {
    const tally = {count: this.count, misses: this.missCount};
    // Nothing at all is written when there was no address: the caller refuses that.
    if (this.count === 0) return tally;
    const end = this.jsonArray ? '\n]\n' : this.run.single ? '\n' : '';
    this.room(end.length);
    this.at += this.buffer.write(end, this.at);
    await this.flush();
    return tally;
  }
}
