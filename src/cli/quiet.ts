/**
 * --quiet (src/cli/flags.ts quietFlag): set once a run by the base command's
 * init (or a fast path), read by what prints a summary or progress. Errors,
 * warnings that need action and a new key's secret never look at it.
 */
import {tell} from './messages.js';
import {write} from './write.js';

let quiet = false;

export function setQuiet(on: boolean): void {
  quiet = on;
}

/** Whether --quiet was given to this run. */
export function isQuiet(): boolean {
  return quiet;
}

/**
 * A message for the person at the terminal (stderr; never mixed into machine
 * output). Under --quiet only warnings are said, and what `always` marks
 * (the details of a warning).
 */
export async function tellUnlessQuiet(message: string, tone: 'info' | 'ok' | 'warn' = 'info', always = false): Promise<void> {
  if (quiet && tone !== 'warn' && !always) return;
  return tell(message, tone);
}

/** The human rendering of a result on stdout: nothing under --json (the result is printed instead) or --quiet, nor for an empty one. */
export async function printHumanUnless(json: boolean, human: () => string | Promise<string>): Promise<void> {
  if (json || quiet) return;
  const text = await human();
  if (text.length > 0) await write(process.stdout, `${text}\n`);
}
