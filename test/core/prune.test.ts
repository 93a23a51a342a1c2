/**
 * pruneExpired (core/allowlist.ts): expired entries leave the store and no
 * decision changes, for any store of expiring entries in the account list
 * and in key lists (allow and deny entries, some disabled), blocking on or
 * off. A key list whose allow entries have all expired is kept whole (left
 * with deny entries or none, it would open the key to every address).
 */
import {expect} from 'chai';
import fc from 'fast-check';

import {pruneExpired} from '../../src/core/allowlist.js';
import {decide, Policy} from '../../src/core/decision.js';
import {newKeyRecord} from '../../src/core/keys.js';
import {emptyStore, EntryRecord, isDeny, StoreData} from '../../src/core/model.js';

const T0 = new Date('2026-01-01T00:00:00.000Z');
const NOW = new Date('2026-01-10T00:00:00.000Z');
const PROBES = ['10.0.0.1', '10.0.1.1', '10.1.0.1', '192.0.2.1', '203.0.113.9'];

const entry = fc.record({
  entry: fc.constantFrom('10.0.0.0/8', '10.0.0.0/24', '10.0.1.1', '10.1.0.0/16', '192.0.2.0/24', '203.0.113.9'),
  // Before NOW (expired), after it, or never.
  expires: fc.constantFrom(-2, -1, 1, 2, null),
  deny: fc.boolean(),
  disabled: fc.constantFrom(false, false, false, true),
});

const toRecord = (e: {entry: string; expires: number | null; deny: boolean; disabled: boolean}): EntryRecord => ({
  entry: e.entry,
  source: 'manual',
  label: null,
  addedAt: T0.toISOString(),
  expiresAt: e.expires === null ? null : new Date(NOW.getTime() + e.expires * 86_400_000).toISOString(),
  ...(e.deny ? {effect: 'deny' as const} : {}),
  ...(e.disabled ? {enabled: false as const} : {}),
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
  it('changes no decision, and leaves no expired entry but those of a key list whose allow entries have all expired', () => {
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
          const allow = key.allow.filter((r) => !isDeny(r));
          if (keptKeyLists.includes(key.name)) expect(allow.length > 0 && allow.every(expired)).to.equal(true);
          else expect(key.allow.some(expired)).to.equal(false);
        }
      }),
      {numRuns: 300},
    );
  });

  it('keeps a key list whose allow entries have expired beside a live deny entry (found by an outside tester)', () => {
    const day = (n: number) => new Date(NOW.getTime() + n * 86_400_000).toISOString();
    const allow: EntryRecord = {entry: '192.0.2.0/24', source: 'manual', label: null, addedAt: T0.toISOString(), expiresAt: day(-1)};
    const deny: EntryRecord = {entry: '198.51.100.0/24', source: 'manual', label: null, addedAt: T0.toISOString(), expiresAt: null, effect: 'deny'};
    const data = storeOf([], [[allow, deny]], true);
    const before = decide(new Policy(data, NOW).forKey(data.keys[0]), '203.0.113.1');
    expect(before.decision).to.equal('deny');
    expect(pruneExpired(data, NOW)).to.deep.equal({removed: [], keptKeyLists: ['k0']});
    expect(decide(new Policy(data, NOW).forKey(data.keys[0]), '203.0.113.1')).to.deep.equal(before);
  });
});
