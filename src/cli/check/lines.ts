/**
 * The lines of a stream of addresses, read as bytes: a line that is a plain
 * address is scanned in place (core/address-bytes.ts) and goes to the batch;
 * every other line (blank, comment, BOM, non-ASCII, refused, too long) keeps
 * the rules of eachLine in input.ts and is decided as text, as an argument
 * is, so that both ways print the same bytes.
 */
import {readSync} from 'node:fs';
import type {Readable} from 'node:stream';
import {NOT_ACCEPTED, scanAddressBytes, scanColonAddressBytes, scanIPv4Line} from '../../core/address-bytes.js';
import {InputError, wrappedSecretRun} from '../../core/errors.js';
import {MAX_LINE_LENGTH} from '../input.js';
import {AddressBatch, BATCH_SIZE} from './batch.js';
import {OutputBlocks} from '../output-blocks.js';

/** A file or a pipe to read with blocking reads (see LineReader.readDescriptor). */
export interface DescriptorInput {
  fd: number;
  /** A pipe's reads may wait for its writer; a file's never do. */
  pipe: boolean;
  /** The same input as a stream, to read on with should the descriptor turn out to be non-blocking. */
  stream: () => Readable;
}

const LF = 10;
const CR = 13;
const HASH = 35;
const COLON = 58;

/** What String.prototype.trim removes, among ASCII bytes. */
function isAsciiSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

function tooLong(line: number): InputError {
  const error = new InputError(`line ${line} is longer than ${MAX_LINE_LENGTH} characters`);
  error.line = line;
  return error;
}

/**
 * A line over this many bytes is surely over MAX_LINE_LENGTH characters: no
 * UTF-8 sequence (or invalid byte run) of more than 3 bytes decodes to one
 * UTF-16 unit.
 */
const SURELY_TOO_LONG = 3 * MAX_LINE_LENGTH + 3;

/** Reads of a file descriptor are this large: a line that may yet be an address always fits, many times over. */
const READ_BYTES = Math.max(1 << 18, 4 * SURELY_TOO_LONG);

export class LineReader {
  /** Lines read so far. */
  private line = 0;
  private readonly words = new Uint32Array(4);

  constructor(
    private readonly batch: AddressBatch,
    private readonly output: OutputBlocks,
    /** Under a line format, decisions are written whenever the input pauses. */
    private readonly lineFormat: boolean,
    /** Decides a line that is not a plain address as text; `where` names it for errors. */
    private readonly decideText: (text: string, where: string) => void,
  ) {}

  /**
   * Reads a file or a pipe with blocking reads into one buffer: no hand-off
   * to another thread and no new buffer for each read. Before each read of a
   * pipe (which may wait for its writer) the decisions so far are written,
   * as readStream does when its input pauses. A descriptor that turns out to
   * be non-blocking (EAGAIN) is read on as a stream.
   */
  async readDescriptor(input: DescriptorInput): Promise<void> {
    const buffer = Buffer.allocUnsafe(READ_BYTES);
    // The bytes of an unfinished line, at the start of the buffer.
    let kept = 0;
    for (;;) {
      if (input.pipe && this.lineFormat) await this.output.flush();
      let read: number;
      try {
        read = readSync(input.fd, buffer, kept, READ_BYTES - kept, null);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
        await this.readStream(input.stream(), kept > 0 ? Buffer.from(buffer.subarray(0, kept)) : null);
        return;
      }
      if (read === 0) break;
      const chunk = buffer.subarray(0, kept + read);
      let from = 0;
      for (;;) {
        from = this.decideLines(chunk, from);
        if (this.output.pending === undefined) break;
        await this.output.awaitWrite();
      }
      kept = chunk.length - from;
      if (kept > SURELY_TOO_LONG) throw tooLong(this.line + 1);
      buffer.copyWithin(0, from, chunk.length);
    }
    if (kept > 0) {
      this.line++;
      this.decideLine(buffer, 0, kept);
      await this.output.awaitWrite();
    }
  }

  /** Reads the stream line by line (see eachLine in input.ts for the rules this keeps), after the unfinished line `carry` when there is one. */
  async readStream(stream: Readable, carry: Buffer | null = null): Promise<void> {
    for await (const data of stream) {
      const chunk: Buffer = typeof data === 'string' ? Buffer.from(data) : (data as Buffer);
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
        this.decideLine(whole, 0, whole.length);
        await this.output.awaitWrite();
        from = newline + 1;
      }
      for (;;) {
        from = this.decideLines(chunk, from);
        if (this.output.pending === undefined) break;
        await this.output.awaitWrite();
      }
      if (from < chunk.length) {
        carry = Buffer.from(chunk.subarray(from));
        if (carry.length > SURELY_TOO_LONG) throw tooLong(this.line + 1);
      }
      // Answer as lines come: a pause in the input is a moment to write the decisions.
      if (this.lineFormat && stream.readableLength === 0) await this.output.flush();
    }
    if (carry !== null) {
      this.line++;
      this.decideLine(carry, 0, carry.length);
      await this.output.awaitWrite();
    }
  }

  /**
   * Decides the whole lines of chunk[from, …); returns where the first
   * unfinished line starts, or stops early when a write must be awaited.
   * Plain addresses are decided in batches; any other line is taken alone,
   * after the batch before it.
   */
  private decideLines(chunk: Buffer, from: number): number {
    const end = chunk.length;
    const words = this.words;
    const batch = this.batch;
    const output = this.output;
    const families = batch.families;
    const starts = batch.starts;
    const ends = batch.ends;
    const batchWords = batch.words;
    let start = from;
    let n = 0;
    // One loop and no code after it: code reached only at a chunk's end would have no type feedback
    // when the loop is optimized, and would deopt it at every chunk (docs/performance.md).
    for (;;) {
      // `done`: the chunk holds no whole line more (its end, or a line it cuts).
      let done = start >= end;
      let newline = start;
      let stop = start;
      let family: 4 | 6 | typeof NOT_ACCEPTED = NOT_ACCEPTED;
      if (!done) {
        // The commonest line, a dotted quad, is split and scanned in one pass; any other is split first.
        newline = scanIPv4Line(chunk, start, end, words);
        if (newline >= 0) {
          stop = chunk[newline - 1] === CR ? newline - 1 : newline;
          family = 4;
        } else {
          // Split, noting a colon on the way (IPv6, the next commonest line) so that its scan need not look for one.
          newline = start;
          let colon = false;
          for (; newline < end; newline++) {
            const c = chunk[newline];
            if (c === LF) break;
            if (c === COLON) colon = true;
          }
          if (newline === end) done = true;
          else {
            stop = newline;
            if (stop > start && chunk[stop - 1] === CR) stop--;
            // (A BOM on line 1 is never part of an address: such a line goes the other way.)
            family = colon ? scanColonAddressBytes(chunk, start, stop, words) : scanAddressBytes(chunk, start, stop, words);
          }
        }
      }
      if (!done) {
        this.line++;
        if (family !== NOT_ACCEPTED) {
          families[n] = family;
          starts[n] = start;
          ends[n] = stop;
          const w = 4 * n;
          batchWords[w] = words[0];
          batchWords[w + 1] = words[1];
          batchWords[w + 2] = words[2];
          batchWords[w + 3] = words[3];
          start = newline + 1;
          if (++n < BATCH_SIZE) continue;
        }
      }
      // A full batch, a line that is not a plain address, or the chunk's end: the batch is decided first.
      if (n > 0) batch.decide(chunk, n);
      n = 0;
      if (done) return start;
      if (family === NOT_ACCEPTED) {
        this.otherLine(chunk, start, newline);
        start = newline + 1;
      }
      if (output.pending !== undefined) return start;
    }
  }

  /** Decides one line, chunk[start, newline) without its LF. */
  private decideLine(chunk: Buffer, start: number, newline: number): void {
    let end = newline;
    if (end > start && chunk[end - 1] === CR) end--;
    // (A BOM on line 1 is never part of an address: such a line goes the other way.)
    const family = scanAddressBytes(chunk, start, end, this.words);
    if (family !== NOT_ACCEPTED) this.batch.decideOne(chunk, start, end, family, this.words);
    else this.otherLine(chunk, start, newline);
  }

  /** A line that is not a plain address: the rules of eachLine, then a plain address again, or decided as text. */
  private otherLine(chunk: Buffer, start: number, newline: number): void {
    let end = newline;
    if (this.line === 1 && end - start >= 3 && chunk[start] === 0xef && chunk[start + 1] === 0xbb && chunk[start + 2] === 0xbf) start += 3;
    if (end - start > MAX_LINE_LENGTH) {
      const text = chunk.toString('utf8', start, end);
      if (text.length > MAX_LINE_LENGTH) throw tooLong(this.line);
      this.decodedLine(text, chunk, newline);
      return;
    }
    for (let i = start; i < end; i++) {
      if (chunk[i] >= 0x80) {
        this.decodedLine(chunk.toString('utf8', start, end), chunk, newline);
        return;
      }
    }
    while (start < end && isAsciiSpace(chunk[start])) start++;
    while (end > start && isAsciiSpace(chunk[end - 1])) end--;
    if (start === end || chunk[start] === HASH) return;
    const family = scanAddressBytes(chunk, start, end, this.words);
    if (family !== NOT_ACCEPTED) this.batch.decideOne(chunk, start, end, family, this.words);
    else this.decideOther(chunk.toString('latin1', start, end), chunk, newline);
  }

  private decodedLine(raw: string, chunk: Buffer, newline: number): void {
    const text = raw.trim();
    if (text.length === 0 || text.startsWith('#')) return;
    this.decideOther(text, chunk, newline);
  }

  /**
   * Decides a line that is not a plain address as text. The stream stops at
   * a refused line, so the pieces of a secret wrapped from it onto the lines
   * after it are sought in what is read already (see wrappedSecretRun): the
   * message shows them by a hint.
   */
  private decideOther(text: string, chunk: Buffer, newline: number): void {
    try {
      this.decideText(text, `line ${this.line}`);
    } catch (error) {
      let run = wrappedSecretRun('', text);
      for (let at = newline + 1; run !== '' && at < chunk.length;) {
        const next = chunk.indexOf(LF, at);
        const end = next < 0 ? chunk.length : next;
        run = wrappedSecretRun(run, chunk.toString('utf8', at, end).trim());
        at = end + 1;
      }
      throw error;
    }
  }
}
