/**
 * `list --json` as text, in chunks: the text of `JSON.stringify(listJson(scopes), null, 2)`
 * made a slice of the records at a time, so that a 100,000-entry list is
 * never 100,000 row objects and one 24 MB string at once.
 */
import {ListScope, listJson} from '../reports.js';

/** Rows a chunk: about 96 kB of text, under V8's large-object size (128 kB), so that a chunk dies young. */
const CHUNK_ROWS = 400;

/**
 * The text of `JSON.stringify(listJson(scopes), null, 2)` followed by a line
 * break (as logJson prints it), in chunks. Each chunk is JSON.stringify's own
 * text of a slice of the rows less its brackets: an array's items are
 * written alike (two spaces in) whatever array holds them.
 */
export function* listJsonChunks(scopes: readonly ListScope[]): Generator<string, void, undefined> {
  let first = true;
  for (const {scope, records} of scopes) {
    for (let start = 0; start < records.length; start += CHUNK_ROWS) {
      const text = JSON.stringify(listJson([{scope, records: records.slice(start, start + CHUNK_ROWS)}]), null, 2);
      // "[\n" + items + "\n]": the items, after "[\n" or after the previous chunk's last item.
      yield `${first ? '[\n' : ',\n'}${text.slice(2, -2)}`;
      first = false;
    }
  }
  yield first ? '[]\n' : '\n]\n';
}
