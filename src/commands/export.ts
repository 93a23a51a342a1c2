import * as Flags from '@oclif/core/flags';
import {maskSecrets, untrusted} from '../core/errors.js';
import {aggregateByEffect, earliestExpiry, rangeCount} from '../core/aggregate.js';
import {aggregateRows, checkGroupKnown, EffectiveList, effectiveList, ExportRow, inGroup} from '../core/effective-list.js';
import {checkGroupName} from '../core/keys.js';
import {groupFlag, quietFlag} from '../cli/flags.js';
import {
  DEFAULT_NAMES,
  EXPORT_FORMATS,
  ExportFormat,
  exportFormat,
  exportWarnings,
  FirewallNames,
  headerLines,
  MAX_SET_NAME,
  rangeRows,
  rangeWarnings,
  renderExport,
  renderPlainRanges,
  writtenRows,
} from '../core/render/index.js';
import {readIndexCache} from '../store/index-cache.js';
import {KeywardCommand, write} from '../cli/base.js';
import {count as counted} from '../core/count.js';

/** The formats `sync` reads back: a group's file of them holds the group's entries alone. */
const DATA_FORMATS: ReadonlySet<ExportFormat> = new Set(['plain', 'csv', 'json']);

export default class Export extends KeywardCommand {
  static summary = 'Write the effective allowlist in a format a gateway loads (nginx, HAProxy, nftables, ipset, CrowdSec) or as plain, CSV or JSON.';
  static description = `Without --key: the account list. With --key NAME: what that key may be used from, by the rules of \`check\` — its own list intersected with the account list when its channel's blocking is active, the account list when it has no list, its own list while blocking is learning or inactive. A key nothing restricts (no list, blocking not active) is refused with exit 4: "every address" is not an allowlist. A revoked key is refused with exit 2.

Expired entries are left out; learned entries are kept. --group NAME keeps only the entries of that group. Output is sorted and stable; formats that take comments start with a header naming keyward, the scope and the time (--no-timestamp leaves the time out). Labels appear only in comments or quoted data fields, with line breaks and control characters removed.

Deny entries are exported too and disabled entries left out: plain and csv write a deny entry as !ENTRY (as sync reads it), json with "effect": "deny", nginx as deny …; lines before the allow lines; haproxy, nftables, ipset and crowdsec, which have no deny rule here, get the set difference (the allowed ranges less the denied addresses).

Formats: plain (one entry a line, "ENTRY # label" when it has a label), csv (entry,scope,source,label,addedAt,expiresAt,group: a deny entry written !ENTRY, no effect or enabled column), json (the fields of \`list --json\`), nginx (deny …; then allow …; lines, then deny all;), haproxy (a pattern file for \`acl NAME src -f FILE\`; IPv4 ranges written as IPv4-mapped IPv6, ::ffff:a.b.c.d/96+n, since HAProxy matches IPv4 patterns against 6to4 clients and IPv4 clients against IPv6 patterns as ::ffff:a.b.c.d), nftables (table inet TABLE with interval sets SET_v4 and SET_v6, flushed and refilled in one \`nft -f\` transaction), ipset (\`ipset restore\` script: hash:net sets SET_v4 and SET_v6, filled through a temporary set and swapped in), crowdsec (the CSV \`cscli allowlists import\` reads: value,expiration,comment). \`sync\` reads plain, csv and json back (labels; csv and json also group and expiry).

--output FILE replaces FILE atomically (mode 0644, less the umask). --json prints the JSON array when writing to stdout, or a summary {file, format, scope, entries, aggregated} with --output (the file is then in --format, plain by default, with or without --json).`;
  static examples = [
    {
      description: 'An nginx include for the API gateway, reloaded only when valid',
      command: '<%= config.bin %> export --key billing --format nginx --output /etc/nginx/keyward/billing.conf && nginx -t && nginx -s reload',
    },
    {
      description: 'Fill nftables sets (rules use @keyward_allow_v4 / @keyward_allow_v6)',
      command: '<%= config.bin %> export --format nftables --aggregate | nft -f -',
    },
    {
      description: "Swap a key's list into ipset sets atomically",
      command: '<%= config.bin %> export --key relay --format ipset --set relay_allow | ipset restore',
    },
    {
      description: 'An HAProxy ACL file, byte-identical while the list does not change',
      command: '<%= config.bin %> export --format haproxy --no-timestamp --output /etc/haproxy/keyward.acl',
    },
    {
      description: 'Import into a CrowdSec allowlist',
      command: '<%= config.bin %> export --format crowdsec | cscli allowlists import keyward -i -',
    },
    {
      description: 'The effective list as JSON, for a CI check',
      command: "<%= config.bin %> export --key billing --json | jq -r '.[].entry'",
    },
  ];
  static flags = {
    key: Flags.string({char: 'k', description: "export this key's effective allowlist (name or secret) instead of the account list", helpValue: 'NAME'}),
    format: Flags.option({options: EXPORT_FORMATS, description: 'output format [default: plain]'})(),
    group: groupFlag('only the entries of group NAME (of the effective list: for a key, the pieces that come from entries of that group)'),
    aggregate: Flags.boolean({char: 'a', description: 'write the fewest CIDR ranges covering the same addresses (labels are dropped)'}),
    output: Flags.string({char: 'o', description: 'write to FILE atomically instead of stdout ("-": stdout)', helpValue: 'FILE'}),
    // One flag by the name the text uses (an allowNo flag showed --timestamp in usage and completion).
    'no-timestamp': Flags.boolean({description: 'leave the time of export out of the header comment: reproducible output'}),
    table: Flags.string({description: `nftables: the table (family inet) holding the sets [default: ${DEFAULT_NAMES.table}]`, helpValue: 'NAME'}),
    set: Flags.string({
      description: `nftables, ipset: base name of the sets, NAME_v4 and NAME_v6 (at most ${MAX_SET_NAME} characters) [default: ${DEFAULT_NAMES.set}]`,
      helpValue: 'NAME',
    }),
    quiet: quietFlag,
  };

  async run() {
    const {flags} = await this.parse(Export);
    const toFile = flags.output !== undefined && flags.output !== '-';
    const format = exportFormat({format: flags.format, json: this.json, toFile, table: flags.table, set: flags.set});
    const generatedAt = flags['no-timestamp'] ? null : this.now;
    const names = {table: flags.table ?? DEFAULT_NAMES.table, set: flags.set ?? DEFAULT_NAMES.set};
    const aggregated = Boolean(flags.aggregate);
    const out =
      (aggregated && flags.key === undefined && flags.group === undefined && this.fromCache(format, generatedAt, names)) ||
      (await this.fromStore(flags, format, generatedAt, names));
    const {scope, count, text, warnings} = out;
    const file = toFile ? await this.writeOutput(flags.output!, text) : undefined;
    if (!toFile) await write(process.stdout, text);
    for (const warning of warnings) await this.tell(warning, 'warn');
    // To stdout the export is the output (--json: its JSON array); to a file, --json prints this summary.
    if (file === undefined) return undefined;
    // The path as given may hold a secret-shaped run (40 hex digits): shown by its hint, like every echo of an input.
    const summary = {file: maskSecrets(file), format, scope, entries: count, aggregated};
    if (!this.json) await this.tell(`wrote ${counted(count, 'entry', 'entries')} (${format}) to ${untrusted(summary.file)}`, 'ok');
    return summary;
  }

  /** The export from the store: its effective list, aggregated when asked. */
  private async fromStore(flags: {key?: string; group?: string; aggregate: boolean}, format: ExportFormat, generatedAt: Date | null, names: FirewallNames): Promise<Written> {
    const data = await this.readStore();
    if (flags.group !== undefined) {
      checkGroupName(flags.group);
      checkGroupKnown(data, flags.group);
    }
    const effective = effectiveList(data, flags.key, this.now);
    // (A gateway's file keeps every deny entry; a data file, read back by sync --group, only the group's.)
    const list = flags.group === undefined ? effective : inGroup(effective, flags.group, !DATA_FORMATS.has(format));
    const rows = flags.aggregate ? aggregateRows(list.rows, list.scope, TIMED_FORMATS.has(format)) : list.rows;
    return written(list, rows, format, flags.aggregate, generatedAt, names, this.now, (r) => exportWarnings(data, list, r, format));
  }

  /**
   * `export --aggregate` of the account list from the index cache, when it
   * provably belongs to the store file as it is now (see
   * store/index-cache.ts): the account list's enabled entries, their expiry
   * and effect, compiled and sorted, are all an aggregate needs, so the JSON
   * is not read. Null when there is no such cache: the store is read.
   */
  private fromCache(format: ExportFormat, generatedAt: Date | null, names: FirewallNames): Written | null {
    const cached = readIndexCache(this.storeFile, this.now);
    if (cached === null) return null;
    const nowMs = this.now.getTime();
    const {deny, allow} = aggregateByEffect(cached.account.compiled.arrays, nowMs, cached.account.deny);
    // (Columns give each range the earliest expiry inside it: a format that writes expiries takes the rows' way.)
    if (TIMED_FORMATS.has(format) && Math.min(earliestExpiry(deny), earliestExpiry(allow)) !== Number.POSITIVE_INFINITY) return null;
    const list = {scope: 'account', description: 'the account list', channel: null, state: null};
    if (format === 'plain') {
      const text = renderPlainRanges(deny, allow);
      return {scope: list.scope, count: rangeCount(deny) + rangeCount(allow), text, warnings: rangeWarnings(cached.data, list, deny, allow, format)};
    }
    const rows = rangeRows(deny, allow, list.scope);
    return written({...list, rows}, rows, format, true, generatedAt, names, this.now, (r) => exportWarnings(cached.data, {...list, rows}, r, format));
  }
}

/** The formats that write each range's expiry: aggregated, each address keeps the latest expiry of the entries holding it. */
const TIMED_FORMATS: ReadonlySet<ExportFormat> = new Set(['csv', 'json', 'crowdsec']);

/** An export made: its text, its count of entries and what to warn of. */
interface Written {
  scope: string;
  count: number;
  text: string;
  warnings: string[];
}

function written(
  list: EffectiveList,
  rows: ExportRow[],
  format: ExportFormat,
  aggregated: boolean,
  generatedAt: Date | null,
  names: FirewallNames,
  now: Date,
  warn: (rows: ExportRow[]) => string[],
): Written {
  const count = writtenRows(rows, format).length;
  const header = headerLines({format, description: list.description, count, aggregated, generatedAt, rows});
  const text = renderExport(rows, {format, header, now, names});
  return {scope: list.scope, count, text, warnings: warn(rows)};
}
