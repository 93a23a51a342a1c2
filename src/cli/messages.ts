/**
 * Messages for the person at the terminal (stderr) and the one place where
 * an error becomes a message and an exit code: shared by the oclif commands
 * (base.ts) and check's fast path, which must print the same bytes.
 */
import type {ChalkInstance} from 'chalk';
import {KeywardError, maskSecrets, untrusted} from '../core/errors.js';
import {EXIT, exitCodeOf} from './exit-codes.js';
import {colourWanted, paint} from './render.js';

/** chalk at level 0 (no colour): every style gives its text back as chalk would. */
function plainStyle(...text: unknown[]): string {
  return text.length === 1 ? `${text[0]}` : text.join(' ');
}

const MODEL_STYLES = new Set(['rgb', 'hex', 'ansi256', 'bgRgb', 'bgHex', 'bgAnsi256']);

const plain: ChalkInstance = new Proxy(plainStyle, {
  get: (_target, name) => {
    // Not a promise: `await` must not take it for one.
    if (typeof name !== 'string' || name === 'then') return undefined;
    if (name === 'level') return 0;
    if (name === 'visible') return () => '';
    return MODEL_STYLES.has(name) ? () => plain : plain;
  },
}) as unknown as ChalkInstance;

/**
 * Styles for `stream`: chalk when colour is wanted, else plain text without
 * loading chalk (loading it would be most of what `check` costs beyond
 * Node's own start).
 */
export async function palette(stream: NodeJS.WriteStream = process.stdout): Promise<ChalkInstance> {
  return colourWanted(stream) ? paint(stream) : plain;
}

/**
 * A message for the person at the terminal (stderr; never mixed into machine
 * output). Anything secret-shaped in it is shown by its hint, whatever built it.
 */
export async function tell(message: string, tone: 'info' | 'ok' | 'warn' = 'info'): Promise<void> {
  const c = await palette(process.stderr);
  const text = maskSecrets(message);
  const styled = tone === 'warn' ? c.yellow(text) : tone === 'ok' ? c.green(text) : text;
  process.stderr.write(`${styled}\n`);
}

/**
 * Says what went wrong on stderr and sets the exit code: a KeywardError by
 * its message, hint and kind (src/cli/exit-codes.ts); anything else is a
 * defect in keyward (exit 70, the stack under KEYWARD_DEBUG).
 */
export async function reportFailure(error: unknown): Promise<void> {
  if (error instanceof KeywardError) {
    const c = await palette(process.stderr);
    process.stderr.write(`${c.red('keyward:')} ${maskSecrets(error.message)}\n`);
    if (error.hint) process.stderr.write(`  ${maskSecrets(error.hint)}\n`);
    process.exitCode = exitCodeOf(error.kind);
    return;
  }
  const e = error instanceof Error ? error : new Error(String(error));
  process.stderr.write(`keyward: internal error: ${maskSecrets(e.message)}\n`);
  if (process.env.KEYWARD_DEBUG) process.stderr.write(`${maskSecrets(e.stack ?? '')}\n`);
  process.exitCode = EXIT.internal;
}

/** `untrusted` for a message of several lines: each line escaped, the line breaks kept. */
function untrustedLines(text: string): string {
  return text.split('\n').map(untrusted).join('\n');
}

/**
 * An error of oclif's own (a bad flag, an unexpected argument, a flag value
 * not among its options) with every secret-shaped run in what oclif prints of
 * it (message, suggestions, stack, causes) replaced by its hint, and control
 * characters escaped: oclif quotes the argument as typed, and a secret (or an
 * escape sequence) is typed where a name or a flag should be.
 */
export function maskedOclifError<E extends Error>(error: E): E {
  const seen = new Set<unknown>();
  for (let e: unknown = error; e instanceof Error && !seen.has(e); e = (e as {cause?: unknown}).cause) {
    seen.add(e);
    const fields = e as unknown as Record<string, unknown>;
    for (const field of ['message', 'stack', 'code', 'ref']) {
      if (typeof fields[field] === 'string') fields[field] = untrustedLines(fields[field] as string);
    }
    if (Array.isArray(fields.suggestions)) fields.suggestions = fields.suggestions.map((s) => (typeof s === 'string' ? untrustedLines(s) : s));
  }
  return error;
}
