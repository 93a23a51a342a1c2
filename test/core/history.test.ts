/**
 * The audit record's core: the list comparison (against a naive oracle, and
 * its cost on a million entries), what a change records and what it does
 * not, the bounds, selection by time and count, and the store schema's
 * reading and writing of `history`.
 */
import {expect} from 'chai';
import fc from 'fast-check';

import {scanDecisionAddress} from '../../src/core/address.js';
import {setBlocking} from '../../src/core/blocking.js';
import {InputError} from '../../src/core/errors.js';
import {appendHistory, diffList, diffStore, HISTORY_RECORDS, HISTORY_SAMPLES, noChanges, selectHistory, snapshot} from '../../src/core/history.js';
import {newKeyRecord} from '../../src/core/keys.js';
import {applyEvents, EventLog} from '../../src/core/learning.js';
import {emptyStore, EntryRecord, HistoryRecord, StoreData} from '../../src/core/model.js';
import {hashSecret, hintOf, newSecret} from '../../src/core/secret.js';
import {parseSince} from '../../src/core/time.js';
import {canonicalize, ShapeError, validate} from '../../src/store/schema.js';

const T0 = new Date('2026-01-01T00:00:00.000Z');
const at = (days: number) => new Date(T0.getTime() + days * 86_400_000);

/** A log of one event. */
function logOf(key: string, ip: string, when: Date): EventLog {
  const log = new EventLog();
  const words = new Uint32Array(4);
  log.add(key, scanDecisionAddress(ip, words), words, when.getTime());
  return log;
}

/** The i-th IPv4 address from 10.0.0.0, as an entry record. */
function record(i: number, fields: Partial<EntryRecord> = {}): EntryRecord {
  const entry = `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
  return {entry, source: 'manual', label: null, addedAt: T0.toISOString(), expiresAt: null, ...fields};
}

const sameEntry = (a: EntryRecord, b: EntryRecord) =>
  a.entry === b.entry && a.label === b.label && a.expiresAt === b.expiresAt && a.addedAt === b.addedAt && a.source === b.source;
const diffEntries = (before: EntryRecord[], after: EntryRecord[], samples = Infinity) => diffList(before, after, (r) => r.entry, sameEntry, samples);
const texts = (records: EntryRecord[]) => records.map((r) => r.entry).sort();

function history(data: StoreData): HistoryRecord[] {
  return data.history ?? [];
}

function recordOf(changes = noChanges(), when = T0, command = 'authorize'): HistoryRecord {
  return {at: when.toISOString(), command, flags: [], user: 'ops', changes};
}

describe('history: comparing two versions of a list', () => {
  it('reports an append, a filter, a replacement in place and a move to the end', () => {
    const before = [0, 1, 2, 3, 4, 5].map((i) => record(i));
    const relabeled = {...before[2], label: 'office'};
    const renewed = {...before[4], addedAt: at(1).toISOString()};
    // 1 dropped, 2 relabeled where it was, 4 moved to the end with a new date (an expired copy authorized again), 9 and 10 new.
    const after = [before[0], relabeled, before[3], before[5], record(9), renewed, record(10)];
    const d = diffEntries(before, after);
    expect(d.counts).to.deep.equal({added: 2, removed: 1, updated: 2});
    expect(texts(d.added)).to.deep.equal(['10.0.0.10', '10.0.0.9']);
    expect(texts(d.removed)).to.deep.equal(['10.0.0.1']);
    expect(texts(d.updated)).to.deep.equal(['10.0.0.2', '10.0.0.4']);
  });

  it('sees no change in a list that is the same, or the same records in another order', () => {
    const before = [0, 1, 2, 3].map((i) => record(i));
    expect(diffEntries(before, before.slice()).counts).to.deep.equal({added: 0, removed: 0, updated: 0});
    expect(
      diffEntries(
        before,
        before.map((r) => ({...r})),
      ).counts,
      'equal copies',
    ).to.deep.equal({added: 0, removed: 0, updated: 0});
    expect(diffEntries(before, before.slice().reverse()).counts).to.deep.equal({added: 0, removed: 0, updated: 0});
  });

  it('names at most `samples` items per kind, in list order, with exact counts', () => {
    const before = Array.from({length: 100}, (_, i) => record(i));
    const after = [...before.slice(30), ...Array.from({length: 80}, (_, i) => record(1000 + i))];
    const d = diffEntries(before, after, 5);
    expect(d.counts).to.deep.equal({added: 80, removed: 30, updated: 0});
    expect(d.added.map((r) => r.entry)).to.deep.equal([1000, 1001, 1002, 1003, 1004].map((i) => record(i).entry));
    expect(d.removed.map((r) => r.entry)).to.deep.equal([0, 1, 2, 3, 4].map((i) => record(i).entry));
  });

  it('agrees with a naive comparison by key, whatever the commands did to the list (property)', () => {
    const step = fc.record({keep: fc.boolean(), relabel: fc.boolean()});
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({min: 0, max: 400}), {maxLength: 60}),
        fc.array(step, {maxLength: 60}),
        fc.uniqueArray(fc.integer({min: 0, max: 400}), {maxLength: 30}),
        fc.constantFrom('keep order', 'shuffle', 'reverse'),
        fc.integer({min: 0, max: 1000}),
        (ids, steps, newIds, order, seed) => {
          const before = ids.map((i) => record(i));
          let after: EntryRecord[] = [];
          before.forEach((r, k) => {
            const s = steps[k] ?? {keep: true, relabel: false};
            if (s.keep) after.push(s.relabel ? {...r, label: 'new'} : r);
          });
          const present = new Set(after.map((r) => r.entry));
          // A new id may be one that was dropped: an entry authorized again goes to the end, with a new date.
          for (const i of newIds) if (!present.has(record(i).entry)) after.push(record(i, {addedAt: at(2).toISOString()}));
          if (order === 'reverse') after.reverse();
          if (order === 'shuffle')
            after = after
              .map((r, k) => ({r, w: (k * 7919 + seed) % 1009}))
              .sort((a, b) => a.w - b.w)
              .map((x) => x.r);

          const was = new Map(before.map((r) => [r.entry, r]));
          const is = new Map(after.map((r) => [r.entry, r]));
          const expected = {
            added: after
              .filter((r) => !was.has(r.entry))
              .map((r) => r.entry)
              .sort(),
            removed: before
              .filter((r) => !is.has(r.entry))
              .map((r) => r.entry)
              .sort(),
            updated: after
              .filter((r) => was.has(r.entry) && !sameEntry(was.get(r.entry)!, r))
              .map((r) => r.entry)
              .sort(),
          };
          const d = diffEntries(before, after);
          expect({added: texts(d.added), removed: texts(d.removed), updated: texts(d.updated)}).to.deep.equal(expected);
          expect(d.counts).to.deep.equal({added: expected.added.length, removed: expected.removed.length, updated: expected.updated.length});
        },
      ),
      {numRuns: 500},
    );
  });

  describe('costs little on a million entries, the way commands change lists', function () {
    // Budgets are several times what a loaded two-core machine takes; a comparison that hashed or searched per entry takes far longer.
    this.timeout(120_000);
    const N = 1_000_000;
    const million = Array.from({length: N}, (_, i) => record(i));
    const fresh = Array.from({length: N}, (_, i) => record(N + i, {addedAt: at(1).toISOString()}));

    function cost(make: (data: StoreData) => void, base: EntryRecord[]): {ms: number; mib: number; data: StoreData; changes: ReturnType<typeof diffStore>} {
      const data = emptyStore(T0);
      data.account = base.slice();
      globalThis.gc?.();
      const heap = process.memoryUsage().heapUsed;
      const started = performance.now();
      const before = snapshot(data);
      const beforeMs = performance.now() - started;
      make(data);
      const diffStarted = performance.now();
      const changes = diffStore(before, data);
      const ms = beforeMs + performance.now() - diffStarted;
      return {ms, mib: (process.memoryUsage().heapUsed - heap) / 2 ** 20, data, changes};
    }

    it('an import of a million entries into an empty list', () => {
      const {ms, changes} = cost((data) => {
        for (const r of million) data.account.push(r);
      }, []);
      expect(changes!.counts).to.deep.equal({added: N, removed: 0, updated: 0});
      expect(changes!.entries[0].added).to.have.length(HISTORY_SAMPLES);
      expect(ms).to.be.below(1000);
    });

    it('an import of a million more, with an expired copy authorized again, into a million', () => {
      const {ms, mib, changes} = cost((data) => {
        const expired = data.account[500];
        for (const r of fresh) data.account.push(r);
        data.account.push({...expired, addedAt: at(1).toISOString()});
        data.account.splice(500, 1);
      }, million);
      expect(changes!.counts).to.deep.equal({added: N, removed: 0, updated: 1});
      expect(ms).to.be.below(3000);
      // The snapshot is an array of references (8 MiB); the records are the store's own. The fresh records are counted by the caller.
      expect(mib).to.be.below(100);
    });

    it('a revoke of three entries, and a prune of every tenth, from a million', () => {
      const revoke = cost((data) => {
        const gone = new Set([million[3].entry, million[N / 2].entry, million[N - 3].entry]);
        data.account = data.account.filter((r) => !gone.has(r.entry));
      }, million);
      expect(revoke.changes!.counts).to.deep.equal({added: 0, removed: 3, updated: 0});
      expect(revoke.ms).to.be.below(3000);
      const prune = cost((data) => {
        data.account = data.account.filter((_, i) => i % 10 !== 0);
      }, million);
      expect(prune.changes!.counts).to.deep.equal({added: 0, removed: N / 10, updated: 0});
      expect(prune.ms).to.be.below(3000);
    });
  });
});

describe('history: what a change records', () => {
  function store(): StoreData {
    const data = emptyStore(T0);
    data.account.push(record(1), record(2));
    const key = newKeyRecord('billing', 'api', newSecret(), T0);
    key.allow.push(record(7));
    data.keys.push(key);
    data.blocked.push({ip: '192.0.2.9', key: 'billing', channel: 'api', firstSeen: T0.toISOString(), lastSeen: T0.toISOString(), count: 1});
    return data;
  }

  it('records nothing for a change that changed nothing history tracks: seen traffic and blocked counts are bookkeeping', () => {
    const data = store();
    const before = snapshot(data);
    data.seen.push({ip: '192.0.2.1', channel: 'api', keys: ['billing'], firstSeen: T0.toISOString(), lastSeen: T0.toISOString(), count: 1});
    data.blocked[0].count = 5;
    data.blocked[0].lastSeen = at(1).toISOString();
    data.blocking.api.lastEventAt = T0.toISOString();
    expect(diffStore(before, data)).to.equal(null);
  });

  it('records entries per scope, keys created, rotated and revoked by hint, blocking, the blocked list and settings', () => {
    const data = store();
    const before = snapshot(data);
    const oldHash = data.keys[0].hash;
    const secret = newSecret();
    data.account.push(record(3));
    data.keys[0].allow = [];
    data.keys[0].hash = hashSecret(secret);
    data.keys[0].hint = hintOf(secret);
    data.keys[0].status = 'revoked';
    const relaySecret = newSecret();
    const relay = newKeyRecord('relay', 'smtp', relaySecret, T0);
    relay.allow.push(record(8));
    data.keys.push(relay);
    setBlocking(data, 'smtp', 'active', at(1));
    data.blocked = [];
    data.blocked.push({ip: '192.0.2.10', key: 'relay', channel: 'smtp', firstSeen: T0.toISOString(), lastSeen: T0.toISOString(), count: 1});
    data.settings.learningWindowDays = 45;

    const changes = diffStore(before, data, {operatorSetsBlocking: true})!;
    expect(changes).to.deep.equal({
      counts: {added: 2, removed: 1, updated: 0},
      entries: [
        {scope: 'account', added: ['10.0.0.3'], removed: [], updated: [], counts: {added: 1, removed: 0, updated: 0}},
        {scope: 'billing', added: [], removed: ['10.0.0.7'], updated: [], counts: {added: 0, removed: 1, updated: 0}},
        {scope: 'relay', added: ['10.0.0.8'], removed: [], updated: [], counts: {added: 1, removed: 0, updated: 0}},
      ],
      keys: [
        {name: 'billing', type: 'api', action: 'rotated', hint: hintOf(secret)},
        {name: 'billing', type: 'api', action: 'revoked', hint: hintOf(secret)},
        {name: 'relay', type: 'smtp', action: 'created', hint: hintOf(relaySecret)},
      ],
      blocking: [{channel: 'smtp', from: 'inactive', to: 'active', automatic: false}],
      blocked: {added: 1, removed: 1},
      settings: [{name: 'learningWindowDays', from: 30, to: 45}],
    });
    const text = JSON.stringify(changes);
    for (const never of [secret, relaySecret, oldHash, data.keys[0].hash, relay.hash]) expect(text).not.to.contain(never);
  });

  it("marks a switch of blocking as learning's own unless the command sets blocking by hand", () => {
    const data = store();
    data.account.push(record(7));
    const before = snapshot(data);
    // Learning turns blocking on by itself when a known caller's event (one its key's own list allows) is dated past its window.
    applyEvents(data, logOf('billing', '10.0.0.7', at(31)), at(31));
    expect(data.blocking.api.state).to.equal('active');
    expect(diffStore(before, data)!.blocking).to.deep.equal([{channel: 'api', from: 'learning', to: 'active', automatic: true}]);
  });

  it('keeps the newest records, dropping the oldest', () => {
    const data = emptyStore(T0);
    for (let i = 0; i < HISTORY_RECORDS + 7; i++) appendHistory(data, [recordOf(noChanges(), at(i))]);
    expect(history(data)).to.have.length(HISTORY_RECORDS);
    expect(history(data)[0].at).to.equal(at(7).toISOString());
    expect(history(data).at(-1)!.at).to.equal(at(HISTORY_RECORDS + 6).toISOString());
    appendHistory(data, [recordOf(), recordOf()], 3);
    expect(history(data)).to.have.length(3);
  });

  it('bounds a record however large the change: the samples per list and the scopes, with exact counts', () => {
    const data = emptyStore(T0);
    const before = snapshot(data);
    for (let i = 0; i < 5000; i++) data.account.push(record(i));
    for (let k = 0; k < HISTORY_SAMPLES + 10; k++) {
      const key = newKeyRecord(`k${String(k).padStart(3, '0')}`, 'api', newSecret(), T0);
      key.allow.push(record(k));
      data.keys.push(key);
    }
    const changes = diffStore(before, data)!;
    expect(changes.counts.added).to.equal(5000 + HISTORY_SAMPLES + 10);
    expect(changes.entries).to.have.length(HISTORY_SAMPLES);
    expect(changes.entries[0]).to.include({scope: 'account'});
    expect(changes.entries[0].added).to.have.length(HISTORY_SAMPLES);
    expect(changes.entries[0].counts.added).to.equal(5000);
    expect(changes.keys).to.have.length(HISTORY_SAMPLES);
    expect(JSON.stringify(changes).length, 'a few kilobytes').to.be.below(10_000);
  });
});

describe('history: choosing records', () => {
  const records = [0, 1, 2, 3, 4].map((d) => recordOf(noChanges(), at(d)));

  it('--since keeps records at or after the time; --limit keeps the newest; oldest first', () => {
    expect(selectHistory(records, {since: at(3)}).map((r) => r.at)).to.deep.equal([at(3), at(4)].map((d) => d.toISOString()));
    expect(selectHistory(records, {limit: 2}).map((r) => r.at)).to.deep.equal([at(3), at(4)].map((d) => d.toISOString()));
    expect(selectHistory(records, {since: at(1), limit: 10})).to.have.length(4);
    expect(selectHistory(records, {})).to.have.length(5);
  });

  it('reads --since as a duration back from now or as an ISO 8601 time, and refuses anything else', () => {
    expect(parseSince('2d', at(10)).toISOString()).to.equal(at(8).toISOString());
    expect(parseSince('12h', at(1)).toISOString()).to.equal('2026-01-01T12:00:00.000Z');
    expect(parseSince('2026-01-03', at(10)).toISOString()).to.equal(at(2).toISOString());
    for (const bad of ['yesterday', '7', '-3d', '']) expect(() => parseSince(bad, T0), bad).to.throw(InputError);
  });
});

describe('history: the store schema', () => {
  function withHistory(): StoreData {
    const data = emptyStore(T0);
    const changes = noChanges();
    changes.counts.added = 1;
    changes.entries.push({scope: 'account', added: ['192.0.2.1'], removed: [], updated: [], counts: {added: 1, removed: 0, updated: 0}});
    changes.blocking.push({channel: 'api', from: 'learning', to: 'active', automatic: true});
    data.history = [recordOf(changes, at(2)), recordOf(noChanges(), at(1), 'keys rotate')];
    return data;
  }

  it('reads a store without history as one without records, and writes no empty history', () => {
    const data = emptyStore(T0);
    expect(validate(JSON.parse(JSON.stringify(data)))).to.not.have.property('history');
    expect(canonicalize({...data, history: []})).to.not.have.property('history');
  });

  it('keeps records in the order they were appended, in a fixed key order, through a write and a read', () => {
    const data = withHistory();
    const written = JSON.stringify(canonicalize(data));
    const read = validate(JSON.parse(written));
    expect(read.history).to.deep.equal(data.history);
    expect(Object.keys(read)).to.deep.equal(['version', 'settings', 'blocking', 'account', 'keys', 'blocked', 'seen', 'history']);
    expect(Object.keys(read.history![0])).to.deep.equal(['at', 'command', 'flags', 'user', 'changes']);
  });

  it('refuses a history of the wrong shape, naming the field', () => {
    const cases: [string, (doc: any) => void, string][] = [
      ['not a list', (doc) => (doc.history = {}), 'history is not a list'],
      ['a bad time', (doc) => (doc.history[0].at = 'yesterday'), 'history[0].at is not an ISO 8601 time with an offset: `yesterday`'],
      ['a negative count', (doc) => (doc.history[0].changes.counts.added = -1), 'history[0].changes.counts.added is not a count'],
      ['an unknown key action', (doc) => (doc.history[1].changes.keys = [{name: 'k', type: 'api', action: 'stolen', hint: 'x'}]), 'history[1].changes.keys[0].action'],
      ['a missing list', (doc) => delete doc.history[0].changes.entries[0].updated, 'history[0].changes.entries[0].updated is not a list'],
    ];
    for (const [what, breakIt, message] of cases) {
      const doc = JSON.parse(JSON.stringify(withHistory()));
      breakIt(doc);
      expect(() => validate(doc), what).to.throw(ShapeError, message);
    }
  });
});
