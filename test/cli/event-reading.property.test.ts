/**
 * learn's reading of a log: a plain line of keyward's format (`KEY ADDRESS
 * TIME`) is taken without a string made of each field (EventReading's
 * plainEvent, issue 15); every other line is read as before. Over random
 * logs, the reading with that path must give exactly what the reading
 * without it gives: the same events (keys, addresses, times, in order), the
 * same bad lines and messages, the same counts. Runs: 200, or KEYWARD_PROPERTY_RUNS.
 */
import {expect} from 'chai';
import fc from 'fast-check';

import {EventReading} from '../../src/cli/input.js';
import {KeywardError} from '../../src/core/errors.js';

const RUNS = Number(process.env.KEYWARD_PROPERTY_RUNS || 200);

const NOW = new Date('2026-03-02T00:00:00.000Z');

/** What a reading took in: its events, its bad lines and counts, or the error that refused the log. */
function readAll(lines: readonly string[], strict: boolean, plain: boolean): {taken: number; result: unknown} {
  const reading = new EventReading(NOW, strict);
  let taken = 0;
  const own = reading as unknown as {plainEvent(text: string): boolean};
  const plainEvent = own.plainEvent.bind(reading);
  own.plainEvent = (text) => {
    if (!plain) return false;
    const took = plainEvent(text);
    if (took) taken++;
    return took;
  };
  try {
    lines.forEach((line, i) => reading.line(line.trim(), () => `line ${i + 1}`));
    reading.checkReadable();
  } catch (error) {
    if (!(error instanceof KeywardError)) throw error;
    return {taken, result: {error: error.message, hint: error.hint, details: (error as {details?: unknown}).details}};
  }
  const {log, ...rest} = reading.result();
  const events = Array.from({length: log.count}, (_, i) => ({
    key: log.keys[log.keyIds[i]],
    family: log.families[i],
    words: Array.from(log.words.subarray(i * 4, i * 4 + (log.families[i] === 4 ? 1 : 4))),
    at: log.times[i],
  }));
  return {taken, result: {events, order: log.order() === null ? null : Array.from(log.order()!), ...rest}};
}

// (Many distinct keys too: the table of key texts grows past its first 256 slots.)
const key = fc.oneof(
  fc.constantFrom('key-01', 'key-02', 'billing', 'b2b', 'Bearer', 'bearer', 'k\u00e9', 'a'.repeat(40), 'x', 'K', 'key-01\v', 'key-01\f\u00a0', 'key-01\r', 'key-01\u0085'),
  fc.integer({min: 0, max: 999}).map((n) => `k${n}`),
  // A key given by its secret, in the spellings a log may hold it (case, a Bearer prefix the split leaves apart).
  fc.constantFrom('0123456789abcdef'.repeat(4), '0123456789ABCDEF'.repeat(4), `${'0123456789abcdef'.repeat(4)}\v`),
);
const address = fc.constantFrom(
  '10.0.0.1',
  '192.0.2.255',
  '0.0.0.0',
  '2001:db8::1',
  '2001:DB8:0:0:0:0:0:1',
  '::ffff:10.0.0.3',
  '::ffff:a00:3',
  '::',
  '010.0.0.1',
  '10.0.0.256',
  '10.0.0.1/24',
  '[2001:db8::1]',
  '10.0.0.1:443',
  'fe80::1%eth0',
  '1.2.3',
  '\uff11.2.3.4',
);
const time = fc.oneof(
  fc.date({min: new Date(Date.UTC(2025, 0, 1)), max: new Date(Date.UTC(2026, 2, 2, 0, 10)), noInvalidDate: true}).map((d) => d.toISOString()),
  fc.date({min: new Date(Date.UTC(2025, 0, 1)), max: new Date(Date.UTC(2026, 2, 2, 0, 10)), noInvalidDate: true}).map((d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z')),
  fc.constantFrom(
    '2026-03-02T00:04:59.999Z',
    '2026-03-02T00:05:00.001Z',
    '2026-02-29T00:00:00Z',
    '2026-01-01T24:00:00Z',
    '2026-01-01T00:00:00+00:00',
    '1796000000',
    'soon',
    '2026-01-01T00:00:00.000z',
  ),
);
const gap = fc.constantFrom(' ', '\t', '  ', ' \t ', '\u00a0');
const line = fc.oneof(
  {weight: 8, arbitrary: fc.tuple(key, gap, address, gap, time).map((parts) => parts.join(''))},
  {weight: 1, arbitrary: fc.tuple(key, gap, address).map((parts) => parts.join(''))},
  {weight: 1, arbitrary: fc.tuple(key, gap, address, gap, time, fc.constantFrom(' # note', '#', ' extra', ' \u3000', '\r')).map((parts) => parts.join(''))},
  {weight: 1, arbitrary: fc.tuple(fc.constantFrom('Bearer ', 'bearer\t', ' ', '# '), key, gap, address, gap, time).map((parts) => parts.join(''))},
  {weight: 1, arbitrary: fc.tuple(key, address, time).map(([k, a, t]) => JSON.stringify({key: k, ip: a, at: t}))},
  {weight: 1, arbitrary: fc.constantFrom('', '#', '# comment', 'hello', 'a b c d')},
);

describe('learn: plain lines read without a string per field', () => {
  it('give the events, bad lines and counts the reading of every line gives', () => {
    let taken = 0;
    fc.assert(
      fc.property(fc.array(line, {minLength: 1, maxLength: 400}), fc.boolean(), (lines, strict) => {
        const fast = readAll(lines, strict, true);
        const slow = readAll(lines, strict, false);
        expect(fast.result, JSON.stringify(lines)).to.deep.equal(slow.result);
        taken += fast.taken;
      }),
      {numRuns: RUNS * 5},
    );
    expect(taken, 'plain lines were taken by the path under test').to.be.above(RUNS);
  });
});
