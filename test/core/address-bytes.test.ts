/**
 * Property tests for the byte-level grammar and writers (core/address-bytes.ts)
 * and the outcome table (core/decision-table.ts) against the string scanner,
 * the string writers and decideWords, which the core's own property tests
 * hold to their oracles. Runs per property: 1000, or KEYWARD_PROPERTY_RUNS.
 */
import {expect} from 'chai';
import fc from 'fast-check';

import {Family, formatIPv4, formatIPv6, scanAddress, scanDecisionAddress} from '../../src/core/address.js';
import {MAX_IPV6_TEXT, NOT_ACCEPTED, scanAddressBytes, scanIPv4Line, writeIPv4Bytes, writeIPv6Bytes} from '../../src/core/address-bytes.js';
import {decideWords, EntryIndex, KeyPolicy, Ruling} from '../../src/core/decision.js';
import {DecisionTable} from '../../src/core/decision-table.js';
import {AddressError} from '../../src/core/errors.js';
import {BlockingState, EntryRecord, KeyRecord} from '../../src/core/model.js';
import {parseEntry} from '../../src/core/entry-parse.js';

const RUNS = Number(process.env.KEYWARD_PROPERTY_RUNS || 1000);

function check<T extends [unknown, ...unknown[]]>(property: fc.IPropertyWithHooks<T>): void {
  fc.assert(property, {numRuns: RUNS});
}

/** What the string scanner says of `text`: the family and words, or null when it refuses. */
function byString(text: string): {family: Family; words: number[]} | null {
  const words = new Uint32Array(4);
  try {
    const family = scanAddress(text, words);
    return {family, words: family === 4 ? [words[0]] : [...words]};
  } catch (error) {
    expect(error).to.be.instanceOf(AddressError);
    return null;
  }
}

/** What the byte scanner says of `text` written as UTF-8 in the middle of other bytes. */
function byBytes(text: string, padding: number[]): {family: Family; words: number[]} | null {
  const inner = Buffer.from(text, 'utf8');
  const bytes = Buffer.concat([Buffer.from(padding), inner, Buffer.from(padding)]);
  const words = new Uint32Array(4);
  const family = scanAddressBytes(bytes, padding.length, padding.length + inner.length, words);
  if (family === NOT_ACCEPTED) return null;
  return {family, words: family === 4 ? [words[0]] : [...words]};
}

// Bytes around the scanned range must never be read: digits, colons and dots there would change the answer.
const padding = fc.array(fc.constantFrom(0x30, 0x31, 0x2e, 0x3a, 0x61, 0x0a, 0x20, 0xff), {maxLength: 3});

/** IPv6 texts in many RFC 4291 styles: compressed anywhere, upper case, padded, with a dotted tail. */
const ipv6Text = fc
  .record({
    groups: fc.array(fc.oneof(fc.constant(0), fc.integer({min: 0, max: 0xffff}), fc.constantFrom(1, 0xffff, 0x10)), {minLength: 8, maxLength: 8}),
    mapped: fc.boolean(),
    compress: fc.nat(),
    upper: fc.boolean(),
    pad: fc.array(fc.boolean(), {minLength: 8, maxLength: 8}),
    tail: fc.boolean(),
  })
  .map(({groups, mapped, compress, upper, pad, tail}) => {
    const g = mapped ? [0, 0, 0, 0, 0, 0xffff, groups[6], groups[7]] : groups;
    const hex = g.map((x, k) => {
      const digits = pad[k] ? x.toString(16).padStart(4, '0') : x.toString(16);
      return upper ? digits.toUpperCase() : digits;
    });
    const head = tail ? 6 : 8;
    const parts = tail ? [...hex.slice(0, 6), `${g[6] >> 8}.${g[6] & 255}.${g[7] >> 8}.${g[7] & 255}`] : hex;
    const runs: Array<[number, number]> = [];
    for (let i = 0; i < head; i++) for (let j = i + 1; j <= head && g[j - 1] === 0; j++) runs.push([i, j]);
    const choice = compress % (runs.length + 1);
    if (choice === runs.length) return parts.join(':');
    const [i, j] = runs[choice];
    return `${parts.slice(0, i).join(':')}::${parts.slice(j).join(':')}`;
  });

/** One edit of a text: where the grammar's edge cases live. */
const mutated = (base: fc.Arbitrary<string>) =>
  fc
    .record({
      text: base,
      at: fc.nat(),
      op: fc.constantFrom('insert', 'delete', 'replace', 'none'),
      char: fc.constantFrom('0', '1', '9', 'f', 'F', 'g', 'x', ':', '.', '/', '%', ' ', '\t', '\0', '+', '-', '٣', 'é', '\u00a0'),
    })
    .map(({text, at, op, char}) => {
      const i = at % (text.length + 1);
      if (op === 'insert') return text.slice(0, i) + char + text.slice(i);
      if (op === 'delete') return text.slice(0, i) + text.slice(i + 1);
      if (op === 'replace') return text.slice(0, i) + char + text.slice(i + 1);
      return text;
    });

const addressish = fc.oneof(
  fc.ipV4(),
  fc.ipV4Extended(),
  fc.ipV6(),
  ipv6Text,
  mutated(fc.oneof(fc.ipV4(), ipv6Text, fc.ipV6())),
  fc.string({unit: fc.constantFrom('0', '1', '2', '5', '9', '.', ':', 'a', 'F', 'x', ' '), maxLength: 45}),
  fc.string({maxLength: 12}),
);

describe('core/address-bytes', function () {
  this.timeout(0);

  it('takes a line in one pass exactly when it is a dotted quad and its line end (LF or CR LF), as splitting it and scanning it would', () => {
    const ending = fc.constantFrom('\n', '\r\n', '\r\r\n', '\r', '', ' \n', '.\n', '0\n', '\n\n');
    check(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV4Extended(), mutated(fc.ipV4()), addressish), ending, fc.string({maxLength: 4}), padding, (text, end, rest, pad) => {
        const before = Buffer.from(pad);
        const bytes = Buffer.concat([before, Buffer.from(`${text}${end}${rest}`)]);
        const start = before.length;
        const words = new Uint32Array(4);
        const found = scanIPv4Line(bytes, start, bytes.length, words);
        // The way it replaces: find the LF, drop one CR before it, scan exactly what is left.
        const newline = bytes.indexOf(0x0a, start);
        let stop = newline;
        if (newline > start && bytes[newline - 1] === 0x0d) stop--;
        const expected = new Uint32Array(4);
        const family = newline < 0 ? NOT_ACCEPTED : scanAddressBytes(bytes, start, stop, expected);
        if (family === 4) {
          expect(found, JSON.stringify(text + end)).to.equal(newline);
          expect(words[0]).to.equal(expected[0]);
        } else expect(found, JSON.stringify(text + end)).to.equal(-1);
      }),
    );
  });

  it('accepts exactly what scanAddress accepts, as the same family and words, reading only its range', () => {
    check(
      fc.property(addressish, padding, (text, pad) => {
        expect(byBytes(text, pad), JSON.stringify(text)).to.deep.equal(byString(text));
      }),
    );
  });

  it('accepts every IPv4 and IPv6 text style the string scanner reads', () => {
    let accepted = 0;
    check(
      fc.property(fc.oneof(fc.ipV4(), ipv6Text, fc.ipV6()), (text) => {
        const expected = byString(text);
        expect(expected, text).not.to.equal(null);
        expect(byBytes(text, []), text).to.deep.equal(expected);
        accepted++;
      }),
    );
    expect(accepted).to.equal(RUNS);
  });

  it('refuses the edges the grammar refuses', () => {
    for (const text of ['', '1.2.3', '1.2.3.4.', '01.2.3.4', '1.2.3.256', '1.2.3.1234', '0x7f.0.0.1', '1.2.3.4 ', ' 1.2.3.4', ':', ':::', '1::2::3', '::1%eth0', '1:2:3:4:5:6:7:8:9', '::ffff:1.2.3', '1:2:3:4:5:6:7:1.2.3.4', '12345::', '1.2.3.4/32', '::/0']) {
      expect(byBytes(text, []), JSON.stringify(text)).to.equal(null);
      expect(byString(text), JSON.stringify(text)).to.equal(null);
    }
    for (const text of ['0.0.0.0', '255.255.255.255', '::', '::1', '1::', '::ffff:1.2.3.4', '1:2:3:4:5:6:1.2.3.4', 'FFFF:0:0:0:0:0:0:1']) {
      expect(byBytes(text, []), text).to.deep.equal(byString(text));
      expect(byBytes(text, []), text).not.to.equal(null);
    }
  });

  it('writes every address as formatIPv6 and formatIPv4 do', () => {
    const word = fc.oneof(fc.constantFrom(0, 0xffff, 0xffff0000, 0xffffffff, 1), fc.integer({min: 0, max: 0xffffffff}));
    const words = fc.oneof(
      fc.array(word, {minLength: 4, maxLength: 4}),
      fc.integer({min: 0, max: 0xffffffff}).map((v) => [0, 0, 0xffff, v]),
      fc.array(fc.constantFrom(0, 0xffff, 1 << 16, 0x10001), {minLength: 4, maxLength: 4}),
    );
    check(
      fc.property(words, fc.nat(8), (w, at) => {
        const value = Uint32Array.from(w);
        const out = Buffer.alloc(at + MAX_IPV6_TEXT + 8, 0x23);
        const end = writeIPv6Bytes(value, out, at);
        expect(out.toString('latin1', at, end)).to.equal(formatIPv6(value));
        expect(out.subarray(0, at).every((b) => b === 0x23) && out.subarray(end).every((b) => b === 0x23), 'writes only its own bytes').to.equal(true);
        const v4 = Buffer.alloc(at + 15);
        expect(v4.toString('latin1', at, writeIPv4Bytes(value[3], v4, at))).to.equal(formatIPv4(value[3]));
      }),
    );
  });
});

// ---- the outcome table against decideWords ------------------------------------------------

function record(entry: string, expiresAt: number | null): EntryRecord {
  return {entry, source: 'manual', label: null, addedAt: '2025-01-01T00:00:00.000Z', expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString()};
}

const NOW = Date.parse('2025-06-01T00:00:00.000Z');

/** Entries clustered in a few regions (so that they nest and touch), some expired, some mapped. */
const entry = fc
  .record({
    region: fc.constantFrom('10.0.0.0', '10.0.255.0', '192.0.2.0', '2001:db8::', '2001:db8:0:1::', '::ffff:10.0.0.0', '0.0.0.0', '255.255.255.0'),
    offset: fc.nat(511),
    bits: fc.integer({min: 0, max: 128}),
    expires: fc.option(fc.constantFrom(NOW - 1, NOW, NOW + 1), {freq: 4}),
  })
  .map(({region, offset, bits, expires}) => {
    const base = parseEntry(region, {force: true});
    const words = base.address.words();
    words[words.length - 1] += offset;
    const family: Family = base.family;
    const width = family === 4 ? 32 : 128;
    const text = family === 4 ? formatIPv4(words[0]) : formatIPv6(words);
    const prefix = parseEntry(`${text}/${bits % (width + 1)}`, {normalize: true, force: true});
    return record(prefix.toString(), expires);
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
 * Looks every probe up in `table` and expects the ruling it was prepared with
 * (`rulings`, by prepared number) to be decideWords' decision; `also` checks more.
 */
function expectRuledAsDecideWords(
  policy: KeyPolicy,
  table: DecisionTable,
  rulings: Ruling<string>[],
  probes: string[],
  also?: (text: string, family: Family, words: Uint32Array, outcome: number) => void,
): void {
  const words = new Uint32Array(4);
  for (const text of probes) {
    const family = scanDecisionAddress(text, words);
    const outcome = table.lookup(family, words);
    const {decision, reason, matched} = decideWords(policy, text, family, words);
    expect(rulings[outcome], text).to.deep.equal({decision, reason, matched});
    also?.(text, family, words, outcome);
  }
}

const accountList = fc.array(entry, {maxLength: 25});
const keyList = fc.option(fc.array(entry, {maxLength: 6}), {nil: null});
const blockingState = fc.constantFrom<BlockingState>('active', 'learning', 'inactive');

/** A key's policy over an account list; `own` null or empty: no list of its own. */
function policyOf(account: EntryRecord[], own: EntryRecord[] | null, state: BlockingState, status: 'active' | 'revoked'): KeyPolicy {
  return {
    key: key(status, own ?? []),
    state,
    allow: own === null || own.length === 0 ? null : EntryIndex.fromRecords(own),
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
          const rulings: Ruling<string>[] = [];
          const table = new DecisionTable(policy, (ruling) => rulings.push(ruling) - 1);
          expectRuledAsDecideWords(policy, table, rulings, probes);
          expect(table.size).to.equal(rulings.length);
        },
      ),
    );
  });

  it('gives every address of a batch the outcome lookup() gives it one at a time, preparing outcomes in the same order', () => {
    check(
      fc.property(
        accountList,
        keyList,
        blockingState,
        fc.array(probe, {minLength: 1, maxLength: 60}),
        fc.integer({min: 1, max: 64}),
        (account, own, state, probes, size) => {
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
          const oneRulings: Ruling<string>[] = [];
          const one = new DecisionTable(policy, (ruling) => oneRulings.push(ruling) - 1);
          const manyRulings: Ruling<string>[] = [];
          const many = new DecisionTable(policy, (ruling) => manyRulings.push(ruling) - 1);
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
          expect(manyRulings).to.deep.equal(oneRulings);
        },
      ),
    );
  });

  it('rules every IPv4 entry at once as lookups would rule them one at a time (keys without a list of their own)', () => {
    check(
      fc.property(
        accountList,
        fc.boolean(),
        blockingState,
        fc.array(probe, {minLength: 1, maxLength: 40}),
        (account, withList, state, probes) => {
          const policy = policyOf(account, withList ? [record('10.0.0.0/8', null)] : null, state, 'active');
          const rulings: Ruling<string>[] = [];
          const table = new DecisionTable(policy, (ruling) => rulings.push(ruling) - 1);
          expect(table.ruleIPv4Entries()).to.equal(!withList);
          const ruled = rulings.length;
          if (!withList) expect(ruled, 'one outcome for each IPv4 entry').to.equal(policy.account.compiled.arrays.v4.parents.length);
          expectRuledAsDecideWords(policy, table, rulings, probes, (text, family, words, outcome) => {
            // Only addresses in no IPv4 entry (and IPv6 ones) are still ruled as they come.
            if (!withList && family === 4 && outcome >= ruled) expect(policy.account.has(4, words, -Infinity), `${text} is in no entry`).to.equal(false);
          });
        },
      ),
    );
  });
});
