/**
 * The log formats `learn` reads (SPEC "Logs"): keyward's own lines, JSON
 * lines with named fields, combined access logs with the key in a quoted
 * field, Postfix smtpd SASL logins and a pattern with named groups. A
 * LogReader takes one line at a time (so a reader of a finite file and a
 * follower of a live one feed it alike) and says what the line holds.
 */
import {InputError, show, visible} from './errors.js';
import {isBearer, isRefusal, parseEventLine} from './events.js';
import {FUTURE_SLACK_MS} from './learning.js';
import {parseTime, unixSecondsInJson, unixSecondsMs} from './time.js';

export const LOG_FORMATS = ['keyward', 'ndjson', 'combined', 'postfix', 'regex'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export type FieldName = 'key' | 'ip' | 'at' | 'status';
export const FIELD_NAMES: readonly FieldName[] = ['key', 'ip', 'at', 'status'];

/**
 * A wall-clock time without a zone (a traditional syslog stamp) as
 * milliseconds since the epoch; month from 0. The CLI reads it in the
 * machine's zone, as syslog wrote it; the default here is UTC.
 */
export type WallClock = (year: number, month: number, day: number, hour: number, minute: number, second: number) => number;

export interface LogOptions {
  format: LogFormat | 'auto';
  /** JSON paths of the fields (ndjson); key, ip and at by default. */
  fields?: Partial<Record<FieldName, string>>;
  /** Which quoted field of a combined line holds the key, from 1 ("$request" is 1); 4 by default. */
  keyField?: number;
  /** The regex format's pattern, with named groups key and ip, and optionally at. */
  pattern?: RegExp;
  /** For syslog times, which carry no year. */
  now: Date;
  wallClock?: WallClock;
}

/** What one line holds. */
export type LineRead =
  /**
   * One key use; `at` is NaN when the line has no time; `smtpOnly` for a
   * mail log's login (a use of an SMTP key only); `refused` for a request
   * the gateway answered 401 or 403 (see events.ts isRefusal).
   */
  | {kind: 'event'; key: string; ip: string; at: number; smtpOnly?: boolean; refused?: boolean}
  /** Nothing to read: a blank or comment line, or a line of the log that is no key use (most Postfix lines). */
  | {kind: 'skip'}
  /** A request the format's key field is empty for: not a key use. */
  | {kind: 'keyless'}
  /** A line of the format with a value that is not usable (an address, a time). */
  | {kind: 'bad'; message: string}
  /** Not a line of the format (or, while `auto` has not chosen one, of any format). */
  | {kind: 'unreadable'; message: string};

const SKIP: LineRead = {kind: 'skip'};
const KEYLESS: LineRead = {kind: 'keyless'};

const utcWallClock: WallClock = (y, mo, d, h, mi, s) => Date.UTC(y, mo, d, h, mi, s);

/** Which quoted field holds the key in a combined line when --key-field is not given: the first after the combined format's three. */
export const DEFAULT_KEY_FIELD = 4;

/**
 * Reads lines of one log. With format `auto` the first line that is a line
 * of some format chooses it (`format` and `chosenBy` tell which and why);
 * lines before it that no format reads are unreadable.
 */
export class LogReader {
  format: LogFormat | null;
  /** How the format was chosen: 'given', 'detected' or the flag that implies it. */
  chosenBy: string | null = null;
  private readonly fields: Record<FieldName, string[]>;
  private readonly fieldText: Record<FieldName, string>;
  private readonly keyField: number;
  private readonly nowMs: number;
  private readonly wallClock: WallClock;

  constructor(private readonly options: LogOptions) {
    this.nowMs = options.now.getTime();
    this.wallClock = options.wallClock ?? utcWallClock;
    this.keyField = options.keyField ?? DEFAULT_KEY_FIELD;
    // Each field at its own name unless --field says otherwise.
    this.fieldText = Object.fromEntries(FIELD_NAMES.map((name) => [name, options.fields?.[name] ?? name])) as Record<FieldName, string>;
    this.fields = Object.fromEntries(FIELD_NAMES.map((name) => [name, this.fieldText[name].split('.')])) as Record<FieldName, string[]>;
    if (options.format !== 'auto') {
      this.format = options.format;
      this.chosenBy = 'given';
    } else if (options.pattern) {
      this.format = 'regex';
      this.chosenBy = '--pattern';
    } else if (options.fields && Object.keys(options.fields).length > 0) {
      this.format = 'ndjson';
      this.chosenBy = '--field';
    } else if (options.keyField !== undefined) {
      this.format = 'combined';
      this.chosenBy = '--key-field';
    } else {
      this.format = null;
    }
    if (this.format === 'regex') checkPattern(options.pattern);
  }

  /** Where the key is read from, for messages (a field path, a quoted field, a group). */
  get keySource(): string {
    switch (this.format) {
      case 'ndjson':
        return `field ${show(this.fieldText.key)}`;
      case 'combined':
        return `quoted field ${this.keyField}`;
      case 'regex':
        return 'group key';
      default:
        return 'the key field';
    }
  }

  /** What `text` (one line, its CR and surrounding blanks removed) holds. */
  read(text: string): LineRead {
    if (text.length === 0 || text.charCodeAt(0) === 35 /* # */) return SKIP;
    let format = this.format;
    if (format === null) {
      const found = recognize(text);
      if (found === 'syslog') return SKIP;
      if (found === null) return {kind: 'unreadable', message: `is not a line of a log keyward reads (keyward, ndjson, combined, postfix): ${show(text)}`};
      this.format = format = found;
      this.chosenBy = 'detected';
    }
    switch (format) {
      case 'keyward':
        return this.keyward(text);
      case 'ndjson':
        return this.ndjson(text);
      case 'combined':
        return this.combined(text);
      case 'postfix':
        return this.postfix(text);
      case 'regex':
        return this.regex(text);
    }
  }

  private keyward(text: string): LineRead {
    try {
      const event = parseEventLine(text);
      if (event === null) return SKIP;
      if (event.key.length === 0) return KEYLESS;
      return {kind: 'event', key: keyOf(event.key), ip: event.ip, at: event.at, ...(event.refused ? {refused: true} : {})};
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      return {kind: isKeywardShape(text) ? 'bad' : 'unreadable', message: error.message};
    }
  }

  private ndjson(text: string): LineRead {
    if (text.charCodeAt(0) !== 123 /* { */) return {kind: 'unreadable', message: `is not a JSON object: ${show(text)}`};
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return {kind: 'unreadable', message: `is not valid JSON: ${show(text)}`};
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return {kind: 'unreadable', message: 'is not a JSON object'};
    const ip = lookup(value, this.fields.ip);
    if (ip === undefined) {
      const names = Object.keys(value);
      const shown = names.slice(0, 12).map(visible).join(', ') + (names.length > 12 ? ', …' : '');
      return {kind: 'unreadable', message: `has no field ${show(this.fieldText.ip)} for the address (its fields: ${shown}); name it with --field ip=PATH`};
    }
    const key = lookup(value, this.fields.key);
    if (isEmpty(key)) return KEYLESS;
    if (typeof key !== 'string') return {kind: 'bad', message: `field ${show(this.fieldText.key)} is not a string`};
    if (typeof ip !== 'string' || isEmpty(ip)) return {kind: 'bad', message: `field ${show(this.fieldText.ip)} holds no address`};
    const at = lookup(value, this.fields.at);
    let ms = Number.NaN;
    if (typeof at === 'number') {
      ms = unixSecondsInJson(at, text, this.fields.at[this.fields.at.length - 1]);
      if (Number.isNaN(ms)) return {kind: 'bad', message: `field ${show(this.fieldText.at)}: ${at} is not a time in Unix seconds`};
    } else if (typeof at === 'string' && !isEmpty(at)) {
      ms = this.time(at);
      if (Number.isNaN(ms)) return {kind: 'bad', message: notATime(at)};
    } else if (!isEmpty(at)) {
      return {kind: 'bad', message: `field ${show(this.fieldText.at)} is not a time`};
    }
    return this.event(key, stripPort(ip), ms, false, isRefusal(lookup(value, this.fields.status)));
  }

  private combined(text: string): LineRead {
    const m = COMBINED.exec(text);
    if (m === null) return {kind: 'unreadable', message: `is not a combined log line (ADDRESS - USER [TIME] "REQUEST" …): ${show(text)}`};
    const quoted = quotedFields(m[3]);
    if (quoted === null) return {kind: 'unreadable', message: `has a quoted field that does not end: ${show(text)}`};
    if (quoted.length < this.keyField) {
      return {
        kind: 'unreadable',
        message: `has ${quoted.length} quoted field${quoted.length === 1 ? '' : 's'}, and the key is read from quoted field ${this.keyField}: append "$http_x_api_key" to the log_format, or name its field with --key-field N`,
      };
    }
    const key = unescapeQuoted(quoted[this.keyField - 1]);
    if (isEmpty(key)) return KEYLESS;
    const at = combinedTime(m[2]);
    if (Number.isNaN(at)) return {kind: 'bad', message: notATime(m[2])};
    // (A log_format of `$remote_addr:$remote_port`, or a proxy's `[IPv6]:PORT`.)
    return this.event(key, stripPort(m[1]), at, false, isRefusal(STATUS.exec(m[3].slice(quoted[0].length + 2))?.[1]));
  }

  private postfix(text: string): LineRead {
    const line = this.syslog(text);
    if (line === null) return {kind: 'unreadable', message: `is not a syslog line (TIME HOST PROGRAM[PID]: MESSAGE): ${show(text)}`};
    if (!POSTFIX_SMTPD.test(line.program)) return SKIP;
    const m = SASL_LOGIN.exec(line.message);
    if (m === null) return SKIP;
    if (Number.isNaN(line.at)) return {kind: 'bad', message: notATime(line.time)};
    if (isEmpty(m[2])) return KEYLESS;
    return this.event(m[2], m[1], line.at, true);
  }

  private regex(text: string): LineRead {
    const groups = this.options.pattern!.exec(text)?.groups;
    if (groups === undefined) return {kind: 'unreadable', message: `does not match --pattern: ${show(text)}`};
    const key = groups.key;
    if (isEmpty(key)) return KEYLESS;
    if (isEmpty(groups.ip)) return {kind: 'bad', message: 'group ip holds no address'};
    let at = Number.NaN;
    if (!isEmpty(groups.at)) {
      at = this.time(groups.at!);
      if (Number.isNaN(at)) return {kind: 'bad', message: notATime(groups.at!)};
    }
    return this.event(key!, stripPort(groups.ip!), at, false, isRefusal(groups.status));
  }

  private event(key: string, ip: string, at: number, smtpOnly = false, refused = false): LineRead {
    const k = keyOf(key);
    // (`Bearer -`, or the scheme alone: no key either, as serve takes them.)
    if (k.length === 0 || k === '-' || (k.length === 6 && isBearer(k, 0, 6))) return KEYLESS;
    const read: LineRead = {kind: 'event', key: k, ip, at};
    if (smtpOnly) read.smtpOnly = true;
    if (refused) read.refused = true;
    return read;
  }

  /** A time in any form a log writes (see anyTime). */
  time(text: string): number {
    return anyTime(text, this.nowMs, this.wallClock);
  }

  private syslog(text: string): {time: string; at: number; program: string; message: string} | null {
    const parts = syslogParts(text);
    return parts === null ? null : {...parts, at: this.time(parts.time)};
  }
}

/** The format a line is a line of, 'syslog' for a syslog line of a program other than Postfix, or null. */
export function recognize(text: string): LogFormat | 'syslog' | null {
  if (text.charCodeAt(0) === 123 /* { */) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return null;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
    const o = value as Record<string, unknown>;
    // keyward's own objects: read exactly as before, by the keyward format.
    return typeof o.key === 'string' && typeof o.ip === 'string' ? 'keyward' : 'ndjson';
  }
  if (COMBINED.test(text)) return 'combined';
  const parts = syslogParts(text);
  if (parts !== null) return POSTFIX.test(parts.program) ? 'postfix' : 'syslog';
  return isKeywardShape(text) ? 'keyward' : null;
}

/** Whether a line has the shape of a keyward event: 2 or 3 fields before any # comment (a key `Bearer SECRET` one), or a JSON object. */
function isKeywardShape(text: string): boolean {
  if (text.charCodeAt(0) === 123) return text.endsWith('}');
  const hash = text.indexOf('#');
  const fields = (hash >= 0 ? text.slice(0, hash) : text).trim().split(/[ \t]+/);
  const n = fields.length - (fields.length > 2 && isBearer(fields[0], 0, fields[0].length) ? 1 : 0);
  return n === 2 || n === 3;
}

/** Refuses (InputError) a --pattern without the named groups key and ip. */
function checkPattern(pattern: RegExp | undefined): void {
  if (pattern === undefined) throw new InputError('--format regex needs --pattern with the named groups key and ip', "e.g. --pattern '^(?<ip>\\S+) \\S+ (?<key>\\S+)'");
  for (const group of ['key', 'ip']) {
    if (!pattern.source.includes(`(?<${group}>`)) throw new InputError(`--pattern has no named group ${group}: write (?<${group}>…)`);
  }
}

/**
 * The value at a dotted path. A name that itself holds dots is found too
 * (`{"http.request.id": …}`); a number indexes an array; an array where a
 * value is expected gives its first element (a header sent once, as Caddy
 * writes `"X-Api-Key": ["…"]`).
 */
export function lookup(value: unknown, path: readonly string[], from = 0): unknown {
  let v = value;
  for (let i = from; i < path.length; i++) {
    if (Array.isArray(v)) {
      const index = /^\d{1,6}$/.test(path[i]) ? Number(path[i]) : Number.NaN;
      if (!Number.isNaN(index)) {
        v = v[index];
        continue;
      }
      v = v[0];
    }
    if (typeof v !== 'object' || v === null) return undefined;
    const o = v as Record<string, unknown>;
    if (i < path.length - 1) {
      const rest = path.slice(i).join('.');
      if (Object.hasOwn(o, rest)) return first(o[rest]);
    }
    if (!Object.hasOwn(o, path[i])) return undefined;
    v = o[path[i]];
  }
  return first(v);
}

const first = (v: unknown): unknown => (Array.isArray(v) ? (v.length === 0 ? null : v[0]) : v);

/** A field that holds no value: absent, null, empty, or nginx's and Envoy's "-". */
function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || v === '' || v === '-';
}

/** A key as a log holds it: its name or secret, bare or after `Bearer `. */
export function keyOf(text: string): string {
  // Most keys are a bare name or secret: no copy, no expression.
  const n = text.length;
  const trimmed = n > 0 && (text.charCodeAt(0) <= 32 || text.charCodeAt(n - 1) <= 32) ? text.trim() : text;
  if ((trimmed.charCodeAt(0) | 32) !== 98 /* b */) return trimmed;
  const m = /^bearer[ \t]+/i.exec(trimmed);
  return m === null ? trimmed : trimmed.slice(m[0].length).trim();
}

/**
 * An address as a gateway writes it, with its port taken off: `a.b.c.d:PORT`
 * and `[IPv6]:PORT` (Envoy's `downstream_remote_address`), `[IPv6]`. A bare
 * IPv6 address is never cut: its last group is not a port.
 */
export function stripPort(text: string): string {
  const bracket = BRACKETED.exec(text);
  if (bracket !== null) return bracket[1];
  const v4 = WITH_PORT_V4.exec(text);
  return v4 === null ? text : v4[1];
}

/**
 * A port a connection has: 1 to 65535, without leading zeros. Anything else
 * (`:0`, `:99999`, `:080`) is no gateway's writing: the text is left whole,
 * a bad line, rather than read as an address (found by an outside tester).
 */
const PORT = '(?:[1-9]\\d{0,3}|[1-5]\\d{4}|6[0-4]\\d{3}|65[0-4]\\d{2}|655[0-2]\\d|6553[0-5])';
/** Brackets hold an IPv6 address only (`[1.2.3.4]:80` is no gateway's writing either). */
const BRACKETED = new RegExp(`^\\[([^\\]]*:[^\\]]*)\\](?::${PORT})?$`);
const WITH_PORT_V4 = new RegExp(`^(\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}):${PORT}$`);

// After a combined line's "$request": ` $status ` (blanks as a custom log_format puts them).
const STATUS = /^[ \t]+(\d{3})(?=[ \t]|$)/;

// ADDRESS IDENT USER [TIME] then the rest, which begins with "$request". USER is the client's (HTTP Basic) and may hold
// blanks and brackets, never a bare quote (nginx writes \x22, Apache \"): the time is the bracket just before the first
// quote that no backslash escapes.
const COMBINED = /^(\S+) \S+ (?:[^"\\]|\\[\s\S])* \[([^\]"]*)\] ("[\s\S]*)$/;

/** The quoted fields of a combined line's rest, still escaped; null when a quote does not end. */
function quotedFields(rest: string): string[] | null {
  const fields: string[] = [];
  let i = 0;
  while (i < rest.length) {
    if (rest.charCodeAt(i) !== 34 /* " */) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < rest.length && rest.charCodeAt(j) !== 34) j += rest.charCodeAt(j) === 92 /* \ */ ? 2 : 1;
    if (j >= rest.length) return null;
    fields.push(rest.slice(i + 1, j));
    i = j + 1;
  }
  return fields;
}

/** nginx writes `\xHH` for a quote, a backslash and control bytes; Apache `\"` and `\\`. */
function unescapeQuoted(text: string): string {
  if (!text.includes('\\')) return text;
  return text.replace(/\\x([0-9A-Fa-f]{2})|\\([\s\S])/g, (_, hex: string | undefined, c: string | undefined) =>
    hex !== undefined ? String.fromCharCode(parseInt(hex, 16)) : c!,
  );
}

// TIME HOST PROGRAM[PID]: MESSAGE, TIME as `Nov 30 10:00:00` (traditional) or RFC 3339 (rsyslog's high-precision form).
// A forwarded line may begin with its priority, `<22>` (RFC 3164 on the wire, syslog-ng and rsyslog templates that keep it).
const SYSLOG = /^(?:<\d{1,3}>)?([A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}|\d{4}-\d{2}-\d{2}T\S+) \S+ ([^\s[:]+)(?:\[\d+\])?: ([\s\S]*)$/;
// RFC 5424: <PRI>1 TIMESTAMP HOST APP-NAME PROCID MSGID STRUCTURED-DATA MSG (`-` for a field not given).
const SYSLOG_5424 = /^<\d{1,3}>1 (\d{4}-\d{2}-\d{2}T\S+) \S+ (\S+) \S+ \S+ (?:-|(?:\[(?:[^\]\\"]|"(?:[^"\\]|\\.)*")*\])+)(?: (?:\uFEFF)?([\s\S]*))?$/;

/** A syslog line's time, program and message: traditional (RFC 3164, with or without its priority), RFC 3339 stamps, or RFC 5424; null for anything else. */
function syslogParts(text: string): {time: string; program: string; message: string} | null {
  const m = SYSLOG.exec(text);
  if (m !== null) return {time: m[1], program: m[2], message: m[3]};
  const r = text.charCodeAt(0) === 60 /* < */ ? SYSLOG_5424.exec(text) : null;
  return r === null ? null : {time: r[1], program: r[2], message: r[3] ?? ''};
}
const POSTFIX = /^postfix(?:-[^/\s]*)?\//;
// postfix/smtpd, postfix/submission/smtpd, postfix-out/smtpd…
const POSTFIX_SMTPD = /^postfix(?:-[^/\s]*)?\/(?:[^/\s]+\/)*smtpd$/;
// QUEUEID: client=NAME[ADDRESS](:PORT), sasl_method=…, sasl_username=KEY(, sasl_sender=…)
const SASL_LOGIN = /^[0-9A-Za-z]+: client=[^[\s]*\[([^\]]*)\](?::\d+)?, sasl_method=[^,]*, sasl_username=(.*?)(?:, sasl_sender=.*)?$/;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const COMBINED_TIME = /^\[?(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})\]?$/;
const SYSLOG_TIME = /^([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})$/;

/** Whether the fields make a real date and time of day (month from 0). */
function validDate(y: number, mo: number, d: number, h: number, mi: number, s: number): boolean {
  if (mo < 0 || mo > 11 || d < 1 || h > 23 || mi > 59 || s > 59) return false;
  return new Date(Date.UTC(y, mo, d)).getUTCDate() === d;
}

/** `30/Nov/2026:10:00:00 +0000` (brackets allowed): ms, or NaN. */
export function combinedTime(text: string): number {
  const m = COMBINED_TIME.exec(text);
  if (m === null) return Number.NaN;
  const [y, mo, d, h, mi, s] = [Number(m[3]), MONTHS.indexOf(m[2]), Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6])];
  const oh = Number(m[8]);
  const om = Number(m[9]);
  if (!validDate(y, mo, d, h, mi, s) || oh > 23 || om > 59) return Number.NaN;
  const offset = (m[7] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  const utc = new Date(0);
  utc.setUTCFullYear(y, mo, d);
  utc.setUTCHours(h, mi, s, 0);
  return utc.getTime() - offset;
}

/**
 * `Nov 30 10:00:00` (syslog, no year): the year that puts it nearest before
 * now (allowing the minutes of clock skew an event may have), read on
 * `wallClock`; NaN when it names no date of the last eight years.
 */
export function syslogTime(text: string, nowMs: number, wallClock: WallClock = utcWallClock): number {
  const m = SYSLOG_TIME.exec(text);
  if (m === null) return Number.NaN;
  const [mo, d, h, mi, s] = [MONTHS.indexOf(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])];
  const year = new Date(nowMs).getUTCFullYear() + 1;
  for (let y = year; y > year - 9; y--) {
    if (!validDate(y, mo, d, h, mi, s)) continue;
    const at = wallClock(y, mo, d, h, mi, s);
    if (at <= nowMs + FUTURE_SLACK_MS) return at;
  }
  return Number.NaN;
}

/**
 * A time as logs write it: ISO 8601 with Z or an offset, the combined form,
 * a syslog stamp (see syslogTime) or Unix seconds; NaN for anything else.
 */
export function anyTime(text: string, nowMs: number, wallClock: WallClock = utcWallClock): number {
  const iso = parseTime(text);
  if (iso !== null) return iso.getTime();
  const unix = unixSecondsMs(text);
  if (!Number.isNaN(unix)) return unix;
  const combined = combinedTime(text);
  if (!Number.isNaN(combined)) return combined;
  return syslogTime(text, nowMs, wallClock);
}

function notATime(text: string): string {
  return `${show(text)} is not a time keyward reads (ISO 8601 with Z or an offset, 30/Nov/2026:10:00:00 +0000, Nov 30 10:00:00, or Unix seconds)`;
}

/** Parses a --field NAME=PATH value; InputError for anything else. */
export function parseFieldFlag(text: string): [FieldName, string] {
  const eq = text.indexOf('=');
  const name = eq < 0 ? text : text.slice(0, eq);
  const path = eq < 0 ? '' : text.slice(eq + 1);
  if (!(FIELD_NAMES as readonly string[]).includes(name)) {
    throw new InputError(`--field ${show(text)}: the name must be key, ip, at or status (--field NAME=PATH, e.g. --field ip=remote_addr)`);
  }
  if (path.length === 0 || path.split('.').some((p) => p.length === 0)) {
    throw new InputError(`--field ${show(text)}: give a field path after ${name}= (dots reach into objects: request.remote_ip)`);
  }
  return [name as FieldName, path];
}

/** Compiles a --pattern; InputError when it is not a regular expression. */
export function compilePattern(text: string): RegExp {
  try {
    return new RegExp(text);
  } catch {
    throw new InputError(`--pattern ${show(text)} is not a regular expression`);
  }
}
