import {expect} from 'chai';

import {Address} from '../../src/core/address.js';
import {AddressError, SafetyError, show} from '../../src/core/errors.js';
import {Prefix} from '../../src/core/prefix.js';
import {EntryOptions, parseEntry} from '../../src/core/entry-parse.js';

function refusal(input: string, options: EntryOptions = {}): AddressError {
  try {
    parseEntry(input, options);
  } catch (error) {
    expect(error).to.be.instanceOf(AddressError);
    const refused = error as AddressError;
    expect(refused.kind).to.equal('usage');
    expect(refused.input).to.equal(input);
    expect(refused.message, 'the message names the input').to.contain(show(input));
    return refused;
  }
  expect.fail(`${JSON.stringify(input)} was accepted`);
}

const entry = (text: string, options?: EntryOptions) => parseEntry(text, options).toString();

describe('core/prefix', () => {
  describe('refuses bad prefix lengths', () => {
    const cases: Array<[string, string, string]> = [
      ['an empty prefix', '10.0.0.0/', 'is not an IPv4 range: the prefix length after "/" is empty'],
      ['an empty IPv6 prefix', '2001:db8::/', 'is not an IPv6 range: the prefix length after "/" is empty'],
      ['a leading zero', '10.0.0.0/08', 'the prefix length 08 has a leading zero'],
      ['a zero written twice', '0.0.0.0/00', 'the prefix length 00 has a leading zero'],
      ['an IPv6 leading zero', '2001:db8::/032', 'the prefix length 032 has a leading zero'],
      ['more than 32 bits', '10.0.0.0/33', 'the prefix length 33 > 32'],
      ['far more than 32 bits', '10.0.0.0/4294967328', 'the prefix length 4294967328 > 32'],
      ['more than 128 bits', '2001:db8::/129', 'the prefix length 129 > 128'],
      ['an IPv6 prefix length given to IPv4', '10.0.0.0/64', 'the prefix length 64 > 32'],
      ['two prefixes', '10.0.0.0/8/8', 'has more than one "/"'],
      ['an empty second prefix', '10.0.0.0//8', 'has more than one "/"'],
      ['a hex prefix', '10.0.0.0/0x8', 'the prefix length "0x8" is not a decimal number'],
      ['a signed prefix', '10.0.0.0/+8', 'the prefix length "+8" is not a decimal number'],
      ['a negative prefix', '10.0.0.0/-1', 'the prefix length "-1" is not a decimal number'],
      ['a space before the prefix', '10.0.0.0/ 8', 'the prefix length " 8" is not a decimal number'],
      ['a space after the prefix', '10.0.0.0/8 ', 'the prefix length "8 " is not a decimal number'],
      ['a newline after the prefix', '10.0.0.0/8\n', 'the prefix length "8\\n" is not a decimal number'],
      ['non-ASCII digits in the prefix', '10.0.0.0/\u0668', 'is not a decimal number'],
      ['a fractional prefix', '10.0.0.0/8.0', 'is not a decimal number'],
      ['a netmask instead of a length', '10.0.0.0/255.0.0.0', 'is not a decimal number'],
      ['a zone before the prefix', 'fe80::%eth0/64', 'has a zone index (%eth0)'],
      ['a space before the slash', '10.0.0.0 /8', 'is not an IPv4 range: contains a space'],
      ['no address before the slash', '/8', 'is not an IPv4 range: is empty'],
      ['a bad address before the slash', '010.0.0.0/8', 'is not an IPv4 range: octet 010 has a leading zero'],
      ['a short form before the slash', '10/8', 'is not an IPv4 range: has 1 octet'],
    ];
    for (const [why, input, reason] of cases) {
      it(`refuses ${JSON.stringify(input)}: ${why}`, () => {
        expect(refusal(input).message).to.contain(reason);
      });
    }

    it('refuses a very long prefix with a message of bounded length', () => {
      for (const input of [`10.0.0.0/${'9'.repeat(100_000)}`, `10.0.0.0/${'x'.repeat(100_000)}`, `10.0.0.0/0${'0'.repeat(100_000)}`]) {
        const {message} = refusal(input);
        expect(message.length, message.slice(0, 400)).to.be.below(300);
      }
    });
  });

  describe('host bits', () => {
    it('refuses 192.168.1.25/24 with a hint naming 192.168.1.0/24', () => {
      const refused = refusal('192.168.1.25/24');
      expect(refused.message).to.contain('has host bits set: the network is 192.168.1.0/24');
      expect(refused.hint).to.contain('192.168.1.0/24');
      expect(refused.hint).to.contain('--normalize');
    });

    it('accepts 192.168.1.25/24 as 192.168.1.0/24 with normalize', () => {
      expect(entry('192.168.1.25/24', {normalize: true})).to.equal('192.168.1.0/24');
    });

    it('refuses IPv6 host bits, naming the network in canonical form', () => {
      const refused = refusal('2001:DB8::1/32');
      expect(refused.message).to.contain('the network is 2001:db8::/32');
      expect(entry('2001:DB8::1/32', {normalize: true})).to.equal('2001:db8::/32');
    });

    it('refuses host bits in a mapped range, naming the IPv4 network', () => {
      expect(refusal('::ffff:10.1.2.3/104').message).to.contain('the network is 10.0.0.0/8');
      expect(entry('::ffff:10.1.2.3/104', {normalize: true})).to.equal('10.0.0.0/8');
    });

    it('accepts a masked range unchanged, with or without normalize', () => {
      expect(entry('10.0.0.0/8')).to.equal('10.0.0.0/8');
      expect(entry('10.0.0.0/8', {normalize: true})).to.equal('10.0.0.0/8');
    });
  });

  describe('broad entries (broader than /8 for IPv4, /16 for IPv6): a safety refusal unless forced', () => {
    function broadRefusal(input: string, options: EntryOptions = {}): SafetyError {
      try {
        parseEntry(input, options);
      } catch (error) {
        expect(error).to.be.instanceOf(SafetyError);
        const refused = error as SafetyError;
        expect(refused.kind).to.equal('safety');
        expect(refused.message, 'the message names the input').to.contain(show(input));
        expect(refused.hint).to.contain('--force');
        return refused;
      }
      expect.fail(`${input} was accepted`);
    }

    const cases: Array<[string, string]> = [
      ['0.0.0.0/0', '4,294,967,296 addresses (all of IPv4)'],
      ['0.0.0.0/1', '2,147,483,648 addresses (1/2 of IPv4)'],
      ['128.0.0.0/7', '33,554,432 addresses (1/128 of IPv4)'],
      ['::/0', '2^128 addresses (all of IPv6)'],
      ['2000::/3', '2^125 addresses (1/8 of IPv6)'],
      ['2000::/15', '2^113 addresses (1/32,768 of IPv6)'],
      ['::ffff:0.0.0.0/96', '4,294,967,296 addresses (all of IPv4)'],
    ];
    for (const [input, opens] of cases) {
      it(`refuses ${input}, saying it opens ${opens}, unless forced`, () => {
        expect(broadRefusal(input).message).to.contain(`opens ${opens}`);
        expect(broadRefusal(input, {normalize: true}).message).to.contain(`opens ${opens}`);
        expect(entry(input, {force: true})).to.equal(parseEntry(input, {force: true}).toString());
      });
    }

    it('accepts 0.0.0.0/0 and ::/0 with force', () => {
      expect(entry('0.0.0.0/0', {force: true})).to.equal('0.0.0.0/0');
      expect(entry('::/0', {force: true})).to.equal('::/0');
    });

    it('judges a normalized range by its network, naming both', () => {
      const refused = broadRefusal('10.0.0.0/0', {normalize: true});
      expect(refused.message).to.contain('(0.0.0.0/0)');
      expect(entry('10.0.0.0/0', {normalize: true, force: true})).to.equal('0.0.0.0/0');
      // Host bits are a bad entry before they are a broad one.
      expect(refusal('10.0.0.0/0').message).to.contain('the network is 0.0.0.0/0');
    });

    it('accepts a /8 (IPv4) and a /16 (IPv6) without force: the broadest that need none', () => {
      expect(entry('10.0.0.0/8')).to.equal('10.0.0.0/8');
      expect(entry('2001::/16')).to.equal('2001::/16');
      expect(entry('::ffff:10.0.0.0/104')).to.equal('10.0.0.0/8');
    });
  });

  describe('canonical entry text', () => {
    const cases: Array<[string, string]> = [
      ['10.0.0.1/32', '10.0.0.1'],
      ['10.0.0.1', '10.0.0.1'],
      ['10.0.0.0/8', '10.0.0.0/8'],
      ['2001:db8::1/128', '2001:db8::1'],
      ['2001:0DB8:0000::/32', '2001:db8::/32'],
      ['2001:db8:0:0:1:0:0:0/80', '2001:db8:0:0:1::/80'],
      ['2001:db8:0:0:1:0:0:0/96', '2001:db8:0:0:1::/96'],
      ['::1/128', '::1'],
      ['fe80::/10', 'fe80::/10'],
    ];
    for (const [input, canonical] of cases) {
      it(`writes ${input} as ${canonical}`, () => {
        // force: fe80::/10 is broader than /16 (see "broad entries").
        expect(entry(input, {force: true})).to.equal(canonical);
      });
    }
  });

  describe('4-in-6 entries', () => {
    it('turns ::ffff:192.0.2.1 into the IPv4 entry 192.0.2.1', () => {
      const p = parseEntry('::ffff:192.0.2.1');
      expect(p.family).to.equal(4);
      expect(p.toString()).to.equal('192.0.2.1');
      expect(p.equals(parseEntry('192.0.2.1'))).to.equal(true);
    });

    it('turns ::ffff:10.0.0.0/104 into 10.0.0.0/8', () => {
      expect(entry('::ffff:10.0.0.0/104')).to.equal('10.0.0.0/8');
      expect(entry('::FFFF:A00:0/104')).to.equal('10.0.0.0/8');
      expect(entry('::ffff:192.0.2.1/128')).to.equal('192.0.2.1');
    });

    it('keeps an IPv6 range wider than the mapped block as IPv6', () => {
      expect(entry('::ffff:0:0/95', {normalize: true})).to.equal('::fffe:0:0/95');
      expect(entry('::/64')).to.equal('::/64');
    });

    it('does not unmap the deprecated IPv4-compatible form', () => {
      expect(entry('::192.0.2.1')).to.equal('::c000:201');
      expect(parseEntry('::192.0.2.1').family).to.equal(6);
    });
  });

  describe('Prefix values', () => {
    it('knows its first and last address', () => {
      const p = parseEntry('10.1.0.0/16');
      expect(p.first.toString()).to.equal('10.1.0.0');
      expect(p.last.toString()).to.equal('10.1.255.255');
      const single = parseEntry('10.1.2.3');
      expect(single.first.equals(single.last)).to.equal(true);
      expect(Prefix.parse('10.1.2.3/8').first.toString()).to.equal('10.0.0.0');
      expect(Prefix.parse('2001:db8::1/32').last.toString()).to.equal('2001:db8:ffff:ffff:ffff:ffff:ffff:ffff');
      expect(Prefix.parse('::/0').last.toString()).to.equal('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff');
    });

    it('contains its first and last address and nothing outside', () => {
      const p = parseEntry('10.1.0.0/16');
      expect(p.contains(Address.parse('10.1.0.0'))).to.equal(true);
      expect(p.contains(Address.parse('10.1.255.255'))).to.equal(true);
      expect(p.contains(Address.parse('10.0.255.255'))).to.equal(false);
      expect(p.contains(Address.parse('10.2.0.0'))).to.equal(false);
      expect(p.contains(Address.parse('::ffff:10.1.2.3')), 'a mapped address is its IPv4 address').to.equal(true);
      expect(p.contains(Address.parse('::a01:203')), 'another family never matches').to.equal(false);
    });

    it('covers nested ranges and not partly covered ones', () => {
      const outer = parseEntry('10.0.0.0/8');
      expect(outer.covers(parseEntry('10.1.0.0/16'))).to.equal(true);
      expect(outer.covers(outer)).to.equal(true);
      expect(parseEntry('10.1.0.0/16').covers(outer)).to.equal(false);
      expect(outer.covers(parseEntry('11.0.0.0/8'))).to.equal(false);
      expect(parseEntry('::/0', {force: true}).covers(outer)).to.equal(false);
    });

    it('masks explicitly', () => {
      const p = Prefix.of(Address.parse('192.168.1.25'), 24);
      expect(p.isMasked()).to.equal(false);
      expect(p.masked().toString()).to.equal('192.168.1.0/24');
      expect(p.masked().isMasked()).to.equal(true);
      expect(p.toString()).to.equal('192.168.1.25/24');
    });

    it('refuses a prefix length outside the family', () => {
      expect(() => Prefix.of(Address.parse('10.0.0.0'), 33)).to.throw(RangeError);
      expect(() => Prefix.of(Address.parse('::'), 129)).to.throw(RangeError);
      expect(() => Prefix.of(Address.parse('::'), 1.5)).to.throw(RangeError);
    });

    it('sorts IPv4 before IPv6, then by network, wider first', () => {
      const texts = ['2001:db8::/32', '10.1.0.0/16', '10.0.0.0/8', '9.0.0.0/8', '::1', '10.0.0.0/16'];
      const sorted = texts
        .map((t) => parseEntry(t))
        .sort(Prefix.compare)
        .map(String);
      expect(sorted).to.deep.equal(['9.0.0.0/8', '10.0.0.0/8', '10.0.0.0/16', '10.1.0.0/16', '::1', '2001:db8::/32']);
    });
  });
});
