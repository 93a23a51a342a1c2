/** What the reading commands report (core/reports.ts): list rows, one entry JSON shared with export, the status object. */
import {expect} from 'chai';

import {effectiveList, jsonRows} from '../../src/core/effective-list.js';
import {aggregatedListJson, listJson, listScopes, statusJson} from '../../src/core/reports.js';
import {blocked, NOW, record, store} from './workflow-fixtures.js';

describe('core/reports', () => {
  it('list: the account list then every key list with entries; --key alone; --account alone', () => {
    const data = store(['10.0.0.0/8'], {billing: ['192.0.2.0/24'], empty: []});
    expect(listScopes(data).map((s) => s.scope)).to.deep.equal(['account', 'billing']);
    expect(listScopes(data, {accountOnly: true}).map((s) => s.scope)).to.deep.equal(['account']);
    expect(listScopes(data, {key: '1'.repeat(40)}).map((s) => s.scope)).to.deep.equal(['billing']);
    expect(listJson(listScopes(data))).to.deep.equal([
      {
        entry: '10.0.0.0/8',
        scope: 'account',
        source: 'manual',
        label: null,
        addedAt: '2026-01-01T00:00:00.000Z',
        expiresAt: null,
        group: null,
        effect: 'allow',
        enabled: true,
      },
      {
        entry: '192.0.2.0/24',
        scope: 'billing',
        source: 'manual',
        label: null,
        addedAt: '2026-01-01T00:00:00.000Z',
        expiresAt: null,
        group: null,
        effect: 'allow',
        enabled: true,
      },
    ]);
  });

  it("list --aggregate: the fewest ranges covering each list's live entries", () => {
    const data = store(['192.0.2.0/25', '192.0.2.128/25']);
    data.account.push(record('198.51.100.0/24', {expiresAt: '2026-01-02T00:00:00.000Z'}));
    expect(aggregatedListJson(listScopes(data), NOW)).to.deep.equal([{entry: '192.0.2.0/24', scope: 'account'}]);
  });

  it('list --json and export --format json write an entry with the same fields, in the same order', () => {
    const data = store(['10.0.0.0/8']);
    data.account[0].label = 'office';
    const listed = listJson(listScopes(data, {accountOnly: true}));
    const exported = jsonRows(effectiveList(data, undefined, NOW).rows);
    expect(JSON.stringify(exported)).to.equal(JSON.stringify(listed));
  });

  it('status: the store read, learning progress, counts and the latest blocked', () => {
    const data = store(['10.0.0.0/8'], {billing: ['192.0.2.0/24'], smtp1: []});
    data.account.push(record('198.51.100.0/24', {source: 'learned', expiresAt: '2026-01-02T00:00:00.000Z'}));
    data.keys[1].status = 'revoked';
    data.blocked = Array.from({length: 7}, (_, i) => blocked(`203.0.113.${i}`, 'billing', 'api', new Date(Date.UTC(2026, 0, 1 + i)).toISOString()));
    const status = statusJson(data, '/tmp/store.json', NOW);
    expect(status.store).to.equal('/tmp/store.json');
    expect(status.api).to.deep.equal({
      state: 'learning',
      learningSince: '2026-01-01T00:00:00.000Z',
      lastNewAddressAt: null,
      activatesAt: '2026-01-31T00:00:00.000Z',
      quietDays: 0,
      lastEventAt: null,
    });
    expect(status.counts).to.deep.equal({accountEntries: 2, learnedEntries: 1, keyEntries: 1, expiredEntries: 1, keys: 2, activeKeys: 1, blocked: 7, seen: 0});
    expect(status.latestBlocked.map((b) => b.ip)).to.deep.equal(['203.0.113.6', '203.0.113.5', '203.0.113.4', '203.0.113.3', '203.0.113.2']);
    expect(Object.keys(status)).to.deep.equal(['store', 'api', 'smtp', 'counts', 'latestBlocked', 'settings']);
  });
});
