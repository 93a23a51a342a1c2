import {expect} from 'chai';

import {daysAfter, NOW, Workspace} from './harness.js';

/** The account list as `list --json` reports it, by entry. */
function listed(ws: Workspace, args: string[] = [], now = NOW): Record<string, any> {
  const list = ws.run(['list', '--json', ...args], {now});
  expect(list.code, list.stderr).to.equal(0);
  return Object.fromEntries(list.json<any[]>().map((row) => [row.entry, row]));
}

describe('keyward authorize', () => {
  it('adds arguments in canonical form, and stores entries other entries cover, reporting them with their covers', () => {
    const ws = Workspace.create();
    const first = ws.run(['authorize', '10.0.0.0/8', '2001:DB8:0:0:0:0:0:1', '192.0.2.7/32', '--json'], {now: NOW});
    expect(first.code, first.stderr).to.equal(0);
    expect(first.json()).to.deep.equal({added: ['10.0.0.0/8', '192.0.2.7', '2001:db8::1'], covered: [], updated: [], unchanged: [], elsewhere: [], dryRun: false});

    const second = ws.run(['authorize', '10.1.2.0/24', '192.0.2.7', '198.51.100.1', '::ffff:10.9.9.9', '--json'], {now: NOW});
    expect(second.code, second.stderr).to.equal(0);
    // v2: a covered entry is stored too (added and covered); an exact entry already there is unchanged.
    expect(second.json()).to.deep.equal({
      added: ['10.1.2.0/24', '10.9.9.9', '198.51.100.1'],
      covered: [
        {entry: '10.1.2.0/24', coveredBy: ['10.0.0.0/8']},
        {entry: '10.9.9.9', coveredBy: ['10.0.0.0/8']},
      ],
      updated: [],
      unchanged: ['192.0.2.7'],
      elsewhere: [],
      dryRun: false,
    });

    const rows = listed(ws);
    expect(Object.keys(rows)).to.deep.equal(['10.0.0.0/8', '10.1.2.0/24', '10.9.9.9', '192.0.2.7', '198.51.100.1', '2001:db8::1']);
    expect(rows['10.0.0.0/8']).to.deep.equal({
      entry: '10.0.0.0/8',
      scope: 'account',
      source: 'manual',
      label: null,
      addedAt: NOW,
      expiresAt: null,
      group: null,
      effect: 'allow',
      enabled: true,
    });
  });

  it('says what it added and which of them other entries cover, in words on stdout without --json', () => {
    const ws = Workspace.create();
    const out = ws.run(['authorize', '10.0.0.0/8', '10.1.0.0/16']);
    expect(out.code, out.stderr).to.equal(0);
    expect(out.stdout).to.contain('2 entries added').and.contain('10.0.0.0/8');
    expect(out.stdout).to.contain('covered by other entries').and.contain('10.1.0.0/16 (covered by 10.0.0.0/8)');
  });

  it('reads --file, `-` and `--file -` (stdin) one entry a line, with `# label` on a line and --label for the rest', () => {
    const ws = Workspace.create();
    const file = ws.file('allow.txt', '\uFEFF203.0.113.0/24   # office VPN\r\n\n# a comment line\n  198.51.100.7  \n2001:db8:1::/48#lab\n');
    const fromFile = ws.run(['authorize', '--file', file, '--label', 'imported', '--json'], {now: NOW});
    expect(fromFile.code, fromFile.stderr).to.equal(0);
    expect(fromFile.json().added).to.deep.equal(['198.51.100.7', '203.0.113.0/24', '2001:db8:1::/48']);

    const piped = ws.run(['authorize', '--file', '-', '--json'], {now: NOW, input: '192.0.2.1 # ci runner\n192.0.2.2\n'});
    expect(piped.code, piped.stderr).to.equal(0);
    expect(piped.json().added).to.deep.equal(['192.0.2.1', '192.0.2.2']);

    const dash = ws.run(['authorize', '192.0.2.10', '-', '--label', 'mixed', '--json'], {now: NOW, input: '192.0.2.11 # own label\n'});
    expect(dash.code, dash.stderr).to.equal(0);
    expect(dash.json().added).to.deep.equal(['192.0.2.10', '192.0.2.11']);

    const rows = listed(ws);
    expect(rows['203.0.113.0/24']).to.include({source: 'import', label: 'office VPN'});
    expect(rows['198.51.100.7']).to.include({source: 'import', label: 'imported'});
    expect(rows['2001:db8:1::/48']).to.include({source: 'import', label: 'lab'});
    expect(rows['192.0.2.1']).to.include({source: 'import', label: 'ci runner'});
    expect(rows['192.0.2.2']).to.include({source: 'import', label: null});
    expect(rows['192.0.2.10']).to.include({source: 'manual', label: 'mixed'});
    expect(rows['192.0.2.11']).to.include({source: 'import', label: 'own label'});
  });

  it('refuses to run with no entries at all, and a --file it cannot read, with exit 2', async () => {
    const ws = Workspace.create();
    const [none, missing] = await ws.runAll([
      ['authorize', '--json'],
      // (Relative to the workspace, keyward's working folder: a message shows no more than 80 characters of a path, and an
      // absolute one under a long TMPDIR is longer.)
      ['authorize', '--file', 'nope.txt'],
    ]);
    expect(none.code).to.equal(2);
    expect(none.json().error, 'the error object alone on stdout').to.include({exit: 2});
    expect(none.stderr).to.contain('no entries given');

    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.contain('nope.txt').and.contain('ENOENT');
    expect(ws.storeBytes()).to.equal(null);
  });

  it('sets --expires from a duration or an ISO time, and refuses one that is not in the future', async () => {
    const ws = Workspace.create();
    expect(ws.run(['authorize', '192.0.2.1', '--expires', '30d'], {now: NOW}).code).to.equal(0);
    expect(ws.run(['authorize', '192.0.2.2', '--expires', '2026-03-01T12:00:00Z'], {now: NOW}).code).to.equal(0);
    const rows = listed(ws);
    expect(rows['192.0.2.1'].expiresAt).to.equal(daysAfter(NOW, 30));
    expect(rows['192.0.2.2'].expiresAt).to.equal('2026-03-01T12:00:00.000Z');

    const before = ws.storeBytes();
    const refusals = ['2025-12-31T00:00:00Z', 'soon'];
    const runs = await ws.runAll(
      refusals.map((expires) => ['authorize', '192.0.2.3', '--expires', expires]),
      {now: NOW},
    );
    for (const [i, refused] of runs.entries()) {
      expect(refused.code, refusals[i]).to.equal(2);
      expect(refused.stderr).to.contain('--expires').and.contain(refusals[i]);
    }
    expect(ws.storeBytes()).to.deep.equal(before);
  });

  it('refuses a range with host bits set, naming its network, and accepts it as the network with --normalize', async () => {
    const ws = Workspace.create();
    const [refused, v6] = await ws.runAll([
      ['authorize', '192.168.1.25/24', '--json'],
      ['authorize', '2001:db8::1/32'],
    ]);
    expect(refused.code).to.equal(2);
    expect(refused.json().error, 'the error object alone on stdout').to.include({exit: 2});
    expect(refused.stderr).to.contain('192.168.1.25/24').and.contain('the network is 192.168.1.0/24').and.contain('--normalize');
    expect(ws.storeBytes(), 'nothing written').to.equal(null);

    expect(v6.code).to.equal(2);
    expect(v6.stderr).to.contain('2001:db8::/32');

    const normalized = ws.run(['authorize', '192.168.1.25/24', '2001:db8::1/32', '--normalize', '--json']);
    expect(normalized.code, normalized.stderr).to.equal(0);
    expect(normalized.json().added).to.deep.equal(['192.168.1.0/24', '2001:db8::/32']);
  });

  it('refuses 0.0.0.0/0 and ::/0 (the whole internet) without --force (exit 4), and adds them with it', async () => {
    const ws = Workspace.create();
    const entries = ['0.0.0.0/0', '::/0'];
    for (const [i, refused] of (await ws.runAll(entries.map((entry) => ['authorize', entry]))).entries()) {
      // v2: a safety refusal (exit 4), no longer a bad entry (exit 2).
      expect(refused.code, entries[i]).to.equal(4);
      expect(refused.stderr).to.contain('opens').and.contain('--force');
    }
    expect(ws.storeBytes()).to.equal(null);
    const forced = ws.run(['authorize', '0.0.0.0/0', '::/0', '--force', '--json']);
    expect(forced.code, forced.stderr).to.equal(0);
    expect(forced.json().added).to.deep.equal(['0.0.0.0/0', '::/0']);
  });

  it('names the argument and the reason for a bad address, and writes nothing', async () => {
    const ws = Workspace.create();
    expect(ws.run(['authorize', '192.0.2.1'], {now: NOW}).code).to.equal(0);
    const before = ws.storeBytes();
    const cases = [
      ['010.0.0.1', 'leading zero'],
      ['127.1', 'exactly four are needed'],
      ['fe80::1%eth0', 'zone'],
    ];
    const runs = await ws.runAll(cases.map(([input]) => ['authorize', '203.0.113.9', input]));
    for (const [i, [input, reason]] of cases.entries()) {
      const refused = runs[i];
      expect(refused.code, input).to.equal(2);
      expect(refused.stderr).to.contain('argument 2').and.contain(input).and.contain(reason);
    }
    expect(ws.storeBytes()).to.deep.equal(before);
  });

  it('with --dry-run reports what would be added and writes nothing', () => {
    const ws = Workspace.create();
    // v2: a dry run reads like any reader: no store is an error (exit 3), and none is created.
    const fresh = ws.run(['authorize', '10.0.0.0/8', '--dry-run', '--json']);
    expect(fresh.code, fresh.stderr).to.equal(3);
    expect(fresh.stderr).to.contain(`no store at ${ws.store}`);
    expect(ws.storeBytes(), 'no store is created').to.equal(null);

    expect(ws.run(['authorize', '10.0.0.0/8']).code).to.equal(0);
    const before = ws.storeBytes();
    const human = ws.run(['authorize', '10.1.0.0/16', '192.0.2.1', '--dry-run']);
    expect(human.code, human.stderr).to.equal(0);
    expect(human.stdout).to.contain('would be added').and.contain('nothing was written');
    expect(ws.storeBytes()).to.deep.equal(before);
    const json = ws.run(['authorize', '10.1.0.0/16', '--dry-run', '--json']);
    expect(json.json()).to.deep.equal({
      added: ['10.1.0.0/16'],
      covered: [{entry: '10.1.0.0/16', coveredBy: ['10.0.0.0/8']}],
      updated: [],
      unchanged: [],
      elsewhere: [],
      dryRun: true,
    });
    expect(ws.storeBytes()).to.deep.equal(before);
  });

  it("with --key adds to that key's own list, and refuses an unknown key with exit 2", () => {
    const ws = Workspace.create();
    expect(ws.run(['keys', 'create', 'billing', '--type', 'api'], {now: NOW}).code).to.equal(0);
    const added = ws.run(['authorize', '--key', 'billing', '198.51.100.0/24', '--label', 'billing host', '--json'], {now: NOW});
    expect(added.code, added.stderr).to.equal(0);
    expect(added.json().added).to.deep.equal(['198.51.100.0/24']);
    expect(listed(ws, ['--key', 'billing'])['198.51.100.0/24']).to.deep.equal({
      entry: '198.51.100.0/24',
      scope: 'billing',
      source: 'manual',
      label: 'billing host',
      addedAt: NOW,
      expiresAt: null,
      group: null,
      effect: 'allow',
      enabled: true,
    });
    expect(listed(ws, ['--account']), 'the account list is untouched').to.deep.equal({});

    const before = ws.storeBytes();
    const unknown = ws.run(['authorize', '--key', 'nosuch', '192.0.2.1']);
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.contain('unknown key').and.contain('nosuch');
    expect(ws.storeBytes()).to.deep.equal(before);
  });

  it('renews an expired copy of an entry (reported as updated) instead of calling it covered', () => {
    const ws = Workspace.create();
    expect(ws.run(['authorize', '192.0.2.1', '--expires', '1d', '--label', 'temp'], {now: NOW}).code).to.equal(0);
    const later = daysAfter(NOW, 2);
    const again = ws.run(['authorize', '192.0.2.1', '--json'], {now: later});
    expect(again.code, again.stderr).to.equal(0);
    // v2: the exact entry was there (expired): renewed without an expiry, its label kept.
    expect(again.json()).to.deep.include({added: [], updated: [{entry: '192.0.2.1', label: 'temp', group: null, expiresAt: null}]});
    const rows = ws.run(['list', '--json'], {now: later}).json<any[]>();
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({entry: '192.0.2.1', expiresAt: null, addedAt: NOW, label: 'temp'});
  });
});

describe('keyward revoke', () => {
  it('removes exact entries given as arguments, `-`, --file or `--file -`', () => {
    const ws = Workspace.create();
    expect(ws.run(['authorize', '10.0.0.0/8', '192.0.2.1', '192.0.2.2', '192.0.2.3', '2001:db8::/32']).code).to.equal(0);

    const args = ws.run(['revoke', '10.0.0.0/8', '2001:DB8::/32', '--json']);
    expect(args.code, args.stderr).to.equal(0);
    expect(args.json()).to.deep.equal({removed: ['10.0.0.0/8', '2001:db8::/32'], dryRun: false});

    const file = ws.file('retired.txt', '192.0.2.1 # old runner\n');
    const fromFile = ws.run(['revoke', '--file', file, '--json']);
    expect(fromFile.code, fromFile.stderr).to.equal(0);
    expect(fromFile.json().removed).to.deep.equal(['192.0.2.1']);

    const piped = ws.run(['revoke', '--file', '-', '--json'], {input: '192.0.2.2\n'});
    expect(piped.code, piped.stderr).to.equal(0);
    expect(piped.json().removed).to.deep.equal(['192.0.2.2']);

    const dash = ws.run(['revoke', '-', '--json'], {input: '192.0.2.3\n'});
    expect(dash.code, dash.stderr).to.equal(0);
    expect(dash.json().removed).to.deep.equal(['192.0.2.3']);
    expect(listed(ws)).to.deep.equal({});
  });

  it('refuses an entry that is not in the list with exit 2, naming the entry that covers it, and removes nothing', async () => {
    const ws = Workspace.create();
    expect(ws.run(['authorize', '10.0.0.0/8', '192.0.2.1']).code).to.equal(0);
    const before = ws.storeBytes();
    const [covered, absent] = await ws.runAll([
      ['revoke', '192.0.2.1', '10.1.2.3', '--json'],
      ['revoke', '198.51.100.1'],
    ]);
    expect(covered.code).to.equal(2);
    expect(covered.json().error, 'the error object alone on stdout').to.include({exit: 2});
    expect(covered.stderr).to.contain('10.1.2.3').and.contain('covered by 10.0.0.0/8').and.contain('nothing was removed');

    expect(absent.code).to.equal(2);
    expect(absent.stderr).to.contain('198.51.100.1 is not in the account list');
    expect(ws.storeBytes()).to.deep.equal(before);
  });

  it('with --dry-run reports what would be removed and writes nothing', () => {
    const ws = Workspace.create();
    expect(ws.run(['authorize', '192.0.2.1']).code).to.equal(0);
    const before = ws.storeBytes();
    const dry = ws.run(['revoke', '192.0.2.1', '--dry-run', '--json']);
    expect(dry.code, dry.stderr).to.equal(0);
    expect(dry.json()).to.deep.equal({removed: ['192.0.2.1'], dryRun: true});
    expect(ws.storeBytes()).to.deep.equal(before);
  });

  it('while blocking is active, refuses with exit 4 without a terminal or --yes, and removes with --yes', async () => {
    const ws = Workspace.create();
    expect(ws.run(['authorize', '192.0.2.1', '192.0.2.2']).code).to.equal(0);
    const activated = ws.run(['activate', '--api']);
    expect(activated.code, activated.stderr).to.equal(0);
    const before = ws.storeBytes();

    // Piped stdin is no terminal either: the entries come from it, the answer cannot.
    const [refused, piped] = await Promise.all([ws.start(['revoke', '192.0.2.1', '--json']), ws.start(['revoke', '-'], {input: '192.0.2.1\n'})]);
    expect(refused.code).to.equal(4);
    expect(refused.json().error, 'the error object alone on stdout').to.include({exit: 4});
    expect(refused.stderr).to.contain('blocking is active').and.contain('--yes');
    expect(ws.storeBytes(), 'nothing removed').to.deep.equal(before);

    expect(piped.code).to.equal(4);

    const yes = ws.run(['revoke', '192.0.2.1', '--yes', '--json']);
    expect(yes.code, yes.stderr).to.equal(0);
    expect(yes.json().removed).to.deep.equal(['192.0.2.1']);
    expect(Object.keys(listed(ws))).to.deep.equal(['192.0.2.2']);
  });

  it('while blocking is active, warns that addresses will be refused only where no other entry of the list still allows them', () => {
    const ws = Workspace.create();
    expect(ws.run(['authorize', '10.0.0.0/16', '10.0.0.0/24', '10.1.0.0/24', '10.1.0.0/25', '192.0.2.0/24']).code).to.equal(0);
    expect(ws.run(['activate', '--api']).code).to.equal(0);
    const held = ws.run(['revoke', '10.0.0.0/24', '--yes']);
    expect(held.code, held.stderr).to.equal(0);
    expect(held.stderr).to.contain('other entries of the list still allow every address of these').and.not.contain('refused from now on');
    const gone = ws.run(['revoke', '192.0.2.0/24', '--yes']);
    expect(gone.stderr).to.contain('these addresses will be refused from now on');
    const part = ws.run(['revoke', '10.1.0.0/24', '--yes']);
    expect(part.stderr).to.contain('the addresses of these that no other entry of the list allows will be refused from now on');
  });

  it("with --key removes from that key's list only, and refuses an unknown key with exit 2", () => {
    const ws = Workspace.create();
    expect(ws.run(['keys', 'create', 'relay', '--type', 'smtp', '--allow', '198.51.100.0/24', '--allow', '2001:db8::25']).code).to.equal(0);
    expect(ws.run(['authorize', '198.51.100.0/24']).code).to.equal(0);
    const removed = ws.run(['revoke', '--key', 'relay', '198.51.100.0/24', '--json']);
    expect(removed.code, removed.stderr).to.equal(0);
    expect(removed.json().removed).to.deep.equal(['198.51.100.0/24']);
    expect(Object.keys(listed(ws, ['--key', 'relay']))).to.deep.equal(['2001:db8::25']);
    expect(Object.keys(listed(ws, ['--account']))).to.deep.equal(['198.51.100.0/24']);

    const before = ws.storeBytes();
    const unknown = ws.run(['revoke', '--key', 'nosuch', '198.51.100.0/24', '--yes']);
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.contain('unknown key');
    expect(ws.storeBytes()).to.deep.equal(before);
  });
});
