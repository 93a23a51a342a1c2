/**
 * Issue 11, items 2 and 14, end to end: learning turns API blocking on only
 * on observed quiet time (SPEC "Learning and blocking"), and the duration
 * flags of `learn` are refused as usage errors naming their range.
 */
import {expect} from 'chai';

import {daysAfter, RunResult, Workspace} from './harness.js';

const DAY0 = '2026-01-01T00:00:00.000Z';
const day = (n: number) => daysAfter(DAY0, n);
const minutes = (iso: string, n: number) => new Date(Date.parse(iso) + n * 60_000).toISOString();

function ok(result: RunResult): RunResult {
  expect(result.code, `exit ${result.code}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`).to.equal(0);
  return result;
}

/** A store made at day 0 (learning since day 0) with one API key, billing. */
function learningStore(): Workspace {
  const ws = Workspace.create();
  ok(ws.run(['keys', 'create', 'billing', '--type', 'api', '--json'], {now: day(0)}));
  return ws;
}

const lines = (events: [string, string | null][]) => events.map(([ip, at]) => `billing ${ip}${at === null ? '' : ` ${at}`}\n`).join('');

describe('issue 11: learning activates only on observed quiet time', () => {
  it('item 2: replaying a two-month-old log learns its callers but leaves API blocking learning; check still allows a new caller', () => {
    // Learning began at day 60; the log is of days 0 to 20.
    const fresh = Workspace.create();
    ok(fresh.run(['keys', 'create', 'billing', '--type', 'api'], {now: day(60)}));
    const log = fresh.file(
      'old.log',
      lines([
        ['192.0.2.10', day(0)],
        ['198.51.100.7', day(5)],
        ['192.0.2.11', day(20)],
      ]),
    );
    const learn = ok(fresh.run(['learn', log, '--json'], {now: day(61)}));
    expect(learn.json()).to.deep.include({events: 3, learned: ['192.0.2.0/24', '198.51.100.0/24'], untimed: 0});
    expect(learn.json().api).to.deep.equal({state: 'learning', activatesAt: day(90)});
    expect(learn.stderr).not.to.match(/turned itself on/);

    const check = fresh.run(['check', 'billing', '203.0.113.5', '--json'], {now: day(61)});
    expect(check.code, check.stderr).to.equal(0);
    expect(check.json()[0] ?? check.json()).to.include({decision: 'allow', reason: 'learning'});

    const status = ok(fresh.run(['status', '--json'], {now: day(61)})).json();
    expect(status.api).to.deep.equal({
      state: 'learning',
      learningSince: day(60),
      lastNewAddressAt: day(5),
      activatesAt: day(90),
      quietDays: 0,
      lastEventAt: day(20),
    });
    const human = ok(fresh.run(['status'], {now: day(61)})).stdout;
    expect(human).to.contain(`0 of 30 quiet days observed since ${day(60)}`);
    expect(human).to.contain(`first event dated at or after ${day(90)}`);
  });

  it('item 2: one line dated 2036 is a bad line ("dated in the future"): the real caller is learned and blocking stays learning', () => {
    const ws = learningStore();
    const now = day(1);
    const input = lines([
      ['192.0.2.10', now],
      ['198.51.100.7', '2036-01-01T00:00:00Z'],
      ['203.0.113.9', minutes(now, 4)],
    ]);
    const learn = ok(ws.run(['learn', '-', '--json'], {now, input}));
    expect(learn.json()).to.deep.include({events: 2, learned: ['192.0.2.0/24', '203.0.113.0/24'], badLines: 1});
    // Within 5 minutes of now is a clock's skew, not the future: learned, and the window runs from it.
    expect(learn.json().api).to.deep.equal({state: 'learning', activatesAt: minutes(day(31), 4)});
    expect(learn.stderr).to.match(/line 2: dated in the future \(2036-01-01T00:00:00\.000Z/);

    // The real 2026 caller is allowed (learned), an unknown one too: blocking is not on.
    ok(ws.run(['check', 'billing', '198.51.100.8', '192.0.2.99', '--expect', 'allow'], {now: day(2)}));
    const status = ok(ws.run(['status', '--json'], {now: day(2)})).json();
    expect(status.api).to.include({state: 'learning', activatesAt: minutes(day(31), 4), quietDays: 0});

    const strict = ws.run(['learn', '-', '--strict'], {now, input: lines([['198.51.100.7', '2036-01-01T00:00:00Z']])});
    expect(strict.code, strict.stderr).to.equal(2);
    expect(strict.stderr).to.contain('dated in the future').and.contain('nothing was written');
  });

  it('item 2: one line dated 1970 (a device without a clock) learns its network, but the window starts at learningSince', () => {
    const ws = learningStore();
    const learn = ok(ws.run(['learn', '-', '--json'], {now: day(3), input: lines([['192.0.2.10', '1970-01-01T00:00:00Z']])}));
    expect(learn.json()).to.deep.include({events: 1, learned: ['192.0.2.0/24']});
    expect(learn.json().api).to.deep.equal({state: 'learning', activatesAt: day(30)});
    expect(learn.stderr).not.to.match(/turned itself on/);

    ok(ws.run(['check', 'billing', '203.0.113.5', '--expect', 'allow'], {now: day(3)}));
    const status = ok(ws.run(['status', '--json'], {now: day(3)})).json();
    expect(status.api).to.deep.equal({
      state: 'learning',
      learningSince: day(0),
      lastNewAddressAt: '1970-01-01T00:00:00.000Z',
      activatesAt: day(30),
      quietDays: 0,
      lastEventAt: '1970-01-01T00:00:00.000Z',
    });
  });

  it('item 2: a log that stops before the window is over stays learning past activatesAt; status says the quiet days observed and that it waits for traffic', () => {
    const ws = learningStore();
    ok(ws.run(['learn', '-'], {now: day(0), input: lines([['192.0.2.10', day(0)]])}));
    ok(ws.run(['learn', '-'], {now: day(20), input: lines([['192.0.2.10', day(20)]])}));

    // Day 45: no event since day 20. check allows, and a writing command does not switch blocking on either.
    ok(ws.run(['check', 'billing', '203.0.113.5', '--expect', 'allow'], {now: day(45)}));
    const authorize = ok(ws.run(['authorize', '198.51.100.1'], {now: day(45)}));
    expect(authorize.stderr).not.to.match(/turned itself on/);
    expect(ws.storeJson().blocking.api.state).to.equal('learning');

    const status = ok(ws.run(['status', '--json'], {now: day(45)})).json();
    expect(status.api).to.deep.equal({state: 'learning', learningSince: day(0), lastNewAddressAt: day(0), activatesAt: day(30), quietDays: 20, lastEventAt: day(20)});
    const human = ok(ws.run(['status'], {now: day(45)})).stdout;
    expect(human).to.contain(`20 of 30 quiet days observed since ${day(0)} (API traffic seen up to ${day(20)})`);
    expect(human).to.contain(`the window ended at ${day(30)}, but blocking waits for traffic`);
  });

  it('item 2: a log that keeps flowing past activatesAt switches blocking on with the first event at or after it, recorded and reported by that learn', () => {
    const ws = learningStore();
    ok(ws.run(['learn', '-'], {now: day(0), input: lines([['192.0.2.10', day(0)]])}));
    ok(ws.run(['learn', '-'], {now: day(29), input: lines([['192.0.2.10', day(29)]])}));
    expect(ok(ws.run(['status', '--json'], {now: day(29)})).json().api).to.include({state: 'learning', quietDays: 29});
    // Day 35, nothing applied since day 29: still learning.
    ok(ws.run(['check', 'billing', '203.0.113.5', '--expect', 'allow'], {now: day(35)}));

    // Events of day 35: the known caller first (it activates), then a new one (now refused).
    const input = lines([
      ['192.0.2.10', day(35)],
      ['203.0.113.5', minutes(day(35), 1)],
    ]);
    const learn = ok(ws.run(['learn', '-', '--json'], {now: day(35), input}));
    expect(learn.json()).to.deep.include({learned: [], blocked: [{ip: '203.0.113.5', key: 'billing'}]});
    expect(learn.json().api).to.deep.equal({state: 'active', activatesAt: null});
    expect(learn.stderr).to.contain(`API blocking turned itself on at ${day(35)}: traffic was observed from ${day(0)} for the whole 30-day window with no new address`);
    expect(ws.storeJson().blocking.api).to.include({state: 'active', changedAt: day(35)});

    const check = ws.run(['check', 'billing', '203.0.113.5'], {now: day(35)});
    expect(check.code).to.equal(1);
    const history = ok(ws.run(['history', '--json'], {now: day(35)})).json();
    const switches = history.filter((r: any) => r.changes.blocking.length > 0);
    expect(switches.map((r: any) => [r.at, r.command, r.changes.blocking])).to.deep.equal([
      [day(35), 'learn', [{channel: 'api', from: 'learning', to: 'active', automatic: true}]],
    ]);
  });

  it('item 2: an event dated a few minutes ahead (within the skew allowed) never switches blocking on before activatesAt: it counts as now', () => {
    const ws = learningStore();
    ok(ws.run(['learn', '-'], {now: day(0), input: lines([['192.0.2.10', day(0)]])}));
    // Three minutes before activatesAt (day 30), an event stamped one minute after it.
    const now = minutes(day(30), -3);
    const early = ok(ws.run(['learn', '-', '--json'], {now, input: lines([['192.0.2.10', minutes(day(30), 1)]])}));
    expect(early.json().api).to.deep.include({state: 'learning'});
    expect(early.stderr).not.to.contain('turned itself on');
    expect(ws.storeJson().blocking.api).to.include({state: 'learning', lastEventAt: now});
    // At activatesAt itself, the same event (still a minute ahead) switches it on, dated now.
    const due = ok(ws.run(['learn', '-', '--json'], {now: day(30), input: lines([['192.0.2.10', minutes(day(30), 1)]])}));
    expect(due.json().api).to.deep.equal({state: 'active', activatesAt: null});
    expect(ws.storeJson().blocking.api).to.include({state: 'active', changedAt: day(30)});
  });

  it('item 2: events without a time take now and are counted in the summary and --json; learn --strict refuses them', () => {
    const ws = learningStore();
    const input = `billing 192.0.2.10\n{"key":"billing","ip":"198.51.100.7"}\nbilling 203.0.113.9 ${day(1)}\n`;
    const strict = ws.run(['learn', '-', '--strict'], {now: day(2), input});
    expect(strict.code, strict.stderr).to.equal(2);
    expect(strict.stderr).to.contain('line 1').and.contain('no time').and.contain('nothing was written');

    const learn = ok(ws.run(['learn', '-', '--json'], {now: day(2), input}));
    expect(learn.json()).to.deep.include({events: 3, untimed: 2, badLines: 0});
    const rows = ok(ws.run(['list', '--account', '--json'], {now: day(2)})).json();
    expect(rows.find((r: any) => r.entry === '192.0.2.0/24').addedAt).to.equal(day(2));
    const human = ok(ws.run(['learn', '-'], {now: day(2), input: 'billing 192.0.2.10\n'}));
    expect(human.stderr).to.contain(`1 event had no time and was taken as happening now (${day(2)}); --strict refuses such events`);
  });
});

describe('issue 11: learn duration flags', () => {
  it('item 14: learn --window 99999d and --retention 999999d are exit 2 naming the allowed range, with nothing written', () => {
    const ws = learningStore();
    const before = ws.storeBytes()!;
    for (const [flag, value] of [
      ['--window', '99999d'],
      ['--retention', '999999d'],
    ]) {
      const run = ws.run(['learn', '-', flag, value], {now: day(1), input: lines([['192.0.2.10', day(1)]])});
      expect(run.code, run.stderr).to.equal(2);
      expect(run.stderr).to.contain(`${flag} ${value} is too long`).and.contain('give 1 to 36500 days');
      expect(ws.storeBytes()!.equals(before)).to.equal(true);
    }
    // The longest allowed is kept.
    ok(ws.run(['learn', '-', '--window', '36500d'], {now: day(1), input: lines([['192.0.2.10', day(1)]])}));
    expect(ws.storeJson().settings.learningWindowDays).to.equal(36_500);
  });

  it('item 14: learn --window 0d is refused as too short (not "not a whole number of days"), naming the range and activate --api', () => {
    const ws = learningStore();
    const run = ws.run(['learn', '-', '--window', '0d'], {now: day(1), input: lines([['192.0.2.10', day(1)]])});
    expect(run.code, run.stderr).to.equal(2);
    expect(run.stderr).to.contain('--window 0d is too short: give 1 to 36500 days').and.contain('keyward activate --api');
    expect(run.stderr).not.to.contain('whole number');
  });
});

describe('issue 11: what an outside tester found after the first fix', () => {
  it("first callers that arrive after the window are learned, not blocked: blocking needs a known caller's event (zero quiet days observed never switch it on)", () => {
    const ws = learningStore();
    const log = ws.file(
      'first.log',
      lines([
        ['203.0.113.5', day(35)],
        ['198.51.100.7', day(35)],
        ['192.0.2.9', minutes(day(35), 2)],
      ]),
    );
    const learn = ok(ws.run(['learn', log, '--json'], {now: day(36)})).json();
    expect(learn).to.deep.include({learned: ['203.0.113.0/24', '198.51.100.0/24', '192.0.2.0/24'], blocked: []});
    expect(learn.api.state).to.equal('learning');
    expect(ok(ws.run(['check', 'billing', '203.0.113.5', '198.51.100.7', '192.0.2.9'], {now: day(36)})).stdout).not.to.contain('deny');
    // A log that resumes after a gap with a new caller: learned too.
    const resumed = ok(ws.run(['learn', '-', '--json'], {now: day(90), input: lines([['10.9.9.9', day(90)]])})).json();
    expect(resumed).to.deep.include({learned: ['10.9.9.0/24'], blocked: []});
    expect(resumed.api.state).to.equal('learning');
  });

  it("a revoked key's traffic and a key whose own list refuses the caller neither learn nor switch blocking on", () => {
    const ws = learningStore();
    ok(ws.run(['keys', 'create', 'gone', '--type', 'api'], {now: day(0)}));
    ok(ws.run(['keys', 'revoke', 'gone', '--yes'], {now: day(0)}));
    ok(ws.run(['keys', 'create', 'narrow', '--type', 'api', '--allow', '10.1.0.0/16'], {now: day(0)}));
    ok(ws.run(['learn', '-'], {now: day(1), input: lines([['192.0.2.1', day(1)]])}));
    const input = `gone 192.0.2.1 ${day(40)}\nnarrow 203.0.113.5 ${day(41)}\nnarrow ::ffff:198.51.100.7 ${day(41)}\n`;
    const learn = ok(ws.run(['learn', '-', '--json'], {now: day(42), input})).json();
    expect(learn.learned, 'a stolen, list-restricted key widens nothing').to.deep.equal([]);
    expect(learn.api.state).to.equal('learning');
    ok(ws.run(['keys', 'create', 'other', '--type', 'api'], {now: day(42)}));
    ok(ws.run(['activate', '--api', '--force'], {now: day(42)}));
    expect(ws.run(['check', 'other', '203.0.113.5'], {now: day(42)}).code, 'not authorized for other keys').to.equal(1);
  });

  it('an event from an address whose learned range was disabled neither learns nor switches blocking on: it is not covered', () => {
    const ws = learningStore();
    ok(ws.run(['learn', '-', '-q'], {now: day(4), input: lines([['203.0.113.7', day(1)]])}));
    ok(ws.run(['disable', '203.0.113.0/24', '--yes', '-q'], {now: day(4)}));
    const learn = ok(ws.run(['learn', '-', '--json'], {now: day(35), input: lines([['203.0.113.8', day(33)]])}));
    expect(learn.json()).to.deep.include({learned: [], blocked: []});
    expect(learn.json().api.state).to.equal('learning');
    expect(learn.stderr).not.to.match(/turned itself on/);
    const list = ok(ws.run(['list', '--json'], {now: day(35)})).json();
    expect(list.map((r: {entry: string; enabled: boolean}) => [r.entry, r.enabled])).to.deep.equal([['203.0.113.0/24', false]]);
  });

  it('learning a range held as an expired exact entry renews that row (label, source and date kept, no expiry) and reports it learned', () => {
    const ws = learningStore();
    ok(ws.run(['authorize', '203.0.113.0/24', '--expires', '1d', '--label', 'office', '-q'], {now: day(0)}));
    const learn = ok(ws.run(['learn', '-', '--json'], {now: day(4), input: lines([['203.0.113.7', day(3)]])})).json();
    expect(learn.learned).to.deep.equal(['203.0.113.0/24']);
    const list = ok(ws.run(['list', '--json'], {now: day(4)})).json();
    expect(list).to.have.length(1);
    expect(list[0]).to.deep.include({entry: '203.0.113.0/24', source: 'manual', label: 'office', addedAt: day(0), expiresAt: null, enabled: true});
    expect(ok(ws.run(['status', '--json'], {now: day(4)})).json().api.lastNewAddressAt).to.equal(day(3));
  });

  it('an event time without Z or an offset is a bad line, the same under every TZ (never read in the local zone)', () => {
    for (const tz of ['UTC', 'Asia/Tokyo', 'America/Los_Angeles']) {
      const ws = learningStore();
      const input = `billing 192.0.2.1 ${day(1).slice(0, 19)}\n{"key":"billing","ip":"198.51.100.7","at":"2026-01-02 00:04"}\n`;
      // Every line bad: a log that cannot be read, exit 2 with nothing written (a good line beside them is applied, below).
      const learn = ws.run(['learn', '-', '--json'], {now: day(2), input, env: {TZ: tz}});
      expect(learn.code, tz).to.equal(2);
      expect(learn.stderr, tz).to.contain('2 bad lines').and.contain('with Z or an offset');
      const mixed = ok(ws.run(['learn', '-', '--json'], {now: day(2), input: `${input}billing 203.0.113.1 ${day(1)}\n`, env: {TZ: tz}}));
      expect(mixed.json(), tz).to.deep.include({events: 1, badLines: 2});
      expect(ws.run(['learn', '-', '--strict'], {now: day(2), input, env: {TZ: tz}}).code, tz).to.equal(2);
    }
  });
});

describe('learn: what an outside tester found in gateway and mail logs (round 15)', () => {
  /** A combined line of nginx's documented keyward_combined format, dated `at`, with the status and the key field given. */
  const combined = (ip: string, at: string, status: number, key: string, user = '-') => {
    const d = new Date(at);
    const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()];
    const stamp = `${String(d.getUTCDate()).padStart(2, '0')}/${month}/${d.getUTCFullYear()}:${d.toISOString().slice(11, 19)} +0000`;
    return `${ip} - ${user} [${stamp}] "GET /v1/x HTTP/1.1" ${status} 3 "-" "curl/8" "${key}"\n`;
  };

  it("a mail log's SASL login of an API key's name neither learns nor switches API blocking on, and is reported as an API key; an SMTP key's login is recorded", () => {
    const ws = learningStore();
    ok(ws.run(['keys', 'create', 'relay', '--type', 'smtp', '--json'], {now: day(0)}));
    ok(ws.run(['learn', '-', '-q'], {now: day(1), input: lines([['192.0.2.1', day(1)]])}));
    const login = (ip: string, user: string) =>
      `2026-02-10T10:00:0${ip.length % 10}+00:00 mail postfix/smtpd[2204]: 4F1A: client=relay.example.com[${ip}], sasl_method=PLAIN, sasl_username=${user}\n`;
    const learn = ok(ws.run(['learn', '-', '--format', 'postfix', '--json'], {now: day(41), input: login('203.0.113.70', 'billing') + login('198.51.100.5', 'relay')}));
    expect(learn.json()).to.deep.include({events: 1, learned: [], blocked: [], unknownKeys: 1});
    expect(learn.json().api.state, 'a mail login after the window is no API traffic').to.equal('learning');
    expect(learn.stderr).to.contain("billing (an API key: a mail log's logins are SMTP key uses)");
    expect(ok(ws.run(['check', 'billing', '203.0.113.70', '--json'], {now: day(41)})).json()[0].reason).to.equal('learning');
    // Once API blocking is on, such a login puts nothing on the blocked list either.
    ok(ws.run(['activate', '--api', '--force', '-q'], {now: day(41)}));
    expect(ok(ws.run(['learn', '-', '--format', 'postfix', '--json'], {now: day(41), input: login('203.0.113.70', 'billing')})).json().blocked).to.deep.equal([]);
  });

  it('a request the gateway refused (401, 403) is never learned from, whatever key it names; once blocking is on, an address keyward refuses is still blocked-listed', () => {
    const ws = learningStore();
    const refused = combined('6.6.6.6', day(1), 401, 'billing') + combined('6.6.7.7', day(1), 403, 'Bearer billing');
    const learn = ok(ws.run(['learn', '-', '--json'], {now: day(2), input: refused + combined('192.0.2.9', day(1), 200, 'billing')}));
    expect(learn.json()).to.deep.include({events: 3, learned: ['192.0.2.0/24'], refused: 2});
    expect(learn.stderr).to.contain('2 requests the gateway refused (HTTP 401 or 403) not learned from');
    // Refused requests after the window are no traffic: blocking stays off (a known caller's request turns it on).
    const late = ok(ws.run(['learn', '-', '--json'], {now: day(40), input: combined('6.6.6.6', day(39), 403, 'billing')})).json();
    expect(late).to.deep.include({learned: [], refused: 1});
    expect(late.api.state).to.equal('learning');
    // JSON lines: a status field (renamed with --field status=PATH), a number or its text.
    const ndjson = `{"k":"billing","a":"6.6.8.8","code":403}\n{"k":"billing","a":"6.6.9.9","code":"401"}\n{"k":"billing","a":"198.51.100.1","code":200}\n`;
    const fields = ['--field', 'key=k', '--field', 'ip=a', '--field', 'status=code'];
    expect(ok(ws.run(['learn', '-', ...fields, '--json'], {now: day(40), input: ndjson})).json()).to.deep.include({learned: ['198.51.100.0/24'], refused: 2});
    // Blocking on: the address an exported allowlist refused goes on the blocked list, its 403 notwithstanding.
    ok(ws.run(['activate', '--api', '--force', '-q'], {now: day(41)}));
    const active = ok(
      ws.run(['learn', '-', '--json'], {now: day(42), input: combined('203.0.113.66', day(42), 403, 'billing') + combined('192.0.2.10', day(42), 403, 'billing')}),
    ).json();
    expect(active.blocked).to.deep.equal([{ip: '203.0.113.66', key: 'billing'}]);
  });

  it('a combined line whose user (HTTP Basic, chosen by the client) holds blanks or brackets is read, its key and time where nginx put them', () => {
    const ws = learningStore();
    const input = combined('203.0.113.9', day(1), 200, 'billing', 'a b') + combined('198.51.100.9', day(1), 200, 'billing', 'x] [01/Jan/1970:00:00:00 +0000] y');
    const learn = ok(ws.run(['learn', '-', '--format', 'combined', '--json'], {now: day(2), input}));
    expect(learn.json()).to.deep.include({events: 2, learned: ['203.0.113.0/24', '198.51.100.0/24'], badLines: 0});
    expect(ok(ws.run(['status', '--json'], {now: day(2)})).json().api.lastNewAddressAt).to.equal(day(1));
  });

  it('keyward lines may name the key as `Bearer SECRET`, as the docs say a key field may', () => {
    const ws = learningStore();
    const secret = ok(ws.run(['keys', 'create', 'ci', '--type', 'api', '--json'], {now: day(0)})).json().secret as string;
    const learn = ok(ws.run(['learn', '-', '--json'], {now: day(2), input: `Bearer ${secret} 203.0.113.9 ${day(1)}\nbearer ${secret} 198.51.100.9\n`}));
    expect(learn.json()).to.deep.include({events: 2, learned: ['203.0.113.0/24', '198.51.100.0/24'], badLines: 0, untimed: 1});
    expect(learn.stdout + learn.stderr).not.to.contain(secret);
  });

  it('the unspecified and broadcast addresses are bad lines, never learned (::/64 would hold ::1 and every ::a.b.c.d)', () => {
    const ws = learningStore();
    for (const fast of [true, false]) {
      // (With a time in the quick form and without: both readings of a line.)
      const at = fast ? ` ${day(1)}` : '';
      const input = ['0.0.0.0', '::', '255.255.255.255', '0:0:0:0:0:0:0:0', '192.0.2.9'].map((ip) => `billing ${ip}${at}\n`).join('');
      const learn = ok(ws.run(['learn', '-', '--json'], {now: day(2), input}));
      expect(learn.json(), `${fast}`).to.deep.include({events: 1, badLines: 4});
      expect(learn.stderr).to.contain("is no client's address");
    }
    expect(
      ok(ws.run(['list', '--json'], {now: day(2)}))
        .json()
        .map((r: {entry: string}) => r.entry),
    ).to.deep.equal(['192.0.2.0/24']);
  });

  it("a refused request is read as refused in every spelling of its status: keyward's own JSON objects, text with blanks or `.0`, a combined line's extra blanks", () => {
    const ws = learningStore();
    const json = [`{"key":"billing","ip":"6.6.1.1","at":"${day(1)}","status":403}`, `{"key":"billing","ip":"6.6.2.1","at":"${day(1)}","status":" 401 "}`].join('\n');
    // Read as keyward's own objects (auto): the status counts there too.
    expect(ok(ws.run(['learn', '-', '--json'], {now: day(2), input: `${json}\n`})).json()).to.deep.include({format: 'keyward', learned: [], refused: 2});
    const ndjson = ['"403.0"', '"401 "', '403.0', '[403]'].map((status, i) => `{"k":"billing","a":"6.7.${i}.1","s":${status}}`).join('\n');
    const fields = ['--field', 'key=k', '--field', 'ip=a', '--field', 'status=s'];
    expect(ok(ws.run(['learn', '-', ...fields, '--json'], {now: day(2), input: `${ndjson}\n`})).json()).to.deep.include({learned: [], refused: 4});
    const pattern = ['--pattern', '^(?<ip>\\S+) (?<key>\\S+)(?<status> \\d+)$'];
    expect(ok(ws.run(['learn', '-', ...pattern, '--json'], {now: day(2), input: '6.8.0.1 billing 403\n'})).json()).to.deep.include({learned: [], refused: 1});
    const blanks = combined('6.9.0.1', day(1), 403, 'billing').replace('" 403 ', '"  403\t');
    expect(ok(ws.run(['learn', '-', '--json'], {now: day(2), input: blanks})).json()).to.deep.include({learned: [], refused: 1});
  });

  it('a refused request from an address a deny entry holds is counted as refused and not seen, and goes on the blocked list as any denied address does', () => {
    const ws = learningStore();
    ok(ws.run(['deny', '6.6.0.0/16'], {now: day(0)}));
    const json = [403, 200].map((status, i) => `{"key":"billing","ip":"6.6.${i}.1","at":"${day(1)}","status":${status}}`).join('\n');
    expect(ok(ws.run(['learn', '-', '--json'], {now: day(2), input: `${json}\n`})).json()).to.deep.include({events: 2, learned: [], refused: 1});
    const status = ok(ws.run(['status', '--json'], {now: day(2)})).json();
    expect(status.counts, 'only the request the gateway let through is seen traffic').to.deep.include({blocked: 2, seen: 1});
    expect(status.api.state).to.equal('learning');
  });

  it('an Apache line whose user holds an escaped quote (\\") is read, its key and time where Apache put them', () => {
    const ws = learningStore();
    const stamp = combined('1.1.1.1', day(1), 200, 'x').match(/\[[^\]]+\]/)![0];
    const input = [
      `5.6.7.8 - x\\" ${stamp} "GET / HTTP/1.1" 200 5 "-" "ua" "billing"`,
      `5.6.9.8 - a\\" 200 1 \\"-\\" \\"ua\\" \\"ops\\" [01/Jan/2020:00:00:00 +0000] ${stamp} "GET / HTTP/1.1" 200 5 "-" "ua" "billing"`,
    ].join('\n');
    const learn = ok(ws.run(['learn', '-', '--format', 'combined', '--json'], {now: day(2), input: `${input}\n`}));
    expect(learn.json()).to.deep.include({learned: ['5.6.7.0/24', '5.6.9.0/24'], badLines: 0});
    expect(ok(ws.run(['status', '--json'], {now: day(2)})).json().api.lastEventAt, 'the time Apache wrote, not the user').to.equal(day(1));
  });

  it('multicast sources and IPv6 addresses in ::/64 (::1, ::a.b.c.d) are bad lines: ::/64 would hold every IPv4 address written as ::a.b.c.d', () => {
    const ws = learningStore();
    const input = ['::1', '::5.6.7.8', '::ffff:0:5.6.7.8', '224.0.0.1', 'ff02::1', '198.51.100.1'].map((ip) => `billing ${ip} ${day(1)}\n`).join('');
    const learn = ok(ws.run(['learn', '-', '--json'], {now: day(2), input}));
    expect(learn.json()).to.deep.include({learned: ['198.51.100.0/24'], badLines: 5});
  });

  it('Postfix lines forwarded with their priority (<22>Nov 30 …) or as RFC 5424 are read', () => {
    const ws = learningStore();
    ok(ws.run(['keys', 'create', 'relay', '--type', 'smtp', '--json'], {now: day(0)}));
    const login = (ip: string) => `client=mail.example.com[${ip}], sasl_method=PLAIN, sasl_username=relay`;
    const input = [
      `<22>1 2026-01-02T10:00:01.123456+01:00 mail postfix/smtpd 2201 - - 4F1A: ${login('198.51.100.20')}`,
      `<22>1 2026-01-02T10:00:02Z mail postfix/submission/smtpd 2202 - [meta sequenceId="7" note="a]b"] 4F1B: ${login('198.51.100.21')}`,
      `<22>1 2026-01-02T10:00:03Z mail sshd 77 - - Accepted publickey for root`,
      `<22>Jan  2 10:00:04 mail postfix/smtpd[2203]: 4F1C: ${login('198.51.100.22')}`,
    ].join('\n');
    const learn = ok(ws.run(['learn', '-', '--json'], {now: day(2), input: `${input}\n`, env: {TZ: 'UTC'}}));
    expect(learn.json()).to.deep.include({format: 'postfix', events: 3, badLines: 0});
    const seen = ok(ws.run(['status', '--json'], {now: day(2)})).json();
    expect(seen.api.lastEventAt, 'mail logins are no API traffic').to.equal(null);
  });

  it("a blocked address's first sighting moves back when a later run applies an earlier refusal (a rotated file read after its successor)", () => {
    const ws = learningStore();
    ok(ws.run(['activate', '--api', '--force', '-q'], {now: day(10)}));
    ok(ws.run(['learn', '-', '-q'], {now: day(12), input: lines([['198.18.5.5', day(11)]])}));
    ok(ws.run(['learn', '-', '-q'], {now: day(12), input: lines([['198.18.5.5', day(10)]])}));
    const blocked = ok(ws.run(['blocked', '--json'], {now: day(12)})).json();
    expect(blocked).to.have.length(1);
    expect(blocked[0]).to.deep.include({ip: '198.18.5.5', key: 'billing', channel: 'api', firstSeen: day(10), lastSeen: day(11), count: 2});
  });
});
