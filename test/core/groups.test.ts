/**
 * Groups in the core: sync --group against an independent model (set
 * arithmetic over plain records), the sync file reader's CSV fields against
 * the writer's, format detection, authorize's group rules, revoke from a
 * group, history's groups.
 */
import {expect} from 'chai';
import fc from 'fast-check';

import {authorize, authorizeJson} from '../../src/core/authorize.js';
import {EntryBatch, parseEntries} from '../../src/core/entry-parse.js';
import {diffStore, snapshot} from '../../src/core/history.js';
import {EntryRecord, groupOf} from '../../src/core/model.js';
import {Prefix} from '../../src/core/prefix.js';
import {csvField, flattenText} from '../../src/core/render/text.js';
import {removeFromGroup} from '../../src/core/revoke.js';
import {csvFields, detectSyncFormat, parseSyncLines} from '../../src/core/sync-input.js';
import {planSync, syncedList} from '../../src/core/sync.js';
import {NOW, record, store} from './workflow-fixtures.js';

const lines = (text: string) => text.split('\n').map((t, i) => ({text: t.trim(), line: i + 1}));
const batch = (...texts: string[]): EntryBatch =>
  parseEntries(
    texts.map((text, i) => ({text, label: null, where: `argument ${i + 1}`, source: 'manual' as const})),
    {},
  );

describe('core/sync: --group against a model', () => {
  const POOL = ['10.0.0.0/8', '10.1.0.0/16', '192.0.2.0/24', '192.0.2.1', '198.51.100.0/24', '203.0.113.0/25', '2001:db8::/32', '2001:db8:1::/48'];
  const GROUPS = [null, 'gh', 'office'];
  const current = fc.uniqueArray(fc.record({entry: fc.constantFrom(...POOL), group: fc.constantFrom(...GROUPS), expired: fc.boolean(), learned: fc.boolean()}), {
    selector: (r) => r.entry,
    maxLength: POOL.length,
  });

  it('touches no record outside the group; the group holds the file minus what is live elsewhere; elsewhere is exactly that', () => {
    fc.assert(
      fc.property(current, fc.uniqueArray(fc.constantFrom(...POOL)), fc.boolean(), (list, wanted, prune) => {
        const records: EntryRecord[] = list.map((r) => ({
          ...record(r.entry, {source: r.learned ? 'learned' : 'manual', expiresAt: r.expired ? '2026-01-02T00:00:00.000Z' : null}),
          ...(r.group === null ? {} : {group: r.group}),
        }));
        const desired = wanted.map((text) => ({prefix: Prefix.parse(text), label: null, where: text, source: 'import' as const}));
        const plan = planSync(records, desired, {now: NOW, pruneLearned: prune, group: 'gh'});
        const after = syncedList(records, plan, NOW, 'gh');
        // The model: plain set arithmetic over the records.
        const liveElsewhere = new Set(list.filter((r) => r.group !== 'gh' && !r.expired).map((r) => r.entry));
        const keptLearned = list.filter((r) => r.group === 'gh' && r.learned && !prune && !wanted.includes(r.entry)).map((r) => r.entry);
        const expectGroup = new Set([...wanted.filter((e) => !liveElsewhere.has(e)), ...keptLearned]);
        expect(after.filter((r) => groupOf(r) !== 'gh')).to.deep.equal(records.filter((r) => groupOf(r) !== 'gh'));
        expect(new Set(after.filter((r) => groupOf(r) === 'gh').map((r) => r.entry))).to.deep.equal(expectGroup);
        expect(plan.elsewhere.map((e) => e.entry).sort()).to.deep.equal(wanted.filter((e) => liveElsewhere.has(e)).sort());
        // A file entry the group holds only expired stays so (the file gives no expiry to come); every other file entry there is live.
        const keptExpired = wanted.filter((e) => list.some((r) => r.entry === e && r.group === 'gh' && r.expired) && !liveElsewhere.has(e));
        expect([...plan.keptExpired].sort()).to.deep.equal([...keptExpired].sort());
        const live = (r: EntryRecord) => r.expiresAt === null || Date.parse(r.expiresAt) > NOW.getTime();
        expect(after.filter((r) => groupOf(r) === 'gh' && wanted.includes(r.entry)).every((r) => live(r) !== keptExpired.includes(r.entry))).to.equal(true);
      }),
      {numRuns: 300},
    );
  });
});

describe('core/sync-input: the files sync reads', () => {
  it('reads back every CSV field the writer writes (quotes, commas, edge spaces, control characters flattened)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.constantFrom('a,b', '"q"', ' edge ', '', 'x""y', '\u2028,\n')), {minLength: 1, maxLength: 6}), (row) => {
        expect(csvFields(row.map(csvField).join(','), 'line 1')).to.deep.equal(row.map(flattenText));
      }),
      {numRuns: 500},
    );
  });

  it('tells the formats apart by content', () => {
    expect(detectSyncFormat(lines('[\n{"entry": "192.0.2.1"}\n]'))).to.equal('json');
    expect(detectSyncFormat(lines('\nentry,scope,source,label,addedAt,expiresAt,group\n192.0.2.1,account,,,,,\n'))).to.equal('csv');
    expect(detectSyncFormat(lines('entry,label\n'))).to.equal('csv');
    expect(detectSyncFormat(lines('# entry,label\n192.0.2.1 # x\n'))).to.equal('plain');
    expect(detectSyncFormat(lines('192.0.2.1,10.0.0.1\n'))).to.equal('plain');
    expect(detectSyncFormat(lines(''))).to.equal('plain');
  });

  it('carries label, group and expiry only where the file has them (plain: never group and expiry; a json object: the fields it names)', () => {
    const plain = parseSyncLines(lines('192.0.2.1 # office\n# comment\n\n10.0.0.0/8'), 'f').inputs;
    expect(plain.map((i) => ['group' in i, 'expiresAt' in i, i.label, i.where])).to.deep.equal([
      [false, false, 'office', 'line 1 of f'],
      [false, false, null, 'line 4 of f'],
    ]);
    const json = parseSyncLines(
      lines(
        JSON.stringify([
          {entry: '192.0.2.1', group: null, expiresAt: '2026-02-01T01:00:00+01:00'},
          {entry: '10.0.0.0/8', label: 'x'},
        ]),
      ),
      '',
    ).inputs;
    expect(json).to.deep.equal([
      // (No label member: the stored label stays.)
      {text: '192.0.2.1', label: null, where: 'item 1', source: 'import', group: null, expiresAt: '2026-02-01T00:00:00.000Z', keepLabel: true},
      {text: '10.0.0.0/8', label: 'x', where: 'item 2', source: 'import'},
    ]);
    const csv = parseSyncLines(lines('entry,label,group,expiresAt\n192.0.2.1,"a, b",gh,\n'), '').inputs;
    expect(csv).to.deep.equal([{text: '192.0.2.1', label: 'a, b', where: 'line 2', source: 'import', group: 'gh', expiresAt: null}]);
  });

  it('keeps a secret in a label by its hint only, in json and csv as in plain', () => {
    const secret = 'ab'.repeat(20);
    for (const text of [JSON.stringify([{entry: '192.0.2.1', label: `key ${secret}`}]), `entry,label\n192.0.2.1,key ${secret}\n`, `192.0.2.1 # key ${secret}`]) {
      const [input] = parseSyncLines(lines(text), '').inputs;
      expect(input.label).to.not.contain(secret);
      expect(input.label).to.match(/^key abab…abab$/);
    }
  });
});

describe('core/authorize: groups', () => {
  it('a batch with a group: added entries and ungrouped exact ones join it, one in another group stays there', () => {
    const data = store(['10.0.0.0/8', '192.0.2.0/24']);
    data.account[1] = {...data.account[1], group: 'ci'};
    const result = authorize(data, batch('10.0.0.0/8', '192.0.2.0/24', '198.51.100.7'), {label: null, expiresAt: null, group: 'vpn', now: NOW});
    expect(data.account.map((r) => [r.entry, groupOf(r)])).to.deep.equal([
      ['10.0.0.0/8', 'vpn'],
      ['192.0.2.0/24', 'ci'],
      ['198.51.100.7', 'vpn'],
    ]);
    expect(authorizeJson(result, false)).to.deep.equal({
      added: ['198.51.100.7'],
      covered: [],
      updated: [{entry: '10.0.0.0/8', label: null, group: 'vpn', expiresAt: null}],
      unchanged: ['192.0.2.0/24'],
      elsewhere: [{entry: '192.0.2.0/24', group: 'ci'}],
      dryRun: false,
    });
    // Again: nothing changes.
    const again = authorize(data, batch('10.0.0.0/8', '198.51.100.7'), {label: null, expiresAt: null, group: 'vpn', now: NOW});
    expect(again.updated).to.deep.equal([]);
    expect(again.unchanged).to.deep.equal(['10.0.0.0/8', '198.51.100.7']);
  });

  it('removeFromGroup: only the group, all of it without entries, an entry elsewhere refused', () => {
    const records = [record('10.0.0.0/8'), {...record('192.0.2.0/24'), group: 'gh'}, {...record('198.51.100.0/24'), group: 'gh'}];
    expect(removeFromGroup(records, [], 'gh')).to.deep.equal({list: [records[0]], removed: ['192.0.2.0/24', '198.51.100.0/24']});
    expect(() => removeFromGroup(records, [Prefix.parse('10.0.0.0/8')], 'gh')).to.throw('10.0.0.0/8 is in no group, not in group gh');
    expect(() => removeFromGroup(records, [Prefix.parse('10.1.0.0/16')], 'gh')).to.throw('10.1.0.0/16 is not in the list');
    expect(() => removeFromGroup(records, [], 'other')).to.throw('group other has no entries');
  });

  it('removeFromGroup: allow and deny entries apart, as revoke and revoke --deny without --group', () => {
    const allow = {...record('192.0.2.0/24'), group: 'gh'};
    const deny = {...record('192.0.2.66'), group: 'gh', effect: 'deny' as const};
    const records = [allow, deny];
    expect(removeFromGroup(records, [], 'gh')).to.deep.equal({list: [deny], removed: ['192.0.2.0/24']});
    expect(removeFromGroup(records, [], 'gh', 'deny')).to.deep.equal({list: [allow], removed: ['192.0.2.66']});
    expect(() => removeFromGroup(records, [Prefix.parse('192.0.2.66')], 'gh')).to.throw('192.0.2.66 is a deny entry, not an allow entry');
    expect(() => removeFromGroup([deny], [], 'gh')).to.throw('group gh has no entries');
  });

  it('history names the groups a change touched, the group an entry left included', () => {
    const data = store(['10.0.0.0/8']);
    data.account[0] = {...data.account[0], group: 'old'};
    const before = snapshot(data);
    data.account[0] = {...data.account[0], group: 'new'};
    const changes = diffStore(before, data)!;
    expect(changes.counts.updated).to.equal(1);
    expect(changes.entries[0].groups).to.deep.equal(['new', 'old']);
  });
});
