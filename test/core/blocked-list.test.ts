/** The blocked list (core/blocked-list.ts): selecting, dismissing and picking records. */
import {expect} from 'chai';

import {blockedCandidates, blockedChosen, blockedInputs, dismissBlocked, latestBlocked, selectBlocked} from '../../src/core/blocked-list.js';
import {InputError} from '../../src/core/errors.js';
import {parseEntry} from '../../src/core/entry-parse.js';
import {blocked, store} from './workflow-fixtures.js';

const at = (day: number) => new Date(Date.UTC(2026, 0, day)).toISOString();

describe('core/blocked-list', () => {
  const data = () =>
    store(
      [],
      {billing: [], smtp1: []},
      {
        blocked: [blocked('192.0.2.1', 'billing', 'api', at(2)), blocked('192.0.2.2', 'smtp1', 'smtp', at(5)), blocked('198.51.100.1', 'billing', 'api', at(4))],
      },
    );

  it('selects by key (name or secret), channel and time seen, newest first', () => {
    expect(selectBlocked(data()).map((b) => b.ip)).to.deep.equal(['192.0.2.2', '198.51.100.1', '192.0.2.1']);
    expect(selectBlocked(data(), {key: '1'.repeat(40)}).map((b) => b.ip)).to.deep.equal(['198.51.100.1', '192.0.2.1']);
    expect(selectBlocked(data(), {channel: 'smtp'}).map((b) => b.ip)).to.deep.equal(['192.0.2.2']);
    expect(selectBlocked(data(), {since: at(3)}).map((b) => b.ip)).to.deep.equal(['192.0.2.2', '198.51.100.1']);
    expect(latestBlocked(data(), 1).map((b) => b.ip)).to.deep.equal(['192.0.2.2']);
    expect(() => selectBlocked(data(), {key: 'nobody'})).to.throw(InputError, 'unknown key');
  });

  it('dismisses the selected records a range covers, and refuses when it covers none', () => {
    const d = data();
    expect(dismissBlocked(d, [parseEntry('192.0.2.0/24')], {key: 'billing'})).to.deep.equal([{ip: '192.0.2.1', key: 'billing'}]);
    expect(d.blocked.map((b) => b.ip)).to.deep.equal(['192.0.2.2', '198.51.100.1']);
    expect(() => dismissBlocked(d, [parseEntry('203.0.113.0/24')])).to.throw(InputError, 'none of the given addresses');
  });

  it('picks records to authorize: of a key, covered by the arguments, each address once with its key as label', () => {
    const d = data();
    d.blocked.push(blocked('192.0.2.1', 'smtp1', 'smtp'));
    const candidates = blockedCandidates(d);
    expect(candidates).to.have.length(4);
    const chosen = blockedChosen(candidates, [parseEntry('192.0.2.1')]);
    expect(blockedInputs(chosen)).to.deep.equal([{text: '192.0.2.1', label: 'blocked: key billing', where: 'blocked 192.0.2.1', source: 'blocked'}]);
    expect(blockedCandidates(d, 'smtp1').map((b) => b.ip)).to.deep.equal(['192.0.2.2', '192.0.2.1']);
    expect(() => blockedChosen(candidates, [parseEntry('203.0.113.1')])).to.throw(InputError, 'none of the given addresses');
    expect(() => blockedCandidates(store([]))).to.throw(InputError, 'nothing to authorize');
  });
});
