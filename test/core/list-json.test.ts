/**
 * `list --json` written in chunks, row by row (render/list-json.ts), against
 * the text it replaces: `JSON.stringify(listJson(scopes), null, 2)`, its C1
 * controls and bidi overrides escaped (jsonSafe), and a line break, on random lists (any text in any field and scope name: quotes,
 * backslashes, controls, any Unicode and lone surrogates; groups, deny and
 * disabled entries, fields left out or of another type) and on a list longer
 * than a chunk.
 */
import {expect} from 'chai';
import fc from 'fast-check';

import {EntryRecord} from '../../src/core/model.js';
import {listJsonChunks} from '../../src/core/render/list-json.js';
import {jsonSafe} from '../../src/core/render/text.js';
import {ListScope, listJson} from '../../src/core/reports.js';

const RUNS = Number(process.env.KEYWARD_PROPERTY_RUNS || 300);

const slow = (scopes: ListScope[]) => `${jsonSafe(JSON.stringify(listJson(scopes), null, 2))}\n`;
const fast = (scopes: ListScope[]) => [...listJsonChunks(scopes)].join('');

const text = fc.oneof(fc.string(), fc.string({unit: 'binary'}), fc.constantFrom('"quoted" \\ back', 'line\nbreak\u2028', '\ud800 lone', 'é ü 日本'));
const record: fc.Arbitrary<EntryRecord> = fc
  .record({
    entry: fc.oneof(fc.constantFrom('10.0.0.0/8', '192.0.2.1', '2001:db8::/32'), text),
    source: fc.constantFrom('manual', 'learned', 'import', 'blocked'),
    label: fc.option(text),
    group: fc.option(fc.option(fc.oneof(fc.constantFrom('ops', 'learned'), text)), {nil: undefined}),
    addedAt: fc.oneof(fc.constant('2026-01-01T00:00:00.000Z'), text),
    expiresAt: fc.option(fc.oneof(fc.constant('2026-04-01T00:00:00.000Z'), text)),
    kind: fc.nat(5),
    odd: fc.nat(4),
  })
  .map(({kind, odd, group, ...r}) => {
    const out = {...r} as EntryRecord;
    if (group !== undefined) out.group = group;
    if (kind === 1) out.effect = 'deny';
    if (kind === 2) out.enabled = false;
    // A field left out (a store from before it existed): JSON.stringify leaves the key out.
    if (kind === 3) delete (out as Partial<EntryRecord>).label;
    // A hand edit the schema would not let through, written all the same (by JSON.stringify itself).
    if (kind === 4) Object.assign(out, [{label: 7}, {expiresAt: true}, {group: 3}, {entry: 12}, {source: null}][odd]);
    return out;
  });
const scopes = fc.array(fc.record({scope: fc.oneof(fc.constantFrom('account', 'billing', 'relay'), text), records: fc.array(record, {maxLength: 8})}), {maxLength: 4});

describe('list --json in chunks', () => {
  it('is the text of JSON.stringify(listJson(scopes), null, 2), on random lists', () => {
    fc.assert(
      fc.property(scopes, (s) => {
        expect(fast(s)).to.equal(slow(s));
      }),
      {numRuns: RUNS, examples: [[[]], [[{scope: 'account', records: []}]]]},
    );
  });

  it('is the same text for a list of several chunks', () => {
    const records = Array.from({length: 4500}, (_, i): EntryRecord => ({
      entry: `10.0.${i >> 8}.${i & 255}`,
      source: 'import',
      label: i % 7 === 0 ? `customer "${i}"` : null,
      addedAt: '2026-01-01T00:00:00.000Z',
      expiresAt: null,
      ...(i % 11 === 0 ? {effect: 'deny' as const} : {}),
    }));
    const s = [
      {scope: 'account', records},
      {scope: 'billing', records: records.slice(0, 2001)},
    ];
    expect([...listJsonChunks(s)].length).to.be.greaterThan(3);
    expect(fast(s)).to.equal(slow(s));
  });
});
