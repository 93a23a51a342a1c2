/**
 * Property tests for the one address scanner and the byte writers
 * (core/address-bytes.ts) against the slow string parser kept as the oracle
 * (test/oracle/slow-parse.ts) and the string writers: the same texts
 * accepted as the same words, and the same messages for the texts refused.
 * Runs per property: 1000, or KEYWARD_PROPERTY_RUNS.
 */
import {expect} from 'chai';
import fc from 'fast-check';

import {Family, formatIPv4, formatIPv6, scanAddress} from '../../src/core/address.js';
import {MAX_IPV6_TEXT, NOT_ACCEPTED, scanAddressBytes, scanIPv4Line, writeIPv4Bytes, writeIPv6Text} from '../../src/core/address-bytes.js';
import {AddressError} from '../../src/core/errors.js';
import {scanPrefix} from '../../src/core/prefix.js';
import {slowScanAddress, slowScanPrefix} from '../oracle/slow-parse.js';

const RUNS = Number(process.env.KEYWARD_PROPERTY_RUNS || 1000);

function check<T extends [unknown, ...unknown[]]>(property: fc.IPropertyWithHooks<T>): void {
  fc.assert(property, {numRuns: RUNS});
}

/** What the slow parser says of `text`: the family and words, or null when it refuses. */
function byString(text: string): {family: Family; words: number[]} | null {
  const words = new Uint32Array(4);
  try {
    const family = slowScanAddress(text, words);
    return {family, words: family === 4 ? [words[0]] : [...words]};
  } catch (error) {
    expect(error).to.be.instanceOf(AddressError);
    return null;
  }
}

/** What the byte scanner says of `text` written as UTF-8 in the middle of other bytes. */
function byBytes(text: string, padding: number[]): {family: Family; words: number[]} | null {
  const inner = Buffer.from(text, 'utf8');
  const bytes = Buffer.concat([Buffer.from(padding), inner, Buffer.from(padding)]);
  const words = new Uint32Array(4);
  const family = scanAddressBytes(bytes, padding.length, padding.length + inner.length, words);
  if (family === NOT_ACCEPTED) return null;
  return {family, words: family === 4 ? [words[0]] : [...words]};
}

/** An address scanned by `scan`, as family and words. */
function scanned(scan: (text: string, out: Uint32Array) => Family, text: string): number[] {
  const words = new Uint32Array(4);
  const family = scan(text, words);
  return [family, ...(family === 4 ? [words[0]] : words)];
}

/** What a call gives: its value, or the error's class and message. */
function outcome<T>(run: () => T): {ok: T} | {error: string; kind: string} {
  try {
    return {ok: run()};
  } catch (error) {
    return {error: (error as Error).message, kind: (error as Error).constructor.name};
  }
}

// Bytes around the scanned range must never be read: digits, colons and dots there would change the answer.
const padding = fc.array(fc.constantFrom(0x30, 0x31, 0x2e, 0x3a, 0x61, 0x0a, 0x20, 0xff), {maxLength: 3});

/** IPv6 texts in many RFC 4291 styles: compressed anywhere, upper case, padded, with a dotted tail. */
const ipv6Text = fc
  .record({
    groups: fc.array(fc.oneof(fc.constant(0), fc.integer({min: 0, max: 0xffff}), fc.constantFrom(1, 0xffff, 0x10)), {minLength: 8, maxLength: 8}),
    mapped: fc.boolean(),
    compress: fc.nat(),
    upper: fc.boolean(),
    pad: fc.array(fc.boolean(), {minLength: 8, maxLength: 8}),
    tail: fc.boolean(),
  })
  .map(({groups, mapped, compress, upper, pad, tail}) => {
    const g = mapped ? [0, 0, 0, 0, 0, 0xffff, groups[6], groups[7]] : groups;
    const hex = g.map((x, k) => {
      const digits = pad[k] ? x.toString(16).padStart(4, '0') : x.toString(16);
      return upper ? digits.toUpperCase() : digits;
    });
    const head = tail ? 6 : 8;
    const parts = tail ? [...hex.slice(0, 6), `${g[6] >> 8}.${g[6] & 255}.${g[7] >> 8}.${g[7] & 255}`] : hex;
    const runs: Array<[number, number]> = [];
    for (let i = 0; i < head; i++) for (let j = i + 1; j <= head && g[j - 1] === 0; j++) runs.push([i, j]);
    const choice = compress % (runs.length + 1);
    if (choice === runs.length) return parts.join(':');
    const [i, j] = runs[choice];
    return `${parts.slice(0, i).join(':')}::${parts.slice(j).join(':')}`;
  });

/** One edit of a text: where the grammar's edge cases live. */
const mutated = (base: fc.Arbitrary<string>) =>
  fc
    .record({
      text: base,
      at: fc.nat(),
      op: fc.constantFrom('insert', 'delete', 'replace', 'none'),
      char: fc.constantFrom('0', '1', '9', 'f', 'F', 'g', 'x', ':', '.', '/', '%', ' ', '\t', '\0', '+', '-', '٣', 'é', '\u00a0'),
    })
    .map(({text, at, op, char}) => {
      const i = at % (text.length + 1);
      if (op === 'insert') return text.slice(0, i) + char + text.slice(i);
      if (op === 'delete') return text.slice(0, i) + text.slice(i + 1);
      if (op === 'replace') return text.slice(0, i) + char + text.slice(i + 1);
      return text;
    });

const addressish = fc.oneof(
  fc.ipV4(),
  fc.ipV4Extended(),
  fc.ipV6(),
  ipv6Text,
  mutated(fc.oneof(fc.ipV4(), ipv6Text, fc.ipV6())),
  fc.string({unit: fc.constantFrom('0', '1', '2', '5', '9', '.', ':', 'a', 'F', 'x', ' '), maxLength: 45}),
  fc.string({maxLength: 12}),
);

describe('core/address-bytes: the one scanner', function () {
  this.timeout(0);

  it('takes a line in one pass exactly when it is a dotted quad and its line end (LF or CR LF), as splitting it and scanning it would', () => {
    const ending = fc.constantFrom('\n', '\r\n', '\r\r\n', '\r', '', ' \n', '.\n', '0\n', '\n\n');
    check(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV4Extended(), mutated(fc.ipV4()), addressish), ending, fc.string({maxLength: 4}), padding, (text, end, rest, pad) => {
        const before = Buffer.from(pad);
        const bytes = Buffer.concat([before, Buffer.from(`${text}${end}${rest}`)]);
        const start = before.length;
        const words = new Uint32Array(4);
        const found = scanIPv4Line(bytes, start, bytes.length, words);
        // The way it replaces: find the LF, drop one CR before it, scan exactly what is left.
        const newline = bytes.indexOf(0x0a, start);
        let stop = newline;
        if (newline > start && bytes[newline - 1] === 0x0d) stop--;
        const expected = new Uint32Array(4);
        const family = newline < 0 ? NOT_ACCEPTED : scanAddressBytes(bytes, start, stop, expected);
        if (family === 4) {
          expect(found, JSON.stringify(text + end)).to.equal(newline);
          expect(words[0]).to.equal(expected[0]);
        } else expect(found, JSON.stringify(text + end)).to.equal(-1);
      }),
    );
  });

  it('takes a line in one pass only when it ends before the limit: a line cut by the end of its chunk is left to the caller', () => {
    const ending = fc.constantFrom('\n', '\r\n', '\r', '');
    check(
      fc.property(fc.oneof(fc.ipV4(), mutated(fc.ipV4()), addressish), ending, fc.nat(), fc.constantFrom('\n', '\r\n', '9.\n', '.1\n'), (text, end, cutAt, after) => {
        // The bytes after the limit are another read's: a digit, a dot or an LF there must change nothing.
        const line = Buffer.from(`${text}${end}`);
        const limit = cutAt % (line.length + 1);
        const bytes = Buffer.concat([line.subarray(0, limit), Buffer.from(after)]);
        const words = new Uint32Array(4);
        const found = scanIPv4Line(bytes, 0, limit, words);
        const whole = new Uint32Array(4);
        const expected = scanIPv4Line(line, 0, line.length, whole);
        if (found >= 0) {
          expect(found, JSON.stringify(text + end)).to.equal(expected);
          expect(words[0]).to.equal(whole[0]);
        } else expect(expected < 0 || expected >= limit, JSON.stringify(text + end)).to.equal(true);
      }),
    );
  });

  it('accepts exactly what the slow parser accepts, as the same family and words, reading only its range', () => {
    check(
      fc.property(addressish, padding, (text, pad) => {
        expect(byBytes(text, pad), JSON.stringify(text)).to.deep.equal(byString(text));
      }),
    );
  });

  it('accepts every IPv4 and IPv6 text style the slow parser reads', () => {
    let accepted = 0;
    check(
      fc.property(fc.oneof(fc.ipV4(), ipv6Text, fc.ipV6()), (text) => {
        const expected = byString(text);
        expect(expected, text).not.to.equal(null);
        expect(byBytes(text, []), text).to.deep.equal(expected);
        accepted++;
      }),
    );
    expect(accepted).to.equal(RUNS);
  });

  it('refuses the edges the grammar refuses', () => {
    for (const text of [
      '',
      '1.2.3',
      '1.2.3.4.',
      '01.2.3.4',
      '1.2.3.256',
      '1.2.3.1234',
      '0x7f.0.0.1',
      '1.2.3.4 ',
      ' 1.2.3.4',
      ':',
      ':::',
      '1::2::3',
      '::1%eth0',
      '1:2:3:4:5:6:7:8:9',
      '::ffff:1.2.3',
      '1:2:3:4:5:6:7:1.2.3.4',
      '12345::',
      '1.2.3.4/32',
      '::/0',
    ]) {
      expect(byBytes(text, []), JSON.stringify(text)).to.equal(null);
      expect(byString(text), JSON.stringify(text)).to.equal(null);
    }
    for (const text of ['0.0.0.0', '255.255.255.255', '::', '::1', '1::', '::ffff:1.2.3.4', '1:2:3:4:5:6:1.2.3.4', 'FFFF:0:0:0:0:0:0:1']) {
      expect(byBytes(text, []), text).to.deep.equal(byString(text));
      expect(byBytes(text, []), text).not.to.equal(null);
    }
  });

  it('refuses an address with the message the slow parser gives, and accepts it as the same words', () => {
    check(
      fc.property(addressish, (text) => {
        expect(
          outcome(() => scanned(scanAddress, text)),
          JSON.stringify(text),
        ).to.deep.equal(outcome(() => scanned(slowScanAddress, text)));
      }),
    );
  });

  it('refuses a range with the message the slow parser gives, and accepts it as the same words and length', () => {
    const length = fc.oneof(fc.nat(140).map(String), fc.constantFrom('', '0', '00', '032', '/8', '8/', 'x', '1e1', '٣', ' 8', '+8', '-1', '4294967296'));
    check(
      fc.property(addressish, length, fc.boolean(), (address, bits, slash) => {
        const text = slash ? `${address}/${bits}` : address;
        const ours = outcome(() => {
          const p = scanPrefix(text, {family: 4, bits: 0, words: new Uint32Array(4)});
          return [p.family, p.bits, ...(p.family === 4 ? [p.words[0]] : p.words)];
        });
        const theirs = outcome(() => {
          const p = slowScanPrefix(text, {family: 4, bits: 0, words: new Uint32Array(4)});
          return [p.family, p.bits, ...(p.family === 4 ? [p.words[0]] : p.words)];
        });
        expect(ours, JSON.stringify(text)).to.deep.equal(theirs);
      }),
    );
  });

  it('gives the slow parser message for each fault it names', () => {
    const texts = [
      '',
      '1.2.3',
      '1.2.3.4.',
      '1.2.3.4.5',
      '01.2.3.4',
      '1.2.3.256',
      '1.2.3.1234',
      '0x7f.0.0.1',
      '0X1',
      '1..2.3',
      '.1.2.3',
      '1.2.3.4 ',
      ' 1.2.3.4',
      '1.2.3.٣',
      ':',
      ':1',
      ':::',
      '1:::2',
      '1::2::3',
      '::1%eth0',
      '::1%',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7:8::',
      '::ffff:1.2.3',
      '::ffff:01.2.3.4',
      '1:2:3:4:5:6:7:1.2.3.4',
      '12345::',
      '1:',
      '1:2',
      'g::',
      '::1.2.3.4.5',
      '1.2.3.4/',
      '1.2.3.4/33',
      '1.2.3.4/08',
      '1.2.3.4/1/2',
      '1.2.3.4/x',
      '::/129',
      '::/0001',
      'fe80::1%eth0/64',
      '1.2.3/8',
      '\u00a01.2.3.4',
    ];
    for (const text of texts) {
      const ours = outcome(() => scanPrefix(text, {family: 4, bits: 0, words: new Uint32Array(4)}));
      const theirs = outcome(() => slowScanPrefix(text, {family: 4, bits: 0, words: new Uint32Array(4)}));
      expect('error' in theirs, text).to.equal(true);
      expect(ours, JSON.stringify(text)).to.deep.equal(theirs);
    }
  });

  it('writes every address as formatIPv6 and formatIPv4 do', () => {
    const word = fc.oneof(fc.constantFrom(0, 0xffff, 0xffff0000, 0xffffffff, 1), fc.integer({min: 0, max: 0xffffffff}));
    const words = fc.oneof(
      fc.array(word, {minLength: 4, maxLength: 4}),
      fc.integer({min: 0, max: 0xffffffff}).map((v) => [0, 0, 0xffff, v]),
      fc.array(fc.constantFrom(0, 0xffff, 1 << 16, 0x10001), {minLength: 4, maxLength: 4}),
    );
    check(
      fc.property(words, fc.nat(8), (w, at) => {
        const value = Uint32Array.from(w);
        // Words anywhere in a batch; the text where it is asked for, with 3 bytes to spare after the longest.
        const batch = new Uint32Array(8);
        batch.set(value, 4);
        const out = Buffer.alloc(at + MAX_IPV6_TEXT + 3, 0x23);
        const end = writeIPv6Text(batch, out, new DataView(out.buffer, out.byteOffset, out.length), at, 4);
        expect(out.toString('latin1', at, end)).to.equal(formatIPv6(value));
        expect(
          out.subarray(0, at).every((b) => b === 0x23),
          'writes nothing before it',
        ).to.equal(true);
        const v4 = Buffer.alloc(at + 15);
        expect(v4.toString('latin1', at, writeIPv4Bytes(value[3], v4, at))).to.equal(formatIPv4(value[3]));
      }),
    );
  });
});
