/**
 * `list --json` of a store keyward wrote, its account list's rows written
 * from the file's bytes (store/account-text.ts finds the records,
 * render/list-json.ts RowBytes writes them) against the rows of the list
 * parsed (listJsonChunks): the same bytes for random lists in the text the
 * store's writer gives them (labels in any text, lone surrogates and
 * controls included; groups, deny and disabled entries, expiries). And a
 * text the writer would not give is refused, wherever it departs.
 */
import {expect} from 'chai';
import fc from 'fast-check';

import {emptyStore, EntryRecord, StoreData} from '../../src/core/model.js';
import {listJsonChunks, RowBytes} from '../../src/core/render/list-json.js';
import {holdsJsonRaw, JSON_RAW} from '../../src/core/render/text.js';
import {listScopes} from '../../src/core/reports.js';
import {AccountRecords, END, NOT_LAID_OUT, RECORD} from '../../src/store/account-text.js';
import {documentText} from '../../src/store/schema.js';

const RUNS = Number(process.env.KEYWARD_PROPERTY_RUNS || 200);
const NOW = new Date('2026-03-02T00:00:00.000Z');

/** The store's text as its writer gives it, and the bytes of its account list (from its `[` to its `]`, as read.ts cuts it). */
async function written(account: EntryRecord[]): Promise<{text: string; list: Buffer}> {
  const data: StoreData = {...emptyStore(NOW), account};
  const text = (await documentText(data)).join('');
  const bytes = Buffer.from(text);
  const name = Buffer.from('\n  "account": ');
  const start = bytes.indexOf(name) + name.length;
  const end = bytes.lastIndexOf('\n  "keys": ') - 1;
  return {text, list: bytes.subarray(start, end)};
}

/** The rows RowBytes writes for every record AccountRecords finds, framed as list --json frames them; null when the text is refused. */
function fromText(list: Uint8Array): Buffer | null {
  const records = new AccountRecords(list);
  const rows = new RowBytes('account');
  const parts: Buffer[] = [];
  let found: number;
  while ((found = records.next()) === RECORD) {
    const row = Buffer.alloc(rows.length(records.spans, records.flags));
    expect(rows.put(row, 0, list, records.spans, records.flags), 'the row fills what length said').to.equal(row.length);
    parts.push(row);
  }
  if (found === NOT_LAID_OUT) return null;
  expect(found).to.equal(END);
  expect(records.next(), 'the end stays the end').to.equal(END);
  if (parts.length === 0) return Buffer.from('[]\n');
  return Buffer.concat([Buffer.from('[\n'), ...parts.flatMap((row, i) => (i === 0 ? [row] : [Buffer.from(',\n'), row])), Buffer.from('\n]\n')]);
}

/** What list --json prints for the account list parsed from the store's text. */
function parsed(text: string): Buffer {
  return Buffer.from([...listJsonChunks(listScopes(JSON.parse(text) as StoreData, {accountOnly: true}))].join(''));
}

const text = fc.oneof(
  fc.string(),
  fc.string({unit: 'binary'}),
  fc.constantFrom('"quoted" \\ back\\', 'line\nbreak\u2028', '\ud800 lone', 'é ü 日本', '\\', '"', ',', '    }', ''),
);
const ipv4 = fc.tuple(fc.nat(0xffffffff), fc.integer({min: 0, max: 32})).map(([n, bits]) => {
  const masked = bits === 0 ? 0 : (n & (0xffffffff << (32 - bits))) >>> 0;
  const address = `${masked >>> 24}.${(masked >>> 16) & 255}.${(masked >>> 8) & 255}.${masked & 255}`;
  return bits === 32 ? address : `${address}/${bits}`;
});
const time = fc.integer({min: Date.parse('2020-01-01T00:00:00Z'), max: Date.parse('2030-01-01T00:00:00Z')}).map((ms) => new Date(ms).toISOString());
const record: fc.Arbitrary<EntryRecord> = fc
  .record({
    entry: fc.oneof(ipv4, fc.constantFrom('2001:db8::/32', '2001:db8::1', 'fe80::/10', '::/0')),
    source: fc.constantFrom('manual', 'learned', 'import', 'blocked'),
    label: fc.option(text),
    group: fc.option(fc.oneof(fc.constantFrom('ops', 'learned', 'g.1', 'a_b-c'), fc.stringMatching(/^[a-z][a-z0-9._-]{0,20}$/))),
    addedAt: time,
    expiresAt: fc.option(time),
    deny: fc.boolean(),
    disabled: fc.boolean(),
  })
  .map(({group, deny, disabled, ...r}) => {
    const out: EntryRecord = {...r};
    if (group !== null) out.group = group;
    if (deny) out.effect = 'deny';
    if (disabled) out.enabled = false;
    return out;
  });

describe("list --json from the account list's text (store/account-text.ts)", () => {
  it('writes the bytes the parsed list gives, for random lists as the writer writes them', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(record, {maxLength: 30}), async (account) => {
        const {text, list} = await written(account);
        const rows = fromText(list);
        expect(rows, "the writer's own text is laid out as the scanner expects").to.not.equal(null);
        // A text holding a character JSON writes raw and --json escapes (jsonSafe) is listed from the parsed list (list/run.ts).
        if (holdsJsonRaw(list)) return;
        expect(rows!.equals(parsed(text)), rows!.toString()).to.equal(true);
      }),
      {numRuns: RUNS},
    );
  });

  it('reads an empty list, and one record of every switch', async () => {
    expect(fromText(Buffer.from('[]'))!.toString()).to.equal('[]\n');
    const account: EntryRecord[] = [
      {entry: '10.0.0.0/8', source: 'manual', label: null, addedAt: NOW.toISOString(), expiresAt: null},
      {entry: '10.1.0.0/16', source: 'import', label: 'x', group: 'ops', addedAt: NOW.toISOString(), expiresAt: NOW.toISOString(), effect: 'deny'},
      {entry: '10.2.0.0/16', source: 'learned', label: null, addedAt: NOW.toISOString(), expiresAt: null, enabled: false},
      {entry: '10.3.0.0/16', source: 'blocked', label: '', group: 'g', addedAt: NOW.toISOString(), expiresAt: null, effect: 'deny', enabled: false},
    ];
    const {text, list} = await written(account);
    expect(fromText(list)!.equals(parsed(text))).to.equal(true);
  });

  it('refuses a text the writer would not give, wherever it departs from the layout', async () => {
    const account: EntryRecord[] = [
      {entry: '10.0.0.0/8', source: 'manual', label: 'a', group: 'ops', addedAt: NOW.toISOString(), expiresAt: null, effect: 'deny', enabled: false},
      {entry: '10.1.0.0/16', source: 'import', label: null, addedAt: NOW.toISOString(), expiresAt: null},
    ];
    const {list} = await written(account);
    const good = list.toString('latin1');
    expect(fromText(list)).to.not.equal(null);
    const edits: [string, (t: string) => string][] = [
      ['two members swapped', (t) => t.replace('      "source": "manual",\n      "label": "a",', '      "label": "a",\n      "source": "manual",')],
      ['a member left out', (t) => t.replace('      "source": "import",\n', '')],
      ['a member more', (t) => t.replace('      "source": "import",\n', '      "source": "import",\n      "note": "x",\n')],
      ['a comma missing', (t) => t.replace('"label": "a",', '"label": "a"')],
      ['a comma after the last member', (t) => t.replace('"expiresAt": null\n    }\n', '"expiresAt": null,\n    }\n')],
      ['another indent', (t) => t.replace('      "entry": "10.1.0.0/16"', '     "entry": "10.1.0.0/16"')],
      ['line ends of another system', (t) => t.replaceAll('\n', '\r\n')],
      ['a switch of another value', (t) => t.replace('"effect": "deny"', '"effect": "allow"')],
      ['the other switch of another value', (t) => t.replace('"enabled": false', '"enabled": true')],
      ['the switches swapped', (t) => t.replace('      "effect": "deny",\n      "enabled": false', '      "enabled": false,\n      "effect": "deny"')],
      ['a switch before a value', (t) => t.replace('      "effect": "deny",\n', '').replace('      "addedAt"', '      "effect": "deny",\n      "addedAt"')],
      ['a value not a string', (t) => t.replace('"source": "import"', '"source": 7')],
      ['a string not closed', (t) => t.replace('"label": "a"', '"label": "a\\"')],
      ['null where a string must be', (t) => t.replace('"entry": "10.1.0.0/16"', '"entry": null')],
      ['two records on one line', (t) => t.replace('    },\n    {', '    }, {')],
      ['no comma between records', (t) => t.replace('    },\n    {', '    }\n    {')],
      ['the list not closed', (t) => t.slice(0, -1)],
      ['more after the list', (t) => `${t}\n`],
      ['an object for a record', (t) => t.replace('      "label": null,', '      "label": {},')],
      ['not a list', (t) => `{${t.slice(1, -1)}}`],
    ];
    for (const [what, edit] of edits) {
      const edited = edit(good);
      expect(edited, what).to.not.equal(good);
      expect(fromText(Buffer.from(edited, 'latin1')), what).to.equal(null);
    }
  });

  it('holdsJsonRaw finds a character JSON writes raw and --json escapes, by its first byte, exactly where the pattern does (against the regular expression)', () => {
    const alphabet = fc.constantFrom(
      'a',
      '…',
      'é',
      '\u007f',
      '\u0080',
      '\u0085',
      '\u009f',
      '\u00a0',
      '\u00ad',
      '\u061c',
      '\u0600',
      '\u180e',
      '\u200b',
      '\u2026',
      '\u2028',
      '\u202e',
      '\u2060',
      '\u206f',
      '\u2070',
      '\ufeff',
      '\ufff9',
      '\ufffd',
      '😀',
    );
    fc.assert(
      fc.property(fc.array(alphabet, {maxLength: 12}), (chars) => {
        const text = chars.join('');
        expect(holdsJsonRaw(Buffer.from(text, 'utf8')), JSON.stringify(text)).to.equal(new RegExp(JSON_RAW.source).test(text));
      }),
      {numRuns: RUNS},
    );
  });
});
