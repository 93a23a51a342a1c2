/**
 * The blocked list and what leads out of it (`blocked`, `blocked --dismiss`,
 * `authorize --from-blocked`), the safety checks of `activate` and `revoke`
 * against seen traffic, expiry with `prune`, and `status`, end to end.
 */
import {writeFileSync} from 'node:fs';

import {expect} from 'chai';

import {daysAfter, RunResult, Workspace} from './harness.js';

const DAY0 = '2026-01-01T00:00:00.000Z';
const day = (n: number) => daysAfter(DAY0, n);

function ok(result: RunResult): RunResult {
  expect(result.code, `exit ${result.code}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`).to.equal(0);
  return result;
}

function createKey(ws: Workspace, name: string, type: 'api' | 'smtp' = 'api'): void {
  ok(ws.run(['keys', 'create', name, '--type', type], {now: day(0)}));
}

const blockedIps = (ws: Workspace, now: string) =>
  ok(ws.run(['blocked', '--json'], {now}))
    .json()
    .map((b: any) => `${b.ip} ${b.key}`);

describe('keyward blocked and authorize --from-blocked', () => {
  /** API blocking active from day 0, three addresses blocked at day 1 on two keys. */
  function withBlocked(): Workspace {
    const ws = Workspace.create();
    createKey(ws, 'billing');
    ok(ws.run(['activate', '--api'], {now: day(0)}));
    const events = [`billing 198.51.100.7 ${day(1)}`, `billing 198.51.100.8 ${day(2)}`, `billing 2001:db8::66 ${day(1)}`, `billing 203.0.113.9 ${day(3)}`].join('\n');
    ok(ws.run(['learn', '-'], {now: day(3), input: events}));
    return ws;
  }

  it('lists blocked addresses newest first with ip, key, channel, firstSeen, lastSeen, count and reason', () => {
    const ws = withBlocked();
    const rows = ok(ws.run(['blocked', '--json'], {now: day(3)})).json();
    expect(rows[0]).to.deep.equal({
      ip: '203.0.113.9',
      key: 'billing',
      channel: 'api',
      firstSeen: day(3),
      lastSeen: day(3),
      count: 1,
      reason: 'not-authorized',
      deniedBy: null,
    });
    // Newest first; the two seen last at day 1 in either order.
    expect(rows.map((r: any) => r.ip).slice(0, 2)).to.deep.equal(['203.0.113.9', '198.51.100.8']);
    expect(
      rows
        .map((r: any) => r.ip)
        .slice(2)
        .sort(),
    ).to.deep.equal(['198.51.100.7', '2001:db8::66']);
    const human = ok(ws.run(['blocked'], {now: day(3)}));
    expect(human.stdout).to.contain('198.51.100.7').and.contain('billing');

    // An address without --dismiss is no filter: exit 2, not the whole list as if it answered (found by an outside tester).
    const asFilter = ws.run(['blocked', '192.0.2.1', '--json'], {now: day(3)});
    expect(asFilter.code, asFilter.stderr).to.equal(2);
    expect(asFilter.json().error.message).to.equal('unexpected argument: `192.0.2.1` (blocked takes addresses only with --dismiss)');

    // Without arguments, --all or a terminal, --from-blocked cannot choose: a usage error, nothing written.
    const before = ws.storeBytes()!;
    const noChoice = ws.run(['authorize', '--from-blocked'], {now: day(4)});
    expect(noChoice.code, noChoice.stderr).to.equal(2);
    expect(noChoice.stderr).to.contain('--all');
    const piped = ws.run(['authorize', '-', '--from-blocked'], {now: day(4), input: ''});
    expect(piped.code, piped.stderr).to.equal(2);
    expect(ws.storeBytes()!.equals(before)).to.equal(true);

    // An address that is not on the list is a usage error too.
    expect(ws.run(['authorize', '--from-blocked', '192.0.2.1'], {now: day(4)}).code).to.equal(2);
  });

  it('counts stop at the largest the store holds (2^53 - 1): a hand-edited count there does not stop learning (found by an outside tester)', () => {
    const ws = withBlocked();
    ok(ws.run(['authorize', '192.0.2.0/24'], {now: day(3)}));
    ok(ws.run(['learn', '-'], {now: day(3), input: `billing 192.0.2.1 ${day(3)}\n`}));
    const data = ws.storeJson();
    for (const r of [...data.blocked, ...data.seen]) r.count = Number.MAX_SAFE_INTEGER - (r.ip === '192.0.2.1' ? 1 : 0);
    writeFileSync(ws.store, JSON.stringify(data, null, 2));
    const events = [`billing 198.51.100.7 ${day(4)}`, `billing 192.0.2.1 ${day(4)}`, `billing 192.0.2.1 ${day(4)}`, `billing 192.0.2.1 ${day(4)}`].join('\n');
    ok(ws.run(['learn', '-'], {now: day(4), input: events}));
    const after = ws.storeJson();
    expect(after.blocked.find((r: any) => r.ip === '198.51.100.7').count).to.equal(Number.MAX_SAFE_INTEGER);
    expect(after.seen.find((r: any) => r.ip === '192.0.2.1').count).to.equal(Number.MAX_SAFE_INTEGER);
    expect(ok(ws.run(['blocked', '--json'], {now: day(4)})).json()[0]).to.include({ip: '198.51.100.7', count: Number.MAX_SAFE_INTEGER});
  });

  it('--from-blocked ADDR authorizes the blocked addresses it covers; --all the rest', () => {
    const ws = withBlocked();
    const some = ok(ws.run(['authorize', '--from-blocked', '198.51.100.0/24', '--json'], {now: day(4)})).json();
    expect(some.added).to.deep.equal(['198.51.100.7', '198.51.100.8']);
    expect(blockedIps(ws, day(4)).sort()).to.deep.equal(['2001:db8::66 billing', '203.0.113.9 billing']);
    const listed = ok(ws.run(['list', '--json'], {now: day(4)})).json();
    expect(listed[0]).to.include({entry: '198.51.100.7', source: 'blocked', label: 'blocked: key billing'});
    expect(ws.run(['check', 'billing', '198.51.100.7', '198.51.100.8', '--expect', 'allow'], {now: day(4)}).code).to.equal(0);
    expect(ws.run(['check', 'billing', '198.51.100.9'], {now: day(4)}).code).to.equal(1);

    const rest = ok(ws.run(['authorize', '--from-blocked', '--all', '--json'], {now: day(5)})).json();
    expect(rest.added).to.deep.equal(['203.0.113.9', '2001:db8::66']);
    expect(blockedIps(ws, day(5))).to.deep.equal([]);
    expect(ws.run(['check', 'billing', '203.0.113.9', '2001:db8::66', '--expect', 'allow'], {now: day(5)}).code).to.equal(0);
    expect(ws.run(['authorize', '--from-blocked', '--all'], {now: day(5)}).code).to.equal(2);
  });

  it('authorizing takes an address off the list only when the key may now use it (account list and key list)', () => {
    const ws = Workspace.create();
    createKey(ws, 'billing');
    ok(ws.run(['authorize', '192.0.2.0/24'], {now: day(0)}));
    ok(ws.run(['authorize', '--key', 'billing', '198.51.100.0/24'], {now: day(0)}));
    ok(ws.run(['activate', '--api'], {now: day(0)}));
    // 192.0.2.7: in the account list, not in the key list. 203.0.113.9: in neither.
    ok(ws.run(['learn', '-'], {now: day(1), input: `billing 192.0.2.7 ${day(1)}\nbilling 203.0.113.9 ${day(1)}\n`}));
    expect(blockedIps(ws, day(1)).sort()).to.deep.equal(['192.0.2.7 billing', '203.0.113.9 billing']);

    const reasonOf = (ip: string) =>
      ok(ws.run(['blocked', '--json'], {now: day(2)}))
        .json<{ip: string; reason: string}[]>()
        .find((b) => b.ip === ip)!.reason;
    expect(reasonOf('203.0.113.9')).to.equal('not-in-key-allowlist');
    const keyOnly = ok(ws.run(['authorize', '--key', 'billing', '203.0.113.9'], {now: day(2)}));
    expect(keyOnly.stderr).to.match(/still refused.*203\.0\.113\.9/);
    expect(blockedIps(ws, day(2)).sort()).to.deep.equal(['192.0.2.7 billing', '203.0.113.9 billing']);
    // The record says why it is refused now, as check does (found by an outside tester: it kept the reason answered).
    expect(reasonOf('203.0.113.9')).to.equal('not-authorized');
    expect(ws.run(['check', 'billing', '203.0.113.9'], {now: day(2)}).stdout).to.contain('not-authorized');
    ok(ws.run(['authorize', '203.0.113.9'], {now: day(2)}));
    expect(blockedIps(ws, day(2))).to.deep.equal(['192.0.2.7 billing']);
    expect(ws.run(['check', 'billing', '203.0.113.9'], {now: day(2)}).code).to.equal(0);

    ok(ws.run(['authorize', '--key', 'billing', '192.0.2.7'], {now: day(3)}));
    expect(blockedIps(ws, day(3))).to.deep.equal([]);
    expect(ws.run(['check', 'billing', '192.0.2.7'], {now: day(3)}).code).to.equal(0);
  });

  it('--dismiss takes addresses off the list without authorizing them', () => {
    const ws = withBlocked();
    const dismissed = ok(ws.run(['blocked', '--dismiss', '198.51.100.7', '2001:db8::/32', '--json'], {now: day(4)})).json();
    expect(dismissed.dismissed).to.deep.equal([
      {ip: '198.51.100.7', key: 'billing'},
      {ip: '2001:db8::66', key: 'billing'},
    ]);
    expect(blockedIps(ws, day(4)).sort()).to.deep.equal(['198.51.100.8 billing', '203.0.113.9 billing']);
    expect(ws.run(['check', 'billing', '198.51.100.7'], {now: day(4)}).code).to.equal(1);
    expect(ok(ws.run(['list', '--json'], {now: day(4)})).json()).to.deep.equal([]);
    expect(ws.run(['blocked', '--dismiss', '192.0.2.1'], {now: day(4)}).code).to.equal(2);
  });
});

describe('keyward activate and revoke against seen traffic', () => {
  it('activate --api during learning refuses (exit 4) while seen traffic is not covered, listing it; then works', () => {
    const ws = Workspace.create();
    createKey(ws, 'billing');
    ok(ws.run(['learn', '-'], {now: day(1), input: `billing 192.0.2.10 ${day(1)}\nbilling 198.51.100.4 ${day(1)}\n`}));
    // Take one learned network away so that its traffic would be refused.
    ok(ws.run(['revoke', '192.0.2.0/24', '--yes'], {now: day(2)}));

    const before = ws.storeBytes()!;
    const refused = ws.run(['activate', '--api'], {now: day(2)});
    expect(refused.code, refused.stderr).to.equal(4);
    expect(refused.stderr).to.contain('192.0.2.10').and.contain('billing').and.not.contain('198.51.100.4');
    expect(refused.stderr, 'a question: --yes answers it').to.contain('--yes');
    expect(ws.storeBytes()!.equals(before)).to.equal(true);
    expect(ok(ws.run(['status', '--json'], {now: day(2)})).json().api.state).to.equal('learning');

    ok(ws.run(['authorize', '192.0.2.10'], {now: day(3)}));
    ok(ws.run(['activate', '--api'], {now: day(3)}));
    expect(ok(ws.run(['status', '--json'], {now: day(3)})).json().api).to.deep.equal({
      state: 'active',
      learningSince: null,
      lastNewAddressAt: day(1),
      activatesAt: null,
      quietDays: null,
      lastEventAt: null,
    });
  });

  it('revoke under active blocking names the seen addresses it would cut off, and needs --yes (exit 4)', () => {
    const ws = Workspace.create();
    createKey(ws, 'billing');
    ok(ws.run(['learn', '-'], {now: day(1), input: `billing 192.0.2.10 ${day(1)}\n`}));
    ok(ws.run(['authorize', '198.51.100.0/24'], {now: day(1)}));

    // Day 40: an event past the window turns blocking on by itself.
    ok(ws.run(['learn', '-'], {now: day(40), input: `billing 198.51.100.9 ${day(40)}\n`}));
    expect(ws.storeJson().blocking.api.state).to.equal('active');
    const before = ws.storeBytes()!;
    const refused = ws.run(['revoke', '192.0.2.0/24'], {now: day(40)});
    expect(refused.code, refused.stderr).to.equal(4);
    expect(refused.stderr).to.contain('192.0.2.10').and.contain('--yes');
    expect(ws.storeBytes()!.equals(before)).to.equal(true);
    expect(ws.run(['check', 'billing', '192.0.2.10'], {now: day(40)}).code).to.equal(0);

    const done = ok(ws.run(['revoke', '192.0.2.0/24', '--yes', '--json'], {now: day(40)}));
    expect(done.json().removed).to.deep.equal(['192.0.2.0/24']);
    expect(done.stderr).to.contain('192.0.2.10');
    const check = ws.run(['check', 'billing', '192.0.2.10', '--json'], {now: day(40)});
    expect(check.code).to.equal(1);
    expect(check.json()[0]).to.include({reason: 'not-authorized'});
  });
});

describe('keyward authorize --expires and prune', () => {
  it('an entry that expires after a day stops matching, is listed as expired, and prune removes it', () => {
    const ws = Workspace.create();
    createKey(ws, 'billing');
    ok(ws.run(['activate', '--api'], {now: day(0)}));
    ok(ws.run(['authorize', '192.0.2.5', '198.51.100.0/24', '--expires', '1d'], {now: day(0)}));
    ok(ws.run(['authorize', '203.0.113.0/24'], {now: day(0)}));

    expect(ok(ws.run(['check', 'billing', '192.0.2.5', '--json'], {now: daysAfter(day(0), 0.99)})).json()[0]).to.include({decision: 'allow', reason: 'authorized'});
    const late = ws.run(['check', 'billing', '192.0.2.5', '--json'], {now: day(1)});
    expect(late.code).to.equal(1);
    expect(late.json()[0]).to.include({decision: 'deny', reason: 'not-authorized'});

    const rows = ok(ws.run(['list', '--json'], {now: day(2)})).json();
    expect(rows.find((r: any) => r.entry === '192.0.2.5').expiresAt).to.equal(day(1));
    const human = ok(ws.run(['list'], {now: day(2)})).stdout;
    // In a pipe the expiry is its time (a terminal says "expired 1 d ago": tables.test.ts).
    expect(human).to.match(/^192\.0\.2\.5\t.*\t2026-01-02T00:00:00\.000Z$/m);
    expect(ok(ws.run(['status', '--json'], {now: day(2)})).json().counts).to.include({accountEntries: 3, expiredEntries: 2});

    const before = ws.storeBytes()!;
    const dry = ok(ws.run(['prune', '--dry-run', '--json'], {now: day(2)})).json();
    expect(dry.dryRun).to.equal(true);
    expect(dry.removed.map((r: any) => r.entry)).to.deep.equal(['192.0.2.5', '198.51.100.0/24']);
    expect(ws.storeBytes()!.equals(before)).to.equal(true);

    const pruned = ok(ws.run(['prune', '--json'], {now: day(2)})).json();
    expect(pruned.removed.map((r: any) => r.entry)).to.deep.equal(['192.0.2.5', '198.51.100.0/24']);
    expect(
      ok(ws.run(['list', '--json'], {now: day(2)}))
        .json()
        .map((r: any) => r.entry),
    ).to.deep.equal(['203.0.113.0/24']);
    expect(ok(ws.run(['prune', '--json'], {now: day(2)})).json().removed).to.deep.equal([]);
  });
});

describe('keyward status', () => {
  it('says what a new store does, how many learning days are left, and counts', () => {
    const ws = Workspace.create();
    // v2: a store that does not exist is an error for a reading command, never an empty store.
    const missing = ws.run(['status', '--json'], {now: day(0)});
    expect(missing.code).to.equal(3);
    expect(missing.stderr).to.contain(`no store at ${ws.store}`);

    createKey(ws, 'billing');
    const fresh = ok(ws.run(['status', '--json'], {now: day(0)})).json();
    expect(fresh.api).to.deep.equal({state: 'learning', learningSince: day(0), lastNewAddressAt: null, activatesAt: day(30), quietDays: 0, lastEventAt: null});
    expect(fresh.smtp).to.deep.equal({state: 'inactive'});
    expect(ok(ws.run(['status'], {now: day(0)})).stdout).to.match(/no API event seen yet/);

    createKey(ws, 'relay', 'smtp');
    ok(ws.run(['learn', '-'], {now: day(5), input: `billing 192.0.2.1 ${day(5)}\nbilling 2001:db8::1 ${day(5)}\nrelay 198.51.100.1 ${day(5)}\n`}));

    const human = ok(ws.run(['status'], {now: day(20)})).stdout;
    expect(human).to.match(/api\s+learning/);
    expect(human)
      .to.contain(`0 of 30 quiet days observed since ${day(5)}`)
      .and.contain(`at or after ${day(35)} (15 days from now)`);
    expect(human).to.match(/smtp\s+inactive/);

    const status = ok(ws.run(['status', '--json'], {now: day(20)})).json();
    expect(status.api).to.deep.equal({state: 'learning', learningSince: day(0), lastNewAddressAt: day(5), activatesAt: day(35), quietDays: 0, lastEventAt: day(5)});
    expect(status.counts).to.deep.include({accountEntries: 2, learnedEntries: 2, keys: 2, activeKeys: 2, blocked: 0, seen: 3});

    // A known caller's event past the window turns blocking on; the new address after it is blocked.
    ok(ws.run(['learn', '-'], {now: day(36), input: `billing 192.0.2.1 ${day(36)}\nbilling 203.0.113.77 ${day(36)}\n`}));
    const active = ok(ws.run(['status'], {now: day(36)})).stdout;
    expect(active).to.match(/api\s+active/);
    expect(active).to.contain('203.0.113.77');
    const json = ok(ws.run(['status', '--json'], {now: day(36)})).json();
    expect(json.api).to.deep.equal({state: 'active', learningSince: null, lastNewAddressAt: day(5), activatesAt: null, quietDays: null, lastEventAt: null});
    expect(json.counts.blocked).to.equal(1);
  });
});
