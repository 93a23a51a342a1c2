/** "Now" for every command: KEYWARD_NOW (ISO 8601) when set, else the clock. */
import {InputError} from '../core/errors.js';
import {parseTime, TIME_FORM} from '../core/time.js';

export function now(): Date {
  const fixed = process.env.KEYWARD_NOW;
  if (fixed === undefined || fixed === '') return new Date();
  const at = parseTime(fixed);
  if (at === null) throw new InputError(`KEYWARD_NOW=${JSON.stringify(fixed)} is not ${TIME_FORM}`);
  return at;
}
