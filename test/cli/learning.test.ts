/**
 * `keyward learn` end to end, driven by KEYWARD_NOW: the learning phase, its
 * own switch to blocking (on an event past the quiet window, never by time alone), the blocked list and the ways out, SMTP keys, the
 * input forms, --strict, --dry-run, --window, secrets in logs and
 * --notify-command.
 */
import {existsSync, readFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {expect} from 'chai';

import {nearlySortedOrder} from '../../src/core/learning.js';
import {daysAfter, RunResult, Workspace} from './harness.js';

const DAY0 = '2026-01-01T00:00:00.000Z';
const day = (n: number) => daysAfter(DAY0, n);
const RECORDER = fileURLToPath(new URL('../fixtures/notify-recorder.sh', import.meta.url));

function ok(result: RunResult): RunResult {
  expect(result.code, `exit ${result.code}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`).to.equal(0);
  return result;
}

/** A workspace with keys already made at day 0 (name → type); returns their secrets. */
function workspaceWith(keys: Record<string, 'api' | 'smtp'>): {ws: Workspace; secrets: Record<string, string>} {
  const ws = Workspace.create();
  const secrets: Record<string, string> = {};
  for (const [name, type] of Object.entries(keys)) {
    secrets[name] = ok(ws.run(['keys', 'create', name, '--type', type, '--json'], {now: day(0)})).json().secret;
  }
  return {ws, secrets};
}

function accountList(ws: Workspace, now: string): any[] {
  return ok(ws.run(['list', '--account', '--json'], {now})).json();
}

describe('keyward learn: the learning timeline', () => {
  // One store lived through day by day; each step builds on the one before.
  const {ws} = workspaceWith({billing: 'api'});

  it('day 0 and day 10: learns the /24 and the /64 of two callers, marked learned', () => {
    const d0 = ok(ws.run(['learn', '-', '--json'], {now: day(0), input: `billing 192.0.2.10 ${day(0)}\n`})).json();
    expect(d0).to.deep.include({events: 1, learned: ['192.0.2.0/24'], blocked: [], unknownKeys: 0});
    expect(d0.api).to.deep.equal({state: 'learning', activatesAt: day(30)});

    const d10 = ok(ws.run(['learn', '-', '--json'], {now: day(10), input: `billing 2001:db8:1:2::5 ${day(10)}\nbilling 192.0.2.77 ${day(10)}\n`})).json();
    expect(d10).to.deep.equal({
      events: 2,
      learned: ['2001:db8:1:2::/64'],
      blocked: [],
      unknownKeys: 0,
      badLines: 0,
      untimed: 0,
      refused: 0,
      api: {state: 'learning', activatesAt: day(40)},
      dryRun: false,
      format: 'keyward',
    });

    const rows = accountList(ws, day(10));
    expect(rows.map((r) => [r.entry, r.source, r.addedAt])).to.deep.equal([
      ['192.0.2.0/24', 'learned', day(0)],
      ['2001:db8:1:2::/64', 'learned', day(10)],
    ]);
  });

  it('day 39: check and status say learning, activating at day 40', () => {
    const check = ok(ws.run(['check', 'billing', '203.0.113.5', '--json'], {now: day(39)})).json()[0];
    expect(check).to.include({decision: 'allow', reason: 'learning'});
    const status = ok(ws.run(['status', '--json'], {now: day(39)})).json();
    expect(status.api).to.deep.equal({state: 'learning', learningSince: day(0), lastNewAddressAt: day(10), activatesAt: day(40), quietDays: 0, lastEventAt: day(10)});
  });

  it('day 41: with no event since day 10, time alone does not turn blocking on: check allows and status says it waits for traffic', () => {
    const check = ok(ws.run(['check', 'billing', '203.0.113.5', '--json'], {now: day(41)}));
    expect(check.json()[0]).to.deep.include({key: 'billing', ip: '203.0.113.5', decision: 'allow', reason: 'learning'});
    const status = ok(ws.run(['status', '--json'], {now: day(41)})).json();
    expect(status.api).to.include({state: 'learning', activatesAt: day(40)});
    expect(ok(ws.run(['status'], {now: day(41)})).stdout).to.contain('blocking waits for traffic');
  });

  it("day 42: a known caller's event past the window turns blocking on; one from a new address lands on the blocked list, with the three ways out", () => {
    const learn = ok(ws.run(['learn', '-', '--json'], {now: day(42), input: `billing 192.0.2.10 ${day(42)}\nbilling 203.0.113.5 ${day(42)}\n`}));
    expect(learn.json()).to.deep.include({events: 2, learned: [], blocked: [{ip: '203.0.113.5', key: 'billing'}], unknownKeys: 0});
    expect(learn.json().api).to.deep.equal({state: 'active', activatesAt: null});
    expect(learn.stderr).to.contain('203.0.113.5');
    expect(learn.stderr).to.contain('keyward authorize 203.0.113.5');
    expect(learn.stderr).to.contain('keyward keys rotate billing');
    expect(learn.stderr).to.contain('keyward deactivate --api');
    expect(learn.stderr).to.contain(`turned itself on at ${day(42)}`);

    expect(ok(ws.run(['blocked', '--json'], {now: day(42)})).json()).to.deep.equal([
      {ip: '203.0.113.5', key: 'billing', channel: 'api', firstSeen: day(42), lastSeen: day(42), count: 1, reason: 'not-authorized', deniedBy: null},
    ]);
  });

  it('a second event from the same address counts on the same record and is not reported as new', () => {
    const learn = ok(ws.run(['learn', '-', '--json'], {now: day(43), input: `billing 203.0.113.5 ${day(43)}\n`}));
    expect(learn.json().blocked).to.deep.equal([]);
    expect(ok(ws.run(['blocked', '--json'], {now: day(43)})).json()).to.deep.equal([
      {ip: '203.0.113.5', key: 'billing', channel: 'api', firstSeen: day(42), lastSeen: day(43), count: 2, reason: 'not-authorized', deniedBy: null},
    ]);
  });

  it('`authorize ADDR` takes the address off the blocked list and check allows it', () => {
    const authorize = ok(ws.run(['authorize', '203.0.113.5'], {now: day(44)}));
    expect(authorize.stderr).to.contain('left the blocked list');
    expect(ok(ws.run(['blocked', '--json'], {now: day(44)})).json()).to.deep.equal([]);
    const check = ok(ws.run(['check', 'billing', '203.0.113.5', '--json'], {now: day(44)})).json()[0];
    expect(check).to.include({decision: 'allow', reason: 'authorized'});
    expect(check.matched).to.deep.equal(['203.0.113.5']);
  });
});

describe('keyward learn: SMTP keys', () => {
  it('never learns for SMTP keys; activate --smtp refuses while seen SMTP traffic is unauthorized, then blocks', () => {
    const {ws} = workspaceWith({relay: 'smtp'});
    const learn = ok(ws.run(['learn', '-', '--json'], {now: day(1), input: `relay 198.51.100.20 ${day(1)}\nrelay 2001:db8:5::1 ${day(1)}\n`})).json();
    expect(learn).to.deep.include({events: 2, learned: [], blocked: []});
    expect(accountList(ws, day(1))).to.deep.equal([]);
    // SMTP traffic does not start the API learning window.
    expect(ok(ws.run(['status', '--json'], {now: day(1)})).json().api).to.include({state: 'learning', activatesAt: day(30), quietDays: 0, lastEventAt: null});

    // A non-empty account list that does not cover the seen traffic does not make activation safe.
    ok(ws.run(['authorize', '203.0.113.0/24'], {now: day(2)}));
    const before = ws.storeBytes();
    const refused = ws.run(['activate', '--smtp'], {now: day(2)});
    expect(refused.code, refused.stderr).to.equal(4);
    expect(refused.stderr).to.contain('198.51.100.20').and.contain('2001:db8:5::1').and.contain('relay');
    expect(ws.storeBytes()!.equals(before!)).to.equal(true);
    expect(ok(ws.run(['status', '--json'], {now: day(2)})).json().smtp).to.deep.equal({state: 'inactive'});

    ok(ws.run(['activate', '--smtp', '--force'], {now: day(2)}));
    expect(ok(ws.run(['status', '--json'], {now: day(2)})).json().smtp).to.deep.equal({state: 'active'});

    const blocked = ok(ws.run(['learn', '-', '--json'], {now: day(3), input: `relay 198.51.100.99 ${day(3)}\nrelay 203.0.113.5 ${day(3)}\n`}));
    expect(blocked.json()).to.deep.include({learned: [], blocked: [{ip: '198.51.100.99', key: 'relay'}]});
    expect(blocked.stderr).to.contain('keyward deactivate --smtp').and.contain('keyward keys rotate relay');
    expect(ok(ws.run(['blocked', '--json'], {now: day(3)})).json()).to.deep.equal([
      {ip: '198.51.100.99', key: 'relay', channel: 'smtp', firstSeen: day(3), lastSeen: day(3), count: 1, reason: 'not-authorized', deniedBy: null},
    ]);
  });

  it('activate --smtp with an empty account list and no traffic refuses too (exit 4)', () => {
    const {ws} = workspaceWith({relay: 'smtp'});
    const refused = ws.run(['activate', '--smtp'], {now: day(1)});
    expect(refused.code, refused.stderr).to.equal(4);
    expect(refused.stderr).to.contain('account list is empty');
  });
});

describe('keyward learn: input', () => {
  it('reads whitespace lines with and without times, comments, CRLF and NDJSON from files and `-`', () => {
    const {ws} = workspaceWith({billing: 'api', reports: 'api'});
    const file = ws.file(
      'events.log',
      [
        '# key address time',
        `billing 192.0.2.1 ${day(1)}`,
        '',
        `billing\t\t198.51.100.1\t${day(2)}   # tabs and a comment`,
        `{"key":"reports","ip":"2001:db8:aa::1","at":"${day(3)}"}`,
        'reports 203.0.113.9',
        '{"key":"billing","ip":"::ffff:10.1.2.3"}',
      ].join('\r\n') + '\r\n',
    );
    const fromFile = ok(ws.run(['learn', file, '--json'], {now: day(4)})).json();
    expect(fromFile).to.deep.include({events: 5, unknownKeys: 0, badLines: 0});
    expect(fromFile.learned).to.deep.equal(['192.0.2.0/24', '198.51.100.0/24', '2001:db8:aa::/64', '203.0.113.0/24', '10.1.2.0/24']);
    const rows = Object.fromEntries(accountList(ws, day(4)).map((r) => [r.entry, r]));
    // Lines without a time happen now.
    expect(rows['203.0.113.0/24'].addedAt).to.equal(day(4));
    expect(rows['2001:db8:aa::/64']).to.include({addedAt: day(3), source: 'learned', label: 'learned from reports'});

    const other = ws.file('more.log', `billing 192.0.3.1 ${day(5)}\n`);
    const dash = ok(ws.run(['learn', other, '-', '--json'], {now: day(5), input: `{"key":"billing","ip":"192.0.4.1","at":"${day(5)}"}\n`})).json();
    expect(dash).to.deep.include({events: 2, learned: ['192.0.3.0/24', '192.0.4.0/24']});

    const piped = ok(ws.run(['learn', '-', '--json'], {now: day(6), input: `billing 192.0.5.1 ${day(6)}\r\n`})).json();
    expect(piped).to.deep.include({events: 1, learned: ['192.0.5.0/24']});
  });

  it('applies events in time order, not input order: a day-5 line after a day-50 line is learned first', () => {
    const {ws} = workspaceWith({billing: 'api'});
    // 192.0.2.99 at day 50 is in the network learned at day 5 in the same run: a known caller, it turns blocking on; 198.51.100.7 after it is blocked.
    const file = ws.file('late-first.log', `billing 192.0.2.99 ${day(50)}\nbilling 198.51.100.7 ${day(50)}\nbilling 192.0.2.1 ${day(5)}\n`);
    const learn = ok(ws.run(['learn', file, '--json'], {now: day(50)}));
    expect(learn.json()).to.deep.include({learned: ['192.0.2.0/24'], blocked: [{ip: '198.51.100.7', key: 'billing'}]});
    expect(learn.json().api.state).to.equal('active');
    expect(accountList(ws, day(50)).map((r) => [r.entry, r.addedAt])).to.deep.equal([['192.0.2.0/24', day(5)]]);
    expect(ok(ws.run(['blocked', '--json'], {now: day(50)})).json()[0]).to.include({firstSeen: day(50)});
  });

  it('a log far out of order (sorted by radix, past the buckets of time) leaves the store the same log in time order leaves, equal times in input order', () => {
    // 20,000 events in two seconds, in random order, and a few 60 and 100 days before: the buckets of time are two minutes
    // wide, so the two seconds fall in one or two of them and the insertions give up (the radix sort runs, on offsets past 2^32 ms).
    let state = 20261202;
    const random = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const base = Date.parse(day(150));
    const keys = ['billing', 'billing', 'ci', 'relay'];
    const lines: Array<{at: number; text: string}> = [];
    for (let i = 0; i < 20_000; i++) {
      const at = i % 4000 === 0 ? base - (i % 8000 === 0 ? 100 : 60) * 86_400_000 : base + Math.floor(random() * 2000);
      const ip =
        random() < 0.1
          ? `2001:db8:${Math.floor(random() * 40).toString(16)}::${Math.floor(random() * 9) + 1}`
          : `198.${18 + Math.floor(random() * 2)}.${Math.floor(random() * 60)}.${Math.floor(random() * 250) + 1}`;
      lines.push({at, text: `${keys[Math.floor(random() * keys.length)]} ${ip} ${new Date(at).toISOString()}`});
    }
    const times = Float64Array.from(lines, (l) => l.at);
    const [min, max] = [Math.min(...times), Math.max(...times)];
    expect(max - min, 'offsets past one 32-bit word').to.be.above(2 ** 32);
    expect(nearlySortedOrder(times, times.length, min, max), 'the buckets of time give up on this log').to.equal(null);
    // (Array.prototype.sort is stable: equal times keep their input order.)
    const inOrder = [...lines].sort((a, b) => a.at - b.at);
    const runs = [lines, inOrder].map((log) => {
      const {ws} = workspaceWith({billing: 'api', ci: 'api', relay: 'smtp'});
      ok(ws.run(['authorize', '198.18.0.0/26', '--key', 'ci'], {now: day(0)}));
      ok(ws.run(['deny', '198.19.7.0/24'], {now: day(0)}));
      const learn = ok(ws.run(['learn', ws.file('events.log', log.map((l) => `${l.text}\n`).join('')), '--json'], {now: day(151)})).json();
      const shown = (args: string[]) => ok(ws.run([...args, '--json'], {now: day(151)})).json();
      return {
        learn,
        account: shown(['list', '--account']),
        blocked: shown(['blocked']),
        status: {...shown(['status']), store: null},
        seen: JSON.parse(readFileSync(ws.store, 'utf8')).seen,
      };
    });
    expect(runs[0].learn.events).to.equal(20_000);
    expect(runs[0].learn.learned.length, 'some addresses learned').to.be.above(0);
    expect(runs[0].blocked.length, 'some addresses blocked').to.be.above(0);
    expect(runs[0]).to.deep.equal(runs[1]);
  });

  it('counts unknown keys and bad lines, names their lines, and still applies the rest', () => {
    const {ws} = workspaceWith({billing: 'api'});
    const file = ws.file(
      'mixed.log',
      [
        `billing 192.0.2.1 ${day(1)}`,
        'billing 300.1.1.1',
        `ghost 192.0.2.9 ${day(1)}`,
        'billing 192.0.2.1 soon',
        '{"key":"billing"',
        `ghost 192.0.2.8 ${day(1)}`,
        'just-one-field',
      ].join('\n'),
    );
    const learn = ok(ws.run(['learn', file, '--json'], {now: day(2)}));
    expect(learn.json()).to.deep.include({events: 1, learned: ['192.0.2.0/24'], unknownKeys: 2, badLines: 4});
    expect(learn.stderr).to.contain(`line 2 of ${file}`).and.contain('300.1.1.1');
    expect(learn.stderr).to.contain(`line 4 of ${file}`);
    expect(learn.stderr).to.contain(`line 5 of ${file}`);
    expect(learn.stderr).to.contain(`line 7 of ${file}`);
    expect(learn.stderr).to.match(/unknown key.*ghost \(2 events\)/);

    const piped = ok(ws.run(['learn', '-'], {now: day(2), input: 'billing 192.0.2.1\nbilling 010.0.0.1\n'}));
    expect(piped.stderr).to.match(/line 2: .*010\.0\.0\.1/);
  });

  it('--strict: a bad line or an unknown key is exit 2 with the store byte for byte unchanged', () => {
    const {ws} = workspaceWith({billing: 'api'});
    ok(ws.run(['learn', '-'], {now: day(1), input: `billing 192.0.2.1 ${day(1)}\n`}));
    const before = ws.storeBytes()!;

    const bad = ws.run(['learn', '-', '--strict'], {now: day(2), input: `billing 198.51.100.1 ${day(2)}\nbilling 198.51.100.300\n`});
    expect(bad.code, bad.stderr).to.equal(2);
    expect(bad.stderr).to.contain('line 2').and.contain('nothing was written');
    expect(ws.storeBytes()!.equals(before)).to.equal(true);

    const unknown = ws.run(['learn', '-', '--strict', '--json'], {now: day(2), input: `billing 198.51.100.1 ${day(2)}\nghost 198.51.100.2 ${day(2)}\n`});
    expect(unknown.code, unknown.stderr).to.equal(2);
    expect(unknown.json().error, 'the error object alone on stdout').to.include({exit: 2});
    expect(unknown.stderr).to.contain('ghost');
    expect(ws.storeBytes()!.equals(before)).to.equal(true);
  });

  it('--dry-run reports what it would learn and block and writes nothing', () => {
    const {ws} = workspaceWith({billing: 'api'});
    const before = ws.storeBytes()!;
    const dry = ok(ws.run(['learn', '-', '--dry-run', '--json', '--window', '45d'], {now: day(1), input: `billing 192.0.2.1 ${day(1)}\n`}));
    expect(dry.json()).to.deep.include({learned: ['192.0.2.0/24'], dryRun: true});
    expect(dry.stderr).to.contain('dry run');
    expect(ws.storeBytes()!.equals(before)).to.equal(true);
  });

  it('--window 45d is kept in the store and moves the activation', () => {
    const {ws} = workspaceWith({billing: 'api'});
    const learn = ok(ws.run(['learn', '-', '--window', '45d', '--json'], {now: day(2), input: `billing 192.0.2.1 ${day(2)}\n`})).json();
    expect(learn.api).to.deep.equal({state: 'learning', activatesAt: day(47)});
    const status = ok(ws.run(['status', '--json'], {now: day(46)})).json();
    expect(status.settings.learningWindowDays).to.equal(45);
    expect(status.api).to.include({state: 'learning', activatesAt: day(47)});
    // A later run without --window keeps it: a new network at day 10 moves the activation to day 55.
    const later = ok(ws.run(['learn', '-', '--json'], {now: day(10), input: `billing 198.51.100.2 ${day(10)}\n`})).json();
    expect(later.api).to.deep.equal({state: 'learning', activatesAt: day(55)});
    expect(ws.run(['check', 'billing', '203.0.113.1'], {now: day(55)}).code).to.equal(0);
    // An event at day 54 is inside the window; one at day 55 turns blocking on.
    expect(ok(ws.run(['learn', '-', '--json'], {now: day(54), input: `billing 198.51.100.2 ${day(54)}\n`})).json().api.state).to.equal('learning');
    expect(ok(ws.run(['learn', '-', '--json'], {now: day(55), input: `billing 198.51.100.2 ${day(55)}\n`})).json().api.state).to.equal('active');
    expect(ws.run(['check', 'billing', '203.0.113.1'], {now: day(55)}).code).to.equal(1);

    const bad = ws.run(['learn', '-', '--window', 'soon'], {now: day(48), input: ''});
    expect(bad.code).to.equal(2);
  });

  it('takes a key given as its secret, and names an unknown secret by its hint only', () => {
    const {ws, secrets} = workspaceWith({billing: 'api'});
    const stranger = 'f00dfeedf00dfeedf00dfeedf00dfeedf00dbeef';
    const learn = ok(ws.run(['learn', '-', '--json'], {now: day(1), input: `${secrets.billing} 192.0.2.1 ${day(1)}\n${stranger} 192.0.2.2 ${day(1)}\n`}));
    expect(learn.json()).to.deep.include({events: 1, learned: ['192.0.2.0/24'], unknownKeys: 1});
    expect(learn.stderr).to.contain('f00d…beef');
    for (const secret of [secrets.billing, stranger]) {
      expect(learn.stdout).not.to.contain(secret);
      expect(learn.stderr).not.to.contain(secret);
    }
    expect(accountList(ws, day(1))[0].label).to.equal('learned from billing');

    // A log with its columns out of place puts a secret where an address or a time goes: still only its hint is shown.
    const swapped = ws.run(['learn', '-'], {now: day(1), input: `192.0.2.1 ${secrets.billing}\nbilling 192.0.2.1 ${stranger}\n{"key":"billing","ip":"${stranger}"}\n`});
    expect(swapped.code, 'no line is an event: exit 2').to.equal(2);
    expect(swapped.stderr)
      .to.contain('3 bad lines')
      .and.contain('f00d…beef')
      .and.contain(`${secrets.billing.slice(0, 4)}…`);
    expect(swapped.stderr).not.to.contain(stranger).and.not.contain(secrets.billing);

    const strict = ws.run(['learn', '-', '--strict'], {now: day(1), input: `${stranger} 192.0.2.2 ${day(1)}\n`});
    expect(strict.code).to.equal(2);
    expect(strict.stderr).to.contain('f00d…beef').and.not.contain(stranger);
    expect(ws.storeBytes()!.toString()).not.to.contain(stranger).and.not.contain(secrets.billing);
  });
});

describe('keyward learn: what an outside tester found (round 17)', () => {
  it("--strict --json names each bad line as an input, with its line, as every command's error object does", () => {
    const ws = Workspace.create();
    ok(ws.run(['keys', 'create', 'billing', '--type', 'api', '--json'], {now: day(0)}));
    const one = ws.run(['learn', '-', '--strict', '--json'], {now: day(2), input: `billing 198.51.100.1 ${day(2)}\nbilling 198.51.100.300 ${day(2)}\n`});
    expect(one.code).to.equal(2);
    expect(one.json().error).to.include({input: `billing 198.51.100.300 ${day(2)}`, line: 2});
    const two = ws.run(['learn', '-', '--strict', '--json'], {now: day(2), input: `billing 10.1.1.300 ${day(2)}\nbilling 10.2.2.2 ${day(2)}\nbilling 10.3.3.300 ${day(2)}\n`});
    expect(two.json().error).to.include({input: `billing 10.1.1.300 ${day(2)}`, line: 1});
    expect(two.json().error.errors.map((e: {input: string; line: number}) => [e.input, e.line])).to.deep.equal([
      [`billing 10.1.1.300 ${day(2)}`, 1],
      [`billing 10.3.3.300 ${day(2)}`, 3],
    ]);
  });

  it('counts the events of unknown keys in --json as the summary says them, and a secret given bare and as `Bearer SECRET` is one key', () => {
    const ws = Workspace.create();
    ok(ws.run(['keys', 'create', 'billing', '--type', 'api', '--json'], {now: day(0)}));
    const unknown = '0123456789abcdef0123456789abcdef01234567';
    const input = ['zzz 192.0.2.1', 'zzz 192.0.2.2', 'yyy 192.0.2.2', `${unknown} 192.0.2.1`, `Bearer ${unknown.toUpperCase()} 192.0.2.3`]
      .map((l) => `${l} ${day(1)}`)
      .join('\n');
    const learn = ok(ws.run(['learn', '-', '--json'], {now: day(1), input: `${input}\n`}));
    expect(learn.json()).to.deep.include({events: 0, unknownKeys: 5});
    expect(learn.stderr).to.contain('5 events of unknown keys skipped: zzz (2 events), yyy (1 event), 0123…4567 (2 events)');
    expect(learn.stderr.toLowerCase()).not.to.contain(unknown.slice(4, 36));
  });
});

describe('keyward learn --notify-command', () => {
  /** A workspace whose API blocking is already active, with nothing authorized. */
  function active(): Workspace {
    const {ws} = workspaceWith({billing: 'api'});
    ok(ws.run(['activate', '--api'], {now: day(0)}));
    return ws;
  }

  it('runs the command once per newly blocked address with a JSON payload naming the ways out', () => {
    const ws = active();
    const out = path.join(ws.dir, 'notified.ndjson');
    const events = `billing 203.0.113.5 ${day(1)}\nbilling 203.0.113.5 ${day(1)}\nbilling 2001:db8::66 ${day(1)}\n`;
    ok(ws.run(['learn', '-', '--notify-command', `sh '${RECORDER}' '${out}'`], {now: day(1), input: events}));
    const payloads = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(payloads).to.have.length(2);
    expect(payloads.map((p) => p.ip).sort()).to.deep.equal(['2001:db8::66', '203.0.113.5']);
    const first = payloads.find((p) => p.ip === '203.0.113.5');
    expect(first).to.include({ip: '203.0.113.5', key: 'billing', channel: 'api'});
    expect(first.waysOut).to.deep.equal(['keyward authorize 203.0.113.5', 'keyward keys rotate billing', 'keyward deactivate --api']);

    // Already blocked: no second notification.
    ok(ws.run(['learn', '-', '--notify-command', `sh '${RECORDER}' '${out}'`], {now: day(2), input: `billing 203.0.113.5 ${day(2)}\n`}));
    expect(readFileSync(out, 'utf8').trim().split('\n')).to.have.length(2);
  });

  it('reports a failing command on stderr, exits 0 and keeps the blocked record', () => {
    const ws = active();
    const out = path.join(ws.dir, 'notified.ndjson');
    const learn = ok(ws.run(['learn', '-', '--notify-command', `sh '${RECORDER}' '${out}' fail`], {now: day(1), input: `billing 203.0.113.5 ${day(1)}\n`}));
    expect(learn.stderr)
      .to.match(/notify-command failed for 203\.0\.113\.5/)
      .and.contain('exit 1');
    expect(existsSync(out)).to.equal(true);
    expect(
      ok(ws.run(['blocked', '--json'], {now: day(1)}))
        .json()
        .map((b: any) => b.ip),
    ).to.deep.equal(['203.0.113.5']);
  });

  it('does not run under --dry-run', () => {
    const ws = active();
    const out = path.join(ws.dir, 'notified.ndjson');
    ok(ws.run(['learn', '-', '--dry-run', '--notify-command', `sh '${RECORDER}' '${out}'`], {now: day(1), input: `billing 203.0.113.5 ${day(1)}\n`}));
    expect(existsSync(out)).to.equal(false);
  });
});
