/**
 * Property tests for the word-based import path (issue 5) against the
 * BigInt-based implementation it replaced, kept here as the oracle: scanning
 * entries (scanEntry vs parseEntry), the canonical-form check, list order,
 * adding entries, the store's canonical form and its text. Runs per
 * property: 300, or KEYWARD_PROPERTY_RUNS.
 */
import {expect} from 'chai';
import fc from 'fast-check';

import {formatIPv4, formatIPv6, isMappedWords} from '../../src/core/address.js';
import {AddResult, addEntries} from '../../src/core/allowlist.js';
import {EntryBatch, EntryInput, NewEntry, parseEntries} from '../../src/core/entry-parse.js';
import {isLive} from '../../src/core/decision.js';
import {listOrder, EntryWordsBuilder} from '../../src/core/entry-order.js';
import {EntryRecord, emptyStore, StoreData} from '../../src/core/model.js';
import {isCanonicalEntry, Prefix, scanPrefix} from '../../src/core/prefix.js';
import {EntryOptions, parseEntry} from '../../src/core/entry-parse.js';
import {InputError, SafetyError} from '../../src/core/errors.js';
import {slowParseEntry} from '../oracle/slow-parse.js';
import {canonicalize, documentText, validate} from '../../src/store/schema.js';

const RUNS = Number(process.env.KEYWARD_PROPERTY_RUNS || 300);

function check<T extends [unknown, ...unknown[]]>(property: fc.IPropertyWithHooks<T>, runs = RUNS): void {
  fc.assert(property, {numRuns: runs});
}

// ---- The oracles: the BigInt implementations as they were before the word-based path ----

/** isCanonicalEntry as it was: format the scanned words and compare the text. */
function referenceIsCanonical(text: string): boolean {
  const p = scanPrefix(text, {family: 4, bits: 0, words: new Uint32Array(4)});
  const width = p.family === 4 ? 1 : 4;
  for (let w = 0; w < width; w++) {
    const keep = Math.max(0, Math.min(32, p.bits - w * 32));
    const mask = keep === 0 ? 0 : keep === 32 ? 0xffffffff : (0xffffffff << (32 - keep)) >>> 0;
    if ((p.words[w] & ~mask) >>> 0 !== 0) return false;
  }
  if (p.family === 6 && p.bits >= 96 && isMappedWords(p.words)) return false;
  const address = p.family === 4 ? formatIPv4(p.words[0]) : formatIPv6(p.words);
  return text === (p.bits === (p.family === 4 ? 32 : 128) ? address : `${address}/${p.bits}`);
}

/**
 * addEntries by the rules of SPEC version 2, over Prefix values (BigInt),
 * a comparator sort and linear scans: every entry stored, covered ones
 * reported with their covers; an exact live entry updated where the batch
 * gives a new label or expiry, else unchanged; an expired exact copy renewed.
 */
function referenceAddEntries(list: EntryRecord[], entries: readonly NewEntry[], now: Date): AddResult {
  const before = list.slice();
  const unique = new Map<string, NewEntry>();
  for (const e of entries) {
    const text = e.prefix.toString();
    const first = unique.get(text);
    if (first === undefined) unique.set(text, e);
    else if (first.label === null && e.label !== null) unique.set(text, {...first, label: e.label});
  }
  const sorted = [...unique].sort((a, b) => Prefix.compare(a[1].prefix, b[1].prefix));
  const live = before.map((r, position) => ({r, position, prefix: Prefix.parse(r.entry)})).filter((x) => isLive(x.r, now));
  const stored: Prefix[] = [];
  const result: AddResult = {added: [], covered: [], updated: [], unchanged: []};
  const renewed = new Set<string>();
  const at = now.toISOString();
  for (const [text, e] of sorted) {
    const exact = live.find((x) => x.r.entry === text);
    if (exact !== undefined) {
      const next = {label: e.label ?? exact.r.label, expiresAt: e.expiresAt ?? exact.r.expiresAt};
      if (next.label === exact.r.label && next.expiresAt === exact.r.expiresAt) {
        result.unchanged.push(text);
      } else {
        list[exact.position] = {...exact.r, ...next};
        result.updated.push({entry: text, ...next});
      }
      continue;
    }
    stored.push(e.prefix);
    const stale = before.findIndex((r) => r.entry === text && !isLive(r, now));
    if (stale >= 0) {
      const next = {label: e.label ?? before[stale].label, expiresAt: e.expiresAt};
      list[stale] = {...before[stale], ...next};
      renewed.add(text);
      result.updated.push({entry: text, ...next});
      continue;
    }
    list.push({entry: text, source: e.source, label: e.label, addedAt: at, expiresAt: e.expiresAt});
    result.added.push(text);
    // (A disabled entry covers nothing: it lets nothing in.)
    const covers = [...live.filter((x) => x.r.enabled !== false).map((x) => x.prefix), ...stored.filter((p) => !p.equals(e.prefix))].filter((p) => p.covers(e.prefix));
    if (covers.length > 0) result.covered.push({entry: text, coveredBy: covers.sort((a, b) => a.bits - b.bits).map(String)});
  }
  const firstExpired = (text: string) => before.findIndex((r) => r.entry === text && !isLive(r, now));
  const kept = list.filter((r, position) => !(renewed.has(r.entry) && !isLive(r, now) && position !== firstExpired(r.entry)));
  list.length = 0;
  list.push(...kept);
  return result;
}

/** canonicalize as it was: a JSON round trip through validate, and sorts over Prefix values. */
function referenceCanonicalize(data: StoreData): StoreData {
  const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const byEntry = (records: EntryRecord[]) =>
    records
      .map((r) => ({r, p: Prefix.parse(r.entry)}))
      .sort((a, b) => Prefix.compare(a.p, b.p))
      .map((k) => k.r);
  const byAddressThen = <T extends {ip: string}>(records: T[], tie: (a: T, b: T) => number) =>
    records
      .map((r) => ({r, p: Prefix.parse(r.ip)}))
      .sort((a, b) => Prefix.compare(a.p, b.p) || tie(a.r, b.r))
      .map((k) => k.r);
  const fresh = validate(JSON.parse(JSON.stringify(data)));
  fresh.account = byEntry(fresh.account);
  fresh.keys.sort((a, b) => compareText(a.name, b.name));
  for (const key of fresh.keys) key.allow = byEntry(key.allow);
  fresh.blocked = byAddressThen(fresh.blocked, (a, b) => compareText(a.key, b.key) || compareText(a.channel, b.channel));
  fresh.seen = byAddressThen(fresh.seen, (a, b) => compareText(a.channel, b.channel));
  for (const s of fresh.seen) s.keys.sort(compareText);
  return fresh;
}

// ---- Texts: entries that nest, touch and repeat, in many spellings, and broken ones ----

const MASK32 = 0xffffffffn;

function groupsOf(value: bigint): number[] {
  return Array.from({length: 8}, (_, k) => Number((value >> BigInt(112 - 16 * k)) & 0xffffn));
}

function dotted(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 255n)).join('.');
}

/** Bases close together, so that entries nest and touch; one is the IPv4-mapped block. */
const BASES: ReadonlyArray<{family: 4 | 6; base: bigint}> = [
  {family: 4, base: 0x0a000000n},
  {family: 4, base: 0xc0a80000n},
  {family: 4, base: 0xfffff000n},
  {family: 6, base: 0x20010db8n << 96n},
  {family: 6, base: 0n},
  {family: 6, base: (0xffffn << 32n) | 0x0a000000n},
  {family: 6, base: ((1n << 128n) - 1n) ^ 0xfffn},
];

const entryText: fc.Arbitrary<string> = fc
  .record({
    base: fc.nat(BASES.length - 1),
    offset: fc.oneof(fc.bigInt(0n, 0xfffn), fc.constantFrom(0n, 0x100n, 0x7ffn, 0x800n, 0xfffn)),
    narrow: fc.integer({min: 0, max: 14}),
    wide: fc.integer({min: 0, max: 128}),
    useWide: fc.integer({min: 0, max: 6}),
    spelling: fc.integer({min: 0, max: 5}),
    slash: fc.boolean(),
  })
  .map(({base, offset, narrow, wide, useWide, spelling, slash}) => {
    const {family, base: start} = BASES[base];
    const value = start + offset;
    const width = family === 4 ? 32 : 128;
    const bits = useWide === 0 ? wide % (width + 1) : width - narrow;
    let address: string;
    if (family === 4) address = dotted(value);
    else {
      const groups = groupsOf(value);
      address = [
        () => formatIPv6(Uint32Array.of(...[0, 1, 2, 3].map((w) => Number((value >> BigInt(96 - 32 * w)) & MASK32)))),
        () => groups.map((g) => g.toString(16)).join(':'),
        () => groups.map((g) => g.toString(16).toUpperCase().padStart(4, '0')).join(':'),
        () =>
          `${groups
            .slice(0, 6)
            .map((g) => g.toString(16))
            .join(':')}:${dotted(value & MASK32)}`,
        () =>
          groups
            .map((g) => g.toString(16))
            .join(':')
            .replace(/^0:0:/, '::'),
        () => groups.map((g) => g.toString(16)).join(':'),
      ][spelling]();
    }
    return bits === width && !slash ? address : `${address}/${bits}`;
  });

/** Broken texts: a good entry with a character changed, dropped or added, or any string. */
const brokenText: fc.Arbitrary<string> = fc.oneof(
  fc.record({text: entryText, at: fc.nat(), c: fc.constantFrom('0', '9', '.', ':', '/', 'a', 'G', ' ', '%', '00', '')}).map(({text, at, c}) => {
    const i = at % (text.length + 1);
    return text.slice(0, i) + c + text.slice(i + 1);
  }),
  fc.string({maxLength: 12}),
);

const anyText = fc.oneof({arbitrary: entryText, weight: 3}, {arbitrary: brokenText, weight: 1});

const entryOptions: fc.Arbitrary<EntryOptions> = fc.record({normalize: fc.boolean(), force: fc.boolean()});

type Said = {error: string; hint?: string; kind: string; errors?: {error: string; hint?: string}[]};

function outcome<T>(run: () => T): {ok: T} | Said {
  try {
    return {ok: run()};
  } catch (error) {
    const e = error as Error & {hint?: string; errors?: (Error & {hint?: string})[]};
    const said: Said = {error: e.message, hint: e.hint, kind: e.constructor.name};
    if (e.errors) said.errors = e.errors.map((one) => ({error: one.message, hint: one.hint}));
    return said;
  }
}

/** Several bad inputs, as parseEntries must say them: each one (up to 20), and how many in all. */
class ReferenceBadInputs extends Error {
  constructor(
    readonly errors: InputError[],
    total: number,
  ) {
    super(`${total} bad entries; nothing was written`);
  }
}
Object.defineProperty(ReferenceBadInputs, 'name', {value: 'BadInputs'});

/** parseEntries by hand over the slow parser: all or nothing, every bad input (up to 20) before a broad one. */
function referenceParseEntries(inputs: readonly EntryInput[], options: EntryOptions): string[] {
  const texts: string[] = [];
  const broad: {where: string; error: SafetyError}[] = [];
  const bad: InputError[] = [];
  for (const input of inputs) {
    try {
      texts.push(slowParseEntry(input.text, options).text);
    } catch (error) {
      if (error instanceof SafetyError) broad.push({where: input.where, error});
      else bad.push(new InputError(`${input.where}: ${(error as InputError).message}`, (error as InputError).hint));
    }
  }
  if (bad.length === 1) throw bad[0];
  if (bad.length > 1) throw new ReferenceBadInputs(bad.slice(0, 20), bad.length);
  if (broad.length > 0) {
    const others = broad.length - 1;
    const more = others > 0 ? `; ${others} more ${others === 1 ? 'entry is' : 'entries are'} broad too` : '';
    throw new SafetyError(`${broad[0].where}: ${broad[0].error.message}${more}; nothing was written`, broad[0].error.hint);
  }
  return texts;
}

function wordsOf(p: Prefix): number[] {
  const words = Array.from(p.address.words());
  while (words.length < 4) words.push(0);
  return words;
}

describe('core: the word-based entry path against the BigInt one', function () {
  this.timeout(120_000);

  it('parseEntry accepts, refuses and writes exactly as the BigInt parser over the slow grammar', () => {
    check(
      fc.property(anyText, entryOptions, (text, options) => {
        const ours = outcome(() => parseEntry(text, options));
        const theirs = outcome(() => slowParseEntry(text, options));
        if ('error' in theirs) {
          expect(ours, text).to.deep.equal(theirs);
          return;
        }
        if (!('ok' in ours)) expect.fail(`${text}: ${ours.error}`);
        const network = wordsOf(ours.ok).reduce((v, w) => (v << 32n) | BigInt(w), 0n) >> (ours.ok.family === 4 ? 96n : 0n);
        expect({text: ours.ok.toString(), family: ours.ok.family, bits: ours.ok.bits, network}, text).to.deep.equal(theirs.ok);
      }),
      RUNS * 10,
    );
  });

  it('isCanonicalEntry answers (and refuses) as the formatting check did', () => {
    check(
      fc.property(anyText, (text) => {
        expect(
          outcome(() => isCanonicalEntry(text)),
          text,
        ).to.deep.equal(outcome(() => referenceIsCanonical(text)));
      }),
      RUNS * 10,
    );
  });

  it('listOrder is a stable sort by Prefix.compare', () => {
    check(
      fc.property(fc.array(entryText, {maxLength: 60}), (texts) => {
        const prefixes = texts.map((t) => parseEntry(t, {normalize: true, force: true}));
        const words = new EntryWordsBuilder(2);
        for (const p of prefixes) words.push(p.family, p.bits, p.address.words());
        const expected = prefixes
          .map((p, i) => ({p, i}))
          .sort((a, b) => Prefix.compare(a.p, b.p))
          .map(({i}) => i);
        expect(Array.from(listOrder(words))).to.deep.equal(expected);
      }),
    );
  });

  it('parseEntries refuses every bad input (up to 20, then a count), else the first broad one with how many more, naming where each was', () => {
    check(
      fc.property(fc.array(anyText, {maxLength: 30}), entryOptions, (texts, options) => {
        const inputs: EntryInput[] = texts.map((text, i) => ({text, label: null, where: `line ${i + 1}`, source: 'import'}));
        const batch = outcome(() => parseEntries(inputs, options));
        const ours = 'ok' in batch ? {ok: batch.ok.texts} : batch;
        const theirs = outcome(() => referenceParseEntries(inputs, options));
        expect(ours).to.deep.equal(theirs);
        if ('ok' in batch) expect(batch.ok.prefixes().map(String)).to.deep.equal(batch.ok.texts);
      }),
    );
  });

  it('parseEntries counts every bad input past the 20 it names, as the slow parser judges them', () => {
    const mostlyBad = fc.oneof({arbitrary: entryText, weight: 1}, {arbitrary: brokenText, weight: 3});
    check(
      fc.property(fc.array(mostlyBad, {minLength: 20, maxLength: 60}), entryOptions, (texts, options) => {
        const inputs: EntryInput[] = texts.map((text, i) => ({text, label: null, where: `line ${i + 1}`, source: 'import'}));
        expect(outcome(() => parseEntries(inputs, options).texts)).to.deep.equal(outcome(() => referenceParseEntries(inputs, options)));
      }),
    );
  });

  /** A list as a store holds it: canonical entries, some expired, some expiring later, some labelled. */
  const storedList = fc
    .array(
      fc.record({
        text: entryText,
        expiresAt: fc.constantFrom(null, '2026-01-02T00:00:00.000Z', '2026-07-01T00:00:00.000Z'),
        label: fc.option(fc.constantFrom('a', 'b'), {nil: null}),
      }),
      {maxLength: 25},
    )
    .map((items) =>
      items.map(({text, expiresAt, label}): EntryRecord => ({
        entry: parseEntry(text, {normalize: true, force: true}).toString(),
        source: 'manual',
        label,
        addedAt: '2026-01-01T00:00:00.000Z',
        expiresAt,
      })),
    );

  const newEntries = fc.array(
    fc.record({text: entryText, label: fc.option(fc.constantFrom('x', 'y', 'a'), {nil: null}), source: fc.constantFrom('import' as const, 'manual' as const)}),
    {maxLength: 40},
  );

  it('addEntries reports and writes what the BigInt implementation of the v2 rules does', () => {
    const now = new Date('2026-06-01T00:00:00Z');
    check(
      fc.property(storedList, newEntries, fc.constantFrom(null, '2026-06-15T00:00:00.000Z', '2026-07-01T00:00:00.000Z'), fc.boolean(), (list, items, expiresAt, asBatch) => {
        const entries: NewEntry[] = items.map((e) => ({prefix: parseEntry(e.text, {normalize: true, force: true}), label: e.label, source: e.source, expiresAt}));
        const ours = structuredClone(list);
        const theirs = structuredClone(list);
        let batch: NewEntry[] | EntryBatch = entries;
        if (asBatch) {
          const inputs: EntryInput[] = items.map((e, i) => ({text: e.text, label: e.label, where: `line ${i + 1}`, source: e.source}));
          batch = parseEntries(inputs, {normalize: true, force: true});
          for (let i = 0; i < batch.count; i++) batch.expiresAt[i] = expiresAt;
        }
        expect(addEntries(ours, batch, now)).to.deep.equal(referenceAddEntries(theirs, entries, now));
        expect(ours).to.deep.equal(theirs);
      }),
    );
  });

  /** A store with entries in every list, duplicates, and blocked and seen records that share addresses. */
  const store = fc
    .record({
      account: storedList,
      // (Each name once: a store with two keys of one name is refused as corrupt.)
      keys: fc.uniqueArray(fc.record({name: fc.constantFrom('k1', 'k2', 'k3', 'a', 'B'), allow: storedList}), {maxLength: 3, selector: (k) => k.name}),
      addresses: fc.array(
        entryText
          .map((t) => parseEntry(t, {normalize: true, force: true}))
          .filter((p) => p.isSingleAddress())
          .map(String),
        {minLength: 1, maxLength: 6},
      ),
      blocked: fc.array(fc.record({ip: fc.nat(), key: fc.constantFrom('k1', 'k2', 'k3'), channel: fc.constantFrom('api' as const, 'smtp' as const), count: fc.nat(5)}), {
        maxLength: 12,
      }),
      seen: fc.array(fc.record({ip: fc.nat(), channel: fc.constantFrom('api' as const, 'smtp' as const), keys: fc.array(fc.constantFrom('k2', 'k1', 'k3'), {maxLength: 3})}), {
        maxLength: 12,
      }),
    })
    .map(({account, keys, addresses, blocked, seen}) => {
      const data = emptyStore(new Date('2026-01-01T00:00:00Z'));
      const at = '2026-01-01T00:00:00.000Z';
      data.account = account;
      data.keys = keys.map((k, i) => ({
        name: k.name,
        type: 'api',
        hash: `${i}`.repeat(64).slice(0, 64),
        hint: 'h',
        status: 'active',
        createdAt: at,
        rotatedAt: null,
        revokedAt: null,
        allow: k.allow,
      }));
      data.blocked = blocked.map((b) => ({ip: addresses[b.ip % addresses.length], key: b.key, channel: b.channel, firstSeen: at, lastSeen: at, count: b.count}));
      data.seen = seen.map((s) => ({ip: addresses[s.ip % addresses.length], channel: s.channel, keys: s.keys, firstSeen: at, lastSeen: at, count: 1}));
      return data;
    });

  it('canonicalize writes what the JSON round trip and BigInt sorts did, and leaves its input alone', () => {
    check(
      fc.property(store, (data) => {
        const before = JSON.stringify(data);
        const expected = JSON.stringify(referenceCanonicalize(data), null, 2);
        expect(JSON.stringify(canonicalize(data), null, 2)).to.equal(expected);
        expect(JSON.stringify(data), 'the input is unchanged').to.equal(before);
      }),
    );
  });

  it('canonicalize refuses what the round trip refused, with the same message', () => {
    const broken: Array<(d: StoreData) => void> = [
      (d) => ((d.account[0] as {entry: string}).entry = '10.0.0.1/32'),
      (d) => ((d.account[0] as {entry: string}).entry = '10.0.0.1/24'),
      (d) => ((d.account[0] as {entry: string}).entry = '010.0.0.1'),
      (d) => ((d.account[0] as {entry: unknown}).entry = 7),
      (d) => ((d.account[0] as {addedAt: string}).addedAt = 'yesterday'),
      (d) => ((d.account[0] as {source: string}).source = 'other'),
      (d) => ((d.account[0] as {label: unknown}).label = undefined),
      (d) => ((d.keys[0].allow[0] as {entry: string}).entry = '2001:DB8::1'),
    ];
    for (const [i, breakIt] of broken.entries()) {
      const data = emptyStore(new Date('2026-01-01T00:00:00Z'));
      const at = '2026-01-01T00:00:00.000Z';
      data.account = [
        {entry: '10.0.0.0/8', source: 'manual', label: null, addedAt: at, expiresAt: null},
        {entry: '10.0.0.1', source: 'manual', label: null, addedAt: at, expiresAt: null},
      ];
      data.keys = [
        {
          name: 'k',
          type: 'api',
          hash: '0'.repeat(64),
          hint: 'h',
          status: 'active',
          createdAt: at,
          rotatedAt: null,
          revokedAt: null,
          allow: [{entry: '2001:db8::1', source: 'manual', label: null, addedAt: at, expiresAt: null}],
        },
      ];
      breakIt(data);
      const ours = outcome(() => canonicalize(data));
      expect(ours, `case ${i}`).to.have.property('error');
      expect(ours, `case ${i}`).to.deep.equal(outcome(() => referenceCanonicalize(data)));
    }
  });

  it('documentText is JSON.stringify(canonicalize(data), null, 2) and a newline, for small and long lists', async () => {
    const samples = fc.sample(store, 50);
    const big = emptyStore(new Date('2026-01-01T00:00:00Z'));
    const at = '2026-01-01T00:00:00.000Z';
    for (let i = 0; i < 45_001; i++)
      big.account.push({entry: formatIPv4(0x0a000000 + i), source: 'import', label: i % 7 === 0 ? `label "${i}"` : null, addedAt: at, expiresAt: null});
    big.seen = Array.from({length: 20_001}, (_, i) => ({ip: formatIPv4(i), channel: 'api' as const, keys: ['k'], firstSeen: at, lastSeen: at, count: 1}));
    const exactly20k = emptyStore(new Date(0));
    exactly20k.account = big.account.slice(0, 20_000);
    for (const data of [...samples, big, exactly20k, emptyStore(new Date(0)), {...emptyStore(new Date(0)), history: undefined}]) {
      expect((await documentText(data)).join('')).to.equal(`${JSON.stringify(canonicalize(data), null, 2)}\n`);
    }
  });
});
