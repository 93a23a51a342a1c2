import {writeFileSync} from 'node:fs';

import {expect} from 'chai';

import {daysAfter, NOW, Workspace} from './harness.js';

/** A workspace with an API key `app` and an SMTP key `mail`, and nothing authorized. */
function withKeys(): Workspace {
  const ws = Workspace.create();
  expect(ws.run(['keys', 'create', 'app', '--type', 'api'], {now: NOW}).code).to.equal(0);
  expect(ws.run(['keys', 'create', 'mail', '--type', 'smtp'], {now: NOW}).code).to.equal(0);
  return ws;
}

describe('keyward activate and deactivate', () => {
  it('a new store has API keys learning and SMTP blocking off', async () => {
    const ws = withKeys();
    expect(ws.storeJson().blocking).to.deep.include({smtp: {state: 'inactive', changedAt: NOW}});
    expect(ws.storeJson().blocking.api.state).to.equal('learning');
    const [api, smtp] = await ws.runAll([
      ['check', 'app', '192.0.2.1', '--json'],
      ['check', 'mail', '192.0.2.1', '--json'],
    ]);
    expect(api.json()[0]).to.include({decision: 'allow', reason: 'learning'});
    expect(smtp.json()[0]).to.include({decision: 'allow', reason: 'blocking-inactive'});
  });

  it('activate --smtp with an empty account list is refused with exit 4 unless --force', () => {
    const ws = withKeys();
    const before = ws.storeBytes();
    const refused = ws.run(['activate', '--smtp', '--json']);
    expect(refused.code).to.equal(4);
    expect(refused.json().error, 'the error object alone on stdout').to.include({exit: 4});
    expect(refused.stderr).to.contain('account list is empty').and.contain('--force');
    expect(ws.storeBytes(), 'nothing written').to.deep.equal(before);

    const later = daysAfter(NOW, 1);
    const forced = ws.run(['activate', '--smtp', '--force', '--json'], {now: later});
    expect(forced.code, forced.stderr).to.equal(0);
    expect(forced.json()).to.deep.equal({channel: 'smtp', state: 'active', changed: true, refused: []});
    expect(ws.storeJson().blocking.smtp).to.deep.equal({state: 'active', changedAt: later});
    const check = ws.run(['check', 'mail', '192.0.2.1', '--json']);
    expect(check.code).to.equal(1);
    expect(check.json()[0]).to.include({decision: 'deny', reason: 'not-authorized'});

    const again = ws.run(['activate', '--smtp', '--force', '--json']);
    expect(again.code, again.stderr).to.equal(0);
    expect(again.json()).to.include({changed: false});
  });

  it('activate --api refuses with exit 4 when recently seen traffic would be refused, and goes ahead once it is authorized', () => {
    const ws = withKeys();
    const store = ws.storeJson();
    store.seen = [{ip: '203.0.113.5', channel: 'api', keys: ['app'], firstSeen: NOW, lastSeen: NOW, count: 3}];
    writeFileSync(ws.store, `${JSON.stringify(store, null, 2)}\n`);
    const before = ws.storeBytes();

    const later = daysAfter(NOW, 1);
    const refused = ws.run(['activate', '--api'], {now: later});
    expect(refused.code).to.equal(4);
    expect(refused.stderr).to.contain('203.0.113.5').and.contain('or pass --yes');
    expect(ws.storeBytes()).to.deep.equal(before);

    expect(ws.run(['authorize', '203.0.113.0/24'], {now: later}).code).to.equal(0);
    const activated = ws.run(['activate', '--api', '--json'], {now: later});
    expect(activated.code, activated.stderr).to.equal(0);
    expect(activated.json()).to.deep.equal({channel: 'api', state: 'active', changed: true, refused: []});
    const check = ws.run(['check', 'app', '203.0.113.5', '198.51.100.1', '--json'], {now: later});
    expect(check.json<any[]>().map((d) => d.reason)).to.deep.equal(['authorized', 'not-authorized']);
  });

  it('activate takes --yes as the answer to its question (seen traffic), but not as the override of an empty SMTP list (--force)', () => {
    const ws = withKeys();
    const store = ws.storeJson();
    store.seen = [{ip: '203.0.113.5', channel: 'smtp', keys: ['mail'], firstSeen: NOW, lastSeen: NOW, count: 3}];
    writeFileSync(ws.store, `${JSON.stringify(store, null, 2)}\n`);
    const empty = ws.run(['activate', '--smtp', '--yes', '--json'], {now: NOW});
    expect(empty.code, empty.stderr).to.equal(4);
    expect(empty.stderr).to.contain('the account list is empty, so every SMTP connection would be refused').and.contain('pass --force');

    expect(ws.run(['authorize', '198.51.100.0/24'], {now: NOW}).code).to.equal(0);
    const asked = ws.run(['activate', '--smtp', '--json'], {now: NOW});
    expect(asked.code).to.equal(4);
    expect(asked.stderr).to.contain('203.0.113.5').and.contain('not activating smtp blocking: seen traffic would be refused').and.contain('or pass --yes');
    const confirmed = ws.run(['activate', '--smtp', '--yes', '--json'], {now: NOW});
    expect(confirmed.code, confirmed.stderr).to.equal(0);
    expect(confirmed.json()).to.deep.include({channel: 'smtp', state: 'active', changed: true});
    expect(confirmed.json().refused.map((r: {ip: string}) => r.ip)).to.deep.equal(['203.0.113.5']);
  });

  it('activate --smtp refuses an account list whose entries are all deny, disabled or expired as it refuses an empty one (found by an outside tester)', () => {
    const ws = withKeys();
    expect(ws.run(['authorize', '192.0.2.10', '--expires', '1h'], {now: NOW}).code).to.equal(0);
    expect(ws.run(['authorize', '192.0.2.11'], {now: NOW}).code).to.equal(0);
    expect(ws.run(['disable', '192.0.2.11'], {now: NOW}).code).to.equal(0);
    expect(ws.run(['deny', '203.0.113.66'], {now: NOW}).code).to.equal(0);
    const later = new Date(Date.parse(NOW) + 2 * 3600_000).toISOString();
    const before = ws.storeBytes();
    const refused = ws.run(['activate', '--smtp', '--yes', '--json'], {now: later});
    expect(refused.code, refused.stderr).to.equal(4);
    expect(refused.json().error.message).to.equal(
      'not activating smtp blocking: the account list allows no address (3 entries are each a deny, disabled or expired entry, or an allow entry its deny entries cover), so every SMTP connection would be refused',
    );
    expect(ws.storeBytes()).to.deep.equal(before);
    const forced = ws.run(['activate', '--smtp', '--force'], {now: later});
    expect(forced.code, forced.stderr).to.equal(0);
    expect(forced.stderr).to.contain(
      'the account list allows no address (3 entries are each a deny, disabled or expired entry, or an allow entry its deny entries cover): every SMTP connection will be refused',
    );
  });

  it('deactivate asks first: without a terminal or --yes it is refused with exit 4', () => {
    const ws = withKeys();
    const before = ws.storeBytes();
    const refused = ws.run(['deactivate', '--api', '--json']);
    expect(refused.code, 'learning is blocking of a kind: turning it off is confirmed').to.equal(4);
    expect(refused.json().error, 'the error object alone on stdout').to.include({exit: 4});
    expect(refused.stderr).to.contain('--yes');
    expect(ws.storeBytes()).to.deep.equal(before);

    const yes = ws.run(['deactivate', '--api', '--yes', '--json']);
    expect(yes.code, yes.stderr).to.equal(0);
    expect(yes.json()).to.deep.equal({channel: 'api', state: 'inactive', changed: true});
    expect(ws.run(['check', 'app', '192.0.2.1', '--json']).json()[0]).to.include({decision: 'allow', reason: 'blocking-inactive'});

    const already = ws.run(['deactivate', '--smtp', '--json']);
    expect(already.code, 'already off: nothing to confirm').to.equal(0);
    expect(already.json()).to.deep.equal({channel: 'smtp', state: 'inactive', changed: false});
  });

  it('takes --api, --smtp or both: neither is exit 2', async () => {
    const ws = Workspace.create();
    const cases = [
      ['activate', '--force'],
      ['deactivate', '--yes'],
    ];
    const runs = await ws.runAll(cases.map((args) => [...args, '--json']));
    for (const [i, out] of runs.entries()) {
      expect(out.code, cases[i].join(' ')).to.equal(2);
      expect(out.json().error, cases[i].join(' ')).to.include({exit: 2});
    }
    expect(ws.storeBytes()).to.equal(null);
  });

  it('when the learning window has passed with no event, check still allows (learning) and no writing command switches blocking on', () => {
    const ws = withKeys();
    const store = ws.storeJson();
    store.blocking.api.lastNewAddressAt = NOW;
    writeFileSync(ws.store, `${JSON.stringify(store, null, 2)}\n`);

    const later = daysAfter(NOW, 31);
    const check = ws.run(['check', 'app', '192.0.2.1', '--json'], {now: later});
    expect(check.code, check.stderr).to.equal(0);
    expect(check.json()[0]).to.include({decision: 'allow', reason: 'learning'});

    const change = ws.run(['authorize', '198.51.100.1', '--json'], {now: later});
    expect(change.code, change.stderr).to.equal(0);
    expect(change.json().added, 'stdout holds the JSON alone').to.deep.equal(['198.51.100.1']);
    expect(change.stderr).not.to.match(/turned itself on/);
    expect(ws.storeJson().blocking.api).to.include({state: 'learning', changedAt: NOW});
  });
});
