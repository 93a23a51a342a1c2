import {expect} from 'chai';

import {scanDecisionAddress} from '../../src/core/address.js';
import {parseEntry} from '../../src/core/entry-parse.js';
import {PrefixIndex} from '../../src/core/prefix-index.js';

function indexOf(...texts: string[]): PrefixIndex {
  return new PrefixIndex(texts.map((t) => parseEntry(t, {force: true})));
}

/** The entries containing `address`, as canonical texts, in the order the index reports them. */
function matching(index: PrefixIndex, address: string): string[] {
  const words = new Uint32Array(4);
  const family = scanDecisionAddress(address, words);
  const found = index.matches(family, words).map((i) => index.entries[i].toString());
  expect(index.has(family, words), `has() agrees with matches() for ${address}`).to.equal(found.length > 0);
  return found;
}

describe('core/prefix-index', () => {
  describe('nested IPv4 ranges', () => {
    // Given out of order on purpose: the index sorts, the answer names list positions.
    const index = indexOf('10.1.2.0/24', '10.0.0.0/8', '10.1.0.0/16', '10.1.2.3', '10.1.3.0/24', '192.168.0.0/16');

    it('reports every containing entry, outermost first', () => {
      expect(matching(index, '10.1.2.3')).to.deep.equal(['10.0.0.0/8', '10.1.0.0/16', '10.1.2.0/24', '10.1.2.3']);
    });

    it('reports positions in the list it was given', () => {
      const words = new Uint32Array(4);
      const family = scanDecisionAddress('10.1.2.3', words);
      expect(index.matches(family, words)).to.deep.equal([1, 2, 0, 3]);
    });

    it('does not report a sibling range', () => {
      expect(matching(index, '10.1.2.4')).to.deep.equal(['10.0.0.0/8', '10.1.0.0/16', '10.1.2.0/24']);
      expect(matching(index, '10.1.3.7')).to.deep.equal(['10.0.0.0/8', '10.1.0.0/16', '10.1.3.0/24']);
    });

    it('still finds the outer ranges past the end of an inner one', () => {
      expect(matching(index, '10.1.4.0')).to.deep.equal(['10.0.0.0/8', '10.1.0.0/16']);
      expect(matching(index, '10.2.0.0')).to.deep.equal(['10.0.0.0/8']);
      expect(matching(index, '10.255.255.255')).to.deep.equal(['10.0.0.0/8']);
    });

    it('matches the first and last address of a range and not the ones beside it', () => {
      expect(matching(index, '10.1.0.0')).to.deep.equal(['10.0.0.0/8', '10.1.0.0/16']);
      expect(matching(index, '10.1.255.255')).to.deep.equal(['10.0.0.0/8', '10.1.0.0/16']);
      expect(matching(index, '10.0.255.255')).to.deep.equal(['10.0.0.0/8']);
      expect(matching(index, '10.0.0.0')).to.deep.equal(['10.0.0.0/8']);
      expect(matching(index, '9.255.255.255')).to.deep.equal([]);
      expect(matching(index, '11.0.0.0')).to.deep.equal([]);
      expect(matching(index, '192.168.255.255')).to.deep.equal(['192.168.0.0/16']);
      expect(matching(index, '192.169.0.0')).to.deep.equal([]);
    });

    it('keeps the parent of a single address at the first or last address of a range', () => {
      const edges = indexOf('10.0.0.0/24', '10.0.0.255', '10.0.0.0', '10.0.1.0/24');
      expect(matching(edges, '10.0.0.255')).to.deep.equal(['10.0.0.0/24', '10.0.0.255']);
      expect(matching(edges, '10.0.0.0')).to.deep.equal(['10.0.0.0/24', '10.0.0.0']);
      expect(matching(edges, '10.0.0.254')).to.deep.equal(['10.0.0.0/24']);
      expect(matching(edges, '10.0.1.0')).to.deep.equal(['10.0.1.0/24']);
    });

    it('finds nothing below the first entry or above the last', () => {
      expect(matching(index, '0.0.0.0')).to.deep.equal([]);
      expect(matching(index, '255.255.255.255')).to.deep.equal([]);
    });

    it('matches a mapped IPv6 address as its IPv4 address', () => {
      expect(matching(index, '::ffff:10.1.2.3')).to.deep.equal(['10.0.0.0/8', '10.1.0.0/16', '10.1.2.0/24', '10.1.2.3']);
      expect(matching(index, '::ffff:11.0.0.0')).to.deep.equal([]);
    });
  });

  describe('the edges of the address space', () => {
    const index = indexOf('0.0.0.0/0', '0.0.0.0', '255.255.255.255', '::/0', '::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff');

    it('matches 0.0.0.0 and 255.255.255.255 inside the whole IPv4 space', () => {
      expect(matching(index, '0.0.0.0')).to.deep.equal(['0.0.0.0/0', '0.0.0.0']);
      expect(matching(index, '255.255.255.255')).to.deep.equal(['0.0.0.0/0', '255.255.255.255']);
      expect(matching(index, '128.0.0.0')).to.deep.equal(['0.0.0.0/0']);
    });

    it('matches :: and the last IPv6 address inside the whole IPv6 space', () => {
      expect(matching(index, '::')).to.deep.equal(['::/0', '::']);
      expect(matching(index, 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).to.deep.equal(['::/0', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff']);
    });
  });

  describe('IPv6', () => {
    const index = indexOf('2001:db8:1::/48', '2001:db8::/32', '2001:db8:1:2::/64', '2001:db8:2::/48', 'fe80::/10');

    it('reports nested ranges outermost first', () => {
      expect(matching(index, '2001:db8:1:2::5')).to.deep.equal(['2001:db8::/32', '2001:db8:1::/48', '2001:db8:1:2::/64']);
      expect(matching(index, '2001:DB8:0001:0003::1')).to.deep.equal(['2001:db8::/32', '2001:db8:1::/48']);
      expect(matching(index, '2001:db8:3::')).to.deep.equal(['2001:db8::/32']);
    });

    it('matches the first and last address of a range and not the ones beside it', () => {
      expect(matching(index, '2001:db8::')).to.deep.equal(['2001:db8::/32']);
      expect(matching(index, '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff')).to.deep.equal(['2001:db8::/32']);
      expect(matching(index, '2001:db7:ffff:ffff:ffff:ffff:ffff:ffff')).to.deep.equal([]);
      expect(matching(index, '2001:db9::')).to.deep.equal([]);
      expect(matching(index, '2001:db8:1:2:ffff:ffff:ffff:ffff')).to.deep.equal(['2001:db8::/32', '2001:db8:1::/48', '2001:db8:1:2::/64']);
      expect(matching(index, '2001:db8:1:3::')).to.deep.equal(['2001:db8::/32', '2001:db8:1::/48']);
      expect(matching(index, 'febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).to.deep.equal(['fe80::/10']);
      expect(matching(index, 'fec0::')).to.deep.equal([]);
    });

    it('compares all four words, not just the first', () => {
      const deep = indexOf('2001:db8::1:0/112');
      expect(matching(deep, '2001:db8::1:ffff')).to.deep.equal(['2001:db8::1:0/112']);
      expect(matching(deep, '2001:db8::2:0')).to.deep.equal([]);
      expect(matching(deep, '2001:db8::ffff')).to.deep.equal([]);
    });
  });

  describe('families are separate', () => {
    it('never matches an IPv6 address against IPv4 entries with the same low bits, or the reverse', () => {
      const index = indexOf('0.0.0.0/8', '::/96');
      expect(matching(index, '::1')).to.deep.equal(['::/96']);
      expect(matching(index, '0.0.0.1')).to.deep.equal(['0.0.0.0/8']);
    });

    it('does not let an IPv6 range around the mapped block match a mapped address', () => {
      // ::ffff:10.1.2.3 is 10.1.2.3 for every decision (SPEC: 4-in-6 never bypasses IPv4 entries).
      const index = indexOf('::/64');
      expect(matching(index, '::ffff:10.1.2.3')).to.deep.equal([]);
      expect(matching(index, '::1')).to.deep.equal(['::/64']);
    });
  });

  describe('duplicates', () => {
    it('reports every copy, in list order', () => {
      const index = indexOf('10.0.0.0/8', '10.1.0.0/16', '10.0.0.0/8', '10.1.0.0/16');
      const words = new Uint32Array(4);
      const family = scanDecisionAddress('10.1.0.1', words);
      expect(index.matches(family, words)).to.deep.equal([0, 2, 1, 3]);
      expect(matching(index, '10.2.0.0')).to.deep.equal(['10.0.0.0/8', '10.0.0.0/8']);
    });

    it('keeps a duplicated single address', () => {
      const index = indexOf('2001:db8::1', '2001:db8::1/128');
      expect(matching(index, '2001:db8::1')).to.deep.equal(['2001:db8::1', '2001:db8::1']);
    });
  });

  describe('an empty index', () => {
    it('contains nothing', () => {
      const index = new PrefixIndex([]);
      expect(index.size).to.equal(0);
      expect(matching(index, '10.0.0.1')).to.deep.equal([]);
      expect(matching(index, '::1')).to.deep.equal([]);
    });
  });

  describe('covering()', () => {
    const index = indexOf('10.0.0.0/8', '10.0.0.0/16', '10.1.0.0/16', '10.1.2.0/24', '2001:db8::/32');

    it('names the entries that contain a whole range, outermost first', () => {
      expect(index.covering(parseEntry('10.1.2.0/24')).map(String)).to.deep.equal(['10.0.0.0/8', '10.1.0.0/16', '10.1.2.0/24']);
      expect(index.covering(parseEntry('10.1.2.128/25')).map(String)).to.deep.equal(['10.0.0.0/8', '10.1.0.0/16', '10.1.2.0/24']);
      expect(index.covering(parseEntry('10.1.2.3')).map(String)).to.deep.equal(['10.0.0.0/8', '10.1.0.0/16', '10.1.2.0/24']);
    });

    it('leaves out entries that hold only part of the range', () => {
      expect(index.covering(parseEntry('10.0.0.0/15')).map(String)).to.deep.equal(['10.0.0.0/8']);
      expect(index.covering(parseEntry('10.0.0.0/7', {force: true})).map(String)).to.deep.equal([]);
    });

    it('finds nothing for ranges outside every entry', () => {
      expect(index.covering(parseEntry('11.0.0.0/8')).map(String)).to.deep.equal([]);
      expect(index.covering(parseEntry('2001:db9::/32')).map(String)).to.deep.equal([]);
    });

    it('covers IPv6 ranges and mapped entries as IPv4', () => {
      expect(index.covering(parseEntry('2001:db8:5::/48')).map(String)).to.deep.equal(['2001:db8::/32']);
      expect(index.covering(parseEntry('::ffff:10.1.2.0/120')).map(String)).to.deep.equal(['10.0.0.0/8', '10.1.0.0/16', '10.1.2.0/24']);
    });
  });
});
