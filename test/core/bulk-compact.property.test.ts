/**
 * Property tests for the bulk import's compact forms (issue 15, round 2):
 * the covered entries a change keeps as numbers (made into `Covered` values
 * only where read) against an independent oracle over Prefix values, read
 * early, late, in slices and through `authorize` and `authorizeJson`; and
 * the parser that takes inputs one by one (EntryParser, what `authorize -`
 * reads its lines with) against parseEntries over the same inputs, bad and
 * broad ones included. Runs per property: 200, or KEYWARD_PROPERTY_RUNS.
 */
import {expect} from 'chai';
import fc from 'fast-check';

import {addEntries, AddResult, Covered, coveredCount, coveredSlice} from '../../src/core/allowlist.js';
import {authorize, authorizeJson} from '../../src/core/authorize.js';
import {EntryInput, EntryParser, parseEntries, parseEntry} from '../../src/core/entry-parse.js';
import {isLive} from '../../src/core/decision.js';
import {emptyStore, EntryRecord, StoreData} from '../../src/core/model.js';
import {Prefix} from '../../src/core/prefix.js';
import {BAD_INPUTS_SHOWN, BadInputs, InputError, SafetyError} from '../../src/core/errors.js';

const RUNS = Number(process.env.KEYWARD_PROPERTY_RUNS || 200);
const NOW = new Date('2026-03-02T00:00:00Z');

/** Entry texts from a small space (so that entries repeat and nest), IPv4, IPv6 and 4-in-6, some with host bits set. */
const entryText = fc.oneof(
  fc.tuple(fc.integer({min: 0, max: 3}), fc.integer({min: 0, max: 255}), fc.integer({min: 8, max: 32})).map(([b, c, bits]) => `10.${b}.${c}.0/${bits}`),
  fc.tuple(fc.integer({min: 0, max: 3}), fc.integer({min: 0, max: 0xffff}), fc.integer({min: 16, max: 128})).map(([a, b, bits]) => `2001:db8:${a}::${b.toString(16)}/${bits}`),
  fc.tuple(fc.integer({min: 0, max: 3}), fc.integer({min: 0, max: 255})).map(([b, d]) => `10.${b}.0.${d}`),
  fc.integer({min: 0, max: 255}).map((d) => `::ffff:10.0.0.${d}`),
);
const label = fc.option(fc.constantFrom('office', 'vpn', 'a "quoted" label'), {nil: null});
const batchLines = fc.array(fc.tuple(entryText, label), {minLength: 1, maxLength: 80});

function inputs(lines: readonly [string, string | null][]): EntryInput[] {
  return lines.map(([text, l], i) => ({text, label: l, where: `line ${i + 1}`, source: 'import'}));
}

/** A list of `texts` as records: some expired, so that the batch renews as well as covers. */
function listOf(texts: readonly string[], expiredEvery: number): EntryRecord[] {
  return texts.map((text, i) => ({
    entry: parseEntry(text, {normalize: true, force: true}).toString(),
    source: 'manual',
    label: null,
    addedAt: '2026-03-01T00:00:00.000Z',
    expiresAt: expiredEvery > 0 && i % expiredEvery === 0 ? '2026-03-01T12:00:00.000Z' : null,
  }));
}

/**
 * The covered entries of adding `batch` to `list`, as SPEC version 2 says,
 * over Prefix values: each added entry (list order, first copy only) with
 * every live entry of the list and every other entry the batch stores that
 * contains it, outermost first.
 */
function oracleCovered(list: readonly EntryRecord[], batch: readonly EntryInput[], added: readonly string[]): Covered[] {
  const live = list.filter((r) => isLive(r, NOW)).map((r) => Prefix.parse(r.entry));
  // (A disabled entry covers nothing: it lets nothing in.)
  const covering = list.filter((r) => isLive(r, NOW) && r.enabled !== false).map((r) => Prefix.parse(r.entry));
  const liveTexts = new Set(live.map(String));
  const stored = [...new Set(batch.map((e) => parseEntry(e.text, {normalize: true}).toString()))].filter((t) => !liveTexts.has(t)).map((t) => Prefix.parse(t));
  const out: Covered[] = [];
  for (const text of added) {
    const p = Prefix.parse(text);
    const covers = [...covering, ...stored.filter((q) => !q.equals(p))].filter((q) => q.covers(p));
    if (covers.length > 0) out.push({entry: text, coveredBy: covers.sort((a, b) => a.bits - b.bits).map(String)});
  }
  return out;
}

/** What the result reports as covered, read without making them all: count, then slices. */
function readCompactly(result: AddResult, cut: number): Covered[] {
  const n = coveredCount(result);
  return [...coveredSlice(result, 0, cut), ...coveredSlice(result, cut, n + 3)];
}

describe('core: the bulk import keeps its covered entries as numbers', () => {
  it('the same covered entries as the oracle, however and whenever they are read', () => {
    fc.assert(
      fc.property(fc.array(entryText, {maxLength: 40}), fc.integer({min: 0, max: 4}), batchLines, fc.integer({min: 0, max: 30}), (before, expiredEvery, lines, cut) => {
        const batch = inputs(lines);
        const list = listOf(before, expiredEvery);
        // Read compactly first (count and slices), then whole.
        const a = list.slice();
        const ra = addEntries(a, parseEntries(batch, {normalize: true}), NOW);
        const expected = oracleCovered(list, batch, ra.added);
        // The list made room for the whole batch at once and was cut back: the added records after the old ones, no hole, nothing past them.
        // (A renewed entry's other expired copies are dropped: the renewed record stands for them all.)
        const liveBefore = new Set(list.filter((r) => isLive(r, NOW)).map((r) => r.entry));
        let dropped = 0;
        for (const text of new Set(parseEntries(batch, {normalize: true}).texts)) {
          const expiredCopies = list.filter((r) => r.entry === text && !isLive(r, NOW)).length;
          if (!liveBefore.has(text) && expiredCopies > 1) dropped += expiredCopies - 1;
        }
        expect(a.length).to.equal(list.length + ra.added.length - dropped);
        for (let p = 0; p < a.length; p++) expect(p in a && a[p] !== undefined, `record ${p}`).to.equal(true);
        expect(a.slice(a.length - ra.added.length).map((r) => r.entry)).to.deep.equal(ra.added);
        expect(ra.added.length).to.equal(new Set(ra.added).size);
        expect(coveredCount(ra)).to.equal(expected.length);
        expect(readCompactly(ra, cut)).to.deep.equal(expected);
        expect(ra.covered).to.deep.equal(expected);
        // Once read whole, the compact readers answer from the array.
        expect(readCompactly(ra, cut)).to.deep.equal(expected);
        // Through authorize and its --json: the same text whether `covered` was read before or not at all.
        const lazy: StoreData = {...emptyStore(NOW), account: list.slice()};
        const eager: StoreData = {...emptyStore(NOW), account: list.slice()};
        const lazyResult = authorize(lazy, parseEntries(batch, {normalize: true}), {label: null, expiresAt: null, now: NOW});
        const eagerResult = authorize(eager, parseEntries(batch, {normalize: true}), {label: null, expiresAt: null, now: NOW});
        expect(eagerResult.covered).to.deep.equal(expected);
        expect(coveredCount(lazyResult)).to.equal(expected.length);
        expect(JSON.stringify(authorizeJson(lazyResult, false))).to.equal(JSON.stringify(authorizeJson(eagerResult, false)));
        expect(JSON.parse(JSON.stringify(authorizeJson(lazyResult, false))).covered).to.deep.equal(expected);
        expect(Object.keys(authorizeJson(lazyResult, false))).to.deep.equal(['added', 'covered', 'updated', 'unchanged', 'elsewhere', 'dryRun']);
        expect(lazy.account).to.deep.equal(eager.account);
      }),
      {numRuns: RUNS},
    );
  });

  it('a covered list replaced by assignment is the one read', () => {
    const result = addEntries(
      [],
      parseEntries(
        inputs([
          ['10.0.0.0/8', null],
          ['10.1.0.0/16', null],
        ]),
        {},
      ),
      NOW,
    );
    expect(coveredCount(result)).to.equal(1);
    result.covered = [];
    expect(coveredCount(result)).to.equal(0);
    expect(result.covered).to.deep.equal([]);
  });
});

/** Inputs as an import file gives them, bad and broad ones among them. */
const anyInput = fc.oneof(
  {weight: 8, arbitrary: fc.tuple(entryText, label)},
  {weight: 1, arbitrary: fc.tuple(fc.constantFrom('10.0.0.300', 'nonsense', '2001:db8::/129', '10.0.0.1/33', '1.2.3'), label)},
  {weight: 1, arbitrary: fc.tuple(fc.constantFrom('0.0.0.0/0', '10.0.0.0/4', '::/8', '2001::/12'), label)},
);

/**
 * What parsing `given` must give, from parseEntry one input at a time: the
 * canonical texts and labels; else the bad inputs (one error naming where it
 * was, or BadInputs counting them all, the first BAD_INPUTS_SHOWN shown);
 * else the first broad one, saying how many more there were.
 */
function oracleParse(given: readonly EntryInput[], options: {normalize: boolean; force: boolean}): unknown {
  const texts: string[] = [];
  const bad: string[] = [];
  const broad: string[] = [];
  for (const input of given) {
    try {
      texts.push(parseEntry(input.text, options).toString());
    } catch (error) {
      if (error instanceof SafetyError) broad.push(`${input.where}: ${error.message}`);
      else if (error instanceof InputError) bad.push(`${input.where}: ${error.message}`);
      else throw error;
    }
  }
  if (bad.length === 1) return {kind: 'InputError', message: bad[0]};
  if (bad.length > 1) return {kind: 'BadInputs', total: bad.length, shown: bad.slice(0, BAD_INPUTS_SHOWN)};
  if (broad.length > 0) return {kind: 'SafetyError', first: broad[0], more: broad.length - 1};
  return {texts, labels: given.map((g) => g.label)};
}

/** What the parser gave, in the oracle's terms. */
function parsed(parse: () => ReturnType<typeof parseEntries>): unknown {
  try {
    const b = parse();
    return {texts: b.texts, labels: b.labels};
  } catch (error) {
    if (error instanceof BadInputs) return {kind: 'BadInputs', total: error.total, shown: error.errors.map((e) => e.message)};
    if (error instanceof SafetyError) {
      const more = /; (\d+) more entr(?:y is|ies are) broad too/.exec(error.message);
      return {kind: 'SafetyError', first: error.message.replace(/(; \d+ more entr(?:y is|ies are) broad too)?; nothing was written$/, ''), more: more ? Number(more[1]) : 0};
    }
    if (error instanceof InputError) return {kind: 'InputError', message: error.message};
    throw error;
  }
}

describe('core: entries parsed as they are read (EntryParser)', () => {
  it('gives what parsing each input alone says: the batch, or the bad inputs, else the broad ones', () => {
    fc.assert(
      fc.property(fc.array(anyInput, {minLength: 1, maxLength: 60}), fc.boolean(), fc.boolean(), (lines, normalize, force) => {
        const given = inputs(lines);
        const parser = new EntryParser({normalize, force});
        const expected = oracleParse(given, {normalize, force});
        expect(
          parsed(() => {
            for (const input of given) parser.add(input);
            return parser.finish();
          }),
        ).to.deep.equal(expected);
        expect(parser.inputs).to.equal(given.length);
        expect(parsed(() => parseEntries(given, {normalize, force}))).to.deep.equal(expected);
      }),
      {numRuns: RUNS},
    );
  });
});
