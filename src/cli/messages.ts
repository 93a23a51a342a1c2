/**
 * Messages for the person at the terminal (stderr) and the one place where
 * an error becomes a message and an exit code: shared by the oclif commands
 * (base.ts) and check's fast path, which must print the same bytes.
 */
import type {ChalkInstance} from 'chalk';
import {BadInputs, KeywardError, lineOf, maskInMessage, maskSecrets, untrusted} from '../core/errors.js';
import {nearest} from '../core/nearest.js';
import {grouped} from '../core/count.js';
import {jsonSafe} from '../core/render/text.js';
import {EXIT, exitCodeOf} from './exit-codes.js';
import {colourWanted, paint, plain} from './render.js';
import {isNoHome, noHome} from './store-path.js';

/**
 * Styles for `stream`: chalk when colour is wanted, else plain text without
 * loading chalk (loading it would be most of what `check` costs beyond
 * Node's own start).
 */
export async function palette(stream: NodeJS.WriteStream = process.stdout): Promise<ChalkInstance> {
  return colourWanted(stream) ? paint(stream) : plain;
}

/** Machine output as every command prints it under --json: indented JSON and a line break. */
export function jsonText(json: unknown): string {
  return `${jsonSafe(JSON.stringify(json, null, 2))}\n`;
}

/**
 * A message for the person at the terminal (stderr; never mixed into machine
 * output). Anything secret-shaped in it is shown by its hint, whatever built it.
 */
export async function tell(message: string, tone: 'info' | 'ok' | 'warn' = 'info'): Promise<void> {
  const c = await palette(process.stderr);
  const text = maskInMessage(message);
  const styled = tone === 'warn' ? c.yellow(text) : tone === 'ok' ? c.green(text) : text;
  process.stderr.write(`${styled}\n`);
}

/** What each failing exit code means, said once after every failure's message (SPEC "Exit codes"). */
export const EXIT_MEANING: Readonly<Record<number, string>> = {
  [EXIT.usage]: 'usage error',
  [EXIT.store]: 'store error',
  [EXIT.safety]: 'refused for safety',
  [EXIT.internal]: 'internal error in keyward: please report it',
};

/** The last line of every failure: the kind of failure and its exit code ("usage error (exit 2)"). */
export function meaningLine(exit: number): string {
  return `${EXIT_MEANING[exit] ?? 'failed'} (exit ${exit})`;
}

/** A failure as keyward says it: the message, the lines under it (indented), the exit code; and its --json object. */
export interface Failure {
  exit: number;
  message: string;
  /** Lines under the message: hints, each bad input of several. Indented by two spaces when printed. */
  details: string[];
  input?: string;
  line?: number;
  /** Every bad input of several (BadInputs), for --json. */
  errors?: {message: string; input?: string; line?: number}[];
  /** More members of the error object (KeywardError.extra). */
  extra?: Record<string, unknown>;
}

/**
 * The failure `error` is, in keyward's words: a KeywardError by its message,
 * hint and kind (src/cli/exit-codes.ts; several bad inputs one by one, then
 * "and N more"); what Node itself refused (nodeRefusal) a usage error; anything else a defect in keyward (exit 70). Every text is
 * masked (secrets by hint) and escaped (control characters).
 */
export function failureOf(error: unknown): Failure {
  if (isNoHome(error)) return failureOf(noHome());
  const refusal = nodeRefusal(error);
  if (refusal) return refusal;
  if (error instanceof KeywardError) {
    // A message of several lines (a log's first lines under the reason): its first line is the message.
    const [first, ...rest] = untrustedLines(error.message).split('\n');
    const details: string[] = rest.map((line) => line.trimStart());
    const failure: Failure = {exit: exitCodeOf(error.kind), message: first, details};
    if (error instanceof BadInputs) {
      for (const e of error.errors) {
        details.push(untrustedLines(e.message));
        if (e.hint) details.push(`  ${untrustedLines(e.hint)}`);
      }
      if (error.more > 0) details.push(`and ${grouped(error.more)} more`);
      failure.errors = error.errors.map((e) => about<{message: string; input?: string; line?: number}>({message: untrustedLines(e.message)}, e));
    }
    if (error.hint) details.push(...untrustedLines(error.hint).split('\n'));
    if (error.extra) failure.extra = error.extra;
    return about(failure, error);
  }
  const io = fileSystemRefusal(error);
  if (io) return io;
  const e = error instanceof Error ? error : new Error(String(error));
  return {exit: EXIT.internal, message: `internal error: ${untrustedLines(e.message)}`, details: []};
}

/** What the file system refuses that is this machine's to mend, not a defect (see fileSystemRefusal). */
const FILE_SYSTEM_REFUSALS = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT', 'ENOENT', 'ENOTDIR', 'EISDIR', 'EIO']);

/**
 * A file the system would not let a plugin read or write (the completion
 * plugin's cache in a home folder that is not writable), which no keyward
 * code named: the same kind of failure as output that cannot be written,
 * exit 3, naming the file. Null for any other error.
 */
function fileSystemRefusal(error: unknown): Failure | null {
  const e = error as {code?: unknown; syscall?: unknown; path?: unknown} | null;
  if (typeof e?.code !== 'string' || !FILE_SYSTEM_REFUSALS.has(e.code) || typeof e.syscall !== 'string' || typeof e.path !== 'string') return null;
  return {
    exit: EXIT.store,
    message: `cannot ${untrusted(e.syscall)} ${untrusted(e.path)} (${e.code})`,
    details: ['check that the folder exists and this user may write it (HOME, XDG_CACHE_HOME)'],
  };
}

/** The flag of Node's permission model that allows each permission it refuses (ERR_ACCESS_DENIED's `permission`). */
const ALLOWED_BY: Readonly<Record<string, string>> = {
  FileSystemRead: '--allow-fs-read',
  FileSystemWrite: '--allow-fs-write',
  WorkerThreads: '--allow-worker',
  ChildProcess: '--allow-child-process',
};

/**
 * What Node itself refused because of how it was started, as a usage error
 * naming the flag: its permission model (`--permission`) without the
 * `--allow-…` a command needs (serve's worker thread), or
 * `--disallow-code-generation-from-strings` (the completion plugin's
 * templates). Not a defect in keyward (exit 70); null for any other error.
 */
function nodeRefusal(error: unknown): Failure | null {
  const e = error as {code?: unknown; permission?: unknown; resource?: unknown; message?: unknown} | null;
  if (e?.code === 'ERR_ACCESS_DENIED') {
    const permission = String(e.permission ?? '');
    const resource = typeof e.resource === 'string' && e.resource !== '' ? ` (${untrusted(e.resource)})` : '';
    const flag = ALLOWED_BY[permission];
    return {
      exit: EXIT.usage,
      message: `Node's permission model refused ${untrusted(permission || 'an operation')}${resource}, which this command needs`,
      details: [flag ? `start node with ${flag}${flag.startsWith('--allow-fs') ? '=PATH' : ''} as well, or without the permission model` : "see Node's --allow-… flags"],
    };
  }
  if (error instanceof EvalError && /code generation from strings/i.test(String(e?.message))) {
    return {
      exit: EXIT.usage,
      message: 'Node refuses to compile code from text (--disallow-code-generation-from-strings), which this command needs',
      details: ['start node without that flag for this command'],
    };
  }
  return null;
}

/** `target` with the input and line of `error`, when it has them (the input masked and escaped). */
function about<T extends {input?: string; line?: number}>(target: T, error: KeywardError): T {
  if (error.input !== undefined) target.input = untrusted(maskInMessage(error.input));
  // A message that starts by naming its line (`line 2 of FILE: …`) has it in the object too.
  const line = error.line ?? lineOf(error.message);
  if (line !== undefined) target.line = line;
  return target;
}

/** --json's error object for `failure`: `{"error": {exit, message, input?, line?, errors?}}`. */
export function failureJson(failure: Failure): {error: Record<string, unknown>} {
  const {exit, message, input, line, errors, extra} = failure;
  return {
    error: {exit, message, ...(input === undefined ? {} : {input}), ...(line === undefined ? {} : {line}), ...(errors === undefined ? {} : {errors}), ...extra},
  };
}

/**
 * Says `failure` on stderr in keyward's one style, `keyward: MESSAGE`, the
 * details indented under it, then what kind of failure it was
 * (meaningLine); under --json it also writes the error object, alone, on
 * stdout. Sets the exit code.
 */
export async function sayFailure(failure: Failure, options: {json?: boolean} = {}): Promise<void> {
  const c = await palette(process.stderr);
  const lines = [`${c.red('keyward:')} ${failure.message}`, ...failure.details.map((d) => `  ${d}`), `  ${c.dim(meaningLine(failure.exit))}`];
  process.stderr.write(`${lines.join('\n')}\n`);
  if (options.json) process.stdout.write(`${JSON.stringify(failureJson(failure))}\n`);
  process.exitCode = failure.exit;
}

/**
 * Says what went wrong on stderr (and under --json as an error object on
 * stdout) and sets the exit code: see failureOf and sayFailure. A defect's
 * stack is printed under KEYWARD_DEBUG.
 */
export async function reportFailure(error: unknown, options: {json?: boolean} = {}): Promise<void> {
  await sayFailure(failureOf(error), options);
  if (!(error instanceof KeywardError) && process.env.KEYWARD_DEBUG) {
    process.stderr.write(`${maskSecrets((error instanceof Error ? error.stack : undefined) ?? String(error))}\n`);
  }
}

/** `untrusted` for a message of several lines: each line escaped, the line breaks kept. */
function untrustedLines(text: string): string {
  // Masked whole before it is cut into lines: a secret broken over two lines is one.
  return maskInMessage(text).split('\n').map(untrusted).join('\n');
}

/**
 * oclif's parser's own sentences (flag constraints), said as keyward says
 * them; any other text is returned as it is.
 */
function inKeywardWords(text: string): string {
  const flag = (name: string) => (name.startsWith('--') ? name : `--${name}`);
  const list = (names: string) => names.split(', ').map(flag).join(' and ');
  let m: RegExpExecArray | null;
  if ((m = /^Missing required flag (\S+)$/.exec(text))) return `missing ${flag(m[1])}`;
  if ((m = /^Flag (--\S+) can only be specified once$/.exec(text))) return `${m[1]} given more than once: give it once`;
  if ((m = /^Flag (--\S+) expects a value$/.exec(text))) return `${m[1]} needs a value`;
  if ((m = /^Flag (--\S+) expects one of these values: (.*)$/.exec(text))) return `${m[1]} needs a value: ${m[2].split(', ').join(' or ')}`;
  if ((m = /^All of the following must be provided when using (--\S+): (.*)$/.exec(text))) return `${m[1]} needs ${list(m[2])}`;
  if ((m = /^(--[^=\s]+)(?:=.*)? cannot also be provided when using (--\S+)$/.exec(text))) return `${m[1]} cannot be used with ${m[2]}`;
  if ((m = /^(?:Exactly|At least) one of the following must be provided: (.*)$/.exec(text))) return `give ${m[1].split(', ').map(flag).join(' or ')}`;
  if ((m = /^One of the following must be provided when using (--\S+): (.*)$/.exec(text))) return `${m[1]} needs ${m[2].split(', ').map(flag).join(' or ')}`;
  return text;
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

/** Whether a command line asks for --json (before a `--`, where arguments begin). */
export function jsonAsked(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

const ANSI = /\u001b\[[0-9;]*m/g;

/**
 * An error of oclif's own (a parse error: a flag that does not exist, an
 * argument too many or missing, a value not among a flag's options, flags
 * that exclude each other; or any other error carrying an exit code) as
 * keyward says a failure: its message in keyward's words, the nearest flag
 * for a mistyped one, and where to read more (`see keyward list --help`).
 * Secrets masked and control characters escaped, as in every failure.
 */
export function oclifFailure(error: Error & {oclif?: {exit?: number}}, context: {command?: string; flags?: readonly string[]} = {}): Failure {
  const help = context.command ? `see \`keyward ${context.command} --help\`` : 'see `keyward --help`';
  // Masked whole before it is cut into lines: a value broken over lines may be a secret's pieces.
  const lines = maskInMessage(error.message)
    .replace(ANSI, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && l !== 'See more help with --help');
  const fields = error as unknown as {flags?: unknown; args?: unknown};
  let message = lines[0] ?? 'failed';
  let details = lines.slice(1);
  const parseError = error.constructor.name;
  if (parseError === 'NonExistentFlagsError' && Array.isArray(fields.flags)) {
    const flags = fields.flags.map(String);
    // Compared without the dashes, which every name shares (they would make `--scope` near `--store`).
    const typed = flags[0].replace(/=.*$/, '').replace(/^-+/, '');
    const named = nearest(
      typed,
      (context.flags ?? []).map((f) => f.replace(/^-+/, '')),
    );
    const meant = named === null ? null : (context.flags ?? []).find((f) => f.replace(/^-+/, '') === named)!;
    // (Each flag as typed, escaped: a newline in it must not start a line of the message.)
    message = `unknown flag${flags.length === 1 ? '' : 's'} ${flags.map((f) => untrusted(f)).join(', ')}${meant === null ? '' : `; did you mean ${meant}?`}`;
    details = [];
  } else if (parseError === 'RequiredArgsError' && Array.isArray(fields.args)) {
    const names = (fields.args as {name?: string}[]).map((a) => (a.name ?? '').toUpperCase());
    message = `missing ${names.join(' and ')}`;
    details = [];
  } else if (/^Unexpected arguments?: /.test(message)) {
    message = message.replace(/^Unexpected (arguments?): /, 'unexpected $1: ');
  } else if (/^The following errors? occurred:$/.test(message)) {
    message = details.map(inKeywardWords).join('; ') || message;
    details = [];
  } else {
    // (Read from the message whole: a value may hold a line break or a carriage return, said escaped, as given.)
    // The value as given, its escape sequences too (they are the input's, escaped below, not oclif's colours).
    const whole = maskInMessage(error.message).trimStart();
    const option = /^Expected (--[^=\s]+)=([\s\S]*?) to be one of: ([^\n]*)/.exec(whole);
    const parsing = /^Parsing (--\S+)$/.exec(message);
    if (option) {
      const meant = nearest(option[2], option[3].split(', '));
      message = `${option[1]} "${untrusted(option[2])}" is not one of: ${option[3]}${meant === null ? '' : `; did you mean ${meant}?`}`;
      details = [];
    } else if (parsing && details.length > 0) {
      // A flag's own parse refused its value ("Parsing --limit" / "Expected an integer but received: x").
      // (The value read from the message whole: a carriage return or a line break in it is the input's, said escaped.)
      const integer = /Expected an integer (?:(greater|less) than or equal to (\S+) )?but received: ([\s\S]*?)(?:\nSee more help with --help)?$/.exec(whole);
      message = integer
        ? `${parsing[1]} "${untrusted(integer[3])}" is not ${integer[1] === undefined ? 'an integer' : `an integer ${integer[1] === 'greater' ? '>=' : '<='} ${integer[2]}`}`
        : `${parsing[1]}: ${details[0]}`;
      details = integer ? [] : details.slice(1);
    } else {
      message = inKeywardWords(message);
    }
  }
  const exit = error.oclif?.exit ?? EXIT.usage;
  return {exit, message: untrustedLines(message), details: [...details.map(untrustedLines), help]};
}
