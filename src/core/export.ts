/**
 * Export: the effective allowlist of the account or of one key, at one
 * moment, written in the formats gateways load (nginx, HAProxy, nftables,
 * ipset, CrowdSec) or read back as data (plain, CSV, JSON). Pure functions:
 * the command reads the store and writes the text.
 */
import {aggregate} from './aggregate.js';
import {isLive} from './decision.js';
import {InputError, SafetyError} from './errors.js';
import {findKey} from './keys.js';
import {BlockingState, Channel, EntryRecord, EntrySource, StoreData} from './model.js';
import {Prefix} from './prefix.js';
import {CompiledIndex} from './prefix-index.js';
import {intersect, outermost, sortByPrefix, TimedPrefix} from './set-ops.js';

export const EXPORT_FORMATS = ['plain', 'csv', 'json', 'nginx', 'haproxy', 'nftables', 'ipset', 'crowdsec'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Formats with a way to carry an entry's expiry; the others keep an entry until the next export. */
const EXPIRY_FORMATS: ReadonlySet<ExportFormat> = new Set(['csv', 'json', 'crowdsec']);

export function formatCarriesExpiry(format: ExportFormat): boolean {
  return EXPIRY_FORMATS.has(format);
}

/** One exported entry, with the fields of `list --json`. Aggregated entries have no source, label or date. */
export interface ExportRow {
  prefix: Prefix;
  /** "account", or the key's name for an entry of its own list. */
  scope: string;
  source: EntrySource | null;
  label: string | null;
  addedAt: string | null;
  /** When the entry leaves the effective list (for a key: the earlier of its expiry and the account entries covering it). */
  expiresAt: string | null;
}

/** What is exported and why. */
export interface EffectiveList {
  /** "account" or the key's name. */
  scope: string;
  /** The list in words, for header comments and messages: "the account list", "key billing (api): …". */
  description: string;
  rows: ExportRow[];
  /** For a key: its channel and that channel's blocking state at the moment of export. */
  channel: Channel | null;
  state: BlockingState | null;
}

function expiresMs(record: EntryRecord): number {
  return record.expiresAt === null ? Number.POSITIVE_INFINITY : Date.parse(record.expiresAt);
}

function isoOrNull(ms: number): string | null {
  return ms === Number.POSITIVE_INFINITY ? null : new Date(ms).toISOString();
}

function rowOf(record: EntryRecord, scope: string, expires: number = expiresMs(record)): ExportRow {
  return {
    prefix: Prefix.parse(record.entry),
    scope,
    source: record.source,
    label: record.label,
    addedAt: record.addedAt,
    expiresAt: isoOrNull(expires),
  };
}

/** Rows in list order (Prefix.compare); no two rows have the same range. */
function sortRows(rows: ExportRow[]): ExportRow[] {
  return sortByPrefix(rows, (r) => r.prefix);
}

/**
 * The allowlist in force at `now` for the account (no key) or for a key, by
 * the rules of `check`: expired entries are left out, learned ones kept.
 *
 * - account: the account list.
 * - a key whose channel blocks (`active`): its own list intersected with the
 *   account list, or the account list when it has no list.
 * - a key whose channel does not block (`learning`, `inactive`): its own list.
 *
 * A key that nothing restricts (no list of its own, blocking not active)
 * allows every address, which no allowlist can say: a SafetyError (exit 4).
 * A revoked key allows no use at all: an InputError (exit 2).
 */
export function effectiveList(data: StoreData, keyName: string | undefined, now: Date): EffectiveList {
  const nowMs = now.getTime();
  const account = data.account.filter((r) => isLive(r, now));
  if (keyName === undefined) {
    return {scope: 'account', description: 'the account list', rows: sortRows(account.map((r) => rowOf(r, 'account'))), channel: null, state: null};
  }
  const key = findKey(data.keys, keyName);
  const who = `key ${key.name} (${key.type})`;
  if (key.status === 'revoked') {
    throw new InputError(
      `${who} is revoked: it is refused from every address, so it has no allowlist to export`,
      'remove its rule from the gateway, or export another key; `keyward keys list` shows the keys',
    );
  }
  const state = data.blocking[key.type].state;
  // A key whose list holds only expired entries still has a list: it allows nothing (as in `check`).
  const hasList = key.allow.length > 0;
  const own = key.allow.filter((r) => isLive(r, now));
  const base = {scope: key.name, channel: key.type, state};
  if (state !== 'active') {
    if (!hasList) {
      throw new SafetyError(
        `${who} is not restricted: it has no list of its own and ${key.type} blocking is ${state}, so every address may use it; an allowlist cannot say "every address"`,
        `give it a list (keyward authorize --key ${key.name} ENTRY), turn blocking on (keyward activate --${key.type}), or export the account list (keyward export)`,
      );
    }
    return {...base, description: `${who}: its own list (${key.type} blocking ${state})`, rows: sortRows(own.map((r) => rowOf(r, key.name)))};
  }
  if (!hasList) {
    return {
      ...base,
      description: `${who}: the account list (${key.type} blocking active; the key has no list of its own)`,
      rows: sortRows(account.map((r) => rowOf(r, 'account'))),
    };
  }
  const timed = (records: EntryRecord[]): TimedPrefix[] => records.map((r) => ({prefix: Prefix.parse(r.entry), expiresMs: expiresMs(r)}));
  const pieces = intersect(timed(own), timed(account)).filter((p) => p.expiresMs > nowMs);
  const rows = pieces.map((p) => (p.from.list === 'a' ? rowOf(own[p.from.index], key.name, p.expiresMs) : rowOf(account[p.from.index], 'account', p.expiresMs)));
  return {...base, description: `${who}: its own list intersected with the account list (${key.type} blocking active)`, rows: sortRows(rows)};
}

/**
 * The fewest CIDR ranges covering the rows' addresses. Each range expires
 * with the earliest-expiring row inside it, so that no range outlives an
 * entry it stands for (export again then to keep the rest).
 */
export function aggregateRows(rows: readonly ExportRow[], scope: string): ExportRow[] {
  const ranges = aggregate(rows.map((r) => r.prefix));
  const earliest = ranges.map(() => Number.POSITIVE_INFINITY);
  // Every row lies inside exactly one of the ranges.
  const index = CompiledIndex.fromTexts(ranges.map(String));
  for (const row of rows) {
    if (row.expiresAt === null) continue;
    const ms = Date.parse(row.expiresAt);
    const p = row.prefix.masked();
    for (const i of index.covering(p.family, p.address.words(), p.bits)) if (ms < earliest[i]) earliest[i] = ms;
  }
  return ranges.map((prefix, i) => ({prefix, scope, source: null, label: null, addedAt: null, expiresAt: isoOrNull(earliest[i])}));
}

// ---- Rendering -----------------------------------------------------------------------

/**
 * Characters that would end a comment or a line (C0 controls, CR, LF, DEL,
 * C1, U+2028/9) or make text read differently from what it is (bidi
 * overrides, zero-width and other invisible format characters).
 */
const UNSAFE_TEXT = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]+/g;

/** What JSON.stringify leaves raw of UNSAFE_TEXT (it escapes C0 controls itself). */
const JSON_RAW = /[\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/g;

/** Free text (a label) made safe for one line: unsafe characters become a space, spaces collapsed, trimmed. */
export function oneLine(text: string): string {
  return text.replace(UNSAFE_TEXT, ' ').replace(/ {2,}/g, ' ').trim();
}

/** A CSV field (RFC 4180): quoted when it holds a comma, a quote or edge spaces; free text made one line first. */
function csvField(value: string | null): string {
  if (value === null) return '';
  const text = oneLine(value);
  return /[",]|^ | $/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Set and table names for the firewall formats. */
export interface FirewallNames {
  /** nftables table (family inet). */
  table: string;
  /** Base name of the sets: NAME_v4 and NAME_v6 (ipset also uses NAME_v4_tmp, NAME_v6_tmp while loading). */
  set: string;
}

export const DEFAULT_NAMES: FirewallNames = {table: 'keyward', set: 'keyward_allow'};

/** Longest base set name: ipset names have at most 31 characters, and "_v4_tmp" takes 7. */
export const MAX_SET_NAME = 24;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Checks a table or set name given on the command line; throws an InputError. */
export function checkFirewallName(what: 'table' | 'set', name: string): void {
  const max = what === 'set' ? MAX_SET_NAME : 64;
  if (!NAME.test(name) || name.length > max) {
    throw new InputError(`--${what} ${JSON.stringify(name)} is not a usable name: use 1 to ${max} letters, digits and "_", not starting with a digit`);
  }
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
  lines.push('do not edit: change the keyward store and export again');
  return lines.map(oneLine);
}

/** The earliest expiry among rows (ISO), or null. */
export function firstExpiry(rows: readonly ExportRow[]): string | null {
  let first: string | null = null;
  for (const r of rows) if (r.expiresAt !== null && (first === null || Date.parse(r.expiresAt) < Date.parse(first))) first = r.expiresAt;
  return first;
}

/** The rows as `list --json` writes entries. */
export function jsonRows(rows: readonly ExportRow[]): {entry: string; scope: string; source: EntrySource | null; label: string | null; addedAt: string | null; expiresAt: string | null}[] {
  return rows.map((r) => ({entry: r.prefix.toString(), scope: r.scope, source: r.source, label: r.label, addedAt: r.addedAt, expiresAt: r.expiresAt}));
}

const comments = (header: readonly string[]) => header.map((line) => `# ${line}`);
const lines = (list: readonly string[]) => (list.length === 0 ? '' : `${list.join('\n')}\n`);

/** `cscli` durations (go-cs-lib cstime): days first, then h, m, s; whole seconds, rounded down. */
export function crowdsecDuration(ms: number): string {
  let s = Math.max(0, Math.floor(ms / 1000));
  const days = Math.floor(s / 86_400);
  s -= days * 86_400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const parts = [days > 0 ? `${days}d` : '', h > 0 ? `${h}h` : '', m > 0 ? `${m}m` : '', s > 0 ? `${s}s` : ''].join('');
  return parts === '' ? '0s' : parts;
}

/**
 * ipset's hash:net takes prefix lengths 1–32 (1–128): /0 is written as its two
 * halves.
 */
function ipsetEntries(prefix: Prefix): string[] {
  if (prefix.bits > 0) return [prefix.toString()];
  return prefix.family === 4 ? ['0.0.0.0/1', '128.0.0.0/1'] : ['::/1', '8000::/1'];
}

/** Room in an ipset set: at least 2^20 entries, fixed so that re-creating it with -exist matches. */
function ipsetMaxElem(count: number): number {
  let max = 1 << 20;
  while (max < count) max *= 2;
  return max;
}

/** The rows in `format`. Rows are expected sorted (as effectiveList and aggregateRows give them). */
export function renderExport(rows: readonly ExportRow[], options: RenderOptions): string {
  const names = options.names ?? DEFAULT_NAMES;
  const label = (r: ExportRow) => (r.label === null ? '' : oneLine(r.label));
  switch (options.format) {
    case 'plain':
      return lines(rows.map((r) => r.prefix.toString()));
    case 'json':
      // The same values, with the characters JSON leaves raw that a terminal or a JavaScript parser would act on escaped.
      return `${JSON.stringify(jsonRows(rows), null, 2).replace(JSON_RAW, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
    case 'csv':
      return lines([
        'entry,scope,source,label,addedAt,expiresAt',
        ...rows.map((r) => [r.prefix.toString(), r.scope, r.source, r.label, r.addedAt, r.expiresAt].map(csvField).join(',')),
      ]);
    case 'crowdsec':
      return lines([
        'value,expiration,comment',
        ...rows.map((r) => {
          const expiration = r.expiresAt === null ? '' : crowdsecDuration(Date.parse(r.expiresAt) - options.now.getTime());
          return [r.prefix.toString(), expiration, r.label].map(csvField).join(',');
        }),
      ]);
    case 'nginx':
      return lines([
        ...comments(options.header),
        ...rows.map((r) => `allow ${r.prefix.toString()};${label(r) === '' ? '' : `  # ${label(r)}`}`),
        'deny all;',
      ]);
    case 'haproxy':
      // HAProxy pattern files take comments only on lines of their own.
      return lines([...comments(options.header), ...rows.flatMap((r) => (label(r) === '' ? [] : [`# ${label(r)}`]).concat(r.prefix.toString()))]);
    case 'nftables':
      return renderNftables(rows, options.header, names, label);
    case 'ipset':
      return renderIpset(rows, options.header, names, label);
  }
}

/**
 * An nftables script for `nft -f`: declares table inet TABLE with interval
 * sets SET_v4 and SET_v6, flushes them and fills them, in one transaction,
 * leaving the table's other sets and chains alone. Interval sets refuse
 * nested elements, so entries inside another entry are left out (the outer
 * one holds their addresses).
 */
function renderNftables(rows: readonly ExportRow[], header: readonly string[], names: FirewallNames, label: (r: ExportRow) => string): string {
  const kept = outermost(rows.map((r) => r.prefix)).map((i) => rows[i]);
  const out = [...comments(header)];
  const sets = [
    {name: `${names.set}_v4`, type: 'ipv4_addr', rows: kept.filter((r) => r.prefix.family === 4)},
    {name: `${names.set}_v6`, type: 'ipv6_addr', rows: kept.filter((r) => r.prefix.family === 6)},
  ];
  out.push(`table inet ${names.table} {`);
  for (const set of sets) out.push(`\tset ${set.name} {`, `\t\ttype ${set.type}`, '\t\tflags interval', '\t}');
  out.push('}');
  for (const set of sets) out.push(`flush set inet ${names.table} ${set.name}`);
  const filled = sets.filter((s) => s.rows.length > 0);
  if (filled.length > 0) {
    out.push(`table inet ${names.table} {`);
    for (const set of filled) {
      out.push(`\tset ${set.name} {`, `\t\ttype ${set.type}`, '\t\tflags interval', '\t\telements = {');
      for (const r of set.rows) out.push(`\t\t\t${r.prefix.toString()},${label(r) === '' ? '' : ` # ${label(r)}`}`);
      out.push('\t\t}', '\t}');
    }
    out.push('}');
  }
  return lines(out);
}

/**
 * An `ipset restore` script: for each family, creates the set (hash:net) if
 * it is missing, fills a temporary set and swaps it in, so that rules using
 * the set see the old contents or the new, never a half-filled set.
 */
function renderIpset(rows: readonly ExportRow[], header: readonly string[], names: FirewallNames, label: (r: ExportRow) => string): string {
  const out = [...comments(header)];
  for (const [family, suffix, inet] of [[4, 'v4', 'inet'], [6, 'v6', 'inet6']] as const) {
    const set = `${names.set}_${suffix}`;
    const tmp = `${set}_tmp`;
    const mine = rows.filter((r) => r.prefix.family === family);
    const entries = mine.flatMap((r) => ipsetEntries(r.prefix));
    const params = `hash:net family ${inet} hashsize 1024 maxelem ${ipsetMaxElem(entries.length)}`;
    out.push(`create ${set} ${params} -exist`, `create ${tmp} ${params} -exist`, `flush ${tmp}`);
    for (const r of mine) {
      if (label(r) !== '') out.push(`# ${label(r)}`);
      for (const e of ipsetEntries(r.prefix)) out.push(`add ${tmp} ${e} -exist`);
    }
    out.push(`swap ${tmp} ${set}`, `destroy ${tmp}`);
  }
  return lines(out);
}
