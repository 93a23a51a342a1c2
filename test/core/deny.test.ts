/**
 * Deny and disabled entries in the core: decision step 2a, the store's
 * optional members, adding, removing and switching entries, the set
 * difference of the formats without deny rules (against a BigInt oracle),
 * and sync's `!ENTRY` plans.
 */
import {expect} from 'chai';
import fc from 'fast-check';

import {addEntries, removeEntries, switchEntries} from '../../src/core/allowlist.js';
import {decide, Policy} from '../../src/core/decision.js';
import {allowedRows, effectiveList, ExportRow} from '../../src/core/effective-list.js';
import {EntryBatch} from '../../src/core/entry-parse.js';
import {InputError} from '../../src/core/errors.js';
import {EntryRecord} from '../../src/core/model.js';
import {Prefix} from '../../src/core/prefix.js';
import {subtract} from '../../src/core/set-ops.js';
import {planSync, splitDenyMarks} from '../../src/core/sync.js';
import {canonicalize, ShapeError, validate} from '../../src/store/schema.js';
import {NOW, record, store} from './workflow-fixtures.js';

const RUNS = Number(process.env.KEYWARD_PROPERTY_RUNS || 300);
const deny = (entry: string, fields: Partial<EntryRecord> = {}) => record(entry, {effect: 'deny', ...fields});
const off = (r: EntryRecord): EntryRecord => ({...r, enabled: false});

function check(data: ReturnType<typeof store>, key: string, address: string) {
  const policy = new Policy(data, NOW);
  const {decision, reason, matched} = decide(policy.forKey(policy.findKey(key)), address);
  return {decision, reason, matched};
}

const batch = (...texts: string[]) => EntryBatch.fromEntries(texts.map((t) => ({prefix: Prefix.parse(t), label: null, source: 'manual' as const, expiresAt: null})));

describe('core: decision step 2a (deny entries) and disabled entries', () => {
  for (const state of ['learning', 'active', 'inactive'] as const) {
    it(`denies an address in a deny entry over every allow while API blocking is ${state}`, () => {
      const data = store(['10.0.0.0/8'], {k: ['10.66.0.0/16']});
      data.blocking.api.state = state;
      data.account.push(deny('10.66.1.0/24'));
      expect(check(data, 'k', '10.66.1.9')).to.deep.equal({decision: 'deny', reason: 'denied', matched: ['10.66.1.0/24']});
      expect(check(data, 'k', '10.66.2.9')).to.include({decision: 'allow', reason: 'authorized'});
    });
  }

  it("names the key list's deny entries before the account's, outermost first, and a revoked key stays key-revoked", () => {
    const data = store([], {k: []});
    data.account.push(deny('10.0.0.0/8'), deny('10.1.0.0/16'));
    data.keys[0].allow.push(deny('10.1.2.0/24'));
    expect(check(data, 'k', '10.1.2.3').matched).to.deep.equal(['10.1.2.0/24', '10.0.0.0/8', '10.1.0.0/16']);
    data.keys[0].status = 'revoked';
    expect(check(data, 'k', '10.1.2.3').reason).to.equal('key-revoked');
  });

  it('a key list of deny entries only restricts nothing else; one with a disabled allow entry allows nothing', () => {
    const data = store([], {k: []});
    data.blocking.api.state = 'inactive';
    data.keys[0].allow.push(deny('192.0.2.1'));
    expect(check(data, 'k', '192.0.2.2')).to.include({decision: 'allow', reason: 'blocking-inactive'});
    data.keys[0].allow.push(off(record('198.51.100.0/24')));
    expect(check(data, 'k', '198.51.100.1')).to.include({decision: 'deny', reason: 'not-in-key-allowlist'});
  });

  it('never matches a disabled entry, allow or deny, nor an expired deny entry', () => {
    const data = store([], {k: []});
    data.blocking.api.state = 'active';
    data.account.push(record('10.0.0.0/8'), off(deny('10.1.0.0/16')), off(record('192.0.2.0/24')), deny('10.2.0.0/16', {expiresAt: NOW.toISOString()}));
    expect(check(data, 'k', '10.1.0.1')).to.deep.equal({decision: 'allow', reason: 'authorized', matched: ['10.0.0.0/8']});
    expect(check(data, 'k', '10.2.0.1')).to.deep.equal({decision: 'allow', reason: 'authorized', matched: ['10.0.0.0/8']});
    expect(check(data, 'k', '192.0.2.1')).to.include({decision: 'deny', reason: 'not-authorized'});
  });
});

describe('store: the optional effect and enabled members', () => {
  it('reads and writes them only when they say something, and keeps old records as they are', () => {
    const data = store(['10.0.0.0/8']);
    data.account.push(deny('10.66.0.0/16'), off(record('192.0.2.0/24')));
    const written = JSON.parse(JSON.stringify(canonicalize(data)));
    expect(written.account).to.deep.equal([
      {entry: '10.0.0.0/8', source: 'manual', label: null, addedAt: '2026-01-01T00:00:00.000Z', expiresAt: null},
      {entry: '10.66.0.0/16', source: 'manual', label: null, addedAt: '2026-01-01T00:00:00.000Z', expiresAt: null, effect: 'deny'},
      {entry: '192.0.2.0/24', source: 'manual', label: null, addedAt: '2026-01-01T00:00:00.000Z', expiresAt: null, enabled: false},
    ]);
    expect(validate(written).account[1].effect).to.equal('deny');
  });

  for (const [field, value, message] of [
    ['effect', 'allow', 'account[0].effect is not "deny"'],
    ['effect', 'DENY', 'account[0].effect is not "deny"'],
    ['effect', null, 'account[0].effect is not "deny"'],
    ['enabled', true, 'account[0].enabled is not false'],
    ['enabled', 'false', 'account[0].enabled is not false'],
    ['enabled', 0, 'account[0].enabled is not false'],
  ] as const) {
    it(`refuses ${field}: ${JSON.stringify(value)}, naming the field`, () => {
      const document = JSON.parse(JSON.stringify(store(['10.0.0.0/8'])));
      document.account[0][field] = value;
      expect(() => validate(document)).to.throw(ShapeError, message);
    });
  }

  it('refuses a bad member in a key list too', () => {
    const document = JSON.parse(JSON.stringify(store([], {k: ['10.0.0.0/8']})));
    document.keys[0].allow[0].effect = 'block';
    expect(() => validate(document)).to.throw(ShapeError, 'keys[0].allow[0].effect');
  });
});

describe('core: adding, removing and switching entries of either effect', () => {
  it('adds deny entries covered only by deny entries, and refuses a range the list holds with the other effect', () => {
    const list = [record('10.0.0.0/8'), deny('192.0.2.0/24')];
    const result = addEntries(list, batch('10.66.0.0/16', '192.0.2.7'), NOW, 'deny');
    expect(result.added).to.deep.equal(['10.66.0.0/16', '192.0.2.7']);
    expect(result.covered).to.deep.equal([{entry: '192.0.2.7', coveredBy: ['192.0.2.0/24']}]);
    expect(list.filter((r) => r.effect === 'deny').map((r) => r.entry)).to.deep.equal(['192.0.2.0/24', '10.66.0.0/16', '192.0.2.7']);
    expect(() => addEntries(list, batch('10.0.0.0/8'), NOW, 'deny')).to.throw(InputError, 'already an allow entry');
    expect(() => addEntries(list, batch('10.66.0.0/16'), NOW)).to.throw(InputError, 'already a deny entry');
    expect(list).to.have.length(4);
  });

  it('removes entries of one effect, naming the other effect when that is what the list holds', () => {
    const list = [record('10.0.0.0/8'), deny('10.66.0.0/16')];
    expect(() => removeEntries(list, [Prefix.parse('10.66.0.0/16')])).to.throw(InputError, 'is a deny entry');
    expect(() => removeEntries(list, [Prefix.parse('10.0.0.0/8')], 'deny')).to.throw(InputError, 'is an allow entry');
    expect(removeEntries(list, [Prefix.parse('10.66.0.0/16')], 'deny')).to.deep.equal(['10.66.0.0/16']);
    expect(list.map((r) => r.entry)).to.deep.equal(['10.0.0.0/8']);
  });

  it('switches exact entries off and on, as new records, refusing an entry not in the list', () => {
    const first = record('10.0.0.0/8', {label: 'corp'});
    const list = [first, deny('10.66.0.0/16')];
    expect(switchEntries(list, [Prefix.parse('10.0.0.0/8'), Prefix.parse('10.66.0.0/16')], false)).to.deep.equal({changed: ['10.0.0.0/8', '10.66.0.0/16'], unchanged: []});
    expect(list[0]).to.deep.equal({...first, enabled: false});
    expect(first).to.not.have.property('enabled');
    expect(switchEntries(list, [Prefix.parse('10.66.0.0/16')], true)).to.deep.equal({changed: ['10.66.0.0/16'], unchanged: []});
    expect(list[1]).to.deep.equal(deny('10.66.0.0/16'));
    expect(() => switchEntries(list, [Prefix.parse('10.1.0.0/16')], true)).to.throw(InputError, '10.1.0.0/16 is not in the list');
  });
});

describe('core: exports with deny entries', () => {
  /** A range as a pair of BigInts (IPv4 only here). */
  const span = (p: Prefix): [bigint, bigint] => [BigInt(p.first.words()[0]), BigInt(p.last.words()[0])];
  const prefix = fc
    .record({a: fc.integer({min: 0, max: 0xffff}), bits: fc.integer({min: 8, max: 32})})
    .map(({a, bits}) => Prefix.parse(`10.${a >> 8}.${a & 255}.${(a * 7) & 255}/${bits}`).masked());

  it('subtract leaves exactly the addresses of the range outside every hole, in disjoint CIDR ranges (BigInt oracle)', () => {
    fc.assert(
      fc.property(prefix, fc.array(prefix, {maxLength: 6}), fc.array(fc.integer({min: 0, max: 0xffffffff}), {minLength: 20, maxLength: 40}), (range, holes, samples) => {
        const pieces = subtract(range, holes);
        const [lo, hi] = span(range);
        const probes = [...samples.map((s) => lo + (BigInt(s) % (hi - lo + 1n))), ...holes.flatMap((h) => span(h)), lo, hi];
        for (const x of probes) {
          const inRange = x >= lo && x <= hi;
          const inHole = holes.some((h) => x >= span(h)[0] && x <= span(h)[1]);
          const inPieces = pieces.filter((p) => x >= span(p)[0] && x <= span(p)[1]).length;
          expect(inPieces, `${x} in ${range} less ${holes.join(' ')}`).to.equal(inRange && !inHole ? 1 : 0);
        }
      }),
      {numRuns: RUNS},
    );
  });

  it('leaves a row no deny entry touches as it is, keeps the label on the pieces, and drops a row a deny entry covers', () => {
    const row = (entry: string, effect: 'allow' | 'deny', label: string | null = null): ExportRow => ({
      prefix: Prefix.parse(entry),
      scope: 'account',
      source: 'manual',
      label,
      addedAt: null,
      expiresAt: null,
      effect,
    });
    const rows = allowedRows([
      row('10.0.0.0/30', 'allow', 'a'),
      row('10.0.0.1', 'deny'),
      row('192.0.2.0/24', 'allow', 'b'),
      row('198.51.100.0/24', 'allow'),
      row('198.51.0.0/16', 'deny'),
    ]);
    expect(rows.map((r) => [r.prefix.toString(), r.label])).to.deep.equal([
      ['10.0.0.0', 'a'],
      ['10.0.0.2/31', 'a'],
      ['192.0.2.0/24', 'b'],
    ]);
  });

  it("a key's effective list carries the deny entries of its list and the account's, and leaves disabled entries out", () => {
    const data = store(['10.0.0.0/8', '192.0.2.0/24'], {k: ['10.1.0.0/16']});
    data.blocking.api.state = 'active';
    data.account.push(deny('10.1.1.0/24'), off(deny('10.1.2.0/24')), off(record('198.51.100.0/24')));
    data.keys[0].allow.push(deny('10.1.3.0/24'));
    const rows = effectiveList(data, 'k', NOW).rows.map((r) => `${r.effect} ${r.prefix} ${r.scope}`);
    expect(rows).to.deep.equal(['allow 10.1.0.0/16 k', 'deny 10.1.1.0/24 account', 'deny 10.1.3.0/24 k']);
  });
});

describe('core: sync plans with !ENTRY lines', () => {
  const desired = (...lines: string[]) => {
    const {inputs, effects} = splitDenyMarks(lines.map((text, i) => ({text, label: null, where: `line ${i + 1}`, source: 'import' as const})));
    return inputs.map((input, i) => ({prefix: Prefix.parse(input.text), label: null, where: input.where, source: input.source, effect: effects[i]}));
  };

  it('names deny entries with their !, and an allow entry turned deny entry is one removal and one addition', () => {
    const current = [record('10.0.0.0/8'), deny('10.66.0.0/16'), record('192.0.2.0/24')];
    const plan = planSync(current, desired('10.0.0.0/8', '!10.66.0.0/16', '! 192.0.2.0/24'), {now: NOW, pruneLearned: false});
    expect(plan).to.deep.include({added: ['!192.0.2.0/24'], removed: ['192.0.2.0/24'], unchanged: ['10.0.0.0/8', '!10.66.0.0/16']});
  });

  it('removes a learned allow entry the file makes a deny entry, and refuses a range both allowed and denied', () => {
    const current = [record('203.0.113.0/24', {source: 'learned'})];
    expect(planSync(current, desired('!203.0.113.0/24'), {now: NOW, pruneLearned: false})).to.deep.include({added: ['!203.0.113.0/24'], removed: ['203.0.113.0/24']});
    expect(() => planSync([], desired('10.0.0.0/8', '!10.0.0.0/8'), {now: NOW, pruneLearned: false})).to.throw(InputError, 'both allowed');
  });
});
