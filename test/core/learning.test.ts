import {expect} from 'chai';

import {scanDecisionAddress} from '../../src/core/address.js';
import {InputError} from '../../src/core/errors.js';
import {parseEventLine} from '../../src/core/events.js';
import {newKeyRecord} from '../../src/core/keys.js';
import {activatesAt, applyEvents, checkEventTime, EventLog, learn, learningProgress, learnJson} from '../../src/core/learning.js';
import {Channel, emptyStore, StoreData} from '../../src/core/model.js';
import {hintOf, newSecret} from '../../src/core/secret.js';

const DAY = 86_400_000;
const T0 = Date.parse('2026-01-01T00:00:00.000Z');
/** Milliseconds of day `n` after T0. */
const day = (n: number) => T0 + n * DAY;
const iso = (n: number) => new Date(day(n)).toISOString();

/** A fresh store made at day 0 with the given keys (name → type); returns the secrets too. */
function storeWith(keys: Record<string, Channel>): {data: StoreData; secrets: Record<string, string>} {
  const data = emptyStore(new Date(day(0)));
  const secrets: Record<string, string> = {};
  for (const [name, type] of Object.entries(keys)) {
    secrets[name] = newSecret();
    data.keys.push(newKeyRecord(name, type, secrets[name], new Date(day(0))));
  }
  return {data, secrets};
}

/** An event log from [key, address, day] triples, in the order given. */
function logOf(events: [string, string, number][]): EventLog {
  const log = new EventLog();
  const words = new Uint32Array(4);
  for (const [key, ip, at] of events) log.add(key, scanDecisionAddress(ip, words), words, day(at));
  return log;
}

describe('core/events: parseEventLine', () => {
  it('reads KEY ADDRESS and KEY ADDRESS TIME separated by spaces or tabs, with a trailing # comment', () => {
    expect(parseEventLine('billing 192.0.2.1')).to.deep.include({key: 'billing', ip: '192.0.2.1'});
    expect(Number.isNaN(parseEventLine('billing 192.0.2.1')!.at)).to.equal(true);
    expect(parseEventLine('billing\t2001:db8::1   2026-01-02T03:04:05Z # from the proxy log')).to.deep.equal({
      key: 'billing',
      ip: '2001:db8::1',
      at: Date.parse('2026-01-02T03:04:05Z'),
    });
    expect(parseEventLine('billing 192.0.2.1 2026-01-02')!.at).to.equal(Date.parse('2026-01-02T00:00:00Z'));
  });

  it('skips blank lines and comment lines', () => {
    expect(parseEventLine('')).to.equal(null);
    expect(parseEventLine('# key address time')).to.equal(null);
    expect(parseEventLine('   # indented comment'.trim())).to.equal(null);
  });

  it('reads NDJSON objects {key, ip, at}, `at` optional', () => {
    expect(parseEventLine('{"key":"billing","ip":"192.0.2.1","at":"2026-01-02T00:00:00Z"}')).to.deep.equal({
      key: 'billing',
      ip: '192.0.2.1',
      at: Date.parse('2026-01-02T00:00:00Z'),
    });
    const untimed = parseEventLine('{"ip":"192.0.2.1","key":"billing","extra":1}')!;
    expect(untimed.key).to.equal('billing');
    expect(Number.isNaN(untimed.at)).to.equal(true);
  });

  it('refuses bad lines with an InputError that says why', () => {
    const refused = (line: string) => {
      try {
        parseEventLine(line);
      } catch (error) {
        expect(error).to.be.instanceOf(InputError);
        return (error as Error).message;
      }
      throw new Error(`accepted ${JSON.stringify(line)}`);
    };
    expect(refused('billing')).to.match(/found 1 field/);
    expect(refused('billing 192.0.2.1 2026-01-01 extra')).to.match(/found 4 fields/);
    expect(refused('billing 192.0.2.1 yesterday')).to.match(/not an ISO 8601 time/);
    expect(refused('{"key":"billing",')).to.match(/not valid JSON/);
    expect(refused('{"ip":"192.0.2.1"}')).to.match(/"key"/);
    expect(refused('{"key":"billing"}')).to.match(/"ip"/);
    expect(refused('{"key":"billing","ip":"192.0.2.1","at":true}')).to.match(/"at"/);
    // A number is Unix seconds (as in the other formats): a negative one is no time.
    expect(refused('{"key":"billing","ip":"192.0.2.1","at":-5}')).to.match(/Unix seconds/);
  });

  it('shows a secret standing where the time goes only by its hint', () => {
    const secret = newSecret();
    let message = '';
    try {
      parseEventLine(`billing 192.0.2.1 ${secret}`);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).to.contain(hintOf(secret)).and.not.contain(secret);
  });
});

describe('core/learning: EventLog', () => {
  it('keeps events past its first capacity and gives time order only when the input was out of order', () => {
    const log = new EventLog();
    const words = new Uint32Array(4);
    for (let i = 0; i < 3000; i++) log.add(`k${i % 3}`, scanDecisionAddress(`10.0.${i % 256}.1`, words), words, i);
    expect(log.count).to.equal(3000);
    expect(log.keys).to.deep.equal(['k0', 'k1', 'k2']);
    expect(log.order()).to.equal(null);

    const unordered = logOf([
      ['a', '192.0.2.1', 5],
      ['a', '192.0.2.2', 1],
      ['a', '192.0.2.3', 5],
      ['a', '2001:db8::1', 0],
    ]);
    expect(Array.from(unordered.order()!)).to.deep.equal([3, 1, 0, 2]);
    expect(unordered.families[3]).to.equal(6);
  });
});

describe('core/learning: applyEvents', () => {
  it('learns the /24 of an IPv4 caller and the /64 of an IPv6 caller once each, marked learned', () => {
    const {data} = storeWith({billing: 'api'});
    const outcome = applyEvents(
      data,
      logOf([
        ['billing', '192.0.2.10', 0],
        ['billing', '192.0.2.200', 1],
        ['billing', '2001:db8:1:2:3:4:5:6', 2],
        ['billing', '2001:db8:1:2::9', 3],
        ['billing', '::ffff:198.51.100.7', 4],
      ]),
      new Date(day(5)),
    );
    expect(outcome.events).to.equal(5);
    expect(outcome.learned).to.deep.equal(['192.0.2.0/24', '2001:db8:1:2::/64', '198.51.100.0/24']);
    const learned = data.account.find((r) => r.entry === '192.0.2.0/24')!;
    expect(learned).to.deep.equal({entry: '192.0.2.0/24', source: 'learned', label: 'learned from billing', group: 'learned', addedAt: iso(0), expiresAt: null});
    expect(data.blocking.api).to.include({state: 'learning', lastEventAt: iso(4), lastNewAddressAt: iso(4)});
    expect(activatesAt(data.blocking.api, data.settings)!.toISOString()).to.equal(iso(34));
  });

  it('does not learn addresses the account list already covers; the window runs from the start of learning and the event is observed', () => {
    const {data} = storeWith({billing: 'api'});
    data.account.push({entry: '192.0.2.0/24', source: 'manual', label: null, addedAt: iso(0), expiresAt: null});
    const outcome = applyEvents(data, logOf([['billing', '192.0.2.1', 2]]), new Date(day(3)));
    expect(outcome.learned).to.deep.equal([]);
    expect(data.blocking.api.lastEventAt).to.equal(iso(2));
    expect(data.blocking.api.lastNewAddressAt).to.equal(null);
    expect(activatesAt(data.blocking.api, data.settings)!.toISOString()).to.equal(iso(30));
    expect(learningProgress(data.blocking.api, data.settings)).to.deep.equal({
      quietSince: new Date(day(0)),
      activatesAt: new Date(day(30)),
      lastEventAt: new Date(day(2)),
      quietMs: 2 * DAY,
    });
  });

  it("adds a run's events to a seen record's count, which stops at 2^53 - 1, the largest the store holds (and never goes down)", () => {
    /** The seen record of 192.0.2.1 after three events, its count `count` before. */
    const after = (count: number) => {
      const {data} = storeWith({billing: 'api'});
      data.seen.push({ip: '192.0.2.1', channel: 'api', keys: ['billing'], firstSeen: iso(1), lastSeen: iso(1), count});
      const events: [string, string, number][] = [2, 3, 2].map((at) => ['billing', '192.0.2.1', at]);
      applyEvents(data, logOf(events), new Date(day(4)));
      return data.seen[0];
    };
    expect(after(5)).to.include({count: 8, firstSeen: iso(1), lastSeen: iso(3)});
    expect(after(Number.MAX_SAFE_INTEGER - 1).count).to.equal(Number.MAX_SAFE_INTEGER);
    expect(after(Number.MAX_SAFE_INTEGER).count).to.equal(Number.MAX_SAFE_INTEGER);
    expect(after(2 ** 53).count, 'a count past it (which no store loads) is left as it is').to.equal(2 ** 53);
  });

  it("applies events in time order: the first known caller's event at or after the window turns blocking on, later unknown callers are blocked", () => {
    const {data} = storeWith({billing: 'api'});
    // Input order puts day 50 first; applied in time order, day 5 is learned (window to day 35), the known caller at day 50 activates blocking.
    const outcome = applyEvents(
      data,
      logOf([
        ['billing', '192.0.2.99', 50],
        ['billing', '198.51.100.7', 50],
        ['billing', '192.0.2.1', 5],
      ]),
      new Date(day(50)),
    );
    expect(outcome.learned).to.deep.equal(['192.0.2.0/24']);
    expect(outcome.activation).to.deep.equal({at: iso(50), quietSince: iso(5)});
    expect(outcome.blocked).to.deep.equal([{ip: '198.51.100.7', key: 'billing', channel: 'api', firstSeen: iso(50), lastSeen: iso(50), count: 1, reason: 'not-authorized'}]);
    expect(data.blocking.api).to.include({state: 'active', changedAt: iso(50)});
  });

  it("learns a new caller that comes after the window, restarting it, instead of blocking it: only a known caller's event turns blocking on", () => {
    const {data} = storeWith({billing: 'api'});
    // Nothing seen for 50 days, then three new callers: each is learned; none is blocked.
    const outcome = applyEvents(
      data,
      logOf([
        ['billing', '203.0.113.5', 50],
        ['billing', '198.51.100.7', 50],
        ['billing', '192.0.2.9', 51],
      ]),
      new Date(day(52)),
    );
    expect(outcome.learned).to.deep.equal(['203.0.113.0/24', '198.51.100.0/24', '192.0.2.0/24']);
    expect(outcome.activation).to.equal(null);
    expect(outcome.blocked).to.deep.equal([]);
    expect(data.blocking.api).to.include({state: 'learning', lastNewAddressAt: iso(51)});
  });

  it("counts neither a revoked key's events nor those its own list refuses: they do not learn and do not turn blocking on", () => {
    const {data} = storeWith({billing: 'api', gone: 'api', narrow: 'api'});
    data.keys.find((k) => k.name === 'gone')!.status = 'revoked';
    data.keys.find((k) => k.name === 'narrow')!.allow = [{entry: '10.1.0.0/16', source: 'manual', label: null, addedAt: iso(0), expiresAt: null}];
    const outcome = applyEvents(
      data,
      logOf([
        ['billing', '192.0.2.1', 1],
        ['gone', '192.0.2.1', 40],
        ['narrow', '192.0.2.1', 41],
        ['narrow', '203.0.113.5', 42],
      ]),
      new Date(day(43)),
    );
    expect(outcome.learned).to.deep.equal(['192.0.2.0/24']);
    expect(outcome.activation).to.equal(null);
    expect(data.blocking.api).to.include({state: 'learning', lastEventAt: iso(1)});
  });

  it('counts no event from an address whose range the list holds disabled: it is not covered and not learned, so it does not turn blocking on', () => {
    const {data} = storeWith({billing: 'api'});
    data.account.push({entry: '192.0.2.0/24', source: 'learned', label: null, addedAt: iso(1), expiresAt: null, enabled: false});
    const outcome = applyEvents(
      data,
      logOf([
        ['billing', '198.51.100.1', 1],
        ['billing', '192.0.2.8', 40],
        ['billing', '192.0.2.9', 41],
      ]),
      new Date(day(42)),
    );
    expect(outcome.learned).to.deep.equal(['198.51.100.0/24']);
    expect(outcome.activation).to.equal(null);
    expect(data.blocking.api).to.include({state: 'learning', lastEventAt: iso(1)});
    // A covered caller's event after the window still turns it on.
    const later = applyEvents(data, logOf([['billing', '198.51.100.2', 43]]), new Date(day(44)));
    expect(later.activation).to.deep.include({at: iso(43)});
  });

  it('renews an expired exact entry of the range it learns, as authorize does, instead of adding a second record', () => {
    const {data} = storeWith({billing: 'api'});
    data.account.push({entry: '192.0.2.0/24', source: 'manual', label: 'office', addedAt: iso(0), expiresAt: iso(1)});
    data.account.push({entry: '192.0.2.0/24', source: 'manual', label: 'office again', addedAt: iso(0), expiresAt: iso(2)});
    const outcome = applyEvents(data, logOf([['billing', '192.0.2.7', 3]]), new Date(day(4)));
    expect(outcome.learned).to.deep.equal(['192.0.2.0/24']);
    expect(data.account).to.deep.equal([{entry: '192.0.2.0/24', source: 'manual', label: 'office', addedAt: iso(0), expiresAt: null}]);
    expect(data.blocking.api.lastNewAddressAt).to.equal(iso(3));
  });

  it('never turns blocking on by time alone: a log that stops before the window ends stays learning, however late now is', () => {
    const {data} = storeWith({billing: 'api'});
    const outcome = applyEvents(
      data,
      logOf([
        ['billing', '192.0.2.1', 0],
        ['billing', '192.0.2.2', 29],
      ]),
      new Date(day(400)),
    );
    expect(outcome.activation).to.equal(null);
    expect(data.blocking.api).to.include({state: 'learning', lastEventAt: iso(29)});
    expect(Math.floor(learningProgress(data.blocking.api, data.settings)!.quietMs / DAY)).to.equal(29);
  });

  it('does not start the window before learningSince: old events learn their networks and are observed, but do not activate', () => {
    const {data} = storeWith({billing: 'api'});
    data.blocking.api.learningSince = iso(100);
    const outcome = applyEvents(
      data,
      logOf([
        ['billing', '192.0.2.1', 0],
        ['billing', '192.0.2.2', 60],
        ['billing', '198.51.100.1', 99],
      ]),
      new Date(day(101)),
    );
    expect(outcome.learned).to.deep.equal(['192.0.2.0/24', '198.51.100.0/24']);
    expect(outcome.activation).to.equal(null);
    expect(data.blocking.api).to.include({state: 'learning', lastNewAddressAt: iso(99), lastEventAt: iso(99)});
    expect(activatesAt(data.blocking.api, data.settings)!.toISOString()).to.equal(iso(130));
  });

  it('refuses an event dated more than 5 minutes after now', () => {
    const now = new Date(day(1));
    expect(() => checkEventTime(day(1) + 5 * 60_000, now)).not.to.throw();
    expect(() => checkEventTime(day(1) + 5 * 60_000 + 1, now)).to.throw(InputError, 'dated in the future');
    expect(() => checkEventTime(Date.parse('2036-01-01T00:00:00Z'), now)).to.throw(InputError, '2036-01-01T00:00:00.000Z');
    expect(() => checkEventTime(0, now)).not.to.throw();
  });

  it('counts repeated refusals on one blocked record per address and key', () => {
    const {data} = storeWith({billing: 'api', reports: 'api'});
    data.blocking.api.state = 'active';
    const outcome = applyEvents(
      data,
      logOf([
        ['billing', '203.0.113.9', 3],
        ['billing', '203.0.113.9', 1],
        ['reports', '203.0.113.9', 2],
        ['billing', '203.0.113.9', 2],
      ]),
      new Date(day(4)),
    );
    expect(outcome.blocked.map((b) => `${b.ip} ${b.key}`)).to.deep.equal(['203.0.113.9 billing', '203.0.113.9 reports']);
    expect(data.blocked.find((b) => b.key === 'billing')).to.deep.equal({
      ip: '203.0.113.9',
      key: 'billing',
      channel: 'api',
      firstSeen: iso(1),
      lastSeen: iso(3),
      count: 3,
      reason: 'not-authorized',
    });

    // A later run adds to the same record and reports nothing new.
    const again = applyEvents(data, logOf([['billing', '203.0.113.9', 5]]), new Date(day(5)));
    expect(again.blocked).to.deep.equal([]);
    expect(data.blocked.find((b) => b.key === 'billing')).to.include({count: 4, lastSeen: iso(5), firstSeen: iso(1)});
  });

  it('never learns for SMTP keys, and SMTP events do not start API learning', () => {
    const {data} = storeWith({relay: 'smtp'});
    const outcome = applyEvents(data, logOf([['relay', '198.51.100.20', 0]]), new Date(day(1)));
    expect(outcome.learned).to.deep.equal([]);
    expect(data.account).to.deep.equal([]);
    expect(data.blocking.api.lastEventAt).to.equal(null);
    expect(data.seen).to.deep.equal([{ip: '198.51.100.20', channel: 'smtp', keys: ['relay'], firstSeen: iso(0), lastSeen: iso(0), count: 1}]);
  });

  it('blocks SMTP callers the account list does not cover once SMTP blocking is active', () => {
    const {data} = storeWith({relay: 'smtp'});
    data.blocking.smtp.state = 'active';
    data.account.push({entry: '203.0.113.0/24', source: 'manual', label: null, addedAt: iso(0), expiresAt: null});
    const outcome = applyEvents(
      data,
      logOf([
        ['relay', '203.0.113.5', 1],
        ['relay', '198.51.100.20', 1],
      ]),
      new Date(day(2)),
    );
    expect(outcome.blocked).to.deep.equal([{ip: '198.51.100.20', key: 'relay', channel: 'smtp', firstSeen: iso(1), lastSeen: iso(1), count: 1, reason: 'not-authorized'}]);
  });

  it('does not learn for a revoked key, and blocks it once blocking is active', () => {
    const {data} = storeWith({old: 'api'});
    data.keys[0].status = 'revoked';
    expect(applyEvents(data, logOf([['old', '192.0.2.1', 0]]), new Date(day(1))).learned).to.deep.equal([]);
    data.blocking.api.state = 'active';
    expect(applyEvents(data, logOf([['old', '192.0.2.1', 2]]), new Date(day(2))).blocked.map((b) => b.ip)).to.deep.equal(['192.0.2.1']);
  });

  it('blocks, under active blocking, an address its key list refuses even when the account list covers it', () => {
    const {data} = storeWith({billing: 'api'});
    data.blocking.api.state = 'active';
    data.account.push({entry: '192.0.2.0/24', source: 'manual', label: null, addedAt: iso(0), expiresAt: null});
    data.keys[0].allow.push({entry: '198.51.100.0/24', source: 'manual', label: null, addedAt: iso(0), expiresAt: null});
    const outcome = applyEvents(data, logOf([['billing', '192.0.2.1', 1]]), new Date(day(1)));
    expect(outcome.blocked.map((b) => b.ip)).to.deep.equal(['192.0.2.1']);
  });

  it('takes a key by its secret, and reports an unknown secret by its hint only', () => {
    const {data, secrets} = storeWith({billing: 'api'});
    const stranger = newSecret();
    const outcome = applyEvents(
      data,
      logOf([
        [secrets.billing, '192.0.2.1', 0],
        [stranger, '192.0.2.2', 0],
        [stranger, '192.0.2.3', 0],
        ['nobody', '192.0.2.4', 0],
      ]),
      new Date(day(1)),
    );
    expect(outcome.events).to.equal(1);
    expect(outcome.learned).to.deep.equal(['192.0.2.0/24']);
    expect(data.account[0].label).to.equal('learned from billing');
    expect(outcome.unknownKeys).to.deep.equal([
      {key: hintOf(stranger), events: 2},
      {key: 'nobody', events: 1},
    ]);
    expect(JSON.stringify(outcome)).not.to.contain(stranger);
  });

  it('learns an IPv4 caller seen through NAT64 (64:ff9b::/96) as its IPv4 network, never as the /64 that holds every IPv4 address (found by an outside tester)', () => {
    const {data} = storeWith({billing: 'api'});
    const outcome = applyEvents(data, logOf([['billing', '64:ff9b::9.9.9.9', 0]]), new Date(day(1)));
    expect(outcome.learned).to.deep.equal(['64:ff9b::909:900/120']);
    const decide = (ip: string) => applyEvents(data, logOf([['billing', ip, 1]]), new Date(day(1))).learned;
    expect(decide('64:ff9b::9.9.9.200'), 'the same /24, already held').to.deep.equal([]);
    expect(decide('64:ff9b::8.8.8.8'), 'another IPv4 network').to.deep.equal(['64:ff9b::808:800/120']);
    // The IPv4 learning length is the one that counts; outside the well-known prefix a /64 as ever.
    data.settings.learnPrefixV4 = 32;
    expect(decide('64:ff9b::1.2.3.4')).to.deep.equal(['64:ff9b::102:304']);
    // Anywhere in 64:ff9b::/32 (outside the /96 too, and the local-use /48): never a /64, which may hold every IPv4 address.
    data.settings.learnPrefixV4 = 24;
    expect(decide('64:ff9b::1:a06:1')).to.deep.equal(['64:ff9b::1:a06:0/120']);
    expect(decide('64:ff9b:1::10.4.5.6')).to.deep.equal(['64:ff9b:1::a04:500/120']);
    expect(decide('64:ff9c::1')).to.deep.equal(['64:ff9c::/64']);
  });

  it('follows the store settings: learning prefix lengths and window', () => {
    const {data} = storeWith({billing: 'api'});
    data.settings.learnPrefixV4 = 32;
    data.settings.learnPrefixV6 = 48;
    data.settings.learningWindowDays = 45;
    const outcome = applyEvents(
      data,
      logOf([
        ['billing', '192.0.2.7', 0],
        ['billing', '2001:db8:1:2::1', 0],
      ]),
      new Date(day(1)),
    );
    expect(outcome.learned).to.deep.equal(['192.0.2.7', '2001:db8:1::/48']);
    expect(activatesAt(data.blocking.api, data.settings)!.toISOString()).to.equal(iso(45));
  });

  it('remembers seen addresses per channel, and forgets those older than the retention window', () => {
    const {data} = storeWith({billing: 'api', reports: 'api'});
    applyEvents(
      data,
      logOf([
        ['billing', '192.0.2.1', 0],
        ['reports', '192.0.2.1', 3],
        ['billing', '198.51.100.1', 100],
      ]),
      new Date(day(100)),
    );
    // 192.0.2.1 was last seen at day 3: more than 90 days before day 100.
    expect(data.seen.map((s) => s.ip)).to.deep.equal(['198.51.100.1']);

    const fresh = storeWith({billing: 'api', reports: 'api'}).data;
    applyEvents(
      fresh,
      logOf([
        ['reports', '192.0.2.1', 3],
        ['billing', '192.0.2.1', 0],
      ]),
      new Date(day(4)),
    );
    expect(fresh.seen).to.deep.equal([{ip: '192.0.2.1', channel: 'api', keys: ['billing', 'reports'], firstSeen: iso(0), lastSeen: iso(3), count: 2}]);
  });
});

describe('core/learning: learn (one `learn` run)', () => {
  it('sets the settings given, then applies the events with them, and reports what learn --json prints', () => {
    const {data} = storeWith({billing: 'api'});
    const outcome = learn(data, logOf([['billing', '192.0.2.7', 1]]), {
      settings: {learningWindowDays: 10, learnPrefixV4: 28, seenRetentionDays: undefined},
      strict: false,
      now: new Date(day(2)),
    });
    expect(data.settings).to.include({learningWindowDays: 10, learnPrefixV4: 28, seenRetentionDays: 90});
    expect(outcome.learned).to.deep.equal(['192.0.2.0/28']);
    expect(learnJson(outcome, data, {badLines: 1, untimed: 0}, false)).to.deep.equal({
      events: 1,
      learned: ['192.0.2.0/28'],
      blocked: [],
      unknownKeys: 0,
      badLines: 1,
      untimed: 0,
      refused: 0,
      api: {state: 'learning', activatesAt: iso(11)},
      dryRun: false,
    });
  });

  it('strict: an event of an unknown key refuses the run', () => {
    const {data} = storeWith({billing: 'api'});
    const log = logOf([['nobody', '192.0.2.7', 1]]);
    expect(learn(structuredClone(data), log, {settings: {}, strict: false, now: new Date(day(2))}).unknownKeys).to.deep.equal([{key: 'nobody', events: 1}]);
    expect(() => learn(data, log, {settings: {}, strict: true, now: new Date(day(2))})).to.throw(InputError, 'unknown key nobody (1 unknown in all)');
  });
});
