/** The reverse proxies' formats: an nginx include (allow …; deny all;) and an HAProxy pattern file. */
import {ExportRow} from '../effective-list.js';
import {comments, labelText, lines} from './text.js';

export function renderNginx(rows: readonly ExportRow[], header: readonly string[]): string {
  return lines([...comments(header), ...rows.map((r) => `allow ${r.prefix.toString()};${labelText(r.label) === '' ? '' : `  # ${labelText(r.label)}`}`), 'deny all;']);
}

/** For `acl NAME src -f FILE`. HAProxy pattern files take comments only on lines of their own. */
export function renderHaproxy(rows: readonly ExportRow[], header: readonly string[]): string {
  return lines([...comments(header), ...rows.flatMap((r) => (labelText(r.label) === '' ? [] : [`# ${labelText(r.label)}`]).concat(r.prefix.toString()))]);
}
