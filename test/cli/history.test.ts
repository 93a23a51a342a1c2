/**
 * `keyward history` end to end: a sequence of commands an operator runs, and
 * the record each one leaves (in order, with what it changed, never a
 * secret); --limit, --since, the table; the bound on the record; dry runs and
 * changes that change nothing leave no record.
 */
import {createHash} from 'node:crypto';
import os from 'node:os';
import {expect} from 'chai';

import {daysAfter, RunResult, Workspace} from './harness.js';

const DAY0 = '2026-01-01T00:00:00.000Z';
const day = (n: number) => daysAfter(DAY0, n);

function ok(result: RunResult): RunResult {
  expect(result.code, `exit ${result.code}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`).to.equal(0);
  return result;
}

function expectedUser(): string {
  try {
    return os.userInfo().username || process.env.USER || 'unknown';
  } catch {
    return process.env.USER || 'unknown';
  }
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const hint = (secret: string) => `${secret.slice(0, 4)}…${secret.slice(-4)}`;

/** A change with only the given kinds filled in, as history --json prints it. */
function changes(parts: Record<string, unknown>): Record<string, unknown> {
  return {counts: {added: 0, removed: 0, updated: 0}, entries: [], keys: [], blocking: [], blocked: {added: 0, removed: 0}, settings: [], ...parts};
}

function scope(name: string, added: string[], removed: string[] = [], updated: string[] = []) {
  return {scope: name, added, removed, updated, counts: {added: added.length, removed: removed.length, updated: updated.length}, groups: [] as string[]};
}

describe('keyward history: a sequence of changes, recorded in order', () => {
  const ws = Workspace.create();
  const secrets: string[] = [];
  let records: any[] = [];

  before(function () {
    this.timeout(120_000);
    // 1, 2: two keys, one with its own list.
    secrets.push(ok(ws.run(['keys', 'create', 'billing', '--type', 'api', '--json'], {now: day(0)})).json().secret);
    secrets.push(ok(ws.run(['keys', 'create', 'relay', '--type', 'smtp', '--allow', '198.51.100.0/24'], {now: day(0)})).stdout.match(/[0-9a-f]{40}/)![0]);
    // 3: authorize; then one already there (v2: a covered entry would be added) and a dry run, which change nothing.
    ok(ws.run(['authorize', '10.0.0.0/8', '192.0.2.7', '--label', 'office'], {now: day(1)}));
    ok(ws.run(['authorize', '192.0.2.7'], {now: day(1)}));
    ok(ws.run(['authorize', '203.0.113.0/24', '--dry-run'], {now: day(1)}));
    ok(ws.run(['revoke', '10.0.0.0/8', '--dry-run'], {now: day(1)}));
    // 4: revoke.
    ok(ws.run(['revoke', '192.0.2.7'], {now: day(2)}));
    // 5: one log that learns (day 2) and, 30 days later, sees a known caller turn blocking on and blocks a new one (day 40).
    ok(ws.run(['learn', '-'], {now: day(40), input: `billing 198.18.0.9 ${day(2)}\nbilling 198.18.0.9 ${day(40)}\nbilling 203.0.113.9 ${day(40)}\n`}));
    // 6, 7: the operator switches blocking.
    ok(ws.run(['activate', '--smtp'], {now: day(41)}));
    ok(ws.run(['deactivate', '--api', '--yes'], {now: day(42)}));
    // 8, 9: rotate and revoke a key.
    secrets.push(ok(ws.run(['keys', 'rotate', 'billing', '--yes', '--json'], {now: day(43)})).json().secret);
    ok(ws.run(['keys', 'revoke', 'billing', '--yes'], {now: day(44)}));
    // 10: a blocked address dismissed.
    ok(ws.run(['blocked', '--dismiss', '203.0.113.9'], {now: day(45)}));
    records = ok(ws.run(['history', '--json'], {now: day(46)})).json();
  });

  it('has one record per change, in order, with the command, the flags given (no values), the user and the time', () => {
    expect(records.map((r) => [r.at, r.command, r.flags])).to.deep.equal([
      [day(0), 'keys create', ['json', 'type']],
      [day(0), 'keys create', ['allow', 'type']],
      [day(1), 'authorize', ['label']],
      [day(2), 'revoke', []],
      [day(40), 'learn', []],
      [day(41), 'activate', ['smtp']],
      [day(42), 'deactivate', ['api', 'yes']],
      [day(43), 'keys rotate', ['json', 'yes']],
      [day(44), 'keys revoke', ['yes']],
      [day(45), 'blocked', ['dismiss']],
    ]);
    for (const r of records) expect(r.user).to.equal(expectedUser());
  });

  it('says what each changed', () => {
    const [billingSecret, relaySecret, rotatedSecret] = secrets;
    expect(records.map((r) => r.changes)).to.deep.equal([
      changes({keys: [{name: 'billing', type: 'api', action: 'created', hint: hint(billingSecret)}]}),
      changes({
        counts: {added: 1, removed: 0, updated: 0},
        entries: [scope('relay', ['198.51.100.0/24'])],
        keys: [{name: 'relay', type: 'smtp', action: 'created', hint: hint(relaySecret)}],
      }),
      changes({counts: {added: 2, removed: 0, updated: 0}, entries: [scope('account', ['10.0.0.0/8', '192.0.2.7'])]}),
      changes({counts: {added: 0, removed: 1, updated: 0}, entries: [scope('account', [], ['192.0.2.7'])]}),
      changes({
        counts: {added: 1, removed: 0, updated: 0},
        // Learned entries are in group `learned`: history --group learned finds this change.
        entries: [{...scope('account', ['198.18.0.0/24']), groups: ['learned']}],
        blocking: [{channel: 'api', from: 'learning', to: 'active', automatic: true}],
        blocked: {added: 1, removed: 0},
      }),
      changes({blocking: [{channel: 'smtp', from: 'inactive', to: 'active', automatic: false}]}),
      changes({blocking: [{channel: 'api', from: 'active', to: 'inactive', automatic: false}]}),
      changes({keys: [{name: 'billing', type: 'api', action: 'rotated', hint: hint(rotatedSecret)}]}),
      changes({keys: [{name: 'billing', type: 'api', action: 'revoked', hint: hint(rotatedSecret)}]}),
      changes({blocked: {added: 0, removed: 1}}),
    ]);
  });

  it('never holds a secret or a hash of one, in the store or in its output', () => {
    const store = ws.storeBytes()!.toString('utf8');
    const historyText = JSON.stringify(ws.storeJson().history);
    const shown = ok(ws.run(['history'], {now: day(46)})).stdout + JSON.stringify(records);
    expect(secrets).to.have.length(3);
    for (const secret of secrets) {
      expect(store).not.to.contain(secret);
      expect(shown).not.to.contain(secret);
      expect(historyText).not.to.contain(sha256(secret));
      expect(shown).not.to.contain(sha256(secret));
    }
  });

  it('--limit keeps the newest, --since keeps records from a time or a duration back', async () => {
    const [limited, sinceTime, sinceDuration, none] = (
      await ws.runAll(
        [
          ['history', '--limit', '2', '--json'],
          ['history', '--since', day(41), '--json'],
          ['history', '--since', '3d', '--limit', '2', '--json'],
          ['history', '--since', '1h'],
        ],
        {now: day(46)},
      )
    ).map(ok);
    expect(limited.json()).to.deep.equal(records.slice(-2));
    expect(sinceTime.json().map((r: any) => r.at)).to.deep.equal([day(41), day(42), day(43), day(44), day(45)]);
    expect(sinceDuration.json().map((r: any) => r.command)).to.deep.equal(['keys revoke', 'blocked']);
    // In a pipe, an empty table is its header (on a terminal: "no changes recorded since …").
    expect(none.stdout).to.equal('at\tcommand\tflags\tuser\tchanges\n');
  });

  it('refuses a --since or --limit it cannot read, with exit 2', async () => {
    const cases = [
      ['--since', 'last week'],
      ['--limit', '0'],
      ['--limit', 'ten'],
    ];
    const runs = await ws.runAll(
      cases.map((args) => ['history', ...args, '--json']),
      {now: day(46)},
    );
    for (const [i, out] of runs.entries()) {
      expect(out.code, cases[i].join(' ')).to.equal(2);
      expect(out.json().error, cases[i].join(' ')).to.include({exit: 2});
    }
  });

  it('shows a table (TSV in a pipe): time, command, its flags, user and the changes', () => {
    const out = ok(ws.run(['history'], {now: day(46)}));
    for (const text of [
      'at\tcommand\tflags\tuser\tchanges',
      day(40),
      'authorize\tlabel',
      '+2 account: 10.0.0.0/8, 192.0.2.7',
      '-1 account: 192.0.2.7',
      'api blocking: learning → active (by itself)',
      'smtp blocking: inactive → active',
      'blocked list: +1 -0',
      `key billing (api) rotated, ${hint(secrets[2])}`,
      expectedUser(),
    ]) {
      expect(out.stdout).to.contain(text);
    }
    expect(out.stderr).to.equal('');
  });
});

describe('keyward history: what is and is not recorded', () => {
  it('a store with no history shows none; a dry run and a change that changes nothing add nothing', () => {
    const ws = Workspace.create();
    expect(ws.run(['history']).code, 'v2: no store is an error, not an empty history').to.equal(3);
    ok(ws.run(['authorize', '10.0.0.0/8'], {now: day(0)}));
    const {history, ...withoutHistory} = ws.storeJson();
    expect(history).to.have.length(1);
    ws.file('store.json', JSON.stringify(withoutHistory, null, 2) + '\n');
    expect(ok(ws.run(['history', '--json'])).json()).to.deep.equal([]);
    expect(ok(ws.run(['history'])).stdout).to.equal('at\tcommand\tflags\tuser\tchanges\n');
    ok(ws.run(['authorize', '192.0.2.0/24'], {now: day(0)}));
    const before = ws.storeBytes();
    // v2: an entry inside another is added, so the no-op is the exact entry again.
    ok(ws.run(['authorize', '10.0.0.0/8'], {now: day(1)}));
    ok(ws.run(['authorize', '192.0.2.1', '--dry-run'], {now: day(1)}));
    ok(ws.run(['revoke', '10.0.0.0/8', '--dry-run'], {now: day(1)}));
    ok(ws.run(['prune'], {now: day(1)}));
    ok(ws.run(['deactivate', '--smtp', '--yes'], {now: day(1)}));
    expect(ws.storeBytes(), 'the store is byte for byte as it was').to.deep.equal(before);
    expect(ws.storeJson().history).to.have.length(1);
  });

  it("learning's own switch is recorded by the learn that applies an event past the window, never by a later command by time alone", () => {
    const ws = Workspace.create();
    ok(ws.run(['keys', 'create', 'billing', '--type', 'api'], {now: day(0)}));
    ok(ws.run(['learn', '-'], {now: day(0), input: `billing 192.0.2.10 ${day(0)}\n`}));
    ok(ws.run(['authorize', '198.51.100.1'], {now: day(35)}));
    ok(ws.run(['learn', '-'], {now: day(36), input: `billing 192.0.2.10 ${day(36)}\n`}));
    const records = ok(ws.run(['history', '--json'], {now: day(36)})).json();
    expect(records.map((r: any) => [r.at, r.command])).to.deep.equal([
      [day(0), 'keys create'],
      [day(0), 'learn'],
      [day(35), 'authorize'],
      [day(36), 'learn'],
    ]);
    expect(records[2].changes.entries).to.deep.equal([scope('account', ['198.51.100.1'])]);
    expect(records[2].changes.blocking).to.deep.equal([]);
    expect(records[3].changes).to.deep.equal(changes({blocking: [{channel: 'api', from: 'learning', to: 'active', automatic: true}]}));
  });

  it('a large import is one small record: 50 entries named, the exact count', () => {
    const ws = Workspace.create();
    const entries = Array.from({length: 3000}, (_, i) => `10.${i >> 8}.${i & 255}.0/24`);
    ok(ws.run(['authorize', '-'], {now: day(0), input: `${entries.join('\n')}\n`}));
    const [record] = ok(ws.run(['history', '--json'])).json();
    expect(record.changes.counts).to.deep.equal({added: 3000, removed: 0, updated: 0});
    expect(record.changes.entries[0].added).to.have.length(50);
    expect(JSON.stringify(ws.storeJson().history).length).to.be.below(4000);
    const table = ok(ws.run(['history'])).stdout;
    expect(table).to.contain('+3000 account: 10.0.0.0/24, 10.0.1.0/24, 10.0.2.0/24, … (3000)');
  });

  it('keeps the newest 500 records: a change to a store holding 500 drops the oldest', () => {
    const ws = Workspace.create();
    ok(ws.run(['authorize', '192.0.2.1'], {now: day(0)}));
    const store = ws.storeJson();
    const old = store.history[0];
    store.history = Array.from({length: 500}, (_, i) => ({...old, at: daysAfter(DAY0, i / 1000), command: `old ${i}`}));
    ws.file('store.json', `${JSON.stringify(store, null, 2)}\n`);
    ok(ws.run(['authorize', '192.0.2.2'], {now: day(1)}));
    const records = ok(ws.run(['history', '--json'])).json();
    expect(records).to.have.length(500);
    expect(records[0].command).to.equal('old 1');
    expect(records.at(-1)).to.include({command: 'authorize', at: day(1)});
    expect(records.at(-1).changes.entries).to.deep.equal([scope('account', ['192.0.2.2'])]);
  });

  it('writers at the same time each leave their record: the record is written with the change, under the lock', async () => {
    const ws = Workspace.create();
    const addresses = Array.from({length: 6}, (_, i) => `198.51.100.${i + 1}`);
    const runs = await ws.runAll(
      addresses.map((ip) => ['authorize', ip]),
      {now: day(0)},
    );
    for (const run of runs) ok(run);
    const records = ok(ws.run(['history', '--json'])).json();
    expect(records.flatMap((r: any) => r.changes.entries[0].added).sort()).to.deep.equal(addresses);
  });

  it('a store whose history is damaged is refused like any bad store: exit 3, untouched', () => {
    const ws = Workspace.create();
    ok(ws.run(['authorize', '192.0.2.1'], {now: day(0)}));
    const store = ws.storeJson();
    store.history[0].changes.counts.added = 'many';
    ws.file('store.json', JSON.stringify(store));
    const before = ws.storeBytes();
    const [read, write] = [ws.run(['history']), ws.run(['authorize', '192.0.2.2'])];
    for (const out of [read, write]) {
      expect(out.code).to.equal(3);
      expect(out.stderr).to.contain('history[0].changes.counts.added is not a count');
    }
    expect(ws.storeBytes()).to.deep.equal(before);
  });
});
