/**
 * Issue 11, items 1 and 5, end to end: a permanent entry never vanishes under
 * an expiring or learned cover (every entry is stored, covered ones reported;
 * an exact one is updated or left unchanged), authorize --file and sync agree
 * on nested entries, and entries broader than /8 (IPv4) or /16 (IPv6) are a
 * safety refusal (exit 4) unless --force, in every command that adds them.
 */
import {expect} from 'chai';

import {daysAfter, NOW, RunResult, Workspace} from './harness.js';

const day = (n: number) => daysAfter(NOW, n);

function exits(result: RunResult, code: number): RunResult {
  expect(result.code, `expected exit ${code}, got ${result.code}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`).to.equal(code);
  return result;
}

const ok = (result: RunResult) => exits(result, 0);

/** entry → {label, expiresAt} of a list, as `list --json` shows it. */
function listed(ws: Workspace, now: string, args: string[] = []): Record<string, {label: string | null; expiresAt: string | null}> {
  return Object.fromEntries(
    ok(ws.run(['list', '--json', ...args], {now}))
      .json<any[]>()
      .map((r) => [r.entry, {label: r.label, expiresAt: r.expiresAt}]),
  );
}

/** A store with API key `bill` and API blocking active, so that `check` answers from the account list. */
function blockingStore(): Workspace {
  const ws = Workspace.create();
  ok(ws.run(['keys', 'create', 'bill', '--type', 'api'], {now: NOW}));
  ok(ws.run(['activate', '--api', '--force'], {now: NOW}));
  return ws;
}

describe('issue 11: entries are never swallowed by a cover; broad entries need --force', () => {
  it('item 1: a permanent entry under an expiring cover is stored and reported as covered, and still allows once the cover expired and was pruned', () => {
    const ws = blockingStore();
    ok(ws.run(['authorize', '10.0.0.0/8', '--expires', '1d'], {now: NOW}));
    const inner = ok(ws.run(['authorize', '10.1.0.0/16', '--label', 'contractor', '--json'], {now: NOW})).json();
    expect(inner).to.deep.equal({
      added: ['10.1.0.0/16'],
      covered: [{entry: '10.1.0.0/16', coveredBy: ['10.0.0.0/8']}],
      updated: [],
      unchanged: [],
      elsewhere: [],
      dryRun: false,
    });
    const human = ok(ws.run(['authorize', '10.2.0.0/16'], {now: NOW}));
    expect(human.stdout).to.contain('1 entry added').and.contain('10.2.0.0/16 (covered by 10.0.0.0/8)');

    // The cover expires: the permanent /16 still lets its addresses in, before and after prune.
    exits(ws.run(['check', 'bill', '10.1.2.3'], {now: day(2)}), 0);
    exits(ws.run(['check', 'bill', '10.3.0.1'], {now: day(2)}), 1);
    ok(ws.run(['prune'], {now: day(2)}));
    exits(ws.run(['check', 'bill', '10.1.2.3'], {now: day(2)}), 0);
    expect(listed(ws, day(2))).to.deep.equal({
      '10.1.0.0/16': {label: 'contractor', expiresAt: null},
      '10.2.0.0/16': {label: null, expiresAt: null},
    });
  });

  it('item 1: an address inside a learned /24 is stored, and still allows after the /24 is revoked', () => {
    const ws = Workspace.create();
    ok(ws.run(['keys', 'create', 'bill', '--type', 'api'], {now: NOW}));
    ok(ws.run(['learn', '-'], {now: day(1), input: `bill 198.51.100.9 ${day(1)}\n`}));
    expect(listed(ws, day(1))).to.have.keys('198.51.100.0/24');
    const host = ok(ws.run(['authorize', '198.51.100.20', '--label', 'build host', '--json'], {now: day(1)})).json();
    expect(host.added).to.deep.equal(['198.51.100.20']);
    expect(host.covered).to.deep.equal([{entry: '198.51.100.20', coveredBy: ['198.51.100.0/24']}]);

    ok(ws.run(['activate', '--api', '--force'], {now: day(2)}));
    ok(ws.run(['revoke', '198.51.100.0/24', '--yes'], {now: day(2)}));
    exits(ws.run(['check', 'bill', '198.51.100.20'], {now: day(2)}), 0);
    exits(ws.run(['check', 'bill', '198.51.100.9'], {now: day(2)}), 1);
    expect(listed(ws, day(2))).to.deep.equal({'198.51.100.20': {label: 'build host', expiresAt: null}});
  });

  it('item 1: an exact entry already there is unchanged, or updated by a new --label or --expires, and an expired one is renewed', () => {
    const ws = Workspace.create();
    ok(ws.run(['authorize', '192.0.2.7', '--label', 'office'], {now: NOW}));

    const same = ok(ws.run(['authorize', '192.0.2.7', '--json'], {now: NOW})).json();
    expect(same).to.deep.equal({added: [], covered: [], updated: [], unchanged: ['192.0.2.7'], elsewhere: [], dryRun: false});
    const sameLabel = ok(ws.run(['authorize', '192.0.2.7', '--label', 'office', '--json'], {now: NOW})).json();
    expect(sameLabel.unchanged).to.deep.equal(['192.0.2.7']);

    const expiresAt = day(7);
    const edited = ok(ws.run(['authorize', '192.0.2.7', '--label', 'branch office', '--expires', '7d', '--json'], {now: NOW})).json();
    expect(edited).to.deep.equal({
      added: [],
      covered: [],
      updated: [{entry: '192.0.2.7', label: 'branch office', group: null, expiresAt}],
      unchanged: [],
      elsewhere: [],
      dryRun: false,
    });
    expect(listed(ws, NOW)).to.deep.equal({'192.0.2.7': {label: 'branch office', expiresAt}});

    const human = ok(ws.run(['authorize', '192.0.2.7', '--label', 'hq'], {now: NOW}));
    expect(human.stdout).to.contain('1 entry updated').and.contain('192.0.2.7: label "hq"');

    // Expired: authorizing it again renews it, without an expiry unless one is given; its label is kept.
    const renewed = ok(ws.run(['authorize', '192.0.2.7', '--json'], {now: day(8)})).json();
    expect(renewed.updated).to.deep.equal([{entry: '192.0.2.7', label: 'hq', group: null, expiresAt: null}]);
    expect(listed(ws, day(30))).to.deep.equal({'192.0.2.7': {label: 'hq', expiresAt: null}});
  });

  it('item 1: authorize --file and sync agree on nested entries: both keep every line, and sync finds nothing to do after the import', () => {
    const text = '10.0.0.0/8 # corporate\n10.1.0.0/16 # contractor\n10.1.2.3\n10.1.0.0/16\n2001:db8::/32\n2001:db8:1::/48 # lab\n';
    const imported = Workspace.create();
    const file = imported.file('allowlist.txt', text);
    const report = ok(imported.run(['authorize', '--file', file, '--json'], {now: NOW})).json();
    expect(report.added).to.deep.equal(['10.0.0.0/8', '10.1.0.0/16', '10.1.2.3', '2001:db8::/32', '2001:db8:1::/48']);
    expect(report.covered).to.deep.equal([
      {entry: '10.1.0.0/16', coveredBy: ['10.0.0.0/8']},
      {entry: '10.1.2.3', coveredBy: ['10.0.0.0/8', '10.1.0.0/16']},
      {entry: '2001:db8:1::/48', coveredBy: ['2001:db8::/32']},
    ]);

    const synced = Workspace.create();
    ok(synced.run(['sync', synced.file('allowlist.txt', text), '--yes'], {now: NOW}));
    expect(listed(imported, NOW)).to.deep.equal(listed(synced, NOW));
    expect(listed(imported, NOW)['10.1.0.0/16']).to.deep.equal({label: 'contractor', expiresAt: null});

    const plan = exits(imported.run(['sync', file, '--dry-run', '--json'], {now: NOW}), 0).json();
    expect(plan).to.include({applied: false});
    expect(plan.added).to.deep.equal([]);
    expect(plan.removed).to.deep.equal([]);
  });

  it('item 5: entries broader than /8 or /16 (0.0.0.0/1, 0.0.0.0/0, ::/0, 2000::/3) are refused with exit 4, saying how many addresses they open; --force takes them', async () => {
    const ws = Workspace.create();
    const cases: Array<[string[], string]> = [
      [['0.0.0.0/1', '128.0.0.0/1'], '`0.0.0.0/1` opens 2,147,483,648 addresses (1/2 of IPv4)'],
      [['0.0.0.0/0'], '`0.0.0.0/0` opens 4,294,967,296 addresses (all of IPv4)'],
      [['::/0'], '`::/0` opens 2^128 addresses (all of IPv6)'],
      [['192.0.2.1', '2000::/3'], 'argument 2: `2000::/3` opens 2^125 addresses (1/8 of IPv6)'],
      [['::ffff:0.0.0.0/97'], '(0.0.0.0/1) opens 2,147,483,648 addresses'],
    ];
    const runs = await ws.runAll(
      cases.map(([entries]) => ['authorize', ...entries]),
      {now: NOW},
    );
    for (const [i, [entries, message]] of cases.entries()) {
      exits(runs[i], 4);
      expect(runs[i].stderr, entries.join(' ')).to.contain(message).and.contain('--force').and.contain('nothing was written');
    }
    expect(runs[0].stderr).to.contain('1 more entry is broad too');
    expect(ws.storeBytes(), 'nothing written').to.equal(null);

    // The broadest entries that need no --force: a /8 and a /16.
    expect(ok(ws.run(['authorize', '10.0.0.0/8', '2001::/16', '--json'], {now: NOW})).json().added).to.deep.equal(['10.0.0.0/8', '2001::/16']);
    const forced = ok(ws.run(['authorize', '0.0.0.0/1', '128.0.0.0/1', '::/0', '--force', '--json'], {now: NOW})).json();
    expect(forced.added).to.deep.equal(['0.0.0.0/1', '128.0.0.0/1', '::/0']);
  });

  it('item 5: one broad entry in a 1,000-line import (stdin or --file) writes nothing, exit 4; a bad line anywhere is exit 2 first', () => {
    const ws = Workspace.create();
    ok(ws.run(['authorize', '192.0.2.1'], {now: NOW}));
    const before = ws.storeBytes();
    const lines = Array.from({length: 1000}, (_, i) => `10.${i >> 8}.${i & 255}.0/24`);
    const broad = [...lines.slice(0, 700), '0.0.0.0/0 # everyone', ...lines.slice(701)].join('\n') + '\n';
    const broadThenBad = [...lines.slice(0, 10), '0.0.0.0/2', ...lines.slice(11, 900), '10.300.0.0/16', ...lines.slice(901)].join('\n') + '\n';
    const file = ws.file('broad.txt', broad);
    // One by one: each run has its own stdin.
    const stdin = ws.run(['authorize', '-'], {now: NOW, input: broad});
    const fromFile = ws.run(['authorize', '--file', file], {now: NOW});
    const bad = ws.run(['authorize', '-'], {now: NOW, input: broadThenBad});
    const forced = ws.run(['authorize', '--file', file, '--force', '--dry-run', '--json'], {now: NOW});
    for (const run of [stdin, fromFile]) {
      exits(run, 4);
      expect(run.stderr).to.contain('line 701').and.contain('`0.0.0.0/0` opens 4,294,967,296 addresses');
    }
    exits(bad, 2);
    expect(bad.stderr).to.contain('line 901').and.contain('10.300.0.0/16');
    expect(ws.storeBytes(), 'nothing written').to.deep.equal(before);
    expect(ok(forced).json().added).to.have.length(1000);
  });

  it('item 5: keys create --allow and sync refuse a broad entry with exit 4 unless --force', async () => {
    const ws = Workspace.create();
    ok(ws.run(['authorize', '192.0.2.1'], {now: NOW}));
    const before = ws.storeBytes();
    const file = ws.file('allowlist.txt', '192.0.2.1\n0.0.0.0/1\n');
    const [create, sync, dryRun] = await ws.runAll(
      [
        ['keys', 'create', 'wide', '--type', 'api', '--allow', '198.51.100.0/24', '--allow', '::/1'],
        ['sync', file, '--yes'],
        ['sync', file, '--dry-run'],
      ],
      {now: NOW},
    );
    exits(create, 4);
    expect(create.stderr).to.contain('--allow 2: `::/1` opens 2^127 addresses').and.contain('--force');
    for (const run of [sync, dryRun]) {
      exits(run, 4);
      expect(run.stderr).to.contain('line 2 of').and.contain('`0.0.0.0/1` opens').and.contain('--force');
    }
    expect(ws.storeBytes(), 'nothing written').to.deep.equal(before);

    const created = ok(ws.run(['keys', 'create', 'wide', '--type', 'api', '--allow', '::/1', '--force', '--json'], {now: NOW}));
    expect(created.json()).to.include({name: 'wide'});
    expect(Object.keys(listed(ws, NOW, ['--key', 'wide']))).to.deep.equal(['::/1']);
    expect(ok(ws.run(['sync', file, '--force', '--yes', '--json'], {now: NOW})).json().added).to.deep.equal(['0.0.0.0/1']);
  });

  it('item 5: removing a broad entry and matching blocked addresses with a broad range need no --force', () => {
    const ws = blockingStore();
    ok(ws.run(['authorize', '0.0.0.0/0', '--force'], {now: NOW}));
    ok(ws.run(['revoke', '0.0.0.0/0', '--yes'], {now: NOW}));
    expect(listed(ws, NOW)).to.deep.equal({});

    // An event refused while blocking is active puts its address on the blocked list.
    ok(ws.run(['learn', '-'], {now: day(1), input: `bill 203.0.113.5 ${day(1)}\n`}));
    const fromBlocked = ok(ws.run(['authorize', '--from-blocked', '0.0.0.0/0', '--json'], {now: day(1)})).json();
    expect(fromBlocked.added).to.deep.equal(['203.0.113.5']);
    exits(ws.run(['check', 'bill', '203.0.113.5'], {now: day(1)}), 0);
  });

  it('a key list is never emptied by surprise: revoking its last entry is exit 4 unless --force, and prune keeps a list whose entries all expired', () => {
    const ws = blockingStore();
    ok(ws.run(['keys', 'create', 'k', '--type', 'api', '--allow', '10.1.1.0/24'], {now: NOW}));
    ok(ws.run(['authorize', '203.0.113.0/24'], {now: NOW}));
    const refused = exits(ws.run(['revoke', '--key', 'k', '10.1.1.0/24', '--yes'], {now: NOW}), 4);
    expect(refused.stderr).to.contain('restricted by nothing').and.contain('--force');
    expect(ws.run(['check', 'k', '203.0.113.9'], {now: NOW}).code, 'still refused').to.equal(1);
    ok(ws.run(['revoke', '--key', 'k', '10.1.1.0/24', '--yes', '--force'], {now: NOW}));
    expect(ws.run(['check', 'k', '203.0.113.9'], {now: NOW}).code, 'opened, as asked').to.equal(0);

    ok(ws.run(['authorize', '--key', 'k', '10.1.1.0/24', '--expires', '1d'], {now: NOW}));
    const later = day(2);
    expect(ws.run(['check', 'k', '203.0.113.9', '10.1.1.5'], {now: later}).code).to.equal(1);
    const prune = ok(ws.run(['prune', '--json'], {now: later}));
    expect(prune.json()).to.deep.include({keptKeyLists: ['k']});
    expect(prune.stderr).to.contain('key k');
    const after = ws.run(['check', 'k', '203.0.113.9', '10.1.1.5', '--json'], {now: later});
    expect(after.code, 'prune changes no decision').to.equal(1);
    expect(after.json().map((d: {reason: string}) => d.reason)).to.deep.equal(['not-in-key-allowlist', 'not-in-key-allowlist']);
  });
});
