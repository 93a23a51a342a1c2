/** core/count.ts: counted nouns, grouped thousands and spans of days, one rule for every message. */
import {expect} from 'chai';
import fc from 'fast-check';

import {count, dayNumber, days, grouped} from '../../src/core/count.js';

const DAY = 86_400_000;

/** The oracle: thousands separated by commas, written out by hand. */
function commas(n: number): string {
  const digits = String(n);
  let out = '';
  for (let i = 0; i < digits.length; i++) out += (i > 0 && (digits.length - i) % 3 === 0 ? ',' : '') + digits[i];
  return out;
}

describe('core/count', () => {
  it('a noun agrees with its count, and the count is grouped by thousands', () => {
    expect(count(0, 'entry', 'entries')).to.equal('0 entries');
    expect(count(1, 'entry', 'entries')).to.equal('1 entry');
    expect(count(2, 'event')).to.equal('2 events');
    expect(count(50_778, 'address', 'addresses')).to.equal('50,778 addresses');
    fc.assert(fc.property(fc.nat(), (n) => grouped(n) === commas(n)));
  });

  it('grouped says every number as Intl.NumberFormat en-US with no decimals does (whole numbers by hand)', () => {
    const intl = new Intl.NumberFormat('en-US', {maximumFractionDigits: 0});
    for (const n of [0, -0, 999, 1000, -1000, 123_456_789, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 60, 1.5, -2.5, NaN, Infinity])
      expect(grouped(n)).to.equal(intl.format(n), String(n));
    fc.assert(fc.property(fc.oneof(fc.integer({min: -(2 ** 53), max: 2 ** 53}), fc.maxSafeInteger(), fc.double()), (n) => grouped(n) === intl.format(n)));
  });

  it('days: one decimal below 10, whole days from 10, never rounded up', () => {
    expect(days(4.6 * DAY)).to.equal('4.6 days');
    expect(days(4.59 * DAY)).to.equal('4.5 days');
    expect(days(9.99 * DAY)).to.equal('9.9 days');
    expect(days(10.9 * DAY)).to.equal('10 days');
    expect(dayNumber(0)).to.equal('0');
    expect(dayNumber(60_000)).to.equal('under 0.1');
    expect(dayNumber(3 * DAY)).to.equal('3.0');
    fc.assert(
      fc.property(fc.integer({min: 1, max: 400 * DAY}), (ms) => {
        const said = dayNumber(ms);
        if (said === 'under 0.1') return ms < 0.1 * DAY;
        const value = Number(said.replaceAll(',', ''));
        const step = ms >= 10 * DAY ? 1 : 0.1;
        return value <= ms / DAY + 1e-9 && ms / DAY - value < step + 1e-9;
      }),
    );
  });
});
