import {expect} from 'chai';

import {daysAfter, NOW, Workspace} from './harness.js';

describe('keyward list', () => {
  it('on a store that does not exist refuses with exit 3 (no store at PATH) and creates nothing', () => {
    const ws = Workspace.create();
    const out = ws.run(['list', '--json']);
    expect(out.code, out.stderr).to.equal(3);
    expect(out.stderr).to.contain(`no store at ${ws.store}`);
    expect(ws.storeBytes()).to.equal(null);
  });

  describe('with an account list and key lists', () => {
    const ws = Workspace.create();
    before(() => {
      const made = ws.run(['keys', 'create', 'relay', '--type', 'smtp', '--allow', '198.51.100.0/24', '--allow', '2001:db8::25'], {now: NOW});
      expect(made.code, made.stderr).to.equal(0);
      expect(ws.run(['keys', 'create', 'plain', '--type', 'api'], {now: NOW}).code).to.equal(0);
      const added = ws.run(['authorize', '10.0.0.0/25', '10.0.0.128/25', '10.0.1.0/24', '192.0.2.1', '2001:db8::/33', '2001:db8:8000::/33', '--label', 'hq'], {now: NOW});
      expect(added.code, added.stderr).to.equal(0);
    });

    it("prints the account list, then each key list, with the contract's fields", () => {
      const out = ws.run(['list', '--json']);
      expect(out.code, out.stderr).to.equal(0);
      const rows = out.json<any[]>();
      expect(rows.map((r) => [r.entry, r.scope])).to.deep.equal([
        ['10.0.0.0/25', 'account'],
        ['10.0.0.128/25', 'account'],
        ['10.0.1.0/24', 'account'],
        ['192.0.2.1', 'account'],
        ['2001:db8::/33', 'account'],
        ['2001:db8:8000::/33', 'account'],
        ['198.51.100.0/24', 'relay'],
        ['2001:db8::25', 'relay'],
      ]);
      for (const row of rows) expect(row).to.have.all.keys('entry', 'scope', 'source', 'label', 'addedAt', 'expiresAt', 'group', 'effect', 'enabled');
      expect(rows[0]).to.deep.equal({
        entry: '10.0.0.0/25',
        scope: 'account',
        source: 'manual',
        label: 'hq',
        addedAt: NOW,
        expiresAt: null,
        group: null,
        effect: 'allow',
        enabled: true,
      });
      expect(rows[6]).to.deep.equal({
        entry: '198.51.100.0/24',
        scope: 'relay',
        source: 'manual',
        label: null,
        addedAt: NOW,
        expiresAt: null,
        group: null,
        effect: 'allow',
        enabled: true,
      });
    });

    it("with --key prints that key's list only, and refuses an unknown key with exit 2", () => {
      const relay = ws.run(['list', '--key', 'relay', '--json']);
      expect(relay.code, relay.stderr).to.equal(0);
      expect(relay.json<any[]>().map((r) => [r.entry, r.scope])).to.deep.equal([
        ['198.51.100.0/24', 'relay'],
        ['2001:db8::25', 'relay'],
      ]);
      const unknown = ws.run(['list', '--key', 'nosuch', '--json']);
      expect(unknown.code).to.equal(2);
      expect(unknown.json().error, 'the error object alone on stdout').to.include({exit: 2});
      expect(unknown.stderr).to.contain('unknown key');
    });

    it('with --aggregate prints the fewest CIDR ranges covering each list', () => {
      const out = ws.run(['list', '--aggregate', '--json']);
      expect(out.code, out.stderr).to.equal(0);
      expect(out.json()).to.deep.equal([
        {entry: '10.0.0.0/23', scope: 'account'},
        {entry: '192.0.2.1', scope: 'account'},
        {entry: '2001:db8::/32', scope: 'account'},
        {entry: '198.51.100.0/24', scope: 'relay'},
        {entry: '2001:db8::25', scope: 'relay'},
      ]);
      const human = ws.run(['list', '--aggregate', '--key', 'relay']);
      expect(human.code, human.stderr).to.equal(0);
      // In a pipe: TSV, entry and scope with one list as with several (tables.test.ts).
      expect(human.stdout).to.equal('entry\tscope\n198.51.100.0/24\trelay\n2001:db8::25\trelay\n');
    });

    it('prints a table for people', () => {
      const out = ws.run(['list']);
      expect(out.code, out.stderr).to.equal(0);
      for (const text of ['entry', 'scope', 'source', '10.0.0.128/25', 'relay', 'hq']) expect(out.stdout).to.contain(text);
      expect(out.stdout, 'NO_COLOR: no escape codes').not.to.contain('\u001b[');
    });
  });

  it('shows expired entries as expired, leaves them out of --aggregate, and check never matches them', async () => {
    const ws = Workspace.create();
    expect(ws.run(['keys', 'create', 'ci', '--type', 'api'], {now: NOW}).code).to.equal(0);
    expect(ws.run(['authorize', '192.0.2.0/24', '--expires', '1d', '--label', 'temporary'], {now: NOW}).code).to.equal(0);
    expect(ws.run(['authorize', '198.51.100.0/24'], {now: NOW}).code).to.equal(0);
    expect(ws.run(['activate', '--api'], {now: NOW}).code).to.equal(0);

    const before = ws.run(['check', 'ci', '192.0.2.9', '--json'], {now: daysAfter(NOW, 0.5)});
    expect(before.code, before.stderr).to.equal(0);
    expect(before.json()).to.deep.equal([{key: 'ci', ip: '192.0.2.9', decision: 'allow', reason: 'authorized', matched: ['192.0.2.0/24']}]);

    const later = daysAfter(NOW, 2);
    const after = ws.run(['check', 'ci', '192.0.2.9', '--json'], {now: later});
    expect(after.code).to.equal(1);
    expect(after.json()).to.deep.equal([{key: 'ci', ip: '192.0.2.9', decision: 'deny', reason: 'not-authorized', matched: []}]);

    const [list, human, aggregate] = await ws.runAll([['list', '--json'], ['list'], ['list', '--aggregate', '--json']], {now: later});
    const rows = list.json<any[]>();
    expect(rows.find((r) => r.entry === '192.0.2.0/24')).to.deep.equal({
      entry: '192.0.2.0/24',
      scope: 'account',
      source: 'manual',
      label: 'temporary',
      addedAt: NOW,
      expiresAt: daysAfter(NOW, 1),
      group: null,
      effect: 'allow',
      enabled: true,
    });
    // In a pipe the expiry is its ISO time (a terminal says "expired 1 d ago": tables.test.ts).
    expect(human.stdout).to.match(new RegExp(`^192\\.0\\.2\\.0/24\\t.*\\t${daysAfter(NOW, 1)}$`, 'm'));
    expect(aggregate.json()).to.deep.equal([{entry: '198.51.100.0/24', scope: 'account'}]);
  });
});
