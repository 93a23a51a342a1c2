/** planRevoke / applyRevoke (core/revoke.ts): what a revoke removes, refuses, asks and cuts off. */
import {expect} from 'chai';

import {InputError, SafetyError} from '../../src/core/errors.js';
import {parseEntry} from '../../src/core/entry-parse.js';
import {applyRevoke, planRevoke} from '../../src/core/revoke.js';
import {NOW, seen, store} from './workflow-fixtures.js';

const prefixes = (...texts: string[]) => texts.map((t) => parseEntry(t));

describe('core/revoke: planRevoke and applyRevoke', () => {
  it('plans removing exact entries without touching the store; applying it removes them', () => {
    const data = store(['10.0.0.0/8', '192.0.2.1', '192.0.2.2']);
    const plan = planRevoke(data, prefixes('192.0.2.1/32'), {force: false, now: NOW});
    expect(plan).to.deep.include({key: null, removed: ['192.0.2.1'], blocking: [], cutOff: [], question: null});
    expect(data.account).to.have.length(3);
    expect(applyRevoke(data, plan)).to.deep.equal(['192.0.2.1']);
    expect(data.account.map((r) => r.entry)).to.deep.equal(['10.0.0.0/8', '192.0.2.2']);
  });

  it('refuses an entry that is not in the list, naming the list and what covers it', () => {
    const data = store(['10.0.0.0/8'], {billing: ['192.0.2.0/24', '192.0.2.9']});
    expect(() => planRevoke(data, prefixes('10.1.0.0/16'), {force: false, now: NOW})).to.throw(InputError, '10.1.0.0/16 is not in the account list; nothing was removed');
    expect(() => planRevoke(data, prefixes('10.1.0.0/16'), {key: 'billing', force: false, now: NOW})).to.throw(
      InputError,
      "10.1.0.0/16 is not in key billing's list; nothing was removed",
    );
    expect(() => planRevoke(data, prefixes('10.1.0.0/16'), {key: 'billing', group: 'gh', force: false, now: NOW})).to.throw(
      InputError,
      "group gh has no entries in key billing's list",
    );
  });

  it('refuses removing the last entry of a key list (exit 4) unless forced', () => {
    const data = store([], {billing: ['192.0.2.0/24']});
    expect(() => planRevoke(data, prefixes('192.0.2.0/24'), {key: 'billing', force: false, now: NOW})).to.throw(SafetyError, 'restricted by nothing');
    const plan = planRevoke(data, prefixes('192.0.2.0/24'), {key: 'billing', force: true, now: NOW});
    applyRevoke(data, plan);
    expect(data.keys[0].allow).to.deep.equal([]);
  });

  it('while blocking is active it asks, and names the recently seen traffic the removal cuts off', () => {
    const data = store(['192.0.2.0/24', '198.51.100.0/24'], {billing: []});
    data.blocking.api.state = 'active';
    data.seen = [seen('192.0.2.7', ['billing']), seen('198.51.100.7', ['billing'])];
    const plan = planRevoke(data, prefixes('192.0.2.0/24'), {force: false, now: NOW});
    expect(plan.blocking).to.deep.equal(['api']);
    expect(plan.question).to.deep.equal({text: 'Revoke 1 entry?'});
    expect(plan.cutOff.map((c) => [c.ip, c.keys])).to.deep.equal([['192.0.2.7', ['billing']]]);
  });

  it('says whether other live, enabled allow entries of the list still hold the removed addresses (all, some or none)', () => {
    const data = store(['10.0.0.0/16', '10.0.0.0/24', '10.1.0.0/24', '10.1.0.0/25', '192.0.2.0/24'], {billing: []});
    data.blocking.api.state = 'active';
    const held = (...texts: string[]) => planRevoke(data, prefixes(...texts), {force: false, now: NOW}).stillHeld;
    expect(held('10.0.0.0/24'), 'inside a /16 that stays').to.equal('all');
    expect(held('10.1.0.0/24'), 'half of it in a /25 that stays').to.equal('some');
    expect(held('192.0.2.0/24'), 'nothing else holds it').to.equal('none');
    expect(held('10.0.0.0/24', '192.0.2.0/24'), 'one held, one not').to.equal('some');
    expect(held('10.0.0.0/16', '10.0.0.0/24'), 'both go').to.equal('none');
    // What does not allow is no holder: an expired, a disabled or a deny entry.
    const cover = data.account.find((r) => r.entry === '10.0.0.0/16')!;
    cover.expiresAt = new Date(NOW.getTime() - 1000).toISOString();
    expect(held('10.0.0.0/24'), 'the /16 expired').to.equal('none');
    cover.expiresAt = null;
    cover.enabled = false;
    expect(held('10.0.0.0/24'), 'the /16 disabled').to.equal('none');
    delete cover.enabled;
    cover.effect = 'deny';
    expect(held('10.0.0.0/24'), 'the /16 a deny entry').to.equal('none');
  });
});
