/**
 * Numbers in human text, one rule for every message: counted nouns agree with
 * their number ("1 entry", "2 entries"), counts are grouped by thousands
 * ("50,778"), and spans of days read the same in `learn` and `status`.
 * Machine output (JSON, TSV, exports) keeps plain numbers and never uses these.
 */
import {DAY_MS} from './time.js';

/** Made at the first count said: building it costs milliseconds that `check`'s start must not pay. */
let formatter: Intl.NumberFormat | undefined;

/** A count as people read it: grouped by thousands, "200,000". */
export function grouped(n: number): string {
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
