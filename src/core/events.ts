/**
 * Events, the lines `learn` reads: `KEY ADDRESS [ISO-8601 TIME]` separated by
 * whitespace with `#` comments, or NDJSON objects {key, ip, at}; the form is
 * detected per line.
 */
import {InputError, show} from './errors.js';
import {parseTime, TIME_FORM, unixSecondsInJson, unixSecondsMs} from './time.js';

export interface RawEvent {
  key: string;
  ip: string;
  /** Milliseconds since the epoch, or NaN when the event has no time. */
  at: number;
  /** A JSON event's `status` says the gateway refused the request (see isRefusal). */
  refused?: boolean;
}

/**
 * Whether an HTTP status (a number, or its text, blanks around it allowed,
 * `403.0` too) says the gateway refused the request's credentials or its
 * caller: 401 or 403. Such a request is no use of the key it names (anyone
 * may send a key's name), so learning never learns from it.
 */
export function isRefusal(status: unknown): boolean {
  if (typeof status === 'number') return status === 401 || status === 403;
  return typeof status === 'string' && /^[ \t]*40[13](?:\.0*)?[ \t]*$/.test(status);
}

/** Parses one event line; null for blank and comment lines. Throws InputError for a bad line. */
export function parseEventLine(text: string): RawEvent | null {
  if (text.length === 0 || text.charCodeAt(0) === 35 /* # */) return null;
  if (text.charCodeAt(0) === 123 /* { */) return parseJsonEvent(text);
  const hash = text.indexOf('#');
  const body = (hash >= 0 ? text.slice(0, hash) : text).trim();
  if (body.length === 0) return null;
  const bounds = fieldBounds;
  const fields = splitFields(body, bounds);
  // `Bearer SECRET ADDRESS [TIME]`: the key as an Authorization header gives it (SPEC "Logs"), a field of two words.
  // (Three fields whose last is a time are a key named Bearer, as the quick reading takes them: see plainEventFields.)
  if ((fields === 4 || (fields === 3 && !isTime(body.slice(bounds[4], bounds[5])))) && isBearer(body, bounds[0], bounds[1])) {
    const event = parseEventLine(body.slice(bounds[2]));
    return event === null ? null : {...event, key: `Bearer ${event.key}`};
  }
  if (fields < 2 || fields > 3) {
    throw new InputError(`expected KEY ADDRESS [TIME], found ${fields} field${fields === 1 ? '' : 's'}`);
  }
  return {
    key: body.slice(bounds[0], bounds[1]),
    ip: body.slice(bounds[2], bounds[3]),
    at: fields === 3 ? time(body.slice(bounds[4], bounds[5])) : Number.NaN,
  };
}

const fieldBounds = new Int32Array(6);

/**
 * The fields of `body` (no blanks around it), separated by runs of spaces
 * and tabs (what split(/[ \t]+/) gives), found without an array: how many,
 * and where the first three start and end in `bounds`.
 */
function splitFields(body: string, bounds: Int32Array): number {
  let fields = 0;
  for (let i = 0; i < body.length;) {
    const start = i;
    while (i < body.length && !isBlank(body.charCodeAt(i))) i++;
    if (fields < 3) {
      bounds[fields * 2] = start;
      bounds[fields * 2 + 1] = i;
    }
    fields++;
    while (i < body.length && isBlank(body.charCodeAt(i))) i++;
  }
  return fields;
}

/**
 * Where the fields of a plain event line are, for a reader that takes them
 * without making a string of each (learn reads a million lines): `KEY
 * ADDRESS TIME`, no comment, not NDJSON, its time in the form logs write
 * (see quickUtcMs), read into `at`. False for any other line, which
 * parseEventLine then reads (and says what is wrong with it). `text` has no
 * blanks around it (see eachLine).
 */
export function plainEventFields(text: string, bounds: Int32Array, at: Float64Array): boolean {
  const first = text.charCodeAt(0);
  // (A blank or other space first, which the line's trim would have taken: not a plain line. Its time ends it with Z.)
  if (!(first > 32 && first < 0x7f) || first === 35 /* # */ || first === 123 /* { */ || text.indexOf('#') >= 0) return false;
  if (splitFields(text, bounds) !== 3) return false;
  at[0] = quickUtcMs(text, bounds[4], bounds[5]);
  return !Number.isNaN(at[0]);
}

const isBlank = (c: number) => c === 32 || c === 9;

/** Whether `text` from `start` to `end` is the word `Bearer`, in any case. */
export function isBearer(text: string, start: number, end: number): boolean {
  return end - start === 6 && text.slice(start, end).toLowerCase() === 'bearer';
}

/** Days in each month of a common year. */
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Milliseconds of `YYYY-MM-DDTHH:MM:SSZ` or `YYYY-MM-DDTHH:MM:SS.sssZ` (what
 * logs write, and toISOString) in text[start, end) read without a regular expression, or NaN for
 * any other text. Only years from 1970 and fields in their plain ranges are
 * read here; everything else is left to parseTime.
 */
function quickUtcMs(text: string, start = 0, end = text.length): number {
  const n = end - start;
  const o = start;
  if ((n !== 20 && n !== 24) || text.charCodeAt(end - 1) !== 90 /* Z */) return Number.NaN;
  if (text.charCodeAt(o + 4) !== 45 || text.charCodeAt(o + 7) !== 45 || text.charCodeAt(o + 10) !== 84 || text.charCodeAt(o + 13) !== 58 || text.charCodeAt(o + 16) !== 58) {
    return Number.NaN;
  }
  if (n === 24 && text.charCodeAt(o + 19) !== 46) return Number.NaN;
  const hour = twoDigits(text, o + 11);
  const minute = twoDigits(text, o + 14);
  const second = twoDigits(text, o + 17);
  const ms = n === 24 ? twoDigits(text, o + 20) * 10 + digitAt(text, o + 22) : 0;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 || ms < 0) return Number.NaN;
  // A log's times come day after day: the date is read once a day (the same ten characters, the same day).
  let dayMs: number;
  if (text.startsWith(quickDay, o)) dayMs = quickDayMs;
  else {
    const year = digitsOf(text, o, 4);
    const month = digitsOf(text, o + 5, 2);
    const day = digitsOf(text, o + 8, 2);
    if (year < 1970 || month < 1 || month > 12 || day < 1) return Number.NaN;
    const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
    if (day > (month === 2 && leap ? 29 : MONTH_DAYS[month - 1])) return Number.NaN;
    dayMs = Date.UTC(year, month - 1, day);
    quickDay = text.slice(o, o + 10);
    quickDayMs = dayMs;
  }
  return dayMs + ((hour * 60 + minute) * 60 + second) * 1000 + ms;
}

/** The date (`YYYY-MM-DD`) quickUtcMs read last, and its midnight in ms (at first a text no date starts with). */
let quickDay = '\u0000';
let quickDayMs = 0;

/** The digit at text[at], or a large negative number when it is not one (so that any sum with it stays negative). */
function digitAt(text: string, at: number): number {
  const d = text.charCodeAt(at) - 48;
  return d >= 0 && d <= 9 ? d : -1000;
}

/** The two digits at text[at, at + 2) as a number, or a negative number when one is not a digit. */
function twoDigits(text: string, at: number): number {
  return digitAt(text, at) * 10 + digitAt(text, at + 1);
}

/** The decimal number in text[from, from + count), or -1 when a character is not a digit. */
function digitsOf(text: string, from: number, count: number): number {
  let value = 0;
  for (let i = from; i < from + count; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

/** Whether `text` is a time an event may have. */
function isTime(text: string): boolean {
  try {
    time(text);
    return true;
  } catch (error) {
    if (error instanceof InputError) return false;
    throw error;
  }
}

function time(text: string): number {
  const quick = quickUtcMs(text);
  if (!Number.isNaN(quick)) return quick;
  const at = parseTime(text);
  if (at !== null) return at.getTime();
  // Unix seconds, as the other log formats read them.
  const unix = unixSecondsMs(text);
  if (!Number.isNaN(unix)) return unix;
  // (An ISO time but for its date: 2026-02-30, 2026-13-01.)
  if (parseTime(`2000-01-01${text.slice(10)}`) !== null && /^\d{4}-\d{2}-\d{2}/.test(text)) throw new InputError(`${show(text)} is not a date of the calendar`);
  throw new InputError(`${show(text)} is not ${TIME_FORM} or Unix seconds`);
}

function parseJsonEvent(text: string): RawEvent {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InputError('is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InputError('is not a JSON object');
  const o = value as Record<string, unknown>;
  if (typeof o.key !== 'string' || o.key.length === 0) throw new InputError('has no "key" string');
  if (typeof o.ip !== 'string') throw new InputError('has no "ip" string');
  // (A gateway's JSON log with keyward's field names, read as keyward's own: its status counts as in ndjson.)
  const refused = isRefusal(Array.isArray(o.status) ? o.status[0] : o.status) ? {refused: true} : {};
  if (typeof o.at === 'number') {
    const at = unixSecondsInJson(o.at, text, 'at');
    if (Number.isNaN(at)) throw new InputError(`"at" ${o.at} is not a time in Unix seconds`);
    return {key: o.key, ip: o.ip, at, ...refused};
  }
  if (o.at !== undefined && o.at !== null && typeof o.at !== 'string') throw new InputError('"at" is not an ISO 8601 string or Unix seconds');
  return {key: o.key, ip: o.ip, at: typeof o.at === 'string' ? time(o.at) : Number.NaN, ...refused};
}
