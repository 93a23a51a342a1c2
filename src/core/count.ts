/**
 * Numbers in human text, one rule for every message: counted nouns agree with
 * their number ("1 entry", "2 entries"), counts are grouped by thousands
 * ("50,778"), and spans of days read the same in `learn` and `status`.
 * Machine output (JSON, TSV, exports) keeps plain numbers and never uses these.
 */
import {DAY_MS} from './time.js';

/** Made at the first count said that is not a whole number (see grouped). */
let formatter: Intl.NumberFormat | undefined;

/**
 * A count as people read it: grouped by thousands, "200,000", as
 * Intl.NumberFormat('en-US', {maximumFractionDigits: 0}) says it. Whole
 * numbers (every count) are grouped here: building the formatter cost every
 * command that says a count some 9 ms of its start; anything else goes to it.
 */
export function grouped(n: number): string {
  if (Number.isSafeInteger(n) && !Object.is(n, -0)) {
    const digits = String(Math.abs(n));
    let text = digits.slice(0, ((digits.length - 1) % 3) + 1);
    for (let i = text.length; i < digits.length; i += 3) text += `,${digits.slice(i, i + 3)}`;
    return n < 0 ? `-${text}` : text;
  }
  formatter ??= new Intl.NumberFormat('en-US', {maximumFractionDigits: 0});
  return formatter.format(n);
}

/** "1 entry", "2 entries", "50,778 addresses": the noun agrees with the count. */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${grouped(n)} ${n === 1 ? singular : plural}`;
}

/**
 * A number of days, rounded down so that it never claims more quiet time than
 * was observed: one decimal below 10 days ("4.6"), whole days from 10 on
 * ("12"); "0" for none, "under 0.1" for less than a tenth of a day.
 */
export function dayNumber(ms: number): string {
  const value = Math.max(0, ms) / DAY_MS;
  if (value >= 10) return grouped(Math.floor(value));
  if (value === 0) return '0';
  const tenths = Math.floor(value * 10);
  return tenths === 0 ? 'under 0.1' : (tenths / 10).toFixed(1);
}

/** A span of days as `learn` and `status` say it: "4.6 days", "12 days" (see dayNumber). */
export function days(ms: number): string {
  return `${dayNumber(ms)} days`;
}
