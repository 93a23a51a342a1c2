/**
 * The decisions `check` prints: addresses from arguments and from a stream,
 * decided by the core and written in the chosen format, in blocks, with
 * output backpressure. Shared by the oclif command and bin/run.js's fast path.
 */
import {Readable} from 'node:stream';
import type {ChalkInstance} from 'chalk';
import {Decision, decide, KeyPolicy, Verdict} from '../core/decision.js';
import {InputError} from '../core/errors.js';
import {write} from './write.js';
import {eachLine} from './input.js';

/** Output is flushed in blocks of about this many characters. */
const FLUSH_AT = 1 << 16;

export type DecisionFormat = 'human' | 'json' | 'ndjson';

export interface DecisionRun {
  policy: KeyPolicy;
  /** Addresses given as arguments, with `-` already removed; `where` names each for errors. */
  addresses: {text: string; where: string}[];
  /** The stream to read addresses from, one a line (`#` comments and blank lines skipped), or null. */
  stream: Readable | null;
  out: NodeJS.WritableStream;
  format: DecisionFormat;
  /** Under `json`: one object (not an array), for exactly one argument address and no stream. */
  single: boolean;
  wanted: Verdict;
  /** Colours for the human format. */
  colour: ChalkInstance;
}

export interface DecisionTally {
  count: number;
  /** Decisions that differed from `wanted`. */
  misses: number;
}

/** Decides every address and writes the decisions; throws an InputError naming a bad address (output so far is flushed). */
export async function writeDecisions(run: DecisionRun): Promise<DecisionTally> {
  const {policy, out, format, wanted, colour: c} = run;
  const jsonArray = format === 'json' && !run.single;
  const render =
    format === 'human'
      ? (d: Decision) => {
          const verdict = d.decision === 'allow' ? c.green('allow') : c.red('deny ');
          const matched = d.matched.length > 0 ? `  ${c.dim(d.matched.join(', '))}` : '';
          return `${verdict}  ${d.ip}  ${d.reason}${matched}\n`;
        }
      : format === 'ndjson'
        ? (d: Decision) => `${JSON.stringify(d)}\n`
        : (d: Decision) => JSON.stringify(d);

  let misses = 0;
  let count = 0;
  let buffer = jsonArray ? '[' : '';
  const add = (text: string, where: string): Promise<void> | void => {
    let d: Decision;
    try {
      d = decide(policy, text);
    } catch (error) {
      if (error instanceof InputError) throw new InputError(`${where}: ${error.message}`, error.hint);
      throw error;
    }
    if (d.decision !== wanted) misses++;
    buffer += jsonArray ? `${count === 0 ? '\n' : ',\n'}${render(d)}` : render(d);
    count++;
    if (buffer.length >= FLUSH_AT) {
      const block = buffer;
      buffer = '';
      return write(out, block);
    }
    return undefined;
  };

  for (const {text, where} of run.addresses) await add(text, where);
  if (run.stream) {
    await eachLine(run.stream, (text, line) => {
      if (text.length === 0 || text.startsWith('#')) return undefined;
      return add(text, `line ${line}`);
    });
  }
  // Nothing at all is written when there was no address: the caller refuses that.
  if (count === 0) return {count, misses};
  if (jsonArray) buffer += '\n]\n';
  if (run.single) buffer += '\n';
  await write(out, buffer);
  return {count, misses};
}
