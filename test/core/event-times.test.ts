/**
 * The times of `KEY ADDRESS TIME` event lines (core/events.ts): the quick
 * reader of `YYYY-MM-DDTHH:MM:SS[.sss]Z`, which reads a date once and keeps
 * it for the lines of the same day, gives Date.parse's time for any time,
 * in any order of days (what it keeps must never answer for another day),
 * and refuses what is no time.
 */
import {expect} from 'chai';
import fc from 'fast-check';

import {parseTime, unixSecondsMs} from '../../src/core/time.js';
import {parseEventLine} from '../../src/core/events.js';

const runs = Number(process.env.KEYWARD_PROPERTY_RUNS ?? 300);
const pad = (value: number, width: number) => String(value).padStart(width, '0');

/** A time in the quick form; often on the day before or after the one before it (a log around midnight). */
const isoText = fc
  .record({
    ms: fc.integer({min: Date.UTC(1970, 0, 1), max: Date.UTC(2199, 11, 31, 23, 59, 59, 999)}),
    millis: fc.boolean(),
  })
  .map(({ms, millis}) => {
    const d = new Date(ms);
    const date = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
    const time = `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
    return `${date}T${time}${millis ? `.${pad(d.getUTCMilliseconds(), 3)}` : ''}Z`;
  });

/** Dates that are no dates (30 February, 31 April, 29 February of a common year, month 13 or 0, day 0). */
const badDates = ['2026-02-30T10:00:00Z', '2026-04-31T10:00:00Z', '2025-02-29T10:00:00Z', '2026-13-01T10:00:00Z', '2026-00-10T10:00:00Z', '2026-01-00T10:00:00Z'];

describe('event times', () => {
  it('reads every time as Date.parse does, whatever the order of days', () => {
    fc.assert(
      fc.property(fc.array(isoText, {minLength: 1, maxLength: 30}), (texts) => {
        for (const text of texts) {
          // The same day again, at another hour: the kept date must answer for it.
          const sameDay = `${text.slice(0, 11)}23${text.slice(13)}`;
          for (const t of [text, sameDay]) expect(parseEventLine(`key 192.0.2.1 ${t}`)!.at, t).to.equal(Date.parse(t));
        }
      }),
      {numRuns: runs},
    );
  });

  it('refuses a date that does not exist (30 February, 31 April, month 13), also right after a good time of the same month', () => {
    // (Date.parse would read 30 February as 2 March: an event two days off, without a word.)
    for (const bad of badDates) {
      const month = Number(bad.slice(5, 7));
      const good = `${bad.slice(0, 5)}${month >= 1 && month <= 12 ? bad.slice(5, 8) : '12-'}01T09:00:00Z`;
      expect(parseEventLine(`key 192.0.2.1 ${good}`)!.at).to.equal(Date.parse(good));
      expect(() => parseEventLine(`key 192.0.2.1 ${bad}`), bad).to.throw(/is not a date of the calendar/);
      for (const form of [bad.replace('Z', '+02:00'), bad.slice(0, 10), bad.replace('T10:00:00Z', 'T10:00:00.123456Z')]) {
        expect(parseTime(form), form).to.equal(null);
      }
    }
    expect(parseTime('2024-02-29T10:00:00Z')!.toISOString(), 'a leap day').to.equal('2024-02-29T10:00:00.000Z');
    expect(parseTime('2000-02-29')!.toISOString(), 'a leap day of a year divisible by 400').to.equal('2000-02-29T00:00:00.000Z');
    expect(parseTime('1900-02-29'), 'not a leap year (divisible by 100)').to.equal(null);
  });
});

describe('event times in Unix seconds', () => {
  it('are cut to the millisecond as an ISO time is, from the digits (never rounded up, never off by floating point; found by an outside tester)', () => {
    // The same instant in both forms is one time: .9995 s is 999 ms, as 03.9995Z is.
    expect(unixSecondsMs('1796205603.9995')).to.equal(Date.parse('2026-12-02T10:00:03.999Z'));
    expect(unixSecondsMs(1796205603.9995)).to.equal(Date.parse('2026-12-02T10:00:03.999Z'));
    expect(parseEventLine('key 192.0.2.1 1796205603.9999')!.at).to.equal(parseEventLine('key 192.0.2.1 2026-12-02T10:00:03.9999Z')!.at);
    // 1.001 × 1000 is 1000.9999999999999 in floating point.
    expect(unixSecondsMs('1.001')).to.equal(1001);
    expect(unixSecondsMs(1.001)).to.equal(1001);
    expect(unixSecondsMs('1796205604')).to.equal(1796205604000);
    expect(unixSecondsMs(1e-7), 'within a microsecond of 1970').to.equal(0);
    for (const bad of ['-1', '1e3', '1.', '.5', 'NaN', '9999999999999']) expect(Number.isNaN(unixSecondsMs(bad)), bad).to.equal(true);
    expect(Number.isNaN(unixSecondsMs(-1))).to.equal(true);
    // Against an oracle of whole digits: n.fff... seconds is n * 1000 + fff milliseconds.
    fc.assert(
      fc.property(fc.integer({min: 0, max: 8_640_000_000}), fc.stringMatching(/^[0-9]{1,9}$/), (whole, fraction) => {
        const expected = whole * 1000 + Number(fraction.slice(0, 3).padEnd(3, '0'));
        expect(unixSecondsMs(`${whole}.${fraction}`)).to.equal(expected);
      }),
      {numRuns: runs},
    );
  });
});

describe('event times in Unix seconds as a JSON number', () => {
  it('are read from the digits the line wrote, not the rounded number (1764547199.999999999 is 1764547200 to JSON.parse; found by an outside tester)', () => {
    const line = (at: string) => `{"key":"k","ip":"10.0.0.1","at":${at}}`;
    expect(parseEventLine(line('1764547199.999999999'))!.at).to.equal(1764547199999);
    expect(parseEventLine(line('1764547199.999999999'))!.at).to.equal(parseEventLine('k 10.0.0.1 1764547199.999999999')!.at);
    expect(parseEventLine(line('1764547200'))!.at).to.equal(1764547200000);
    expect(parseEventLine(line('1764547200.999999999999'))!.at, 'any number of fraction digits, as on a keyward line').to.equal(1764547200999);
    expect(parseEventLine('k 10.0.0.1 1764547200.999999999999')!.at).to.equal(1764547200999);
    // Against the digits, for random times of many fraction digits.
    fc.assert(
      fc.property(fc.integer({min: 0, max: 8_640_000_000}), fc.stringMatching(/^[0-9]{1,15}$/), (whole, fraction) => {
        const expected = whole * 1000 + Number(fraction.slice(0, 3).padEnd(3, '0'));
        expect(parseEventLine(line(`${whole}.${fraction}`))!.at, `${whole}.${fraction}`).to.equal(expected);
      }),
      {numRuns: runs},
    );
  });
});

describe('event times in Unix seconds as a JSON number: whose digits', () => {
  it('takes the digits of the "at" member alone, never another member\'s or a string\'s of the same value; an ambiguous line reads the number (found by an outside tester)', () => {
    const at = '1793404799.9999999';
    for (const line of [
      `{"other":1793404800,"key":"k","ip":"10.0.0.1","at":${at}}`,
      `{"note":"at:1793404800","key":"k","ip":"10.0.0.1","at":${at}}`,
      `{"arr":[1793404800],"key":"k","ip":"10.0.0.1","at":${at}}`,
    ]) {
      expect(parseEventLine(line)!.at, line).to.equal(1793404799999);
    }
    // "at" written twice: JSON takes the last; its digits cannot be told apart, so the number is read.
    expect(parseEventLine(`{"at":1793404800,"key":"k","ip":"10.0.0.1","at":${at}}`)!.at).to.equal(1793404800000);
  });
});
