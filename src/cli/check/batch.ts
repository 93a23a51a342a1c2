/**
 * Plain addresses scanned from a stream, decided a batch at a time: all
 * their lookups first (core/decision-table.ts), then all their writing from
 * the outcome records, so that each loop keeps to its own memory (the index,
 * then the output).
 */
import {MAX_IPV6_TEXT, writeIPv6Text} from '../../core/address-bytes.js';
import {KeyPolicy} from '../../core/decision.js';
import {DecisionTable} from '../../core/decision-table.js';
import {copyInWords, HEAD_BITS, NO_TEXT, NOT_PRINTED, OutcomeRecords, SLACK, viewOf} from './outcomes.js';
import {OutputBlocks} from '../output-blocks.js';

/** Plain addresses are decided this many at a time. */
export const BATCH_SIZE = 1024;

/**
 * After this many decisions, a stream that has met a new outcome at least
 * once in SPREAD_RATIO decisions has every IPv4 outcome rendered at once.
 * One batch: outcomes ruled one by one, as they come, run mostly before the
 * code is optimized (after 16,384 decisions, as before, they were most of
 * the first 16,384 lines' time; docs/performance.md).
 */
const SPREAD_AFTER = BATCH_SIZE;
const SPREAD_RATIO = 8;

const LF = 10;

/** A run of printed lines copied as one is cut after this many bytes (it stays well within an output block). */
const RUN_BYTES = 4096;

/** How many decisions were written, and how many differed from the decision wanted. */
export interface DecisionTally {
  count: number;
  misses: number;
}

export class AddressBatch {
  /** Filled by the line scanner: each address's family as scanned (4 or 6), where it is in its chunk, its words (4 each). */
  readonly families = new Uint8Array(BATCH_SIZE);
  readonly starts = new Int32Array(BATCH_SIZE);
  readonly ends = new Int32Array(BATCH_SIZE);
  readonly words = new Uint32Array(4 * BATCH_SIZE);
  /** Where each address's outcome record starts. */
  private readonly records = new Int32Array(BATCH_SIZE);
  /** The IPv4 addresses of the batch (4-in-6 unmapped), where each is in the batch, and their records. */
  private readonly ipv4 = new Uint32Array(BATCH_SIZE);
  private readonly ipv4At = new Int32Array(BATCH_SIZE);
  private readonly ipv4Records = new Int32Array(BATCH_SIZE);
  /** Where each IPv6 address of the batch (not 4-in-6) is in the batch, and their records. */
  private readonly ipv6At = new Int32Array(BATCH_SIZE);
  private readonly ipv6Records = new Int32Array(BATCH_SIZE);
  /** Built at the first streamed line: arguments are decided by decide(), and building it costs a single check more than the decision. */
  private tableOrNull: DecisionTable | null = null;
  /** Whether every IPv4 outcome has been rendered at once (see decide). */
  private everyIPv4Outcome = false;
  /** Kept so that the reads of the records are not optimized away. */
  recordsRead = 0;

  constructor(
    private readonly policy: KeyPolicy,
    private readonly outcomes: OutcomeRecords,
    private readonly output: OutputBlocks,
    private readonly tally: DecisionTally,
    /** Under `json` with more than one decision: each decision is preceded by `[` or `,` and a newline. */
    private readonly jsonArray: boolean,
    /** Under `print`: only the addresses of the printed decision, each as given, and a newline. */
    private readonly print: boolean = false,
  ) {}

  private get table(): DecisionTable {
    // Under `print` an outcome is its decision alone: no entry texts. Else the account list's entries are rendered from their positions.
    const account = this.policy.account;
    this.tableOrNull ??= new DecisionTable(this.policy, (outcome) => this.outcomes.add(outcome), {
      decisionsOnly: this.print,
      prepareAccount: (outcome) => this.outcomes.addFromAccount(outcome, account),
      // (Records written from the entries' bytes, when at hand.)
      prepareAccountPositions:
        this.outcomes.accountTexts?.index === account ? (outcome, positions, count) => this.outcomes.addFromPositions(outcome, positions, count, account) : undefined,
    });
    return this.tableOrNull;
  }

  /** Decides and writes the one address scanned from chunk[start, end) into `words`. */
  decideOne(chunk: Buffer, start: number, end: number, family: 4 | 6, words: Uint32Array): void {
    this.families[0] = family;
    this.starts[0] = start;
    this.ends[0] = end;
    this.words.set(words);
    this.decide(chunk, 1);
  }

  /** Decides and writes the first n addresses of the batch, scanned from `chunk`. */
  decide(chunk: Buffer, n: number): void {
    const table = this.table;
    if (this.tally.count >= SPREAD_AFTER && !this.everyIPv4Outcome && table.size * SPREAD_RATIO >= this.tally.count) {
      // A stream spread over the list: render every IPv4 outcome now, in one loop (see ruleIPv4Entries).
      this.everyIPv4Outcome = true;
      table.ruleIPv4Entries();
    }
    const families = this.families;
    const batchWords = this.words;
    const records = this.records;
    const v4 = this.ipv4;
    const v4At = this.ipv4At;
    const v6At = this.ipv6At;
    let m = 0;
    let k = 0;
    for (let i = 0; i < n; i++) {
      const w = 4 * i;
      if (families[i] === 4) {
        v4[m] = batchWords[w];
        v4At[m++] = i;
      } else if (batchWords[w] === 0 && batchWords[w + 1] === 0 && batchWords[w + 2] === 0xffff) {
        // 4-in-6 is decided as its IPv4 address and reported in the canonical mapped form.
        v4[m] = batchWords[w + 3];
        v4At[m++] = i;
      } else v6At[k++] = i;
    }
    const v4Records = this.ipv4Records;
    table.lookupIPv4Many(v4, m, v4Records);
    for (let j = 0; j < m; j++) records[v4At[j]] = v4Records[j];
    if (k > 0) {
      const v6Records = this.ipv6Records;
      table.lookupIPv6Many(batchWords, v6At, k, v6Records);
      for (let j = 0; j < k; j++) records[v6At[j]] = v6Records[j];
    }
    // The lookups may have added records (and grown their buffer): read the buffer only now.
    const outcomes = this.outcomes;
    const recordBytes = outcomes.bytes;
    const recordView = outcomes.view;
    if (this.print) {
      this.printAddresses(chunk, n);
      return;
    }
    // Read each outcome's record once here, where the reads overlap, so that the writing below finds them at hand.
    let seen = 0;
    for (let i = 0; i < n; i++) seen |= recordBytes[records[i]];
    this.recordsRead = seen;
    const starts = this.starts;
    const ends = this.ends;
    // The address is copied four bytes at a time too, when the chunk has SLACK bytes after it.
    const chunkView = viewOf(chunk);
    const wordsUpTo = chunk.length - SLACK;
    const heads = outcomes.heads;
    const openings = outcomes.openings;
    const jsonArray = this.jsonArray;
    const output = this.output;
    const count = this.tally.count;
    let out = output.buffer;
    let view = output.view;
    let at = output.at;
    let misses = 0;
    for (let i = 0; i < n; i++) {
      // The record: byte 0 the head's number (HEAD_BITS) and whether it misses `wanted` (MISSES),
      // byte 1 the opening's number + 1 (0: none), bytes 2-4 the length of the text from byte 5.
      const record = records[i];
      const flags = recordBytes[record];
      const opening = recordBytes[record + 1];
      const length = recordBytes[record + 2] | (recordBytes[record + 3] << 8) | (recordBytes[record + 4] << 16);
      const before = heads[flags & HEAD_BITS];
      const open = opening === 0 ? NO_TEXT : openings[opening - 1];
      const most = 2 + before.length + MAX_IPV6_TEXT + open.length + length + SLACK;
      if (at + most > out.length) {
        output.at = at;
        output.reserve(most);
        out = output.buffer;
        view = output.view;
        at = output.at;
      }
      if (jsonArray) {
        out[at++] = count + i > 0 ? 44 : 91; // , or [
        out[at++] = LF;
      }
      copyInWords(view, at, before.view, 0, before.length);
      at += before.length;
      if (families[i] === 4) {
        const start = starts[i];
        const end = ends[i];
        if (end <= wordsUpTo) {
          copyInWords(view, at, chunkView, start, end - start);
          at += end - start;
        } else for (let c = start; c < end; c++) out[at++] = chunk[c];
      } else at = writeIPv6Text(batchWords, out, view, at, 4 * i);
      copyInWords(view, at, open.view, 0, open.length);
      at += open.length;
      copyInWords(view, at, recordView, record + 5, length);
      at += length;
      misses += flags >>> 7;
    }
    output.at = at;
    this.tally.count = count + n;
    this.tally.misses += misses;
  }

  /**
   * Writes the addresses of the first n decisions (their records already in
   * `records`) that `print` prints: each as the stream gave it, then a newline.
   * Consecutive printed lines that end in a bare LF are one span of the
   * chunk, their newlines included, and are copied as one.
   */
  private printAddresses(chunk: Buffer, n: number): void {
    const records = this.records;
    const recordBytes = this.outcomes.bytes;
    const starts = this.starts;
    const ends = this.ends;
    const output = this.output;
    let out = output.buffer;
    let view = output.view;
    let at = output.at;
    let misses = 0;
    // Four bytes at a time, as decide copies (SLACK bytes to spare on both sides), else byte by byte.
    const chunkView = viewOf(chunk);
    const wordsUpTo = chunk.length - SLACK;
    let i = 0;
    while (i < n) {
      const flags = recordBytes[records[i]];
      misses += flags >>> 7;
      i++;
      if ((flags & NOT_PRINTED) !== 0) continue;
      const start = starts[i - 1];
      let end = ends[i - 1];
      // The run: while the line ends in a bare LF, the next line starts after it, and is printed too (at most RUN_BYTES).
      while (i < n && starts[i] === end + 1 && chunk[end] === LF && end - start < RUN_BYTES) {
        const next = recordBytes[records[i]];
        if ((next & NOT_PRINTED) !== 0) break;
        misses += next >>> 7;
        end = ends[i];
        i++;
      }
      // The run's text, then its last newline.
      const length = end - start;
      if (at + length + 1 + SLACK > out.length) {
        output.at = at;
        output.reserve(length + 1 + SLACK);
        out = output.buffer;
        view = output.view;
        at = output.at;
      }
      if (end <= wordsUpTo) copyInWords(view, at, chunkView, start, length);
      else for (let c = 0; c < length; c++) out[at + c] = chunk[start + c];
      at += length;
      out[at++] = LF;
    }
    output.at = at;
    this.tally.count += n;
    this.tally.misses += misses;
  }
}
