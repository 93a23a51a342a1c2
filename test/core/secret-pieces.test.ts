/**
 * rememberSecretPieces and maskSecrets (core/errors.ts): a secret split over
 * two arguments, two fields of a line or wrapped over lines read one at a
 * time is shown by its hint wherever a message names one piece alone; other
 * hex text is left as it is.
 */
import {randomBytes} from 'node:crypto';

import {expect} from 'chai';
import fc from 'fast-check';

import {excerpt, maskAlong, maskInMessage, maskSecrets, rememberSecretPieces, wrappedSecretRun} from '../../src/core/errors.js';
import {hintOf} from '../../src/core/secret.js';

describe('core/errors: pieces of a split secret', () => {
  const secret = '0123456789abcdef0123456789abcdef01234567';

  it("shows each piece of a secret split by whitespace by the whole secret's hint, in any case", () => {
    rememberSecretPieces(`${secret.slice(0, 20)} ${secret.slice(20)}`);
    expect(maskSecrets(`argument 2: \`${secret.slice(20).toUpperCase()}\` is not an address`)).to.equal(`argument 2: \`${hintOf(secret)}\` is not an address`);
    expect(maskAlong(`line 1: \`${secret.slice(0, 20)}\``, 'unrelated')).to.equal(`line 1: \`${hintOf(secret)}\``);
  });

  it('remembers nothing of a whole secret beside other hex text, nor pieces shorter than 8 digits', () => {
    const other = 'fedcba9876543210fedcba9876543210fedcba98';
    rememberSecretPieces(`${other} 2001:db8::1`);
    rememberSecretPieces('1234567 abcdef0123456789abcdef0123');
    expect(maskSecrets('2001:db8::1')).to.equal('2001:db8::1');
    expect(maskSecrets('1234567 is not a key')).to.equal('1234567 is not a key');
    expect(maskSecrets(`key ${other}`)).to.equal(`key ${hintOf(other)}`);
  });

  /** A random secret cut into pieces of 4 digits or more at `cuts` (taken in order until the secret is spent). */
  const wrap = (cuts: number[]) => {
    const secret = randomBytes(20).toString('hex');
    const pieces: string[] = [];
    let at = 0;
    for (const cut of cuts) {
      if (secret.length - at - cut < 4) break;
      pieces.push(secret.slice(at, at + cut));
      at += cut;
    }
    pieces.push(secret.slice(at));
    return {secret, pieces};
  };
  const cuts = fc.array(fc.integer({min: 4, max: 30}), {minLength: 1, maxLength: 6});
  /** Lines of an address list, none ending in hex digits after a blank. */
  const plain = ['192.0.2.1', '2001:db8::abcd', '2001:db8::abcd:1234', '10.0.0.0/8 # office', 'Bearer token', ''];
  /** Lines that end in hex pieces: they may take a wrapped secret's first pieces into a run of their own. */
  const hexy = ['beef', 'Bearer cafe', 'abcdef0123456789abcdef01', '10.0.0.1 # key 0123abcd'];

  it("shows every line of a secret wrapped over lines by the secret's hint, whatever address lines come before and after it", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...plain), {maxLength: 3}),
        cuts,
        fc.array(fc.constantFrom(...plain, ...hexy), {maxLength: 3}),
        fc.boolean(),
        (before, at, after, upper) => {
          const {secret, pieces} = wrap(at);
          let run = '';
          for (const line of [...before, ...pieces.map((p) => (upper ? p.toUpperCase() : p)), ...after]) run = wrappedSecretRun(run, line);
          // (A piece of 32 digits or more is a secret of its own, shown by its own hint; the few digits beside it are not one.)
          const whole = pieces.some((p) => p.length >= 32);
          for (const piece of pieces.filter((p) => p.length >= (whole ? 16 : 8))) {
            const masked = maskSecrets(`\`${piece}\` is not an address`);
            expect(masked, pieces.join('|')).not.to.contain(piece);
            if (!whole) expect(masked, pieces.join('|')).to.equal(`\`${hintOf(secret)}\` is not an address`);
          }
          for (const line of plain) expect(maskSecrets(line)).to.equal(line);
        },
      ),
    );
  });

  it('shows no 16 digits of a wrapped secret in a row after lines that end in hex digits', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...plain, ...hexy), {maxLength: 4}), cuts, (before, at) => {
        const {secret, pieces} = wrap(at);
        let run = '';
        for (const line of [...before, ...pieces]) run = wrappedSecretRun(run, line);
        const shown = pieces.map((p) => maskSecrets(p)).join('\n');
        for (let i = 0; i + 16 <= secret.length; i++) expect(shown, pieces.join('|')).not.to.contain(secret.slice(i, i + 16));
      }),
    );
  });

  it('takes a line of nothing but 16 to 31 hex digits for part of a secret, shown by its length alone; shorter or other lines stay', () => {
    const part = randomBytes(10).toString('hex');
    wrappedSecretRun('', part);
    expect(maskSecrets(`line 2: \`${part}\``)).to.equal('line 2: `…20 hex digits…`');
    const short = randomBytes(7).toString('hex');
    wrappedSecretRun('', short);
    wrappedSecretRun('', '2001:db8:abcd:1234::1');
    expect(maskSecrets(short)).to.equal(short);
    expect(maskSecrets('2001:db8:abcd:1234::1')).to.equal('2001:db8:abcd:1234::1');
  });

  it("a message shows a run of 16 to 31 hex digits by its length alone, none of its digits: its own hint would show digits of a secret its key's hint does not (found by an outside tester)", () => {
    const secret = randomBytes(20).toString('hex');
    // The second piece of a secret wrapped at a quote in a log line, as a bad line's excerpt quotes it.
    const message = maskInMessage(`line 8 of n2.log: \`${secret.slice(10)}"\` is not a key field`);
    expect(message).to.equal('line 8 of n2.log: `…30 hex digits…"` is not a key field');
    for (let i = 10; i + 4 <= 40; i++) expect(message, 'no 4 digits of the secret in a row').not.to.contain(secret.slice(i, i + 4));
  });

  it('a reason quotes no digit of a run of 16 or more, and pieces joined into a run that is no whole secret are shown by its length (found by an outside tester)', () => {
    const secret = randomBytes(20).toString('hex');
    const piece = secret.slice(4, 28);
    expect(excerpt(piece)).to.equal('…24 hex digits…');
    expect(excerpt('9876543210'), 'a 32-bit number whole').to.equal('9876543210');
    // Two lines that each hold the same 30 digits of a secret: 60 digits joined, no secret's hint.
    const prefix = secret.slice(0, 30);
    let run = '';
    for (const line of [prefix, prefix]) run = wrappedSecretRun(run, line);
    const shown = maskSecrets(`input ${prefix}`);
    expect(shown).not.to.contain(prefix.slice(26, 30));
    expect(shown).not.to.contain(prefix.slice(4, 8));
    // A whole secret, wrapped, is its key's hint.
    let whole = '';
    for (const line of [secret.slice(0, 20), secret.slice(20)]) whole = wrappedSecretRun(whole, line);
    expect(maskSecrets(secret.slice(0, 20))).to.equal(hintOf(secret));
  });

  it('a secret broken by -, : or . into pieces of 5 digits or more is shown by its hint; addresses and UUIDs are not touched (found by an outside tester)', () => {
    const secret = randomBytes(20).toString('hex');
    const spelled = [
      secret.match(/.{8}/g)!.join('-'),
      secret.match(/.{10}/g)!.join(':'),
      secret.match(/.{10}/g)!.join('.'),
      `${secret.slice(0, 8)}:${secret.slice(8)}`,
      `${secret.slice(0, 15)}:${secret.slice(15)}`,
    ];
    for (const text of spelled) expect(maskInMessage(`refused: \`${text}\``), text).to.equal(`refused: \`${hintOf(secret)}\``);
    for (const kept of ['2001:0db8:0000:0000:0000:0000:0000:0001', '123e4567-e89b-12d3-a456-426614174000', '10.0.0.1', '2001:db8:abcd:12::/64']) {
      expect(maskSecrets(kept), kept).to.equal(kept);
    }
  });

  it('pieces joined by doubled or mixed punctuation (::, .., / _ , ; | +, with spaces) are one secret too (found by an outside tester)', () => {
    const secret = randomBytes(20).toString('hex');
    const ten = secret.match(/.{10}/g)!;
    const spelled = [
      `${ten[0]}:${ten[1]}::${ten[2]}:${ten[3]}`,
      `${ten[0]}.${ten[1]}..${ten[2]}.${ten[3]}`,
      `${ten[0]}::${ten[1]}::${secret.slice(20)}`,
      ten.join('/'),
      ten.join('_'),
      ten.join(', '),
      ten.join(';'),
      ten.join(' | '),
      ten.join('+'),
      ten.join('-.-'),
    ];
    for (const text of spelled) expect(maskInMessage(`unknown key \`${text}\``), text).to.equal(`unknown key \`${hintOf(secret)}\``);
    for (const kept of ['2001:db8::1', '::ffff:10.0.0.1', '10.0.0.0/8, 192.0.2.0/24', '2001:db8:abcd:12::/64; fe80::1', 'a_b-c.d', '1764547199,1764547200']) {
      expect(maskSecrets(kept), kept).to.equal(kept);
    }
  });
});
