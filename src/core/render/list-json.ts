/**
 * `list --json` as text, in chunks: the text of `JSON.stringify(listJson(scopes), null, 2)`
 * made a slice of the records at a time, so that a 100,000-entry list is
 * never 100,000 row objects and one 24 MB string at once.
 */
import {EntryRecord, groupOf, isDeny, isEnabled} from '../model.js';
import {ListScope, listJson} from '../reports.js';
import {jsonSafe} from './text.js';

/** Rows a chunk: about 96 kB of text, under V8's large-object size (128 kB), so that a chunk dies young. */
const CHUNK_ROWS = 400;

/** A text JSON.stringify writes as it is between quotes: printable ASCII but `"` and `\`. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** JSON.stringify's text of a string (most of a store's are plain: an address, a time, a name). */
const quoted = (text: string): string => (PLAIN.test(text) ? `"${text}"` : jsonSafe(JSON.stringify(text)));

/** JSON.stringify's text of a string or null. */
const quotedOrNull = (text: string | null): string => (text === null ? 'null' : quoted(text));

const isText = (value: unknown): value is string => typeof value === 'string';
const isTextOrNull = (value: unknown): value is string | null => value === null || typeof value === 'string';

/**
 * One row of listJson's as JSON.stringify writes an item of an array with an
 * indent of 2 ("  {\n    \"entry\": …\n  }"), from its values' JSON texts
 * (listJson's fields, in its order).
 */
function rowLayout(entry: string, scope: string, source: string, label: string, addedAt: string, expiresAt: string, group: string, effect: string, enabled: string): string {
  return `  {
    "entry": ${entry},
    "scope": ${scope},
    "source": ${source},
    "label": ${label},
    "addedAt": ${addedAt},
    "expiresAt": ${expiresAt},
    "group": ${group},
    "effect": ${effect},
    "enabled": ${enabled}
  }`;
}

/**
 * One row from its record in the list of scope `scope` (already quoted).
 * Written field by field (a third faster than JSON.stringify with an indent,
 * for 100,000 rows: issue 15) when every field has its schema's type; a
 * record a hand edit gave another type (or left a field out) is written by
 * JSON.stringify itself.
 */
function rowText(r: EntryRecord, scope: string, quotedScope: string): string {
  const group = groupOf(r);
  if (isText(r.entry) && isText(r.source) && isTextOrNull(r.label) && isText(r.addedAt) && isTextOrNull(r.expiresAt) && isTextOrNull(group)) {
    const effect = isDeny(r) ? '"deny"' : '"allow"';
    return rowLayout(
      quoted(r.entry),
      quotedScope,
      quoted(r.source),
      quotedOrNull(r.label),
      quoted(r.addedAt),
      quotedOrNull(r.expiresAt),
      quotedOrNull(group),
      effect,
      `${isEnabled(r)}`,
    );
  }
  // "[\n" + the item + "\n]": an array's items are written alike (two spaces in) whatever array holds them.
  return jsonSafe(JSON.stringify(listJson([{scope, records: [r]}]), null, 2)).slice(2, -2);
}

/**
 * Where a record's values stand as JSON texts in the text it was read from:
 * text[spans[k], spans[k + 1]) for k each of these (GROUP: -1 when the
 * record has no group); its switches are `flags`.
 */
export const ENTRY = 0;
export const SOURCE = 2;
export const LABEL = 4;
export const GROUP = 6;
export const ADDED_AT = 8;
export const EXPIRES_AT = 10;
export const SPANS = 12;
export const DENY = 1;
export const DISABLED = 2;

/**
 * Rows as bytes, from their records' values as JSON texts in the bytes of a
 * store keyward wrote (see store/account-text.ts): the text rowText makes of
 * the record parsed (JSON.stringify gives a string read from its own text
 * that very text), without parsing 100,000 records or making a string of
 * each row (issue 15).
 */
export class RowBytes {
  /** rowLayout's text between the values. */
  private readonly pieces: Uint8Array[];
  private readonly scope: Uint8Array;
  private static readonly TEXTS = {deny: Buffer.from('"deny"'), allow: Buffer.from('"allow"'), true: Buffer.from('true'), false: Buffer.from('false')};
  static readonly NULL = Buffer.from('null');

  constructor(scope: string) {
    const gap = '\u0000';
    this.pieces = rowLayout(gap, gap, gap, gap, gap, gap, gap, gap, gap)
      .split(gap)
      .map((piece) => Buffer.from(piece));
    this.scope = Buffer.from(quoted(scope));
  }

  /** The bytes of the row of the record at `spans` (see ENTRY), with its switches `flags`. */
  length(spans: Int32Array, flags: number): number {
    const texts = RowBytes.TEXTS;
    let length = this.scope.length + ((flags & DENY) === 0 ? texts.allow : texts.deny).length + ((flags & DISABLED) === 0 ? texts.true : texts.false).length;
    for (const piece of this.pieces) length += piece.length;
    for (let k = 0; k < SPANS; k += 2) length += spans[k] < 0 ? RowBytes.NULL.length : spans[k + 1] - spans[k];
    return length;
  }

  /** Writes that row at out[at], its values taken from `source`; returns where it ends. */
  put(out: Uint8Array, at: number, source: Uint8Array, spans: Int32Array, flags: number): number {
    const texts = RowBytes.TEXTS;
    const pieces = this.pieces;
    at = copyBytes(out, at, pieces[0]);
    at = copyValue(out, at, source, spans, ENTRY);
    at = copyBytes(out, at, pieces[1]);
    at = copyBytes(out, at, this.scope);
    at = copyBytes(out, at, pieces[2]);
    at = copyValue(out, at, source, spans, SOURCE);
    at = copyBytes(out, at, pieces[3]);
    at = copyValue(out, at, source, spans, LABEL);
    at = copyBytes(out, at, pieces[4]);
    at = copyValue(out, at, source, spans, ADDED_AT);
    at = copyBytes(out, at, pieces[5]);
    at = copyValue(out, at, source, spans, EXPIRES_AT);
    at = copyBytes(out, at, pieces[6]);
    at = copyValue(out, at, source, spans, GROUP);
    at = copyBytes(out, at, pieces[7]);
    at = copyBytes(out, at, (flags & DENY) === 0 ? texts.allow : texts.deny);
    at = copyBytes(out, at, pieces[8]);
    at = copyBytes(out, at, (flags & DISABLED) === 0 ? texts.true : texts.false);
    return copyBytes(out, at, pieces[9]);
  }
}

/** Copies `bytes` to out[at]; returns where they end there. (Byte by byte: a row's parts are short, and a copy call for each cost more than the copying.) */
function copyBytes(out: Uint8Array, at: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) out[at++] = bytes[i];
  return at;
}

/** Copies the value at `spans[k]` (see ENTRY) of `source` to out[at], `null` for none; returns where it ends there. */
function copyValue(out: Uint8Array, at: number, source: Uint8Array, spans: Int32Array, k: number): number {
  const from = spans[k];
  if (from < 0) return copyBytes(out, at, RowBytes.NULL);
  for (let i = from, to = spans[k + 1]; i < to; i++) out[at++] = source[i];
  return at;
}

/**
 * The text of `JSON.stringify(listJson(scopes), null, 2)` followed by a line
 * break (as logJson prints it), in chunks of rows. `open`: rows were written
 * before these (the array is open; see RowBytes).
 */
export function* listJsonChunks(scopes: readonly ListScope[], open = false): Generator<string, void, undefined> {
  let first = !open;
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
