/**
 * Events, the lines `learn` reads: `KEY ADDRESS [ISO-8601 TIME]` separated by
 * whitespace with `#` comments, or NDJSON objects {key, ip, at}; the form is
 * detected per line.
 */
import {InputError, show} from './errors.js';
import {parseTime} from './time.js';

export interface RawEvent {
  key: string;
  ip: string;
  /** Milliseconds since the epoch, or NaN when the event has no time. */
  at: number;
}

/** Parses one event line; null for blank and comment lines. Throws InputError for a bad line. */
export function parseEventLine(text: string): RawEvent | null {
  if (text.length === 0 || text.charCodeAt(0) === 35 /* # */) return null;
  if (text.charCodeAt(0) === 123 /* { */) return parseJsonEvent(text);
  const hash = text.indexOf('#');
  const fields = (hash >= 0 ? text.slice(0, hash) : text).trim().split(/[ \t]+/);
  if (fields.length === 1 && fields[0] === '') return null;
  if (fields.length < 2 || fields.length > 3) {
    throw new InputError(`expected KEY ADDRESS [TIME], found ${fields.length} field${fields.length === 1 ? '' : 's'}`);
  }
  return {key: fields[0], ip: fields[1], at: fields.length === 3 ? time(fields[2]) : Number.NaN};
}

function time(text: string): number {
  const at = parseTime(text);
  if (at === null) throw new InputError(`${show(text)} is not an ISO 8601 time`);
  return at.getTime();
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
  if (o.at !== undefined && o.at !== null && typeof o.at !== 'string') throw new InputError('"at" is not an ISO 8601 string');
  return {key: o.key, ip: o.ip, at: typeof o.at === 'string' ? time(o.at) : Number.NaN};
}
