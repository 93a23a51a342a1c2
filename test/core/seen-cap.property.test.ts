/**
 * Property test for learning past the seen cap (issue 15, round 2): a run
 * that sees more addresses than MAX_SEEN chooses the records it keeps by
 * their last times as numbers and writes ISO texts only for those. The
 * oracle is the rule as written with texts: each record's last time the
 * later text of the store's and of this run's latest event, the retention
 * window by text, then mostRecent (ties: the later in the list). Times are
 * coarse so that many tie at the cut; hostile: a store text of another ISO
 * form (the choice is then made by the texts, as before). Runs: 4 and two
 * fixed cases, or KEYWARD_PROPERTY_RUNS / 50 (each learns over 10,000 addresses).
 */
import {expect} from 'chai';
import fc from 'fast-check';

import {scanDecisionAddress} from '../../src/core/address.js';
import {newKeyRecord} from '../../src/core/keys.js';
import {EventLog, learn, MAX_SEEN, mostRecent} from '../../src/core/learning.js';
import {emptyStore, SeenRecord, StoreData} from '../../src/core/model.js';
import {newSecret} from '../../src/core/secret.js';
import {DAY_MS} from '../../src/core/time.js';

const RUNS = Math.max(3, Math.floor(Number(process.env.KEYWARD_PROPERTY_RUNS || 200) / 50));
const NOW = new Date('2026-03-02T00:00:00.000Z');
const ipv4 = (n: number) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

/** The seen list learning must leave, by texts (see the file's comment). */
function oracleSeen(
  before: readonly SeenRecord[],
  events: readonly {ip: string; channel: string; at: number; key?: string}[],
  retentionDays: number,
): {ip: string; channel: string; lastSeen: string}[] {
  const records = before.map((s) => ({ip: s.ip, channel: s.channel as string, lastSeen: s.lastSeen}));
  const at = new Map(records.map((r, i) => [`${r.channel} ${r.ip}`, i]));
  const latest = new Map<string, number>();
  // Learning applies a log's events in time order (stably): new records are added in that order.
  for (const e of [...events].sort((a, b) => a.at - b.at)) {
    const id = `${e.channel} ${e.ip}`;
    if (!at.has(id)) {
      at.set(id, records.length);
      records.push({ip: e.ip, channel: e.channel, lastSeen: ''});
    }
    latest.set(id, Math.max(latest.get(id) ?? Number.NEGATIVE_INFINITY, e.at));
  }
  for (const [id, ms] of latest) {
    const r = records[at.get(id)!];
    const text = new Date(ms).toISOString();
    if (text > r.lastSeen) r.lastSeen = text;
  }
  const since = new Date(NOW.getTime() - retentionDays * DAY_MS).toISOString();
  return mostRecent(
    records.filter((r) => r.lastSeen >= since),
    MAX_SEEN,
  );
}

describe('core/learning: the seen records kept past the cap, chosen by time', function () {
  this.timeout(60_000);

  it('keeps the records the texts would keep, in list order, with the same last times and drop count', () => {
    fc.assert(
      fc.property(
        fc.integer({min: 0, max: 2500}),
        fc.integer({min: MAX_SEEN - 200, max: MAX_SEEN + 1200}),
        fc.integer({min: 1, max: 40}),
        fc.boolean(),
        fc.integer({min: 1, max: 2 ** 31}),
        (old, fresh, distinctTimes, hostile, seed) => {
          let x = seed;
          const random = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32;
          // Times on a coarse grid (many ties), some older than the retention window (30 days).
          const time = () => NOW.getTime() - Math.floor(random() * distinctTimes) * 2 * DAY_MS - 1000;
          const data: StoreData = emptyStore(NOW);
          data.keys.push(newKeyRecord('api', 'api', newSecret(), NOW), newKeyRecord('api2', 'api', newSecret(), NOW), newKeyRecord('mail', 'smtp', newSecret(), NOW));
          for (let i = 0; i < old; i++) {
            const t = new Date(time()).toISOString();
            data.seen.push({ip: ipv4(0x50000000 + i * 3), channel: i % 2 === 0 ? 'api' : 'smtp', keys: [i % 2 === 0 ? 'api' : 'mail'], firstSeen: t, lastSeen: t, count: 1});
          }
          if (hostile && old > 0) data.seen[0].lastSeen = data.seen[0].lastSeen.replace('.000Z', 'Z');
          const before = data.seen.map((s) => ({...s}));
          const log = new EventLog();
          const events: {ip: string; channel: string; at: number; key: string}[] = [];
          const words = new Uint32Array(4);
          // Addresses new and known (every third of the new ones is a stored one's), in both channels.
          for (let i = 0; i < fresh; i++) {
            const ip = ipv4(0x50000000 + Math.floor(random() * (old + fresh)) * 2);
            const key = random() < 0.8 ? (random() < 0.7 ? 'api' : 'api2') : 'mail';
            const at = time();
            const family = scanDecisionAddress(ip, words);
            log.add(key, family, words, at);
            events.push({ip, channel: key === 'mail' ? 'smtp' : 'api', at, key});
          }
          const outcome = learn(data, log, {settings: {}, strict: false, now: NOW});
          const expected = oracleSeen(before, events, data.settings.seenRetentionDays);
          expect(data.seen.map((s) => ({ip: s.ip, channel: s.channel, lastSeen: s.lastSeen}))).to.deep.equal(expected);
          const within = (() => {
            const since = new Date(NOW.getTime() - data.settings.seenRetentionDays * DAY_MS).toISOString();
            const all = new Map<string, string>();
            for (const s of before) all.set(`${s.channel} ${s.ip}`, s.lastSeen);
            for (const e of events) {
              const id = `${e.channel} ${e.ip}`;
              const text = new Date(e.at).toISOString();
              if (!all.has(id) || text > all.get(id)!) all.set(id, text);
            }
            return [...all.values()].filter((t) => t >= since).length;
          })();
          expect(outcome.dropped?.seen ?? 0).to.equal(within - expected.length);
          // Every record kept, whole: its count (the store's and one an event), its keys (the store's, then each new key
          // in the order of the events, time order), its first time (the earlier of the store's and the first event's).
          const whole = new Map(before.map((r) => [`${r.channel} ${r.ip}`, {count: r.count, keys: [...r.keys], firstSeen: r.firstSeen}]));
          for (const e of [...events].sort((a, b) => a.at - b.at)) {
            const id = `${e.channel} ${e.ip}`;
            const text = new Date(e.at).toISOString();
            const r = whole.get(id) ?? {count: 0, keys: [], firstSeen: text};
            whole.set(id, r);
            r.count++;
            if (!r.keys.includes(e.key)) r.keys.push(e.key);
            if (text < r.firstSeen) r.firstSeen = text;
          }
          expect(data.seen.length).to.equal(expected.length);
          for (const [i, record] of data.seen.entries()) {
            expect(i in data.seen, `record ${i}`).to.equal(true);
            expect({count: record.count, keys: record.keys, firstSeen: record.firstSeen}).to.deep.equal(whole.get(`${record.channel} ${record.ip}`));
          }
        },
      ),
      {
        numRuns: RUNS,
        examples: [
          [2046, MAX_SEEN + 1003, 1, false, 1],
          [1989, MAX_SEEN + 1088, 1, true, 21],
        ],
      },
    );
  });
});
