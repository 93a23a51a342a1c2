/**
 * Reading input the way every command does: arguments, `-` and `--file`
 * (stdin only when `-` is given: as an argument or `--file -`), streamed in large chunks and split into numbered lines, with a
 * byte order mark, CRLF and trailing spaces tolerated and a bound on line
 * length so that no input can exhaust memory.
 */
import {createReadStream} from 'node:fs';
import {Readable} from 'node:stream';
import {StringDecoder} from 'node:string_decoder';
import {scanDecisionAddress} from '../core/address.js';
import {EntryInput, splitEntryLine} from '../core/entry-parse.js';
import {InputError, show, untrusted} from '../core/errors.js';
import {parseEventLine} from '../core/events.js';
import {checkEventTime, EventLog} from '../core/learning.js';
import {parseSyncLines, SyncFileFormat, SyncInput, SyncLine} from '../core/sync-input.js';
import {ProgressSink, startProgress} from './progress.js';

/** Lines longer than this are refused (or skipped, where a command tolerates bad lines). */
export const MAX_LINE_LENGTH = 4096;

export interface LineOptions {
  /** Called for a line over MAX_LINE_LENGTH instead of throwing; the line is skipped. */
  onTooLong?: (line: number) => void;
  /** Told the bytes and lines read after each chunk, and `done` at the end (see startProgress). */
  progress?: ProgressSink;
}

/**
 * Calls `onLine` for each line of `stream` with its number (from 1). The line
 * has its CR, a leading BOM and surrounding spaces removed. `onLine` may return
 * a promise (for output backpressure); it is awaited before the next line.
 */
export async function eachLine(stream: Readable, onLine: (text: string, line: number) => void | Promise<void>, options: LineOptions = {}): Promise<void> {
  if (options.progress === undefined) return readLines(stream, onLine, options);
  try {
    return await readLines(stream, onLine, options);
  } finally {
    // Erased before any message (an error included) is written after it.
    options.progress.done();
  }
}

async function readLines(stream: Readable, onLine: (text: string, line: number) => void | Promise<void>, options: LineOptions): Promise<void> {
  let bytes = 0;
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let line = 0;
  let atStart = true;
  let skipping = false;
  const tooLong = (n: number) => {
    if (!options.onTooLong) throw new InputError(`line ${n} is longer than ${MAX_LINE_LENGTH} characters`);
    options.onTooLong(n);
  };
  const emit = (raw: string) => {
    line++;
    if (skipping) {
      skipping = false;
      return undefined;
    }
    if (raw.length > MAX_LINE_LENGTH) {
      tooLong(line);
      return undefined;
    }
    return onLine(raw.trim(), line);
  };
  for await (const chunk of stream) {
    let text = rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer));
    if (atStart && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      atStart = false;
    }
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      const result = emit(text.slice(start, nl));
      if (result !== undefined) await result;
      start = nl + 1;
    }
    rest = text.slice(start);
    if (rest.length > MAX_LINE_LENGTH && !skipping) {
      // A line that does not end: refuse it now rather than hold it in memory.
      tooLong(line + 1);
      skipping = true;
    }
    if (skipping) rest = '';
    if (options.progress) {
      bytes += (chunk as {length: number}).length;
      options.progress.update(bytes, line);
    }
  }
  rest += decoder.end();
  if (rest.length > 0 || skipping) {
    const result = emit(rest);
    if (result !== undefined) await result;
  }
}

export function openFile(file: string): Readable {
  return createReadStream(file, {highWaterMark: 1 << 20});
}

/**
 * The arguments of a command line as given, in order and with repeats, from
 * oclif's parse (its `raw` tokens): oclif's own `argv` is sorted by where each
 * value first appears, which moves a repeated value up next to its first
 * (`check K a b a` would answer a, a, b).
 */
export function argumentsInOrder(raw: ReadonlyArray<{type: string; input: string}>): string[] {
  return raw.filter((token) => token.type === 'arg').map((token) => token.input);
}

/** Entries given as arguments, each named by its position. */
export function argumentInputs(args: readonly string[]): EntryInput[] {
  return args.flatMap((text, i) => (text === '-' ? [] : [{text, label: null, where: `argument ${i + 1}`, source: 'manual' as const}]));
}

/** An entry read from a line of --file or stdin; its `where` is written only when a message needs it. */
class LineInput implements EntryInput {
  readonly source = 'import' as const;
  constructor(
    readonly text: string,
    readonly label: string | null,
    private readonly line: number,
    /** The file's name, or '' for stdin. */
    private readonly name: string,
  ) {}

  get where(): string {
    return this.name ? `line ${this.line} of ${this.name}` : `line ${this.line}`;
  }
}

export interface EntrySources {
  args: string[];
  file?: string;
  /** Show a progress line on stderr (when it is a terminal) while --file or stdin is read. */
  progress?: boolean;
}

/**
 * Entries from arguments, `-` (stdin) and `--file` (`--file -` is stdin too),
 * each with where it came from. Stdin is read only for `-`, never because it
 * is a pipe: in `while read ip; do keyward authorize $ip; done < list.txt` an
 * empty $ip must not take the loop's remaining lines. Throws an InputError
 * when there is no input at all.
 */
export async function readEntryInputs(sources: EntrySources): Promise<EntryInput[]> {
  const inputs: EntryInput[] = [];
  const fromStream = async (stream: Readable, name: string) => {
    const shown = untrusted(name);
    await eachLine(
      stream,
      (text, line) => {
        const parsed = splitEntryLine(text);
        if (parsed) inputs.push(new LineInput(parsed.text, parsed.label, line, shown));
      },
      {progress: sources.progress ? startProgress(`reading ${shown || 'stdin'}`, stream) : undefined},
    );
  };
  const file = sources.file === '-' ? undefined : sources.file;
  const readStdin = sources.args.includes('-') || sources.file === '-';
  inputs.push(...argumentInputs(sources.args));
  if (file) {
    try {
      await fromStream(openFile(file), file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code) throw new InputError(`cannot read ${show(file)} (${code})`);
      throw error;
    }
  }
  if (readStdin) await fromStream(process.stdin, '');
  if (inputs.length === 0) {
    throw new InputError('no entries given', 'give entries as arguments, --file FILE, or - (or --file -) to read them from stdin');
  }
  return inputs;
}

/**
 * The entries of a `sync` file (FILE, or stdin for `-`) in the format its
 * content shows (core/sync-input.ts: keyward's plain, csv or json export).
 * Throws an InputError when it holds no entries.
 */
export async function readSyncInputs(file: string, progress: boolean): Promise<{format: SyncFileFormat; inputs: SyncInput[]}> {
  const lines: SyncLine[] = [];
  const fromStdin = file === '-';
  const shown = fromStdin ? '' : untrusted(file);
  const stream = fromStdin ? process.stdin : openFile(file);
  try {
    await eachLine(stream, (text, line) => void lines.push({text, line}), {progress: progress ? startProgress(`reading ${shown || 'stdin'}`, stream) : undefined});
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code && !fromStdin) throw new InputError(`cannot read ${show(file)} (${code})`);
    throw error;
  }
  const read = parseSyncLines(lines, shown);
  if (read.inputs.length === 0) {
    throw new InputError('no entries given', 'give entries as arguments, --file FILE, or - (or --file -) to read them from stdin');
  }
  return read;
}

/** How many bad lines an event read keeps as samples for its report. */
const SAMPLES = 5;

/** What `learn` read: the events, and what it could not use. */
export interface EventsRead {
  log: EventLog;
  /** The first bad lines' messages (at most SAMPLES). */
  bad: string[];
  badLines: number;
  /** Events without a time, taken as happening at `now`. */
  untimed: number;
}

/**
 * `learn --follow` (see follow.ts): each source opened as a followed stream,
 * each event handed on as it is read (the follower commits and drops them),
 * and "now" read afresh for each line of a run that lasts hours.
 */
export interface EventFollowHooks {
  open(arg: string): Readable;
  add: EventLog['add'];
  now(): Date;
}

/**
 * Reads event files and `-` (stdin) into a compact event log, counting (or,
 * `strict`, refusing) bad lines: an event without a time happens `now`, one
 * dated past `now` is a bad line.
 */
export async function readEvents(args: string[], {strict, now, follow}: {strict: boolean; now: Date; follow?: EventFollowHooks}): Promise<EventsRead> {
  const sources: {name: string; open: () => Readable}[] = args.map((a) =>
    a === '-' ? {name: 'stdin', open: () => follow?.open(a) ?? process.stdin} : {name: untrusted(a), open: () => follow?.open(a) ?? openFile(a)},
  );
  // Stdin only for `-`, never because it is a pipe (an empty $LOG in a script must not read the script's input).
  if (sources.length === 0) throw new InputError('no events given', 'give event files, or - to read them from stdin');
  const log = new EventLog();
  const add: EventLog['add'] = follow?.add ?? ((key, family, words, at) => log.add(key, family, words, at));
  const clock = follow?.now ?? (() => now);
  const words = new Uint32Array(4);
  const bad: string[] = [];
  let badLines = 0;
  let untimed = 0;
  for (const source of sources) {
    const where = (line: number) => (sources.length > 1 || source.name !== 'stdin' ? `line ${line} of ${source.name}` : `line ${line}`);
    const refuse = (message: string, hint?: string) => {
      if (strict) throw new InputError(`${message}; nothing was written`, hint);
      badLines++;
      if (bad.length < SAMPLES) bad.push(message);
    };
    try {
      const stream = source.open();
      await eachLine(
        stream,
        (text, line) => {
          try {
            const event = parseEventLine(text);
            if (event === null) return;
            const family = scanDecisionAddress(event.ip, words);
            let at = event.at;
            if (Number.isNaN(at)) {
              if (strict) throw new InputError('the event has no time (--strict refuses events without one: a replayed log without times would count as traffic now)');
              untimed++;
              at = clock().getTime();
            } else {
              checkEventTime(at, clock());
            }
            add(event.key, family, words, at);
          } catch (error) {
            if (!(error instanceof InputError)) throw error;
            refuse(`${where(line)}: ${error.message}`, error.hint);
          }
        },
        {onTooLong: (line) => refuse(`${where(line)}: longer than the limit, skipped`), progress: follow ? undefined : startProgress(`reading ${source.name}`, stream)},
      );
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code && !(error instanceof InputError)) throw new InputError(`cannot read ${source.name} (${code})`);
      throw error;
    }
  }
  return {log, bad, badLines, untimed};
}
