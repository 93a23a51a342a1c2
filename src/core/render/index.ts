/**
 * The export formats: the effective list's rows (effective-list.ts) written
 * as gateways load them (nginx, HAProxy, nftables, ipset, CrowdSec) or as
 * data (plain, CSV, JSON). Pure text functions, one module per family.
 */
import {anyOutside, earliestExpiry, RangeColumns, rangePrefixes, rangeTexts} from '../aggregate.js';
import {InputError} from '../errors.js';
import {Prefix} from '../prefix.js';
import {subtract} from '../set-ops.js';
import {allowedRows, anyAllowed, EffectiveList, ExportRow, firstExpiry} from '../effective-list.js';
import {StoreData} from '../model.js';
import {renderCrowdsec} from './crowdsec.js';
import {renderCsv, renderJson, renderPlain} from './data.js';
import {checkFirewallName, DEFAULT_NAMES, FirewallNames, renderIpset, renderNftables} from './firewalls.js';
import {renderHaproxy, renderNginx} from './proxies.js';
import {flattenText} from './text.js';

export {crowdsecDuration} from './crowdsec.js';
export {checkFirewallName, DEFAULT_NAMES, MAX_SET_NAME} from './firewalls.js';
export type {FirewallNames} from './firewalls.js';
export {flattenText} from './text.js';

export const EXPORT_FORMATS = ['plain', 'csv', 'json', 'nginx', 'haproxy', 'nftables', 'ipset', 'crowdsec'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Formats with a way to carry an entry's expiry; the others keep an entry until the next export. */
const EXPIRY_FORMATS: ReadonlySet<ExportFormat> = new Set(['csv', 'json', 'crowdsec']);

export function formatCarriesExpiry(format: ExportFormat): boolean {
  return EXPIRY_FORMATS.has(format);
}

export interface RenderOptions {
  format: ExportFormat;
  /** Header comment lines (no comment marker); written by the formats that allow comments. */
  header: readonly string[];
  /** The moment of export: CrowdSec's expirations are durations from it. */
  now: Date;
  names?: FirewallNames;
}

/** The header comment lines: what the list is, how many entries, when, and when it must be exported again. */
export function headerLines(options: {
  format: ExportFormat;
  description: string;
  count: number;
  aggregated: boolean;
  generatedAt: Date | null;
  rows: readonly ExportRow[];
}): string[] {
  const lines = [`keyward export (${options.format}): ${options.description}`];
  const count = `${options.count} ${options.count === 1 ? 'entry' : 'entries'}${options.aggregated ? ', aggregated to the fewest CIDR ranges' : ''}`;
  lines.push(options.generatedAt === null ? count : `${count}; generated ${options.generatedAt.toISOString()}`);
  const first = firstExpiry(options.rows);
  if (first !== null && !formatCarriesExpiry(options.format)) {
    lines.push(`an entry expires at ${first}: this file does not expire entries, export again before then`);
  }
  const denied = firstDenyExpiry(options.format, options.rows);
  if (denied !== null) lines.push(`a deny entry expires at ${denied}: its addresses are left out of this file until you export again`);
  lines.push('do not edit: change the keyward store and export again');
  return lines.map(flattenText);
}

/** Formats without a deny rule: they are written the allow rows less the deny rows' addresses (allowedRows). */
const SUBTRACTING: ReadonlySet<ExportFormat> = new Set(['haproxy', 'nftables', 'ipset', 'crowdsec']);

/** The rows a format writes: every row, or for a format without deny rules the allowed addresses (allowedRows). */
export function writtenRows(rows: readonly ExportRow[], format: ExportFormat): readonly ExportRow[] {
  if (!SUBTRACTING.has(format)) return rows;
  return format === 'haproxy' ? withoutMapped(allowedRows(rows)) : allowedRows(rows);
}

/** Every IPv4-mapped IPv6 address, ::ffff:0:0/96. */
const MAPPED = Prefix.fromScanned({family: 6, bits: 96, words: Uint32Array.of(0, 0, 0xffff, 0)});

/**
 * The rows with the IPv4-mapped addresses taken out of the IPv6 ranges, for
 * HAProxy, which matches an IPv4 client against IPv6 patterns as
 * ::ffff:a.b.c.d: an IPv6 entry such as ::/64 would let every IPv4 client
 * in, where keyward decides a mapped address as the IPv4 address it is.
 * (renderHaproxy writes the IPv4 ranges in that mapped form.)
 */
function withoutMapped(rows: readonly ExportRow[]): readonly ExportRow[] {
  if (!rows.some((r) => r.prefix.family === 6 && (r.prefix.covers(MAPPED) || MAPPED.covers(r.prefix)))) return rows;
  return rows.flatMap((r) => (r.prefix.family === 6 ? subtract(r.prefix, [MAPPED]).map((prefix) => (prefix.equals(r.prefix) ? r : {...r, prefix})) : [r]));
}

/**
 * Aggregated ranges (aggregateArrays' columns, deny and allow) in plain, as
 * renderPlain writes aggregateRows' rows: deny ranges first as !ENTRY, one a
 * line. IPv4 ranges are written as bytes (no string per range); the text is
 * ASCII.
 */
export function renderPlainRanges(deny: RangeColumns, allow: RangeColumns): string {
  // At most "!255.255.255.255/32\n" (20 bytes) an IPv4 range; IPv6 ranges are written as text.
  let v6 = '';
  const v6Lines = (c: RangeColumns, mark: string) => rangeTexts({...c, v4Count: 0}, (text) => (v6 += `${mark}${text}\n`));
  const out = Buffer.allocUnsafe(20 * (deny.v4Count + allow.v4Count));
  let at = 0;
  const digits = (n: number) => {
    if (n >= 100) out[at++] = 48 + ((n / 100) | 0);
    if (n >= 10) out[at++] = 48 + (((n / 10) | 0) % 10);
    out[at++] = 48 + (n % 10);
  };
  const v4Lines = (c: RangeColumns, deny: boolean) => {
    for (let i = 0; i < c.v4Count; i++) {
      const a = c.v4[i];
      const bits = c.v4Bits[i];
      if (deny) out[at++] = 33; // !
      digits(a >>> 24);
      out[at++] = 46;
      digits((a >>> 16) & 255);
      out[at++] = 46;
      digits((a >>> 8) & 255);
      out[at++] = 46;
      digits(a & 255);
      if (bits !== 32) {
        out[at++] = 47; // /
        digits(bits);
      }
      out[at++] = 10;
    }
  };
  v4Lines(deny, true);
  v6Lines(deny, '!');
  const denyText = `${out.toString('latin1', 0, at)}${v6}`;
  const denyEnd = at;
  v6 = '';
  v4Lines(allow, false);
  v6Lines(allow, '');
  return `${denyText}${out.toString('latin1', denyEnd, at)}${v6}`;
}

/** Aggregated ranges (columns) as the rows aggregateRows makes of the same entries: deny ranges, then allow ranges. */
export function rangeRows(deny: RangeColumns, allow: RangeColumns, scope: string): ExportRow[] {
  const rows = (c: RangeColumns, effect: 'allow' | 'deny'): ExportRow[] =>
    rangePrefixes(c).map(({prefix, expiresMs}) => ({
      prefix,
      scope,
      source: null,
      label: null,
      addedAt: null,
      expiresAt: expiresMs === Number.POSITIVE_INFINITY ? null : new Date(expiresMs).toISOString(),
      group: null,
      effect,
    }));
  return [...rows(deny, 'deny'), ...rows(allow, 'allow')];
}

/** The rows in `format`. Rows are expected sorted (as effectiveList and aggregateRows give them). */
export function renderExport(rows: readonly ExportRow[], options: RenderOptions): string {
  const names = options.names ?? DEFAULT_NAMES;
  switch (options.format) {
    case 'plain':
      return renderPlain(rows);
    case 'json':
      return renderJson(rows);
    case 'csv':
      return renderCsv(rows);
    case 'nginx':
      return renderNginx(rows, options.header);
    // Formats without a deny rule get the set difference: the allow rows without the deny rows' addresses.
    case 'crowdsec':
      return renderCrowdsec(writtenRows(rows, 'crowdsec'), options.now);
    case 'haproxy':
      return renderHaproxy(writtenRows(rows, 'haproxy'), options.header);
    case 'nftables':
      return renderNftables(writtenRows(rows, 'nftables'), options.header, names);
    case 'ipset':
      return renderIpset(writtenRows(rows, 'ipset'), options.header, names);
  }
}

/**
 * The format an export is written in: --format, else JSON under --json, else
 * plain. --json to stdout prints the JSON array, so it takes no other format;
 * --table and --set are checked and taken only by the formats that use them.
 * Throws an InputError.
 */
export function exportFormat(options: {format?: ExportFormat; json: boolean; toFile: boolean; table?: string; set?: string}): ExportFormat {
  const {json, toFile} = options;
  if (json && !toFile && options.format !== undefined && options.format !== 'json') {
    throw new InputError(
      `--json prints the JSON array, not ${options.format}`,
      `drop --json, use --format json, or write the ${options.format} file with --output FILE (then --json prints a summary)`,
    );
  }
  // --json to stdout is the JSON array; with --output it is only the summary, and the file keeps the default format.
  const format: ExportFormat = options.format ?? (json && !toFile ? 'json' : 'plain');
  for (const [what, name] of [
    ['table', options.table],
    ['set', options.set],
  ] as const) {
    if (name === undefined) continue;
    if (format !== 'nftables' && (what === 'table' || format !== 'ipset')) {
      throw new InputError(`--${what} is for ${what === 'table' ? 'the nftables format' : 'the nftables and ipset formats'}, not ${format}`);
    }
    checkFirewallName(what, name);
  }
  return format;
}

/**
 * Whether a deny entry's expiry must be said for `format`: one that does not
 * write expiries keeps the entry's addresses out after it expires, and one
 * that writes them but subtracts deny entries (crowdsec) cannot give them
 * back either (an entry has an end, not a start).
 */
function denyExpiryLost(format: ExportFormat): boolean {
  return !formatCarriesExpiry(format) || SUBTRACTING.has(format);
}

/** The first expiry of a deny row, when `format` loses it (see denyExpiryLost); else null. */
function firstDenyExpiry(format: ExportFormat, rows: readonly ExportRow[]): string | null {
  return denyExpiryLost(format) ? firstExpiry(rows.filter((r) => r.effect === 'deny')) : null;
}

/** What a person should know about an exported file: it refuses everything, or it will outlive an entry. */
export function exportWarnings(data: StoreData, list: EffectiveList, rows: readonly ExportRow[], format: ExportFormat): string[] {
  return warningsOf(data, list, format, () => anyAllowed(rows), firstExpiry(rows.filter((r) => r.effect !== 'deny')), firstDenyExpiry(format, rows));
}

/**
 * exportWarnings for aggregated ranges given as columns (aggregateArrays):
 * `deny` and `allow` as aggregateRows makes them, of the list `list`.
 */
export function rangeWarnings(
  data: Pick<StoreData, 'blocking'>,
  list: Pick<EffectiveList, 'channel' | 'description'>,
  deny: RangeColumns,
  allow: RangeColumns,
  format: ExportFormat,
): string[] {
  const time = (ms: number) => (ms === Number.POSITIVE_INFINITY ? null : new Date(ms).toISOString());
  return warningsOf(data, list, format, () => anyOutside(allow, deny), time(earliestExpiry(allow)), denyExpiryLost(format) ? time(earliestExpiry(deny)) : null);
}

function warningsOf(
  data: Pick<StoreData, 'blocking'>,
  list: Pick<EffectiveList, 'channel' | 'description'>,
  format: ExportFormat,
  anyAllowed: () => boolean,
  firstAllow: string | null,
  firstDeny: string | null,
): string[] {
  const warnings: string[] = [];
  if (list.channel === null) {
    const api = data.blocking.api.state;
    const smtp = data.blocking.smtp.state;
    if (api !== 'active' && smtp !== 'active') {
      warnings.push(
        `note: blocking is not active (api ${api}, smtp ${smtp}): keyward allows keys without a list of their own from any address, a gateway loading this file only the account list`,
      );
    }
  }
  if (!anyAllowed()) warnings.push(`${list.description} is empty: a gateway loading this allowlist refuses every address`);
  if (firstAllow !== null && !formatCarriesExpiry(format)) warnings.push(`an exported entry expires at ${firstAllow}; the ${format} output keeps it until you export again`);
  if (firstDeny !== null) {
    const why = formatCarriesExpiry(format) ? ' (an entry there has an end, not a start)' : '';
    warnings.push(`a deny entry expires at ${firstDeny}; the ${format} output leaves its addresses out until you export again${why}`);
  }
  return warnings;
}
