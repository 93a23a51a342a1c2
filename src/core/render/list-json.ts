/**
 * `list --json` as text, in chunks: the text of `JSON.stringify(listJson(scopes), null, 2)`
 * written row by row from the records, with no object per row and no 25 MB
 * string for a 100,000-entry list.
 */
import {groupOf, isDeny, isEnabled} from '../model.js';
import {ListScope, listJson} from '../reports.js';

/** A string JSON.stringify writes as it is between quotes: no quote, backslash, control character or surrogate. */
const PLAIN = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

function text(value: string): string {
  return PLAIN.test(value) ? `"${value}"` : JSON.stringify(value);
}

/** A field that is a string or null, as JSON.stringify writes it; undefined for any other value (then the row is written by JSON.stringify). */
function field(value: unknown): string | undefined {
  if (value === null) return 'null';
  return typeof value === 'string' ? text(value) : undefined;
}

/** About this many characters a chunk. */
const CHUNK = 1 << 20;

/**
 * The text of `JSON.stringify(listJson(scopes), null, 2)` followed by a line
 * break (as logJson prints it), in chunks of about 1 MiB.
 */
export function* listJsonChunks(scopes: readonly ListScope[]): Generator<string, void, undefined> {
  let chunk = '';
  let rows = 0;
  for (const {scope, records} of scopes) {
    const scopeText = text(scope);
    for (const r of records) {
      const entry = field(r.entry);
      const source = field(r.source);
      const label = field(r.label);
      const addedAt = field(r.addedAt);
      const expiresAt = field(r.expiresAt);
      const group = field(groupOf(r));
      const row =
        entry === undefined || source === undefined || label === undefined || addedAt === undefined || expiresAt === undefined || group === undefined
          ? // Anything but a string or null (a field left out, say) is written as JSON.stringify writes it, one level in.
            `  ${JSON.stringify(listJson([{scope, records: [r]}])[0], null, 2).replace(/\n/g, '\n  ')}`
          : `  {\n    "entry": ${entry},\n    "scope": ${scopeText},\n    "source": ${source},\n    "label": ${label},\n    "addedAt": ${addedAt},\n    "expiresAt": ${expiresAt},\n    "group": ${group},\n    "effect": ${isDeny(r) ? '"deny"' : '"allow"'},\n    "enabled": ${isEnabled(r)}\n  }`;
      chunk += rows++ === 0 ? `[\n${row}` : `,\n${row}`;
      if (chunk.length >= CHUNK) {
        yield chunk;
        chunk = '';
      }
    }
  }
  yield rows === 0 ? '[]\n' : `${chunk}\n]\n`;
}
