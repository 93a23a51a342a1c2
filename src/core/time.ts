/** Times and durations as keyward reads them: ISO 8601 times, and durations like 30d. */
import {InputError} from './errors.js';

export const DAY_MS = 86_400_000;

// A time of day needs its offset: without one it would be read in the local time zone, and a log
// replayed (or a flag given) on a machine in another zone would mean another instant.
const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2}))?$/;

/** How a time must be written, for messages. */
export const TIME_FORM = 'an ISO 8601 time with Z or an offset (2026-01-31T12:00:00Z)';

/** Unix seconds as logs write them: digits, a fraction allowed. */
const UNIX_SECONDS = /^\d{1,12}(?:\.\d+)?$/;

/**
 * Milliseconds of a time in Unix seconds (text of digits, or a number), or
 * NaN. Cut to the millisecond, as an ISO time's digits past it are: the two
 * forms of one instant are one time (found by an outside tester: .9995 was
 * rounded up to the next millisecond, and switched blocking on before its
 * time). Read from the decimal digits, never through a multiplication
 * (1.001 × 1000 is 1000.9999999999999 in floating point).
 */
export function unixSecondsMs(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0 || value > 8.64e12) return Number.NaN;
    // (The shortest text that is the number; an exponent only for a time within a microsecond of 1970.)
    const text = String(value);
    return text.includes('e') ? 0 : decimalMs(text);
  }
  return UNIX_SECONDS.test(value) ? decimalMs(value) : Number.NaN;
}

/**
 * Milliseconds of Unix seconds that a JSON line gives as the number `value`
 * under the member `name`: read from the digits the line wrote (JSON.parse
 * rounds 1764547199.999999999 to 1764547200, a millisecond later; found by
 * an outside tester) when the line writes `"name":` followed by digits that
 * are that number exactly once; else (an exponent, a name written twice or
 * escaped) from the number, as JSON reads it.
 */
export function unixSecondsInJson(value: number, line: string, name: string): number {
  const ms = unixSecondsMs(value);
  if (Number.isNaN(ms)) return ms;
  const member = new RegExp(`"${name.replace(/[^\w]/g, (c) => `\\${c}`)}"\\s*:\\s*(\\d{1,12}(?:\\.\\d+)?)(?![\\d.eE])`, 'g');
  const written = [...line.matchAll(member)].map((m) => m[1]);
  return written.length === 1 && Number(written[0]) === value ? decimalMs(written[0]) : ms;
}

/** Milliseconds of decimal seconds (digits, a fraction allowed), the fraction cut after its third digit. */
function decimalMs(text: string): number {
  const dot = text.indexOf('.');
  if (dot < 0) return Number(text) * 1000;
  return Number(text.slice(0, dot)) * 1000 + Number(text.slice(dot + 1, dot + 4).padEnd(3, '0'));
}

/**
 * Whether the date `text` starts with (YYYY-MM-DD) is one of the calendar:
 * Date.parse reads a day the month does not have (2026-02-30) as a day of
 * the next month (2 March), which would date an event or an entry two days
 * off without a word.
 */
export function inCalendar(text: string): boolean {
  // (Digits read in place: a store's every time passes here.)
  const digit = (at: number) => text.charCodeAt(at) - 48;
  const year = digit(0) * 1000 + digit(1) * 100 + digit(2) * 10 + digit(3);
  const month = digit(5) * 10 + digit(6);
  const day = digit(8) * 10 + digit(9);
  if (month < 1 || month > 12 || day < 1) return false;
  if (day <= 28) return true;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return day <= days;
}

/**
 * Parses an ISO 8601 date (midnight UTC) or a time with `Z` or an offset;
 * null when it is not one, a time without an offset included, and a day the
 * month does not have (2026-02-30).
 */
export function parseTime(text: string): Date | null {
  if (!ISO.test(text) || !inCalendar(text)) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : new Date(ms);
}

const DURATION = /^(\d{1,6})([smhdw])$/;
const UNIT_MS: Record<string, number> = {s: 1000, m: 60_000, h: 3_600_000, d: DAY_MS, w: 7 * DAY_MS};

/** For a bare number where a duration is wanted (`--expires 30`): "did you mean 30d?" (a duration needs its unit). */
function unitless(text: string, flag: string): string | undefined {
  return /^\d{1,6}$/.test(text) ? `did you mean ${flag} ${text}d? a duration needs its unit (s, m, h, d or w)` : undefined;
}

/** Parses a duration like 30d, 12h, 2w into milliseconds; null when it is not one. */
export function parseDuration(text: string): number | null {
  const m = DURATION.exec(text);
  return m ? Number(m[1]) * UNIT_MS[m[2]] : null;
}

/**
 * A duration flag that counts whole days (`--window 30d`, `--retention 6w`)
 * from 1 to `max`; an InputError naming the flag and the allowed range
 * otherwise.
 */
export function parseWholeDays(text: string, flag: string, max: number, tooShortHint?: string): number {
  const range = `give 1 to ${max} days (e.g. 30d, 6w)`;
  const ms = parseDuration(text);
  if (ms === null) throw new InputError(`${flag} ${JSON.stringify(text)} is not a duration: ${range}`, unitless(text, flag));
  if (ms === 0) throw new InputError(`${flag} ${text} is too short: ${range}`, tooShortHint);
  if (ms % DAY_MS !== 0) throw new InputError(`${flag} ${text} is not a whole number of days: ${range}`);
  if (ms / DAY_MS > max) throw new InputError(`${flag} ${text} is too long (${ms / DAY_MS} days): ${range}`);
  return ms / DAY_MS;
}

/** `--expires 30d|ISO`: a time after `from`, or an InputError. */
export function parseExpiry(text: string, from: Date): Date {
  const duration = parseDuration(text);
  const at = duration !== null ? new Date(from.getTime() + duration) : parseTime(text);
  if (at === null) throw new InputError(`--expires ${JSON.stringify(text)} is neither a duration (30d, 12h, 2w) nor ${TIME_FORM}`, unitless(text, '--expires'));
  if (at.getTime() <= from.getTime()) throw new InputError(`--expires ${text} is not in the future`);
  return at;
}

/** `--since 7d|ISO`: a time `now` minus a duration, or an ISO 8601 time; an InputError otherwise. */
export function parseSince(text: string, now: Date): Date {
  const duration = parseDuration(text);
  const at = duration !== null ? new Date(now.getTime() - duration) : parseTime(text);
  if (at === null) throw new InputError(`--since ${JSON.stringify(text)} is neither a duration (7d, 12h) nor ${TIME_FORM}`, unitless(text, '--since'));
  return at;
}

/** The ISO text of a time (in ms). */
export function isoOf(ms: number): string {
  return new Date(ms).toISOString();
}
