/** The reverse proxies' formats: an nginx include (allow …; deny all;) and an HAProxy pattern file. */
import {byEffect, ExportRow} from '../effective-list.js';
import {commentText, comments, lines} from './text.js';

/** nginx takes the first rule that matches: deny entries first, then the allow entries, then `deny all;`. */
export function renderNginx(rows: readonly ExportRow[], header: readonly string[]): string {
  const {deny, allow} = byEffect(rows);
  const rule = (verb: string) => (r: ExportRow) =>
    // nginx reads 255.255.255.255 as its own "no address" and refuses the whole file; no client has that address.
    r.prefix.toString() === BROADCAST
      ? `# ${verb} ${BROADCAST}; left out: nginx cannot read it, and no client has it`
      : `${verb} ${r.prefix.toString()};${commentText(r.label) === '' ? '' : `  # ${commentText(r.label)}`}`;
  return lines([...comments(header), ...deny.map(rule('deny')), ...allow.map(rule('allow')), 'deny all;']);
}

/** The IPv4 limited broadcast address, as an entry is written. */
const BROADCAST = '255.255.255.255';

/**
 * For `acl NAME src -f FILE` (the allowed addresses: deny entries already
 * subtracted, and the IPv4-mapped addresses taken out of the IPv6 ranges:
 * writtenRows). HAProxy pattern files take comments only on lines of their
 * own. IPv4 ranges are written as IPv4-mapped IPv6 ranges (10.0.0.0/8 as
 * ::ffff:10.0.0.0/104): HAProxy matches an IPv4 pattern against a 6to4
 * client too (2002:a00:1::/48 as 10.0.0.1), which keyward decides as the
 * IPv6 address it is, while an IPv4 client still matches its mapped form.
 */
export function renderHaproxy(rows: readonly ExportRow[], header: readonly string[]): string {
  const mapped = (r: ExportRow) =>
    r.prefix.family === 4 ? `::ffff:${r.prefix.address.toString()}${r.prefix.bits === 32 ? '' : `/${96 + r.prefix.bits}`}` : r.prefix.toString();
  const note = 'IPv4 ranges are written as IPv4-mapped IPv6 (::ffff:a.b.c.d/96+n): an IPv4 client matches them, a 6to4 client (2002::/16) does not';
  return lines([...comments([...header, note]), ...rows.flatMap((r) => (commentText(r.label) === '' ? [] : [`# ${commentText(r.label)}`]).concat(mapped(r)))]);
}
