import {expect} from 'chai';

import {aggregate, intervalToPrefixes, mergeIntervals} from '../../src/core/aggregate.js';
import {parseEntry} from '../../src/core/entry-parse.js';

const aggregated = (...texts: string[]) => aggregate(texts.map((t) => parseEntry(t, {force: true}))).map(String);

describe('core/aggregate', () => {
  it('merges two adjacent halves into their parent', () => {
    expect(aggregated('10.0.0.128/25', '10.0.0.0/25')).to.deep.equal(['10.0.0.0/24']);
    expect(aggregated('10.0.0.0', '10.0.0.1')).to.deep.equal(['10.0.0.0/31']);
  });

  it('merges repeatedly up the tree', () => {
    expect(aggregated('10.0.0.0/26', '10.0.0.64/26', '10.0.0.128/25', '10.0.1.0/24')).to.deep.equal(['10.0.0.0/23']);
  });

  it('keeps adjacent ranges that are not two halves of one CIDR', () => {
    expect(aggregated('10.0.0.128/25', '10.0.1.0/25')).to.deep.equal(['10.0.0.128/25', '10.0.1.0/25']);
    expect(aggregated('10.0.1.0/24', '10.0.2.0/24')).to.deep.equal(['10.0.1.0/24', '10.0.2.0/24']);
  });

  it('drops ranges inside others', () => {
    expect(aggregated('10.1.0.0/16', '10.0.0.0/8', '10.1.2.3')).to.deep.equal(['10.0.0.0/8']);
  });

  it('drops duplicates', () => {
    expect(aggregated('192.0.2.1', '192.0.2.1/32', '::ffff:192.0.2.1')).to.deep.equal(['192.0.2.1']);
  });

  it('splits a non-aligned run of addresses into the fewest CIDRs', () => {
    expect(aggregated('10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6')).to.deep.equal(['10.0.0.1', '10.0.0.2/31', '10.0.0.4/31', '10.0.0.6']);
  });

  it('merges a run that crosses a large boundary without widening it', () => {
    expect(aggregated('10.255.255.255', '11.0.0.0')).to.deep.equal(['10.255.255.255', '11.0.0.0']);
  });

  it('keeps IPv4 before IPv6 and never merges across families', () => {
    expect(aggregated('2001:db8:8000::/33', '0.0.0.0/1', '2001:db8::/33', '128.0.0.0/1')).to.deep.equal(['0.0.0.0/0', '2001:db8::/32']);
    expect(aggregated('::/96', '0.0.0.0/0')).to.deep.equal(['0.0.0.0/0', '::/96']);
  });

  it('handles the last addresses of each family', () => {
    expect(aggregated('255.255.255.254', '255.255.255.255')).to.deep.equal(['255.255.255.254/31']);
    expect(aggregated('ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).to.deep.equal(['ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127']);
    expect(aggregated('::/1', '8000::/1')).to.deep.equal(['::/0']);
  });

  it('returns nothing for nothing', () => {
    expect(aggregate([])).to.deep.equal([]);
  });

  it('overlapping ranges merge into one interval', () => {
    const intervals = mergeIntervals(['10.0.0.0/24', '10.0.0.128/25', '10.0.1.0/24', '10.0.3.0/24'].map((t) => parseEntry(t)));
    expect(intervals).to.deep.equal([
      {family: 4, first: Uint32Array.of(0x0a000000), last: Uint32Array.of(0x0a0001ff)},
      {family: 4, first: Uint32Array.of(0x0a000300), last: Uint32Array.of(0x0a0003ff)},
    ]);
  });

  it('splits an interval into the fewest CIDRs', () => {
    const all = 0xffffffff;
    expect(intervalToPrefixes({family: 4, first: Uint32Array.of(0), last: Uint32Array.of(all)}).map(String)).to.deep.equal(['0.0.0.0/0']);
    expect(intervalToPrefixes({family: 4, first: Uint32Array.of(1), last: Uint32Array.of(all - 1)}).length).to.equal(62);
    expect(intervalToPrefixes({family: 6, first: Uint32Array.of(0, 0, 0, 1), last: Uint32Array.of(all, all, all, all - 1)}).length).to.equal(254);
    expect(intervalToPrefixes({family: 6, first: Uint32Array.of(0, 0, 0, 0), last: Uint32Array.of(all, all, all, all)}).map(String)).to.deep.equal(['::/0']);
    expect(intervalToPrefixes({family: 4, first: Uint32Array.of(all), last: Uint32Array.of(all)}).map(String)).to.deep.equal(['255.255.255.255']);
  });
});
