/**
 * Reading input the way every command does: arguments, `-` and `--file`
 * (stdin only when `-` is given: as an argument or `--file -`), streamed in large chunks and split into numbered lines, with a
 * byte order mark, CRLF and trailing spaces tolerated and a bound on line
 * length so that no input can exhaust memory.
 */
import {isAscii} from 'node:buffer';
import {createReadStream, fstatSync} from 'node:fs';
import {Readable} from 'node:stream';
import {StringDecoder} from 'node:string_decoder';
import {isNoClient, scanDecisionAddress, scanDecisionAddressIn} from '../core/address.js';
import {NOT_ACCEPTED} from '../core/address-bytes.js';
import {plainEventFields} from '../core/events.js';
import {EntryBatch, EntryInput, EntryOptions, EntryParser, splitEntryLine} from '../core/entry-parse.js';
import {BAD_INPUTS_SHOWN, BadInputs, InputError, lineOf, locatedInputError, maskAlong, show, untrusted, wrappedSecretRun} from '../core/errors.js';
import {Prefix} from '../core/prefix.js';
import {LogFormat, LogOptions, LogReader, WallClock} from '../core/log-formats.js';
import {checkEventTime, EventLog, FUTURE_SLACK_MS} from '../core/learning.js';
import {parseSyncLines, SyncFileFormat, SyncInput, SyncLine} from '../core/sync-input.js';
import {grouped} from '../core/count.js';
import {ProgressSink, startProgress} from './progress.js';

/**
 * Stdin, to read `-` from; an InputError when it is a folder (`< /var/log`),
 * which Node reads as empty: "no entries" or, for learn, "0 events" and exit
 * 0, where the operator meant a file in it.
 */
export function stdin(): Readable {
  let folder = false;
  try {
    folder = fstatSync(0).isDirectory();
  } catch {
    // (No stdin to look at: reading it says what is wrong.)
  }
  if (folder) throw new InputError('stdin is a folder, not a file or a pipe', 'give a file: keyward COMMAND - < FILE');
  return process.stdin;
}

/** Lines longer than this are refused (or skipped, where a command tolerates bad lines). */
export const MAX_LINE_LENGTH = 4096;

export interface LineOptions {
  /** Called for a line over MAX_LINE_LENGTH instead of throwing; the line is skipped. */
  onTooLong?: (line: number) => void;
  /** Told the bytes and lines read after each chunk, and `done` at the end (see startProgress). */
  progress?: ProgressSink;
  /**
   * Whether a last line without its end of line is unfinished (a follower
   * stopped by a signal while a writer was writing it), not a line: then
   * told here with its number instead of read. Else it is read (a file's last
   * line without a newline).
   */
  unfinished?: {now(): boolean; told(line: number): void};
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
  // A chunk of ASCII bytes is its own text, a character a byte: taken as Latin-1 (the UTF-8 decoder took 315-437 ms
  // of a 54 MB log, the check and Latin-1 19-245 ms), as long as no chunk before went to the decoder, which may hold
  // part of a character from it. The first chunk that is not ASCII, and every one after it, is decoded.
  let decoding = false;
  const textOf = (chunk: Buffer) => {
    if (!decoding && isAscii(chunk)) return chunk.toString('latin1');
    decoding = true;
    return decoder.write(chunk);
  };
  let rest = '';
  let line = 0;
  let atStart = true;
  let skipping = false;
  let wrapped = '';
  const tooLong = (n: number) => {
    if (!options.onTooLong) {
      const error = new InputError(`line ${n} is longer than ${MAX_LINE_LENGTH} characters`);
      error.line = n;
      throw error;
    }
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
    const text = raw.trim();
    const result = onLine(text, line);
    // (A secret wrapped over lines: its pieces remembered as the lines come, so that a message naming one shows its
    // hint when it is printed. After the line's own message is made: a piece is not yet masked by a hint of its own
    // in a text the secret's whole hint could not replace.)
    if (wrapped !== '' || text.length >= 4) wrapped = wrappedSecretRun(wrapped, text);
    return result;
  };
  for await (const chunk of stream) {
    // The chunk's own text, its lines sliced from it: the unfinished line before it is joined to its first line only.
    // (`rest + text` whole was a second copy of every chunk, made when its first line was sliced: docs/performance.md,
    // issue 15, round 11.)
    let text = typeof chunk === 'string' ? chunk : textOf(chunk as Buffer);
    if (atStart && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      atStart = false;
    }
    let start = 0;
    let nl = text.indexOf('\n');
    if (rest.length > 0 && nl >= 0) {
      const first = rest + text.slice(0, nl);
      rest = '';
      const result = emit(first);
      if (result !== undefined) await result;
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    for (; nl >= 0; nl = text.indexOf('\n', start)) {
      const result = emit(text.slice(start, nl));
      if (result !== undefined) await result;
      start = nl + 1;
    }
    rest += text.slice(start);
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
  if (rest.length > 0 && !skipping && options.unfinished?.now()) {
    options.unfinished.told(line + 1);
    return;
  }
  if (rest.length > 0 || skipping) {
    const result = emit(rest);
    if (result !== undefined) await result;
  }
}

/**
 * A file read in chunks of 64 KiB, as stdin is: a chunk's text is then an
 * ordinary young string whose memory is used again, where a text of 1 MiB
 * was memory of its own, new for every chunk (`learn` of a 54 MB log: 31,000
 * fresh pages and 0.54 s to split its lines, 5,700 and 0.17 s in chunks of
 * 64 KiB; docs/performance.md, issue 15, round 11).
 */
export function openFile(file: string): Readable {
  return createReadStream(file, {highWaterMark: READ_CHUNK_BYTES});
}

/** See openFile. */
const READ_CHUNK_BYTES = 1 << 16;

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
  await eachEntryInput(sources, (input) => void inputs.push(input));
  return inputs;
}

/**
 * Runs `plan`; an InputError about one entry (its `input` set, as the list
 * holds it, and no line yet) that was given on a line of a file or stdin is
 * said there: its message starts with the line, and its error object names
 * the line and the entry as given.
 */
export function placedInInput<T>(inputs: readonly EntryInput[], plan: () => T): T {
  try {
    return plan();
  } catch (error) {
    if (!(error instanceof InputError) || error.input === undefined || error.line !== undefined) throw error;
    const held = error.input;
    const canonical = (text: string) => {
      try {
        return String(Prefix.parse(splitEntryLine(text)?.text ?? ''));
      } catch {
        return null;
      }
    };
    const given = inputs.find((input) => lineOf(input.where) !== undefined && canonical(input.text) === held);
    if (given === undefined) throw error;
    throw locatedInputError(error, {text: splitEntryLine(given.text)!.text, where: given.where});
  }
}

/**
 * `readEntryInputs` parsed as it is read (see EntryParser): the batch, or the
 * refusal parseEntries would make of the same inputs. A large import holds no
 * object per line.
 */
export async function readEntryBatch(sources: EntrySources, options: EntryOptions): Promise<EntryBatch> {
  const parser = new EntryParser(options);
  await eachEntryInput(sources, (input) => parser.add(input));
  return parser.finish();
}

/** Each entry input of `sources` in order (arguments, --file, stdin); an InputError when there is none. */
async function eachEntryInput(sources: EntrySources, onInput: (input: EntryInput) => void): Promise<void> {
  let inputs = 0;
  const take = (input: EntryInput) => {
    inputs++;
    onInput(input);
  };
  const fromStream = async (stream: Readable, name: string) => {
    const shown = untrusted(name);
    await eachLine(
      stream,
      (text, line) => {
        const parsed = splitEntryLine(text);
        if (parsed) take(new LineInput(parsed.text, parsed.label, line, shown));
      },
      {progress: sources.progress ? startProgress(`reading ${shown || 'stdin'}`, stream) : undefined},
    );
  };
  const file = sources.file === '-' ? undefined : sources.file;
  const readStdin = sources.args.includes('-') || sources.file === '-';
  for (const input of argumentInputs(sources.args)) take(input);
  if (file) {
    try {
      await fromStream(openFile(file), file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // (Node's permission model: said as such, naming the flag that allows it.)
      if (code === 'ERR_ACCESS_DENIED') throw error;
      if (code) throw new InputError(`cannot read ${show(file)} (${code})`);
      throw error;
    }
  }
  if (readStdin) await fromStream(stdin(), '');
  if (inputs === 0) {
    throw new InputError('no entries given', 'give entries as arguments, --file FILE, or - (or --file -) to read them from stdin');
  }
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
  const stream = fromStdin ? stdin() : openFile(file);
  try {
    await eachLine(stream, (text, line) => void lines.push({text, line}), {progress: progress ? startProgress(`reading ${shown || 'stdin'}`, stream) : undefined});
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // (Node's permission model: said as such, naming the flag that allows it.)
    if (code === 'ERR_ACCESS_DENIED') throw error;
    if (code && !fromStdin) throw new InputError(`cannot read ${show(file)} (${code})`);
    throw error;
  }
  const read = parseSyncLines(lines, shown);
  if (read.inputs.length === 0) {
    // sync takes one FILE or -: the advice of authorize (arguments, --file) would name what sync has not.
    throw new InputError(
      `no entries in ${fromStdin ? 'stdin' : show(file)}: sync refuses to empty a list`,
      'give a file of entries (one a line, or - for stdin); to remove entries use keyward revoke ENTRY..., a whole group keyward revoke --group NAME --all',
    );
  }
  return read;
}

/** How many bad lines an event read keeps as samples for its report. */
const SAMPLES = 5;

/** While `auto` has chosen no format, how many lines no format reads before the log is refused. */
const DETECT_LINES = 20;

/** What `learn` read: the events, and what it could not use. */
export interface EventsRead {
  log: EventLog;
  /** The first bad lines' messages (at most SAMPLES). */
  bad: string[];
  badLines: number;
  /** Events without a time, taken as happening at `now`. */
  untimed: number;
  /** The format the log was read as (null: no line to tell it by), and how it was chosen. */
  format: LogFormat | null;
  chosenBy: string | null;
  /** Where `auto` saw the line that chose the format. */
  chosenAt: string | null;
  /** Requests with an empty key field (not key uses), and log lines that hold no key use. */
  keyless: number;
  skipped: number;
  /** What a stop left unread: the line it came in the middle of (no bad line: a restart reads it whole), or null. */
  unfinished?: string | null;
}

/** How `learn` reads its log (see LogOptions); `now` comes from the command. */
export type ReadingOptions = Omit<LogOptions, 'now' | 'wallClock'>;

/** A traditional syslog stamp has no zone: it is read in this machine's, as syslog wrote it. */
const localWallClock: WallClock = (y, mo, d, h, mi, s) => new Date(y, mo, d, h, mi, s).getTime();

/**
 * Events read line by line into an EventLog, with what could not be used
 * counted: `learn` feeds it the lines of its files, a follower those of a
 * live log (and takes `log` and starts a new one at each commit). An event
 * without a time happens `now` (or, `strict`, is refused), one dated past
 * `now` is a bad line; `strict` makes every bad line an InputError.
 */
export class EventReading {
  readonly reader: LogReader;
  log = new EventLog();
  readonly bad: string[] = [];
  /** The first lines no format (or not the chosen one) reads, for the message refusing the log. */
  readonly unreadable: string[] = [];
  badLines = 0;
  unreadableLines = 0;
  untimed = 0;
  keyless = 0;
  skipped = 0;
  /** Syslog lines of programs other than Postfix that `auto` skipped before it knew the format, and the first of them. */
  otherSyslogLines = 0;
  readonly otherSyslog: string[] = [];
  /** Where `auto` saw the line that chose the format. */
  chosenAt: string | null = null;
  private readonly words = new Uint32Array(4);
  /** Where events go and what "now" is: this log and the command's now, or a follower's. */
  private readonly add: EventLog['add'];
  private readonly clock: () => Date;

  constructor(
    now: Date,
    private readonly strict: boolean,
    reading: ReadingOptions = {format: 'auto'},
    sink?: {add: EventLog['add']; now(): Date},
  ) {
    this.reader = new LogReader({...reading, now, wallClock: localWallClock});
    this.add = sink?.add ?? ((key, family, words, at, smtpOnly, refused) => this.log.add(key, family, words, at, smtpOnly, refused));
    this.clock = sink?.now ?? (() => now);
    this.followed = sink !== undefined;
    this.formatGiven = reading.format !== 'auto';
  }

  /** Whether --format named the format (a log whose every line has a bad value is then not a wrong format). */
  private readonly formatGiven: boolean;

  /** Whether the log is followed (learn --follow): it has no end at which to refuse its bad lines together. */
  private readonly followed: boolean;
  /** Under `strict`, the bad lines read (the first BAD_INPUTS_SHOWN) and how many. */
  private readonly strictBad = {errors: [] as InputError[], count: 0};

  /** Takes one line (see eachLine); `where` names it in messages (`line 12 of access.log`). */
  line(text: string, where: () => string): void {
    if (this.reader.format === 'keyward' && this.plainEvent(text)) return;
    const reader = this.reader;
    const before = reader.format;
    const read = reader.read(text);
    if (before === null && reader.format !== null) this.chosenAt = where();
    switch (read.kind) {
      case 'skip':
        if (reader.format !== null) this.skipped++;
        else if (text.length > 0 && text.charCodeAt(0) !== 35 /* # */) {
          // A syslog line of another program than Postfix, while the format is not known yet (see checkReadable).
          this.otherSyslogLines++;
          if (this.otherSyslog.length < SAMPLES) this.otherSyslog.push(`${where()}: ${maskAlong(show(text), text)}`);
        }
        return;
      case 'keyless':
        this.keyless++;
        return;
      case 'unreadable':
        this.unreadableLines++;
        if (this.unreadable.length < SAMPLES) this.unreadable.push(`${where()}: ${maskAlong(read.message, text)}`);
        if (reader.format === null && this.unreadableLines >= DETECT_LINES) {
          refuseLog(`cannot tell the format of the log: no line of the first ${DETECT_LINES} is a line of a format keyward reads`, this.unreadable, FORMAT_HINT);
        }
        this.refuse(`${where()}: ${maskAlong(read.message, text)}`, undefined, text);
        return;
      case 'bad':
        this.refuse(`${where()}: ${maskAlong(read.message, text)}`, undefined, text);
        return;
    }
    try {
      const family = scanDecisionAddress(read.ip, this.words);
      if (isNoClient(family, this.words)) {
        throw new InputError(
          `${show(read.ip)} is no client's address (unspecified, broadcast, multicast, or in ::/64, which holds every ::a.b.c.d): its network is never learned`,
        );
      }
      let at = read.at;
      if (Number.isNaN(at)) {
        if (this.strict) throw new InputError('the event has no time (--strict refuses events without one: a replayed log without times would count as traffic now)');
        this.untimed++;
        at = this.clock().getTime();
      } else {
        checkEventTime(at, this.clock());
      }
      this.add(read.key, family, this.words, at, read.smtpOnly, read.refused);
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      this.refuse(`${where()}: ${maskAlong(error.message, text)}`, error.hint, text);
    }
  }

  /** Where the fields of a plain event line are, its time, and the key texts made so far (see plainEvent). */
  private readonly plain = {bounds: new Int32Array(6), at: new Float64Array(1), keys: new KeyTexts()};

  /**
   * The event of a plain line of keyward's format (see plainEventFields),
   * added without making a string of its fields or an object of it (learn
   * reads a million lines); false, having done nothing, for any other line,
   * and for one whose address or time is refused: `line` then reads it as
   * every line, and says what is wrong. (Its key is one field, without
   * blanks, that starts and ends with a printable character: as keyOf leaves
   * it, with nothing to trim and no `Bearer ` to take off.)
   */
  private plainEvent(text: string): boolean {
    const {bounds, at, keys} = this.plain;
    if (!plainEventFields(text, bounds, at)) return false;
    // A key field ending in a control character (\v, \f, \r): keyOf trims it; the reading below does that.
    if (text.charCodeAt(bounds[1] - 1) <= 32) return false;
    const family = scanDecisionAddressIn(text, bounds[2], bounds[3], this.words);
    if (family === NOT_ACCEPTED || isNoClient(family, this.words) || at[0] > this.clock().getTime() + FUTURE_SLACK_MS) return false;
    this.add(keys.of(text, bounds[0], bounds[1]), family, this.words, at[0]);
    return true;
  }

  /**
   * Counts a bad line (a line over the length limit, say); under `strict` an
   * InputError: at once for a followed log, which has no end; else at the end
   * of the log, with every bad line (see checkReadable). `input`: the line,
   * for the error object's `input` (none for a line too long to quote).
   */
  refuse(message: string, hint?: string, input?: string): void {
    if (this.strict && this.followed) throw new InputError(`${message}; nothing was written`, hint);
    if (this.strict) {
      if (this.strictBad.count++ < BAD_INPUTS_SHOWN) {
        const error = new InputError(message, hint);
        error.line = lineOf(message);
        if (input !== undefined) error.input = input;
        this.strictBad.errors.push(error);
      }
      return;
    }
    this.badLines++;
    if (this.bad.length < SAMPLES) this.bad.push(message);
  }

  /**
   * The InputError for a log that could not be read, or nothing: no line was
   * an event, or a line of the format with a bad value (an address, a time),
   * and some line was unreadable or had no key.
   */
  checkReadable(): void {
    const {errors, count} = this.strictBad;
    if (count === 1) {
      const only = new InputError(`${errors[0].message}; nothing was written`, errors[0].hint);
      only.line = errors[0].line;
      only.input = errors[0].input;
      throw only;
    }
    if (count > 1) throw new BadInputs(errors, count, 'lines');
    const format = this.reader.format;
    // Lines of the format, every one with a bad value (`hello world` read as KEY ADDRESS): no event at all is
    // a log that cannot be read, never "0 events applied" with exit 0.
    if (this.log.count === 0 && this.badLines > this.unreadableLines) {
      refuseLog(
        `no line of the log is an event${format === null ? '' : ` (read as ${format})`}: ${this.badLines} bad line${this.badLines === 1 ? '' : 's'}`,
        this.bad,
        this.formatGiven ? 'every line has a bad value (an address, a time): check what writes the log' : FORMAT_HINT,
      );
    }
    const read = this.log.count + this.badLines - this.unreadableLines;
    if (read > 0) return;
    if (this.unreadableLines > 0) {
      if (format === null) refuseLog('cannot tell the format of the log: no line is a line of a format keyward reads', this.unreadable, FORMAT_HINT);
      refuseLog(`cannot read the log as ${format}: no line of it is one`, this.unreadable, FORMAT_HINT);
    }
    // Only syslog lines of other programs (a HAProxy or an sshd log, found by an outside tester): no format keyward
    // reads, never "0 events applied". (--format postfix reads a mail log that has no Postfix line yet.)
    if (format === null && this.otherSyslogLines > 0 && !this.followed) {
      refuseLog(
        `cannot tell the format of the log: its ${grouped(this.otherSyslogLines)} line${this.otherSyslogLines === 1 ? ' is a syslog line' : 's are syslog lines'} of programs other than Postfix`,
        this.otherSyslog,
        FORMAT_HINT,
      );
    }
    if (this.keyless > 0) {
      throw new InputError(
        `no line of the log holds a key in ${this.reader.keySource} (${this.keyless} line${this.keyless === 1 ? '' : 's'} without one); nothing was written`,
        format === 'combined' ? 'name the quoted field that holds the key with --key-field N' : 'name the field that holds the key with --field key=PATH',
      );
    }
  }

  /** What was read, for learn's summary and --json. */
  /** The line a stop came in the middle of (see EventsRead.unfinished). */
  unfinished: string | null = null;

  result(): EventsRead {
    const {log, bad, badLines, untimed, chosenAt, keyless, skipped, unfinished} = this;
    return {log, bad, badLines, untimed, format: this.reader.format, chosenBy: this.reader.chosenBy, chosenAt, keyless, skipped, unfinished};
  }
}

/**
 * The key texts of plain event lines, each made once and looked up by the
 * line's characters (a million lines name a hundred keys): the EventLog then
 * finds each by a string whose hash is already known.
 */
class KeyTexts {
  private slots: (string | undefined)[] = new Array<string | undefined>(256).fill(undefined);
  private count = 0;

  /** The text of text[start, end). */
  of(text: string, start: number, end: number): string {
    const mask = this.slots.length - 1;
    let slot = hashChars(text, start, end) & mask;
    for (let known = this.slots[slot]; known !== undefined; known = this.slots[slot]) {
      if (known.length === end - start && text.startsWith(known, start)) return known;
      slot = (slot + 1) & mask;
    }
    const key = text.slice(start, end);
    this.slots[slot] = key;
    if (++this.count * 2 > this.slots.length) this.grow();
    return key;
  }

  private grow(): void {
    const slots = new Array<string | undefined>(this.slots.length * 2).fill(undefined);
    const mask = slots.length - 1;
    for (const key of this.slots) {
      if (key === undefined) continue;
      let slot = hashChars(key, 0, key.length) & mask;
      while (slots[slot] !== undefined) slot = (slot + 1) & mask;
      slots[slot] = key;
    }
    this.slots = slots;
  }
}

/** FNV-1a over the UTF-16 units of text[start, end). */
function hashChars(text: string, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function refuseLog(summary: string, samples: string[], hint?: string): never {
  // (The summary is a sentence of its own: --json's error message is its first line.)
  throw new InputError(`${summary}; nothing was written\n${samples.map((s) => `  ${s}`).join('\n')}`, hint);
}

/**
 * `learn --follow` (see follow.ts): each source opened as a followed stream,
 * each event handed on as it is read (the follower commits and drops them),
 * and "now" read afresh for each line of a run that lasts hours.
 */
export interface EventFollowHooks {
  open(arg: string): Readable;
  /** How many times the followed file started again (rotated, truncated): its lines are numbered from there. */
  restarts: number;
  add: EventLog['add'];
  now(): Date;
  /** Whether a signal stopped the follower: a last line not ended yet is then not read (see LineOptions.unfinished). */
  signalled(): boolean;
}

/**
 * Reads event files and `-` (stdin) into a compact event log (see
 * EventReading). A log none of whose lines is a line of its format (or, with
 * `auto`, of any format), or none of whose lines holds a key, is an
 * InputError naming its first lines (not for a followed log, which has no end
 * to judge it by).
 */
export async function readEvents(
  args: string[],
  {strict, now, reading = {format: 'auto'}, follow}: {strict: boolean; now: Date; reading?: ReadingOptions; follow?: EventFollowHooks},
): Promise<EventsRead> {
  const sources: {name: string; open: () => Readable}[] = args.map((a) =>
    a === '-' ? {name: 'stdin', open: () => follow?.open(a) ?? stdin()} : {name: untrusted(a), open: () => follow?.open(a) ?? openFile(a)},
  );
  // Stdin only for `-`, never because it is a pipe (an empty $LOG in a script must not read the script's input).
  if (sources.length === 0) throw new InputError('no events given', 'give event files, or - to read them from stdin');
  const events = new EventReading(now, strict, reading, follow);
  for (const source of sources) {
    // A followed file that started again (rotated, truncated) is numbered from its new first line.
    let restarts = follow?.restarts ?? 0;
    let base = 0;
    let last = 0;
    const where = (line: number) => (sources.length > 1 || source.name !== 'stdin' ? `line ${line - base} of ${source.name}` : `line ${line - base}`);
    try {
      const stream = source.open();
      const onLine = (text: string, line: number) => {
        if (follow !== undefined && follow.restarts !== restarts) {
          restarts = follow.restarts;
          base = last;
        }
        last = line;
        events.line(text, () => where(line));
      };
      await eachLine(stream, onLine, {
        onTooLong: (line) => events.refuse(`${where(line)}: longer than the limit, skipped`),
        progress: follow ? undefined : startProgress(`reading ${source.name}`, stream),
        unfinished: follow && {
          now: () => follow.signalled(),
          // (Its address or time may be cut: `2001:db8::5` of `2001:db8::5:6:7:8:9`. A restart reads the file whole again.)
          // No bad line: the cut may be the writer's, half way through it, or the stop's own, in a backlog read in chunks.
          told: (line) => (events.unfinished = `${where(line)} was not read: the stop came before its end of line (a restart reads the file whole again)`),
        },
      });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // (Node's permission model: said as such, naming the flag that allows it.)
      if (code === 'ERR_ACCESS_DENIED') throw error;
      if (code && !(error instanceof InputError)) throw new InputError(`cannot read ${source.name} (${code})`);
      throw error;
    }
  }
  if (!follow) events.checkReadable();
  return events.result();
}

const FORMAT_HINT = 'choose the format with --format keyward|ndjson|combined|postfix|regex (see docs/logs.md)';
