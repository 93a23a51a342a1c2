/** planActivate / planDeactivate (core/blocking.ts): what switching blocking asks, and why. */
import {expect} from 'chai';

import {planActivate, planDeactivate, setBlocking, switchJson} from '../../src/core/blocking.js';
import {SafetyError} from '../../src/core/errors.js';
import {NOW, seen, store} from './workflow-fixtures.js';

describe('core/blocking: planActivate and planDeactivate', () => {
  it('activating asks nothing when no seen traffic would be refused', () => {
    const data = store(['192.0.2.0/24'], {billing: []});
    data.seen = [seen('192.0.2.7', ['billing'])];
    expect(planActivate(data, ['api'], NOW)).to.deep.equal({channels: ['api'], refused: [], emptyAccount: null, question: null});
    expect(data.blocking.api.state).to.equal('learning');
  });

  it('activating names the seen addresses it would refuse, and refuses without a terminal in words that say why and name --yes', () => {
    const data = store(['192.0.2.0/24'], {billing: []});
    data.seen = [seen('203.0.113.9', ['billing'])];
    const plan = planActivate(data, ['api'], NOW);
    expect(plan.refused.map((r) => r.ip)).to.deep.equal(['203.0.113.9']);
    expect(plan.question?.text).to.equal('Activate api blocking anyway?');
    expect(plan.question?.refusal).to.deep.equal({
      message: 'not activating api blocking: seen traffic would be refused',
      hint: 'authorize the addresses first (keyward authorize ADDRESS), or pass --yes',
    });
  });

  it('activating SMTP with an empty account list is a refusal, not a question: only force goes ahead', () => {
    expect(() => planActivate(store([]), ['smtp'], NOW)).to.throw(
      SafetyError,
      'not activating smtp blocking: the account list is empty, so every SMTP connection would be refused',
    );
    expect(() => planActivate(store([]), ['api', 'smtp'], NOW)).to.throw(SafetyError, 'not activating api and smtp blocking');
    const forced = planActivate(store([]), ['smtp'], NOW, {force: true});
    expect(forced).to.include({emptyAccount: 'the account list is empty', question: null});
    // Already on: nothing to refuse.
    const on = store([]);
    setBlocking(on, 'smtp', 'active', NOW);
    expect(planActivate(on, ['smtp'], NOW).emptyAccount).to.equal(null);
  });

  it('an account list of only deny, disabled or expired entries allows no address: activating SMTP is the same refusal (found by an outside tester)', () => {
    const data = store(['192.0.2.10', '203.0.113.66', '198.51.100.0/24']);
    const [disabled, deny, expiring] = data.account;
    disabled.enabled = false;
    deny.effect = 'deny';
    expiring.expiresAt = new Date(NOW.getTime() - 1).toISOString();
    expect(() => planActivate(data, ['smtp'], NOW)).to.throw(
      SafetyError,
      'not activating smtp blocking: the account list allows no address (3 entries are each a deny, disabled or expired entry, or an allow entry its deny entries cover), so every SMTP connection would be refused',
    );
    expect(planActivate(data, ['smtp'], NOW, {force: true}).emptyAccount).to.match(/^the account list allows no address/);
    // One entry that allows, live: no refusal. An expiry still to come is live.
    expiring.expiresAt = new Date(NOW.getTime() + 1000).toISOString();
    expect(planActivate(data, ['smtp'], NOW).emptyAccount).to.equal(null);
    // An allow entry every address of which deny entries refuse allows nothing (found by an outside tester); one with
    // an address left over does.
    const covered = store(['10.0.0.0/24', '10.0.0.0/25', '10.0.0.128/25']);
    covered.account[1].effect = 'deny';
    covered.account[2].effect = 'deny';
    expect(planActivate(covered, ['smtp'], NOW, {force: true}).emptyAccount).to.match(/^the account list allows no address/);
    covered.account[2].enabled = false;
    expect(planActivate(covered, ['smtp'], NOW).emptyAccount, 'half of it left').to.equal(null);
  });

  it('both channels at once: one plan, one question naming both', () => {
    const data = store(['192.0.2.0/24'], {billing: []});
    data.seen = [seen('203.0.113.9', ['billing'])];
    expect(planActivate(data, ['api', 'smtp'], NOW).question?.text).to.equal('Activate api and smtp blocking anyway?');
    expect(planDeactivate(data, ['api', 'smtp']).question?.text).to.equal('Deactivate api blocking? Every address will be allowed for api keys.');
  });

  it('deactivating asks unless blocking is already off; the JSON says whether anything changed', () => {
    const data = store([]);
    expect(planDeactivate(data, ['smtp']).question).to.equal(null);
    expect(planDeactivate(data, ['api']).question?.text).to.equal('Deactivate api blocking? Every address will be allowed for api keys.');
    const transition = setBlocking(data, 'api', 'inactive', NOW);
    expect(switchJson([transition], ['api'], 'inactive')).to.deep.equal({channel: 'api', state: 'inactive', changed: true});
    expect(switchJson([setBlocking(data, 'api', 'inactive', NOW)], ['api'], 'inactive').changed).to.equal(false);
    expect(switchJson([null, transition], ['api', 'smtp'], 'inactive')).to.deep.equal({channel: 'both', state: 'inactive', changed: true});
  });
});
