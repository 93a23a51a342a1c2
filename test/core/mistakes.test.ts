/**
 * The common mistakes (src/core/mistakes.ts): each refusal names the mistake
 * a person made, in the exact words asserted here, and says how to fix it;
 * random inputs against the slow parser (test/oracle/slow-parse.ts): every
 * refusal still names the input as given, and every text the grammar accepts
 * is accepted exactly as before (the mistakes are looked for only on the
 * refusal path). Runs per property: 1000, or KEYWARD_PROPERTY_RUNS.
 */
import {expect} from 'chai';
import fc from 'fast-check';

import {formatIPv4} from '../../src/core/address.js';
import {parseEntry} from '../../src/core/entry-parse.js';
import {AddressError, show} from '../../src/core/errors.js';
import {commonMistake} from '../../src/core/mistakes.js';
import {Prefix, scanPrefix} from '../../src/core/prefix.js';
import {slowScanPrefix} from '../oracle/slow-parse.js';

const RUNS = Number(process.env.KEYWARD_PROPERTY_RUNS || 1000);

/** The refusal of `text` as an entry: its message and hint. */
function refused(text: string): {message: string; hint: string | undefined} {
  try {
    parseEntry(text);
  } catch (error) {
    expect(error, text).to.be.instanceOf(AddressError);
    const e = error as AddressError;
    return {message: e.message, hint: e.hint};
  }
  return expect.fail(`${JSON.stringify(text)} was accepted`);
}

describe('core/mistakes: refusals that name the mistake', () => {
  const cases: Array<[string, string, string, string]> = [
    [
      'a host name',
      'example.com',
      '`example.com` is a host name: host names are not accepted, give its addresses',
      'look them up (dig +short example.com) and give each address',
    ],
    ['a name without a dot', 'office', '`office` is a name, not an IP address: host names are not accepted, give its addresses', 'a label goes after "#": `ADDRESS # office`'],
    ['an IPv4 port', '10.20.30.1:443', '`10.20.30.1:443` has a port (:443): an entry is an address or range, without a port', 'drop the port: 10.20.30.1'],
    [
      'an IPv6 port in brackets',
      '[2001:db8::1]:443',
      '`[2001:db8::1]:443` has a port (:443): an entry is an address or range, without a port or brackets',
      'drop the port and the brackets: 2001:db8::1',
    ],
    ['IPv6 in brackets', '[2001:db8::1]', '`[2001:db8::1]` is in brackets: an entry is written without them', 'drop the brackets: 2001:db8::1'],
    [
      'a comma-separated list',
      '10.0.0.0/8,10.1.0.0/16',
      '`10.0.0.0/8,10.1.0.0/16` is a comma-separated list: give one entry per argument or line',
      'give them apart: 10.0.0.0/8 10.1.0.0/16',
    ],
    ['a label without #', '10.3.0.1 office', '`10.3.0.1 office` has text after the entry: labels go after "#"', 'write `10.3.0.1 # office`, or pass --label'],
    [
      'entries separated by spaces',
      '10.3.0.1 10.3.0.2',
      '`10.3.0.1 10.3.0.2` is several entries separated by spaces: give one entry per argument or line',
      'give them apart: 10.3.0.1 10.3.0.2',
    ],
    [
      'a zone index',
      'fe80::1%eth0',
      '`fe80::1%eth0` is not an IPv6 address: has a zone index (%eth0); zones are not accepted',
      'zones name a local interface; drop it: fe80::1',
    ],
    [
      'a range written a-b',
      '10.0.0.5-10.0.0.20',
      '`10.0.0.5-10.0.0.20` is a range written a-b: entries are addresses or CIDR ranges',
      'the same addresses as CIDR: 10.0.0.5, 10.0.0.6/31, 10.0.0.8/29, 10.0.0.16/30, 10.0.0.20 (5 ranges)',
    ],
    [
      'a range written a - b, one CIDR',
      '192.0.2.0 - 192.0.2.255',
      '`192.0.2.0 - 192.0.2.255` is a range written a-b: entries are addresses or CIDR ranges',
      'the same addresses as CIDR: 192.0.2.0/24 (1 range)',
    ],
    [
      'an IPv6 range written a-b',
      '2001:db8::-2001:db8::ffff:ffff',
      '`2001:db8::-2001:db8::ffff:ffff` is a range written a-b: entries are addresses or CIDR ranges',
      'the same addresses as CIDR: 2001:db8::/96 (1 range)',
    ],
    ['a range backwards', '10.0.0.9-10.0.0.1', '`10.0.0.9-10.0.0.1` is a range written a-b, and its start is after its end', 'give it as CIDR ranges, first address first'],
    ['a URL', 'https://203.0.113.7/', '`https://203.0.113.7/` is a URL: an entry is an address or range', 'give the address alone: 203.0.113.7'],
  ];
  for (const [why, input, message, hint] of cases) {
    it(`${why}: ${input}`, () => {
      expect(refused(input)).to.deep.equal({message, hint});
    });
  }

  it('names at most 8 ranges of a long a-b cover, and how many there are', () => {
    const {hint} = refused('10.0.0.1-10.0.255.254');
    expect(hint).to.equal(
      'the same addresses as CIDR: 10.0.0.1, 10.0.0.2/31, 10.0.0.4/30, 10.0.0.8/29, 10.0.0.16/28, 10.0.0.32/27, 10.0.0.64/26, 10.0.0.128/25, … (30 ranges)',
    );
  });

  it('leaves what is not one of the mistakes to the grammar: a space inside, a letter inside an address', () => {
    expect(refused('10.0.0.0 /8').message).to.equal('`10.0.0.0 /8` is not an IPv4 range: contains a space');
    expect(refused('2001:db8:: 1').message).to.equal('`2001:db8:: 1` is not an IPv6 address: contains a space');
    expect(refused('10.0.0.a').message).to.equal('`10.0.0.a` is not an IPv4 address: contains "a"');
    expect(refused('1.2.3').message).to.equal('`1.2.3` is not an IPv4 address: has 3 octets; exactly four are needed (short forms like 127.1 are ambiguous)');
  });

  it('never repeats a secret: a secret-shaped input is named by its hint, whatever mistake it looks like', () => {
    const secret = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
    for (const text of [`10.0.0.1,${secret}`, `10.0.0.1 ${secret}`, `${secret}.example.com`, `10.0.0.1:${secret}`]) {
      const {message, hint} = refused(text);
      expect(`${message} ${hint}`, text).not.to.contain(secret).and.not.contain(secret.slice(0, 16));
    }
  });

  it('a label in a hint is shown only when it is printable ASCII', () => {
    expect(refused('10.3.0.1 off\u001bice').hint).to.equal('write `10.3.0.1 # LABEL`, or pass --label');
  });
});

/** Texts near the mistakes: addresses with ports, lists, labels, ranges, names, brackets, zones, and noise. */
const octet = fc.integer({min: 0, max: 255});
const ipv4 = fc.tuple(octet, octet, octet, octet).map((o) => o.join('.'));
const ipv6 = fc.constantFrom('2001:db8::1', '::1', 'fe80::', '2001:db8::/32', '::ffff:10.0.0.1', '2001:DB8::A');
const entry = fc.oneof(
  ipv4,
  ipv4.map((a) => `${a}/${a.length % 33}`),
  ipv6,
);
const word = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/);
const nearMistake = fc.oneof(
  entry,
  fc.tuple(entry, fc.integer({min: 0, max: 99999})).map(([a, p]) => `${a}:${p}`),
  fc.tuple(ipv6, fc.integer({min: 0, max: 65535})).map(([a, p]) => `[${a}]:${p}`),
  fc.array(entry, {minLength: 2, maxLength: 4}).map((l) => l.join(',')),
  fc.array(entry, {minLength: 2, maxLength: 3}).map((l) => l.join(' ')),
  fc.tuple(entry, word).map(([a, w]) => `${a} ${w}`),
  fc.tuple(ipv4, ipv4).map(([a, b]) => `${a}-${b}`),
  fc.tuple(word, fc.constantFrom('', '.com', '.example.org', '.')).map(([w, t]) => w + t),
  fc.tuple(ipv6, word).map(([a, z]) => `${a}%${z}`),
  fc.tuple(entry, fc.string({maxLength: 4})).map(([a, s]) => a + s),
  fc.string({maxLength: 12}),
);

/** What the slow parser makes of `text`: the family, length and words, or null. */
function oracle(text: string): number[] | null {
  try {
    const p = slowScanPrefix(text, {family: 4, bits: 0, words: new Uint32Array(4)});
    return [p.family, p.bits, ...(p.family === 4 ? [p.words[0]] : p.words)];
  } catch {
    return null;
  }
}

describe('core/mistakes: random inputs against the slow parser', () => {
  it('accepts what the grammar accepts, as the same value; refuses the rest naming the input as given', () => {
    fc.assert(
      fc.property(nearMistake, (text) => {
        const expected = oracle(text);
        let ours: number[] | null = null;
        try {
          const p = scanPrefix(text, {family: 4, bits: 0, words: new Uint32Array(4)});
          ours = [p.family, p.bits, ...(p.family === 4 ? [p.words[0]] : p.words)];
        } catch (error) {
          expect(error, JSON.stringify(text)).to.be.instanceOf(AddressError);
          expect((error as AddressError).message.startsWith(show(text)), `${JSON.stringify(text)}: ${(error as Error).message}`).to.equal(true);
          expect((error as AddressError).input).to.equal(text);
        }
        expect(ours, JSON.stringify(text)).to.deep.equal(expected);
      }),
      {numRuns: RUNS},
    );
  });

  it('the CIDR cover of an a-b range holds exactly the addresses from a to b, in the fewest ranges', () => {
    const value = fc.integer({min: 0, max: 2 ** 32 - 1});
    fc.assert(
      fc.property(value, value, (x, y) => {
        const [lo, hi] = x <= y ? [x, y] : [y, x];
        const mistake = commonMistake(`${formatIPv4(lo)}-${formatIPv4(hi)}`);
        const listed = /^the same addresses as CIDR: (.*?)(, …)? \((\d+) ranges?\)$/.exec(mistake?.hint ?? '');
        expect(listed, mistake?.hint).not.to.equal(null);
        const shown = listed![1].split(', ').map((t) => Prefix.parse(t));
        const total = Number(listed![3]);
        // The fewest: each range is the largest aligned block that fits (the greedy cover is minimal).
        let at = lo;
        let count = 0;
        while (at <= hi) {
          let bits = 32;
          while (bits > 0 && at % 2 ** (33 - bits) === 0 && at + 2 ** (33 - bits) - 1 <= hi) bits--;
          if (count < shown.length) expect(shown[count].toString(), `${lo}-${hi}`).to.equal(bits === 32 ? formatIPv4(at) : `${formatIPv4(at)}/${bits}`);
          at += 2 ** (32 - bits);
          count++;
        }
        expect(total).to.equal(count);
        expect(shown).to.have.length(Math.min(count, 8));
      }),
      {numRuns: RUNS},
    );
  });
});
