/**
 * The decisions `check` prints: addresses from arguments and from a stream,
 * decided by the core and written in the chosen format, in blocks, with
 * output backpressure. Shared by the oclif command and bin/run.js's fast path
 * (README.md has the invariants).
 *
 * An argument, and a streamed line that is not a plain address, goes
 * through `decide`; plain addresses from a stream go through the batch
 * (batch.ts) and print the same bytes.
 */
import {Readable} from 'node:stream';
import type {ChalkInstance} from 'chalk';
import {Decision, decide, KeyPolicy, Verdict} from '../../core/decision.js';
import {InputError, locatedInputError} from '../../core/errors.js';
import {AddressBatch, DecisionTally} from './batch.js';
import {DescriptorInput, LineReader} from './lines.js';
import {AccountTexts, DecisionFormat, Layout, layoutFor, OutcomeRecords} from './outcomes.js';
import {OutputBlocks} from '../output-blocks.js';

export type {DecisionTally} from './batch.js';
export type {DescriptorInput} from './lines.js';
export type {AccountTexts, DecisionFormat} from './outcomes.js';

export interface DecisionRun {
  policy: KeyPolicy;
  /** Addresses given as arguments, with `-` already removed; `where` names each for errors. */
  addresses: {text: string; where: string}[];
  /** Where to read addresses from, one a line (`#` comments and blank lines skipped): a stream, a file descriptor, or nothing. */
  stream: Readable | DescriptorInput | null;
  out: NodeJS.WritableStream;
  format: DecisionFormat;
  wanted: Verdict;
  /** Under `print`, the decision whose addresses are printed. */
  printed?: Verdict;
  /** Colours for the human format. */
  colour: ChalkInstance;
  /** The account entries' texts as bytes (the index cache's), used when they are `policy.account`'s. */
  accountTexts?: AccountTexts | null;
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
    if (run.stream instanceof Readable) await writer.lines.readStream(run.stream);
    else if (run.stream !== null) await writer.lines.readDescriptor(run.stream);
  } catch (error) {
    if (error instanceof InputError && run.format !== 'json') await writer.output.flush();
    throw error;
  }
  return writer.finish();
}

class DecisionWriter {
  private readonly policy: KeyPolicy;
  private readonly layout: Layout;
  private readonly jsonArray: boolean;
  private readonly wanted: Verdict;
  /** Under `print`, the decision whose addresses are printed; else null. */
  private readonly printed: Verdict | null;
  readonly output: OutputBlocks;
  readonly lines: LineReader;
  private readonly tally: DecisionTally = {count: 0, misses: 0};

  constructor(run: DecisionRun) {
    this.policy = run.policy;
    this.printed = run.format === 'print' ? (run.printed ?? 'allow') : null;
    this.layout = layoutFor(run.format, run.colour, this.printed ?? undefined);
    this.jsonArray = run.format === 'json';
    this.wanted = run.wanted;
    this.output = new OutputBlocks(run.out);
    const entries = run.policy.account.size + (run.policy.own?.size ?? 0);
    const texts = run.accountTexts?.index === run.policy.account ? run.accountTexts : null;
    const outcomes = new OutcomeRecords(this.layout, run.policy.key.name, run.wanted, entries, this.printed, texts);
    const batch = new AddressBatch(run.policy, outcomes, this.output, this.tally, this.jsonArray, this.printed !== null);
    this.lines = new LineReader(batch, this.output, run.format !== 'json', (text, where) => this.decideText(text, where));
  }

  /** Decides an address given as an argument. */
  async addText(text: string, where: string): Promise<void> {
    this.decideText(text, where);
    await this.output.awaitWrite();
  }

  /** Decides an address given as text (an argument, or a line that is not a plain address). */
  private decideText(text: string, where: string): void {
    let d: Decision;
    try {
      d = decide(this.policy, text);
    } catch (error) {
      if (error instanceof InputError) throw locatedInputError(error, {text, where});
      throw error;
    }
    if (d.decision !== this.wanted) this.tally.misses++;
    if (this.printed !== null) {
      // A filter prints the address as it was given, as grepcidr prints the line.
      this.tally.count++;
      if (d.decision === this.printed) this.put(`${text}\n`);
      return;
    }
    const rendered = `${this.jsonArray ? (this.tally.count === 0 ? '[\n' : ',\n') : ''}${this.layout.before(d)}${d.ip}${this.layout.after(d)}`;
    this.tally.count++;
    this.put(rendered);
  }

  private put(text: string): void {
    const output = this.output;
    output.reserve(Buffer.byteLength(text));
    output.at += output.buffer.write(text, output.at);
  }

  async finish(): Promise<DecisionTally> {
    const tally = {count: this.tally.count, misses: this.tally.misses};
    // Nothing at all is written when there was no address: the caller refuses that.
    if (tally.count === 0) return tally;
    const end = this.jsonArray ? '\n]\n' : '';
    const output = this.output;
    output.reserve(end.length);
    output.at += output.buffer.write(end, output.at);
    await output.flush();
    return tally;
  }
}
