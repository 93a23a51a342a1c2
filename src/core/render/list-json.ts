/**
 * `list --json` as text, in chunks: the text of `JSON.stringify(listJson(scopes), null, 2)`
 * made a slice of the records at a time, so that a 100,000-entry list is
 * never 100,000 row objects and one 24 MB string at once.
 */
import {EntryRecord, groupOf, isDeny, isEnabled} from '../model.js';
import {ListScope, listJson} from '../reports.js';

/** Rows a chunk: about 96 kB of text, under V8's large-object size (128 kB), so that a chunk dies young. */
const CHUNK_ROWS = 400;

/** A text JSON.stringify writes as it is between quotes: printable ASCII but `"` and `\`. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** JSON.stringify's text of a string (most of a store's are plain: an address, a time, a name). */
const quoted = (text: string): string => (PLAIN.test(text) ? `"${text}"` : JSON.stringify(text));

/** JSON.stringify's text of a string or null. */
const quotedOrNull = (text: string | null): string => (text === null ? 'null' : quoted(text));

const isText = (value: unknown): value is string => typeof value === 'string';
const isTextOrNull = (value: unknown): value is string | null => value === null || typeof value === 'string';

/**
 * One row of listJson's as JSON.stringify writes an item of an array with an
 * indent of 2 ("  {\n    \"entry\": …\n  }"), from its record in the list
 * of scope `scope` (already quoted). Written field by field (a third faster
 * than JSON.stringify with an indent, for 100,000 rows: issue 15) when every
 * field has its schema's type; a record a hand edit gave another type (or
 * left a field out) is written by JSON.stringify itself.
 */
function rowText(r: EntryRecord, scope: string, quotedScope: string): string {
  const group = groupOf(r);
  if (isText(r.entry) && isText(r.source) && isTextOrNull(r.label) && isText(r.addedAt) && isTextOrNull(r.expiresAt) && isTextOrNull(group)) {
    return `  {
    "entry": ${quoted(r.entry)},
    "scope": ${quotedScope},
    "source": ${quoted(r.source)},
    "label": ${quotedOrNull(r.label)},
    "addedAt": ${quoted(r.addedAt)},
    "expiresAt": ${quotedOrNull(r.expiresAt)},
    "group": ${quotedOrNull(group)},
    "effect": "${isDeny(r) ? 'deny' : 'allow'}",
    "enabled": ${isEnabled(r)}
  }`;
  }
  // "[\n" + the item + "\n]": an array's items are written alike (two spaces in) whatever array holds them.
  return JSON.stringify(listJson([{scope, records: [r]}]), null, 2).slice(2, -2);
}

/**
 * The text of `JSON.stringify(listJson(scopes), null, 2)` followed by a line
 * break (as logJson prints it), in chunks of rows.
 */
export function* listJsonChunks(scopes: readonly ListScope[]): Generator<string, void, undefined> {
  let first = true;
  for (const {scope, records} of scopes) {
    const quotedScope = quoted(scope);
    for (let start = 0; start < records.length; start += CHUNK_ROWS) {
      let text = first ? '[\n' : ',\n';
      const end = Math.min(records.length, start + CHUNK_ROWS);
      for (let i = start; i < end; i++) text += i === start ? rowText(records[i], scope, quotedScope) : `,\n${rowText(records[i], scope, quotedScope)}`;
      yield text;
      first = false;
    }
  }
  yield first ? '[]\n' : '\n]\n';
}
