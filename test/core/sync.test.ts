import {expect} from 'chai';
import fc from 'fast-check';

import {parseEntries, parseEntry} from '../../src/core/entry-parse.js';
import {newKeyRecord} from '../../src/core/keys.js';
import {emptyStore, EntryRecord, EntrySource} from '../../src/core/model.js';
import {applySync, assessSync, DesiredEntry, hasChanges, planSync, sameChanges, syncedList, syncJson} from '../../src/core/sync.js';

const NOW = new Date('2026-01-01T00:00:00.000Z');
const EARLIER = '2025-06-01T00:00:00.000Z';

function record(entry: string, fields: Partial<EntryRecord> = {}): EntryRecord {
  return {entry, source: 'manual', label: null, addedAt: EARLIER, expiresAt: null, ...fields};
}

/** Desired entries from import lines, as `sync` reads them. */
function desired(...lines: string[]): DesiredEntry[] {
  return lines.map((line, i) => {
    const [text, label] = line.split('#').map((s) => s.trim());
    return {prefix: parseEntry(text), label: label || null, where: `line ${i + 1}`, source: 'import' as EntrySource};
  });
}

const options = {now: NOW, pruneLearned: false};

describe('core/sync: planSync', () => {
  it('adds what the file has and the list lacks, removes the rest, and counts what both have as unchanged', () => {
    const current = [record('10.0.0.0/8'), record('192.0.2.7'), record('2001:db8::/32')];
    const plan = planSync(current, desired('2001:db8::/32', '198.51.100.0/24', '10.0.0.0/8'), options);
    expect(plan.added).to.deep.equal(['198.51.100.0/24']);
    expect(plan.removed).to.deep.equal(['192.0.2.7']);
    expect(plan.unchanged).to.deep.equal(['10.0.0.0/8', '2001:db8::/32']);
    expect(plan.relabeled).to.deep.equal([]);
    expect(hasChanges(plan)).to.equal(true);
  });

  it('compares canonical entries: /32, upper case, long IPv6 and 4-in-6 forms are the entry already listed', () => {
    const current = [record('10.0.0.1'), record('2001:db8::1'), record('192.0.2.0/24')];
    const inputs = ['10.0.0.1/32', '2001:DB8:0:0:0:0:0:1', '::ffff:192.0.2.0/120'].map((text, i) => ({text, label: null, where: `line ${i + 1}`, source: 'import' as const}));
    const wanted = parseEntries(inputs, {})
      .prefixes()
      .map((prefix, i) => ({prefix, label: null, where: inputs[i].where, source: 'import' as const}));
    const plan = planSync(current, wanted, options);
    expect(hasChanges(plan)).to.equal(false);
    expect(plan.unchanged).to.deep.equal(['10.0.0.1', '192.0.2.0/24', '2001:db8::1']);
  });

  it('keeps an entry inside another entry of the file as written (the list equals the file, not its aggregate)', () => {
    const plan = planSync([record('10.0.0.0/8')], desired('10.0.0.0/8', '10.1.0.0/16', '10.1.2.3'), options);
    expect(plan.added).to.deep.equal(['10.1.0.0/16', '10.1.2.3']);
    expect(plan.unchanged).to.deep.equal(['10.0.0.0/8']);
  });

  it('counts a repeated entry once, names the repeat, and takes the first label given', () => {
    const plan = planSync([], desired('192.0.2.1', '192.0.2.1/32 # runner', '192.0.2.1 # other'), options);
    expect(plan.added).to.deep.equal(['192.0.2.1']);
    expect(plan.additions.map((d) => d.label)).to.deep.equal(['runner']);
    expect(plan.repeats).to.deep.equal([
      {entry: '192.0.2.1', where: 'line 2', first: 'line 1'},
      {entry: '192.0.2.1', where: 'line 3', first: 'line 1'},
    ]);
  });

  it('relabels an entry whose label differs, including a label the file leaves out', () => {
    const current = [record('10.0.0.0/8', {label: 'old'}), record('192.0.2.0/24', {label: 'lab'}), record('198.51.100.0/24', {label: 'same'})];
    const plan = planSync(current, desired('10.0.0.0/8 # new', '192.0.2.0/24', '198.51.100.0/24 # same'), options);
    expect(plan.relabeled).to.deep.equal([
      {entry: '10.0.0.0/8', label: 'new', previousLabel: 'old'},
      {entry: '192.0.2.0/24', label: null, previousLabel: 'lab'},
    ]);
    expect(plan.unchanged).to.deep.equal(['198.51.100.0/24']);
    expect(plan.added).to.deep.equal([]);
    expect(plan.removed).to.deep.equal([]);
    expect(hasChanges(plan)).to.equal(true);
  });

  it('keeps learned entries the file does not name, unless pruneLearned', () => {
    const current = [record('192.0.2.0/24', {source: 'learned'}), record('198.51.100.0/24', {source: 'learned'}), record('203.0.113.9')];
    const kept = planSync(current, desired('198.51.100.0/24'), options);
    expect(kept.keptLearned).to.deep.equal(['192.0.2.0/24']);
    expect(kept.removed).to.deep.equal(['203.0.113.9']);
    expect(kept.unchanged).to.deep.equal(['198.51.100.0/24']);

    const pruned = planSync(current, desired('198.51.100.0/24'), {now: NOW, pruneLearned: true});
    expect(pruned.keptLearned).to.deep.equal([]);
    expect(pruned.removed).to.deep.equal(['192.0.2.0/24', '203.0.113.9']);
  });

  it('an expired entry: kept expired when the file names it without an expiry to come, renewed when it gives one (or none: null), removed when not named', () => {
    const current = [record('192.0.2.1', {expiresAt: EARLIER}), record('192.0.2.2', {expiresAt: EARLIER}), record('192.0.2.3', {expiresAt: '2027-01-01T00:00:00.000Z'})];
    const plan = planSync(current, desired('192.0.2.1', '192.0.2.3'), options);
    expect(plan.added).to.deep.equal([]);
    expect(plan.keptExpired, 'a plain file names it, and cannot say it should live again').to.deep.equal(['192.0.2.1']);
    expect(plan.removed).to.deep.equal(['192.0.2.2']);
    expect(plan.unchanged, 'a live entry keeps its expiry').to.deep.equal(['192.0.2.1', '192.0.2.3']);
    expect(syncedList(current, plan, NOW)).to.deep.equal([record('192.0.2.1', {expiresAt: EARLIER}), record('192.0.2.3', {expiresAt: '2027-01-01T00:00:00.000Z'})]);

    const past = planSync(current, [{...desired('192.0.2.1')[0], expiresAt: EARLIER}], options);
    expect(past.keptExpired, 'an expiry already past: dead either way').to.deep.equal(['192.0.2.1']);
    for (const expiresAt of [null, '2027-06-01T00:00:00.000Z']) {
      const renew = planSync(current, [{...desired('192.0.2.1')[0], expiresAt}], options);
      expect(renew.added, String(expiresAt)).to.deep.equal(['192.0.2.1']);
      expect(syncedList(current, renew, NOW)).to.deep.equal([{entry: '192.0.2.1', source: 'import', label: null, addedAt: NOW.toISOString(), expiresAt}]);
    }
  });
});

describe('core/sync: syncedList', () => {
  it('applies the plan without touching the current list or its records', () => {
    const current = [record('10.0.0.0/8', {label: 'old', source: 'learned'}), record('192.0.2.7')];
    const snapshot = structuredClone(current);
    const plan = planSync(current, desired('10.0.0.0/8 # vpn', '203.0.113.0/24 # office'), options);
    const list = syncedList(current, plan, NOW);
    expect(current).to.deep.equal(snapshot);
    expect(list).to.deep.equal([
      record('10.0.0.0/8', {label: 'vpn', source: 'learned'}),
      {entry: '203.0.113.0/24', source: 'import', label: 'office', addedAt: NOW.toISOString(), expiresAt: null},
    ]);
    expect(hasChanges(planSync(list, desired('10.0.0.0/8 # vpn', '203.0.113.0/24 # office'), options)), 'idempotent').to.equal(false);
  });

  it('sameChanges tells plans with the same change from different ones', () => {
    const a = planSync([record('10.0.0.0/8')], desired('192.0.2.0/24'), options);
    const b = planSync([record('10.0.0.0/8'), record('198.51.100.1', {source: 'learned'})], desired('192.0.2.0/24'), options);
    const c = planSync([record('10.0.0.0/8', {label: 'x'})], desired('10.0.0.0/8'), options);
    const d = planSync([record('10.0.0.0/8', {label: 'y'})], desired('10.0.0.0/8 # z'), options);
    expect(sameChanges(a, b)).to.equal(true);
    expect(sameChanges(a, c)).to.equal(false);
    expect(sameChanges(c, d)).to.equal(false);
    expect(sameChanges(c, c)).to.equal(true);
  });
});

describe('core/sync: properties', () => {
  const entries = ['10.0.0.0/8', '10.1.0.0/16', '10.1.2.3', '192.0.2.0/24', '192.0.2.7', '198.51.100.0/24', '2001:db8::/32', '2001:db8::1', '::/0', '0.0.0.0/0'];
  const labels = fc.constantFrom(null, 'a', 'b');
  const recordArb = fc.record({
    entry: fc.constantFrom(...entries),
    source: fc.constantFrom<EntrySource>('manual', 'learned', 'import', 'blocked'),
    label: labels,
    expired: fc.boolean(),
  });

  it('the synced list holds exactly the file entries (with their labels) plus the kept learned ones, and a second plan is empty', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(recordArb, {selector: (r) => r.entry}),
        fc.array(fc.record({entry: fc.constantFrom(...entries), label: labels}), {minLength: 1}),
        fc.boolean(),
        (rows, lines, pruneLearned) => {
          const current = rows.map((r) => record(r.entry, {source: r.source, label: r.label, expiresAt: r.expired ? EARLIER : null}));
          const wanted = lines.map((l, i) => ({prefix: parseEntry(l.entry, {force: true}), label: l.label, where: `line ${i + 1}`, source: 'import' as const}));
          const opts = {now: NOW, pruneLearned};
          const plan = planSync(current, wanted, opts);
          const list = syncedList(current, plan, NOW);

          // The oracle: the first label given for each entry of the file.
          const expected = new Map<string, string | null>();
          for (const l of lines) {
            if (!expected.has(l.entry) || (expected.get(l.entry) === null && l.label !== null)) expected.set(l.entry, l.label);
          }
          const keptLearned = pruneLearned ? [] : current.filter((r) => r.source === 'learned' && !expected.has(r.entry)).map((r) => r.entry);
          // A file entry the list holds only expired stays as it was: the file (no expiry given) cannot say it should live again.
          const dead = new Map(current.filter((r) => r.expiresAt !== null && expected.has(r.entry)).map((r) => [r.entry, r.label]));
          const got = new Map(list.map((r) => [r.entry, r.label]));
          expect(list.length, 'no entry twice').to.equal(got.size);
          expect([...got.keys()].sort()).to.deep.equal([...expected.keys(), ...keptLearned].sort());
          for (const [entry, label] of expected) expect(got.get(entry), entry).to.equal(dead.has(entry) ? dead.get(entry) : label);
          for (const r of list)
            if (expected.has(r.entry)) expect(r.expiresAt === null || Date.parse(r.expiresAt) > NOW.getTime(), 'file entries are live').to.equal(!dead.has(r.entry));
          expect([...plan.keptExpired].sort()).to.deep.equal([...dead.keys()].sort());

          // Every entry is reported exactly once.
          const reported = [...plan.added, ...plan.removed, ...plan.unchanged, ...plan.relabeled.map((r) => r.entry), ...plan.keptLearned];
          expect(reported.length).to.equal(new Set(reported).size);
          expect(new Set(reported)).to.deep.equal(new Set([...expected.keys(), ...current.map((r) => r.entry)]));

          const again = planSync(list, wanted, opts);
          expect(hasChanges(again), 'idempotent').to.equal(false);
        },
      ),
      {numRuns: 300},
    );
  });

  it('plans 100,000 entries against 100,000 in linear time (seconds, where a quadratic plan would take minutes)', () => {
    const n = 100_000;
    const v4 = (i: number) => `${10 + (i >>> 16)}.${(i >>> 8) & 255}.${i & 255}.0/24`;
    const current = Array.from({length: n}, (_, i) => record(v4(i)));
    const wanted = Array.from({length: n}, (_, i) => ({prefix: parseEntry(v4(i + n / 2)), label: null, where: `line ${i + 1}`, source: 'import' as const}));
    const started = performance.now();
    const plan = planSync(current, wanted, options);
    const list = syncedList(current, plan, NOW);
    const ms = performance.now() - started;
    expect(plan.added.length).to.equal(n / 2);
    expect(plan.removed.length).to.equal(n / 2);
    expect(plan.unchanged.length).to.equal(n / 2);
    expect(list.length).to.equal(n);
    expect(ms).to.be.below(10_000);
  });
});

describe('core/sync: assessSync and applySync', () => {
  const store = (account: string[]) => {
    const data = emptyStore(new Date(EARLIER));
    data.account = account.map((e) => record(e));
    return data;
  };

  it('assesses the account list against the file, asks with the counts, and applies it', () => {
    const data = store(['10.0.0.0/8', '192.0.2.7']);
    const a = assessSync(data, desired('10.0.0.0/8', '198.51.100.0/24'), {...options});
    expect(a.scope).to.equal('account');
    expect(a.question).to.deep.equal({text: 'Apply the sync (1 to add, 1 to remove)?'});
    expect(data.account.map((r) => r.entry)).to.deep.equal(['10.0.0.0/8', '192.0.2.7']);
    expect(applySync(data, a, NOW)).to.equal(0);
    expect(data.account.map((r) => r.entry)).to.deep.equal(['10.0.0.0/8', '198.51.100.0/24']);
    expect(syncJson(a, true, false)).to.deep.include({scope: 'account', added: ['198.51.100.0/24'], removed: ['192.0.2.7'], applied: true, dryRun: false});
  });

  it('asks nothing when the list already equals the file', () => {
    const a = assessSync(store(['10.0.0.0/8']), desired('10.0.0.0/8'), options);
    expect(hasChanges(a.plan)).to.equal(false);
    expect(a.question).to.equal(null);
  });

  it('names the seen traffic a key list change cuts off, and takes what the additions authorize off the blocked list', () => {
    const data = store(['0.0.0.0/1']);
    const key = newKeyRecord('billing', 'api', 'e'.repeat(40), NOW);
    key.allow = [record('192.0.2.0/24')];
    data.keys.push(key);
    data.seen = [{ip: '192.0.2.7', channel: 'api', keys: ['billing'], firstSeen: EARLIER, lastSeen: NOW.toISOString(), count: 3}];
    data.blocked = [{ip: '10.9.9.9', key: 'billing', channel: 'api', firstSeen: EARLIER, lastSeen: EARLIER, count: 1}];
    const a = assessSync(data, desired('10.0.0.0/8'), {...options, key: 'billing'});
    expect(a.scope).to.equal('billing');
    expect(a.cutOff.map((c) => [c.ip, c.keys])).to.deep.equal([['192.0.2.7', ['billing']]]);
    expect(applySync(data, a, NOW)).to.equal(1);
    expect(data.blocked).to.deep.equal([]);
    expect(data.keys[0].allow.map((r) => r.entry)).to.deep.equal(['10.0.0.0/8']);
  });
});
