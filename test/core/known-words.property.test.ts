/**
 * Property tests for the bulk write's fast path (issue 15, 15D): the words a
 * change remembers for the entries it appended (KnownEntryWords) against the
 * slow path the writer takes without them (every text parsed again). The
 * same list is written twice, once as the change left it (the memo in
 * force) and once as a copy (no memo): the checked document, its sort, its
 * text and its index cache must be the same. Hostile: a list changed after
 * the memo was taken (an entry replaced, one removed) must not be trusted.
 * Runs per property: 200, or KEYWARD_PROPERTY_RUNS.
 */
import {expect} from 'chai';
import fc from 'fast-check';

import {addEntries} from '../../src/core/allowlist.js';
import {EntryInput, parseEntries} from '../../src/core/entry-parse.js';
import {entryWordsOf, entryWordsOfRecords, EntryWordsBuilder, inListOrder, knownEntryWords, listOrder} from '../../src/core/entry-order.js';
import {emptyStore, StoreData} from '../../src/core/model.js';
import {documentText, sortEntryRecords, validate} from '../../src/store/schema.js';
import {decodeIndexCache, encodeIndexCache, StoreIdentity} from '../../src/store/index-cache.js';

const RUNS = Number(process.env.KEYWARD_PROPERTY_RUNS || 200);
const NOW = new Date('2026-03-02T00:00:00Z');
const IDENTITY: StoreIdentity = {dev: '1', ino: '2', size: '3', mtimeMs: '4', ctimeMs: '5'};

/** Entry texts from a small space (so that batches repeat, cover and meet the list's entries), IPv4 and IPv6, some not canonical. */
const entryText = fc.oneof(
  fc
    .tuple(fc.integer({min: 10, max: 12}), fc.integer({min: 0, max: 3}), fc.integer({min: 0, max: 255}), fc.integer({min: 0, max: 255}), fc.integer({min: 8, max: 32}))
    .map(([a, b, c, d, bits]) => `${a}.${b}.${c}.${d}/${bits}`),
  fc.tuple(fc.integer({min: 0, max: 3}), fc.integer({min: 0, max: 0xffff}), fc.integer({min: 16, max: 128})).map(([a, b, bits]) => `2001:db8:${a}::${b.toString(16)}/${bits}`),
  fc.tuple(fc.integer({min: 0, max: 255}), fc.integer({min: 0, max: 255})).map(([c, d]) => `10.0.${c}.${d}`),
);

const line = fc.tuple(entryText, fc.option(fc.constantFrom('office', 'vpn', 'a "quoted" label'), {nil: null}));

function inputs(lines: [string, string | null][]): EntryInput[] {
  return lines.map(([text, label], i) => ({text, label, where: `line ${i + 1}`, source: 'import'}));
}

/** A store whose account list holds `before` (added a day earlier, some expiring, some deny-free allow entries), then the batch added by addEntries. */
function changed(before: [string, string | null][], batch: [string, string | null][], expiring: boolean): {data: StoreData; added: number} {
  const data = emptyStore(NOW);
  if (before.length > 0) {
    const old = parseEntries(inputs(before), {normalize: true, force: true});
    addEntries(data.account, old, new Date(NOW.getTime() - 86_400_000));
    if (expiring) for (let i = 0; i < data.account.length; i += 3) data.account[i] = {...data.account[i], expiresAt: '2026-03-01T12:00:00.000Z'};
    // As read from a file: no memo for these.
    data.account = data.account.map((r) => ({...r}));
  }
  const result = addEntries(data.account, parseEntries(inputs(batch), {normalize: true, force: true}), NOW);
  return {data, added: result.added.length};
}

const copyOf = (data: StoreData): StoreData => ({...data, account: data.account.slice()});

function sameWords(a: ReturnType<typeof entryWordsOf>, b: ReturnType<typeof entryWordsOf>): void {
  expect(a.count).to.equal(b.count);
  expect([...a.family.subarray(0, a.count)]).to.deep.equal([...b.family.subarray(0, b.count)]);
  expect([...a.bits.subarray(0, a.count)]).to.deep.equal([...b.bits.subarray(0, b.count)]);
  expect([...a.words.subarray(0, a.count * 4)]).to.deep.equal([...b.words.subarray(0, b.count * 4)]);
}

describe('known entry words (the bulk write fast path) against parsing every text', () => {
  it('the remembered words are the words of the texts, and the copy of a list has none', () => {
    fc.assert(
      fc.property(fc.array(line, {maxLength: 30}), fc.array(line, {minLength: 1, maxLength: 60}), fc.boolean(), (before, batch, expiring) => {
        const {data, added} = changed(before, batch, expiring);
        const known = knownEntryWords(data.account);
        expect(known !== null).to.equal(added > 0);
        expect(knownEntryWords(data.account.slice())).to.equal(null);
        sameWords(entryWordsOfRecords(data.account), entryWordsOf(data.account.map((r) => r.entry)));
      }),
      {numRuns: RUNS},
    );
  });

  it('the checked document, its sort, its text and its index cache are those of the slow path', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(line, {maxLength: 30}), fc.array(line, {minLength: 1, maxLength: 60}), fc.boolean(), async (before, batch, expiring) => {
        const {data} = changed(before, batch, expiring);
        const slow = copyOf(data);
        expect(validate(data)).to.deep.equal(validate(slow));
        expect(sortEntryRecords(data.account)).to.deep.equal(sortEntryRecords(slow.account));
        expect((await documentText(data)).join('')).to.equal((await documentText(slow)).join(''));
        expect(encodeIndexCache(data, IDENTITY).equals(encodeIndexCache(slow, IDENTITY))).to.equal(true);
        // And the cache is whole (its checksum holds), whichever families are empty.
        expect(decodeIndexCache(encodeIndexCache(data, IDENTITY), IDENTITY, NOW)).to.not.equal(null);
      }),
      {numRuns: RUNS},
    );
  });

  it('a list changed after the change remembered its words is parsed again (hostile edits)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(line, {minLength: 2, maxLength: 40}),
        fc.nat(),
        entryText,
        fc.constantFrom('replace', 'remove', 'swap', 'not canonical'),
        async (batch, at, other, how) => {
          const {data} = changed([], batch, false);
          const list = data.account;
          const i = at % list.length;
          if (how === 'replace') {
            const [replacement] = parseEntries(inputs([[other, null]]), {normalize: true, force: true}).texts;
            list[i] = {...list[i], entry: replacement};
          } else if (how === 'remove') list.splice(i, 1);
          else if (how === 'swap') list.reverse();
          else list[i] = {...list[i], entry: `${list[i].entry.split('/')[0]}/0`.replace(/^(\d+\.\d+\.\d+\.)\d+\/0$/, '$1255/24')};
          // Still the words of the texts the list holds now, whatever the memo said.
          sameWords(entryWordsOfRecords(list), entryWordsOf(list.map((r) => r.entry)));
          const slow = copyOf(data);
          expect(sortEntryRecords(list)).to.deep.equal(sortEntryRecords(slow.account));
          let fast: unknown;
          let reference: unknown;
          try {
            fast = (await documentText(data)).join('');
          } catch (error) {
            fast = (error as Error).message;
          }
          try {
            reference = (await documentText(slow)).join('');
          } catch (error) {
            reference = (error as Error).message;
          }
          expect(fast).to.equal(reference);
        },
      ),
      {numRuns: RUNS},
    );
  });

  it('inListOrder says the stable list order is the identity exactly when it is', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(4, 6), fc.integer({min: 0, max: 128}), fc.array(fc.integer({min: 0, max: 3}), {minLength: 4, maxLength: 4})), {maxLength: 12}),
        (rows) => {
          const words = new EntryWordsBuilder(16);
          for (const [family, bits, w] of rows) words.push(family as 4 | 6, family === 4 ? Math.min(bits, 32) : bits, w);
          const order = listOrder(words);
          const identity = order.every((p, i) => p === i);
          expect(inListOrder(words)).to.equal(identity);
        },
      ),
      {numRuns: RUNS * 5},
    );
  });
});
