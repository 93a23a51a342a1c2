/**
 * Property tests for the outcome table (core/decision-table.ts) against
 * decideWords, which the core's own property tests hold to their oracles.
 * Runs per property: 400 (a new seed each run), or KEYWARD_PROPERTY_RUNS.
 */
import {expect} from 'chai';
import fc from 'fast-check';

import {Family, formatIPv4, formatIPv6, scanAddress, scanDecisionAddress} from '../../src/core/address.js';
import {decideWords, EntryIndex, KeyPolicy, Outcome} from '../../src/core/decision.js';
import {DecisionTable} from '../../src/core/decision-table.js';
import {parseEntry} from '../../src/core/entry-parse.js';
import {BlockingState, EntryRecord, KeyRecord} from '../../src/core/model.js';

const RUNS = Number(process.env.KEYWARD_PROPERTY_RUNS || 400);

function check<T extends [unknown, ...unknown[]]>(property: fc.IPropertyWithHooks<T>): void {
  fc.assert(property, {numRuns: RUNS});
}

// ---- the outcome table against decideWords ------------------------------------------------

function record(entry: string, expiresAt: number | null, effect: 'allow' | 'deny' = 'allow', enabled = true): EntryRecord {
  const r: EntryRecord = {entry, source: 'manual', label: null, addedAt: '2025-01-01T00:00:00.000Z', expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString()};
  if (effect === 'deny') r.effect = 'deny';
  if (!enabled) r.enabled = false;
  return r;
}

const NOW = Date.parse('2025-06-01T00:00:00.000Z');

/** Entries clustered in a few regions (so that they nest and touch), some expired, some mapped, some deny entries, some disabled. */
const entry = fc
  .record({
    region: fc.constantFrom('10.0.0.0', '10.0.255.0', '192.0.2.0', '2001:db8::', '2001:db8:0:1::', '::ffff:10.0.0.0', '0.0.0.0', '255.255.255.0'),
    offset: fc.nat(511),
    bits: fc.integer({min: 0, max: 128}),
    expires: fc.option(fc.constantFrom(NOW - 1, NOW, NOW + 1), {freq: 4}),
    effect: fc.constantFrom<'allow' | 'deny'>('allow', 'allow', 'allow', 'deny'),
    enabled: fc.constantFrom(true, true, true, false),
  })
  .map(({region, offset, bits, expires, effect, enabled}) => {
    const base = parseEntry(region, {force: true});
    const words = base.address.words();
    words[words.length - 1] += offset;
    const family: Family = base.family;
    const width = family === 4 ? 32 : 128;
    const text = family === 4 ? formatIPv4(words[0]) : formatIPv6(words);
    const prefix = parseEntry(`${text}/${bits % (width + 1)}`, {normalize: true, force: true});
    return record(prefix.toString(), expires, effect, enabled);
  });

function key(status: 'active' | 'revoked', allow: EntryRecord[]): KeyRecord {
  return {name: 'k"ey', type: 'api', hash: '0'.repeat(64), hint: '0000…0000', status, createdAt: '2025-01-01T00:00:00.000Z', rotatedAt: null, revokedAt: null, allow};
}

const probe = fc
  .record({
    region: fc.constantFrom('10.0.0.0', '10.0.255.0', '192.0.2.0', '2001:db8::', '2001:db8:0:1::', '::ffff:10.0.0.0', '0.0.0.0', '255.255.255.0'),
    offset: fc.nat(1023),
  })
  .map(({region, offset}) => {
    const words = new Uint32Array(4);
    const family = scanAddress(region, words);
    if (family === 4) return formatIPv4((words[0] + offset) >>> 0);
    words[3] += offset;
    return formatIPv6(words);
  });

/**
 * Looks every probe up in `table` and expects the outcome it was prepared with
 * (`outcomes`, by prepared number) to be decideWords' decision; `also` checks more.
 */
function expectRuledAsDecideWords(
  policy: KeyPolicy,
  table: DecisionTable,
  outcomes: Outcome<string>[],
  probes: string[],
  also?: (text: string, family: Family, words: Uint32Array, outcome: number) => void,
): void {
  const words = new Uint32Array(4);
  for (const text of probes) {
    const family = scanDecisionAddress(text, words);
    const outcome = table.lookup(family, words);
    const {decision, reason, matched} = decideWords(policy, text, family, words);
    expect(outcomes[outcome], text).to.deep.equal({decision, reason, matched});
    also?.(text, family, words, outcome);
  }
}

const accountList = fc.array(entry, {maxLength: 25});
const keyList = fc.option(fc.array(entry, {maxLength: 6}), {nil: null});
const blockingState = fc.constantFrom<BlockingState>('active', 'learning', 'inactive');

/** A key's policy over an account list (as Policy.forKey makes it); `own` null or empty: no list of its own. */
function policyOf(account: EntryRecord[], own: EntryRecord[] | null, state: BlockingState, status: 'active' | 'revoked'): KeyPolicy {
  return {
    key: key(status, own ?? []),
    state,
    own: own === null || own.length === 0 ? null : EntryIndex.fromRecords(own),
    restricted: (own ?? []).some((r) => r.effect !== 'deny'),
    account: EntryIndex.fromRecords(account),
    nowMs: NOW,
  };
}

describe('core/decision-table', function () {
  this.timeout(0);

  it('gives addresses the same outcome only when decideWords gives them the same decision, and rules each outcome as decideWords does', () => {
    check(
      fc.property(
        accountList,
        keyList,
        blockingState,
        fc.constantFrom<'active' | 'revoked'>('active', 'active', 'active', 'revoked'),
        fc.array(probe, {minLength: 1, maxLength: 40}),
        (account, own, state, status, probes) => {
          const policy = policyOf(account, own, state, status);
          const outcomes: Outcome<string>[] = [];
          const table = new DecisionTable(policy, (outcome) => outcomes.push(outcome) - 1);
          expectRuledAsDecideWords(policy, table, outcomes, probes);
          expect(table.size).to.equal(outcomes.length);
        },
      ),
    );
  });

  it('gives every address of a batch the outcome lookup() gives it one at a time, preparing outcomes in the same order', () => {
    check(
      fc.property(accountList, keyList, blockingState, fc.array(probe, {minLength: 1, maxLength: 60}), fc.integer({min: 1, max: 64}), (account, own, state, probes, size) => {
        const policy = policyOf(account, own, state, 'active');
        // IPv4 addresses only (4-in-6 unmapped, as the stream does), repeated so that a batch meets an outcome twice before it is ruled.
        const words = new Uint32Array(4);
        const values: number[] = [];
        for (const text of probes) {
          const family = scanDecisionAddress(text, words);
          if (family === 4) values.push(words[0]);
          else if (words[0] === 0 && words[1] === 0 && words[2] === 0xffff) values.push(words[3]);
        }
        values.push(...values);
        const oneOutcomes: Outcome<string>[] = [];
        const one = new DecisionTable(policy, (outcome) => oneOutcomes.push(outcome) - 1);
        const manyOutcomes: Outcome<string>[] = [];
        const many = new DecisionTable(policy, (outcome) => manyOutcomes.push(outcome) - 1);
        const batch = new Uint32Array(size);
        const out = new Int32Array(size);
        for (let from = 0; from < values.length; from += size) {
          const count = Math.min(size, values.length - from);
          for (let i = 0; i < count; i++) batch[i] = values[from + i];
          many.lookupIPv4Many(batch, count, out);
          for (let i = 0; i < count; i++) {
            words[0] = values[from + i];
            expect(out[i], formatIPv4(values[from + i])).to.equal(one.lookup(4, words));
          }
        }
        expect(manyOutcomes).to.deep.equal(oneOutcomes);
      }),
    );
  });

  it('rules as decideWords does when it hands over decisions only (--print) or account positions (a key without a list)', () => {
    check(
      fc.property(accountList, keyList, blockingState, fc.array(probe, {minLength: 1, maxLength: 40}), (account, own, state, probes) => {
        const policy = policyOf(account, own, state, 'active');
        const only: Outcome<string>[] = [];
        const decisions = new DecisionTable(policy, (outcome) => only.push(outcome) - 1, {decisionsOnly: true});
        const byText: Outcome<string>[] = [];
        const positioned = new DecisionTable(policy, (outcome) => byText.push(outcome) - 1, {
          // Positions turned into texts here, as the check's records do.
          prepareAccount: (outcome) => byText.push({...outcome, matched: outcome.matched.map((p) => policy.account.textAt(p))}) - 1,
        });
        const words = new Uint32Array(4);
        for (const text of probes) {
          const family = scanDecisionAddress(text, words);
          const {decision, reason, matched} = decideWords(policy, text, family, words);
          expect(only[decisions.lookup(family, words)], `${text} (decisions only)`).to.deep.equal({decision, reason, matched: []});
          expect(byText[positioned.lookup(family, words)], `${text} (positions)`).to.deep.equal({decision, reason, matched});
        }
        expect(new Set(only.map((o) => o.reason)).size, 'one outcome for each reason').to.equal(only.length);
      }),
    );
  });

  it('rules from account positions in a reused buffer (the records written from the index cache bytes) as decideWords does, one at a time and every IPv4 entry at once', () => {
    check(
      fc.property(
        accountList,
        blockingState,
        fc.constantFrom<'active' | 'revoked'>('active', 'active', 'active', 'revoked'),
        fc.boolean(),
        fc.array(probe, {minLength: 1, maxLength: 40}),
        (account, state, status, atOnce, probes) => {
          const policy = policyOf(account, null, state, status);
          const outcomes: Outcome<string>[] = [];
          const table = new DecisionTable(policy, () => -1, {
            prepareAccount: () => -1,
            // The buffer is read at once, as the records are written.
            prepareAccountPositions: (outcome, positions, count) => {
              expect(outcome.matched).to.deep.equal([]);
              const matched = Array.from(positions.subarray(0, count), (p) => policy.account.textAt(p));
              return outcomes.push({decision: outcome.decision, reason: outcome.reason, matched}) - 1;
            },
          });
          if (atOnce) {
            expect(table.ruleIPv4Entries()).to.equal(true);
            expect(outcomes.length, 'one outcome for each IPv4 entry').to.equal(policy.account.compiled.arrays.v4.parents.length);
          }
          expectRuledAsDecideWords(policy, table, outcomes, probes);
        },
      ),
    );
  });

  it("finds IPv6 addresses one at a time and a batch at a time as decideWords does, wherever the entries' shared prefix ends", () => {
    // Entries and probes around one random address, differing from it in their last `spread` bits: the prefix all
    // entries share (which the IPv6 lookups bucket after) ends anywhere from bit 0 to bit 128.
    const word = fc.integer({min: 0, max: 0xffffffff});
    const near = fc.record({spread: fc.integer({min: 0, max: 128}), noise: fc.tuple(word, word, word, word)});
    const wordsNear = (base: number[], {spread, noise}: {spread: number; noise: number[]}) =>
      Uint32Array.from(base, (b, w) => {
        const bits = Math.max(0, Math.min(32, spread - 32 * (3 - w)));
        const mask = bits === 0 ? 0 : bits === 32 ? 0xffffffff : (1 << bits) - 1;
        return ((b & ~mask) | (noise[w] & mask)) >>> 0;
      });
    check(
      fc.property(
        fc.tuple(word, word, word, word),
        fc.array(fc.record({at: near, bits: fc.integer({min: 0, max: 128}), effect: fc.constantFrom<'allow' | 'deny'>('allow', 'allow', 'deny')}), {maxLength: 30}),
        fc.array(near, {minLength: 1, maxLength: 60}),
        blockingState,
        (base, entries, probes, state) => {
          const account = entries.map(({at, bits, effect}) =>
            record(parseEntry(`${formatIPv6(wordsNear(base, at))}/${bits}`, {normalize: true, force: true}).toString(), null, effect),
          );
          const policy = policyOf(account, null, state, 'active');
          const texts = probes.map((p) => formatIPv6(wordsNear(base, p))).filter((text) => !text.startsWith('::ffff:'));
          const outcomes: Outcome<string>[] = [];
          const table = new DecisionTable(policy, (outcome) => outcomes.push(outcome) - 1);
          const words = new Uint32Array(4 * texts.length);
          const batch = Int32Array.from(texts, (_, i) => i);
          texts.forEach((text, i) => expect(scanAddress(text, words.subarray(4 * i, 4 * i + 4))).to.equal(6));
          const out = new Int32Array(texts.length);
          table.lookupIPv6Many(words, batch, texts.length, out);
          texts.forEach((text, i) => {
            const one = words.slice(4 * i, 4 * i + 4);
            const {decision, reason, matched} = decideWords(policy, text, 6, one);
            expect(outcomes[out[i]], `${text} (a batch)`).to.deep.equal({decision, reason, matched});
            expect(table.lookup(6, one), `${text} (alone)`).to.equal(out[i]);
          });
        },
      ),
    );
  });

  it('rules every IPv4 entry at once as lookups would rule them one at a time (keys without a list of their own)', () => {
    check(
      fc.property(accountList, fc.boolean(), blockingState, fc.array(probe, {minLength: 1, maxLength: 40}), (account, withList, state, probes) => {
        const policy = policyOf(account, withList ? [record('10.0.0.0/8', null)] : null, state, 'active');
        const outcomes: Outcome<string>[] = [];
        const table = new DecisionTable(policy, (outcome) => outcomes.push(outcome) - 1);
        expect(table.ruleIPv4Entries()).to.equal(!withList);
        const ruled = outcomes.length;
        if (!withList) expect(ruled, 'one outcome for each IPv4 entry').to.equal(policy.account.compiled.arrays.v4.parents.length);
        expectRuledAsDecideWords(policy, table, outcomes, probes, (text, family, words, outcome) => {
          // Only addresses in no IPv4 entry (and IPv6 ones) are still ruled as they come.
          if (!withList && family === 4 && outcome >= ruled) expect(policy.account.compiled.has(4, words, -Infinity), `${text} is in no entry`).to.equal(false);
        });
      }),
    );
  });
  it('rules every IPv4 entry at once, decisions only (--print), as decideWords decides', () => {
    check(
      fc.property(accountList, blockingState, fc.array(probe, {minLength: 1, maxLength: 40}), (account, state, probes) => {
        const policy = policyOf(account, null, state, 'active');
        const only: Outcome<string>[] = [];
        const table = new DecisionTable(policy, (outcome) => only.push(outcome) - 1, {decisionsOnly: true});
        const words = new Uint32Array(4);
        // An outcome ruled before, as a stream's first batch does.
        if (probes.length > 1 && scanDecisionAddress(probes[0], words) === 4) table.lookup(4, words);
        expect(table.ruleIPv4Entries()).to.equal(true);
        expect(table.size, 'every IPv4 entry ruled').to.be.at.least(policy.account.compiled.arrays.v4.parents.length);
        for (const text of probes) {
          const family = scanDecisionAddress(text, words);
          const {decision, reason} = decideWords(policy, text, family, words);
          expect(only[table.lookup(family, words)], text).to.deep.equal({decision, reason, matched: []});
        }
        expect(new Set(only.map((o) => o.reason)).size, 'one outcome for each reason').to.equal(only.length);
      }),
    );
  });
});
