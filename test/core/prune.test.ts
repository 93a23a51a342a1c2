/**
 * pruneExpired (core/allowlist.ts): expired entries leave the store and no
 * decision changes, for any store of expiring entries in the account list
 * and in key lists, blocking on or off. A key list whose entries have all
 * expired is kept whole (emptied, it would open the key to every address).
 */
import {expect} from 'chai';
import fc from 'fast-check';

import {pruneExpired} from '../../src/core/allowlist.js';
import {decide, Policy} from '../../src/core/decision.js';
import {newKeyRecord} from '../../src/core/keys.js';
import {emptyStore, EntryRecord, StoreData} from '../../src/core/model.js';

const T0 = new Date('2026-01-01T00:00:00.000Z');
const NOW = new Date('2026-01-10T00:00:00.000Z');
const PROBES = ['10.0.0.1', '10.0.1.1', '10.1.0.1', '192.0.2.1', '203.0.113.9'];

const entry = fc.record({
  entry: fc.constantFrom('10.0.0.0/8', '10.0.0.0/24', '10.0.1.1', '10.1.0.0/16', '192.0.2.0/24', '203.0.113.9'),
  // Before NOW (expired), after it, or never.
  expires: fc.constantFrom(-2, -1, 1, 2, null),
});

const toRecord = (e: {entry: string; expires: number | null}): EntryRecord => ({
  entry: e.entry,
  source: 'manual',
  label: null,
  addedAt: T0.toISOString(),
  expiresAt: e.expires === null ? null : new Date(NOW.getTime() + e.expires * 86_400_000).toISOString(),
});

function storeOf(account: EntryRecord[], lists: EntryRecord[][], active: boolean): StoreData {
  const data = emptyStore(T0);
  if (active) data.blocking.api.state = 'active';
  data.account = account;
  lists.forEach((allow, i) => {
    const key = newKeyRecord(`k${i}`, 'api', `${i}`.repeat(40), T0);
    key.allow = allow;
    data.keys.push(key);
  });
  return data;
}

const decisions = (data: StoreData) => {
  const policy = new Policy(data, NOW);
  return data.keys.flatMap((k) => PROBES.map((ip) => decide(policy.forKey(k), ip)));
};

describe('core/allowlist: pruneExpired', () => {
  it('changes no decision, and leaves no expired entry but those of a key list that has only expired ones', () => {
    fc.assert(
      fc.property(fc.array(entry, {maxLength: 6}), fc.array(fc.array(entry, {maxLength: 3}), {minLength: 1, maxLength: 3}), fc.boolean(), (account, lists, active) => {
        const data = storeOf(
          account.map(toRecord),
          lists.map((l) => l.map(toRecord)),
          active,
        );
        const before = decisions(data);
        const {keptKeyLists} = pruneExpired(data, NOW);
        expect(decisions(data)).to.deep.equal(before);
        const expired = (r: EntryRecord) => r.expiresAt !== null && Date.parse(r.expiresAt) <= NOW.getTime();
        expect(data.account.some(expired)).to.equal(false);
        for (const key of data.keys) {
          if (keptKeyLists.includes(key.name)) expect(key.allow.length > 0 && key.allow.every(expired)).to.equal(true);
          else expect(key.allow.some(expired)).to.equal(false);
        }
      }),
      {numRuns: 300},
    );
  });
});
