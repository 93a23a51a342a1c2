/** planActivate / planDeactivate (core/blocking.ts): what switching blocking asks, and why. */
import {expect} from 'chai';

import {planActivate, planDeactivate, setBlocking, switchJson} from '../../src/core/blocking.js';
import {NOW, seen, store} from './workflow-fixtures.js';

describe('core/blocking: planActivate and planDeactivate', () => {
  it('activating asks nothing when no seen traffic would be refused', () => {
    const data = store(['192.0.2.0/24'], {billing: []});
    data.seen = [seen('192.0.2.7', ['billing'])];
    expect(planActivate(data, 'api', NOW)).to.deep.equal({channel: 'api', refused: [], emptyAccount: false, question: null});
    expect(data.blocking.api.state).to.equal('learning');
  });

  it('activating names the seen addresses it would refuse, and refuses without a terminal in words that say why', () => {
    const data = store(['192.0.2.0/24'], {billing: []});
    data.seen = [seen('203.0.113.9', ['billing'])];
    const plan = planActivate(data, 'api', NOW);
    expect(plan.refused.map((r) => r.ip)).to.deep.equal(['203.0.113.9']);
    expect(plan.question?.text).to.equal('Activate api blocking anyway?');
    expect(plan.question?.refusal?.message).to.equal('not activating api blocking: seen traffic would be refused');
  });

  it('activating SMTP with an empty account list asks, whatever the traffic', () => {
    const plan = planActivate(store([]), 'smtp', NOW);
    expect(plan.emptyAccount).to.equal(true);
    expect(plan.question?.refusal?.message).to.equal('not activating smtp blocking: the account list is empty');
  });

  it('deactivating asks unless blocking is already off; the JSON says whether anything changed', () => {
    const data = store([]);
    expect(planDeactivate(data, 'smtp').question).to.equal(null);
    expect(planDeactivate(data, 'api').question?.text).to.equal('Deactivate api blocking? Every address will be allowed for api keys.');
    const transition = setBlocking(data, 'api', 'inactive', NOW);
    expect(switchJson(transition, 'api', 'inactive')).to.deep.equal({channel: 'api', state: 'inactive', changed: true});
    expect(switchJson(setBlocking(data, 'api', 'inactive', NOW), 'api', 'inactive').changed).to.equal(false);
  });
});
