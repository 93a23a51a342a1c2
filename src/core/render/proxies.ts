/** The reverse proxies' formats: an nginx include (allow …; deny all;) and an HAProxy pattern file. */
import {byEffect, ExportRow} from '../effective-list.js';
import {comments, labelText, lines} from './text.js';

/** nginx takes the first rule that matches: deny entries first, then the allow entries, then `deny all;`. */
export function renderNginx(rows: readonly ExportRow[], header: readonly string[]): string {
  const {deny, allow} = byEffect(rows);
  const rule = (verb: string) => (r: ExportRow) => `${verb} ${r.prefix.toString()};${labelText(r.label) === '' ? '' : `  # ${labelText(r.label)}`}`;
  return lines([...comments(header), ...deny.map(rule('deny')), ...allow.map(rule('allow')), 'deny all;']);
}

/** For `acl NAME src -f FILE` (the allowed addresses: deny entries already subtracted). HAProxy pattern files take comments only on lines of their own. */
export function renderHaproxy(rows: readonly ExportRow[], header: readonly string[]): string {
  return lines([...comments(header), ...rows.flatMap((r) => (labelText(r.label) === '' ? [] : [`# ${labelText(r.label)}`]).concat(r.prefix.toString()))]);
}
