import path from 'node:path';
import * as Flags from '@oclif/core/flags';
import {maskSecrets, untrusted} from '../core/errors.js';
import {aggregateRows, effectiveList, inGroup} from '../core/effective-list.js';
import {checkGroupName} from '../core/keys.js';
import {groupFlag, quietFlag} from '../cli/flags.js';
import {DEFAULT_NAMES, EXPORT_FORMATS, exportFormat, exportWarnings, headerLines, MAX_SET_NAME, renderExport, writtenRows} from '../core/render/index.js';
import {KeywardCommand, write} from '../cli/base.js';
import {count as counted} from '../core/count.js';

export default class Export extends KeywardCommand {
  static summary = 'Write the effective allowlist in a format a gateway loads (nginx, HAProxy, nftables, ipset, CrowdSec) or as plain, CSV or JSON.';
  static description = `Without --key: the account list. With --key NAME: what that key may be used from, by the rules of \`check\` — its own list intersected with the account list when its channel's blocking is active, the account list when it has no list, its own list while blocking is learning or inactive. A key nothing restricts (no list, blocking not active) is refused with exit 4: "every address" is not an allowlist. A revoked key is refused with exit 2.

Expired entries are left out; learned entries are kept. --group NAME keeps only the entries of that group. Output is sorted and stable; formats that take comments start with a header naming keyward, the scope and the time (--no-timestamp leaves the time out). Labels appear only in comments or quoted data fields, with line breaks and control characters removed.

Deny entries are exported too and disabled entries left out: plain and csv write a deny entry as !ENTRY (as sync reads it), json with "effect": "deny", nginx as deny …; lines before the allow lines; haproxy, nftables, ipset and crowdsec, which have no deny rule here, get the set difference (the allowed ranges less the denied addresses).

Formats: plain (one entry a line, "ENTRY # label" when it has a label), csv (the fields of \`list --json\`, group last), json (the fields of \`list --json\`), nginx (deny …; then allow …; lines, then deny all;), haproxy (a pattern file for \`acl NAME src -f FILE\`), nftables (table inet TABLE with interval sets SET_v4 and SET_v6, flushed and refilled in one \`nft -f\` transaction), ipset (\`ipset restore\` script: hash:net sets SET_v4 and SET_v6, filled through a temporary set and swapped in), crowdsec (the CSV \`cscli allowlists import\` reads: value,expiration,comment). \`sync\` reads plain, csv and json back (labels; csv and json also group and expiry).

--output FILE replaces FILE atomically (mode 0644, less the umask). --json prints the JSON array when writing to stdout, or a summary {file, format, scope, entries, aggregated} with --output.`;
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
    const data = await this.readStore();
    if (flags.group !== undefined) checkGroupName(flags.group);
    const effective = effectiveList(data, flags.key, this.now);
    const list = flags.group === undefined ? effective : inGroup(effective, flags.group);
    const rows = flags.aggregate ? aggregateRows(list.rows, list.scope) : list.rows;
    const generatedAt = flags['no-timestamp'] ? null : this.now;
    const count = writtenRows(rows, format).length;
    const header = headerLines({format, description: list.description, count, aggregated: Boolean(flags.aggregate), generatedAt, rows});
    const names = {table: flags.table ?? DEFAULT_NAMES.table, set: flags.set ?? DEFAULT_NAMES.set};
    const text = renderExport(rows, {format, header, now: this.now, names});
    if (toFile) await this.writeOutput(flags.output!, text);
    else await write(process.stdout, text);
    for (const warning of exportWarnings(data, list, rows, format)) await this.tell(warning, 'warn');
    // To stdout the export is the output (--json: its JSON array); to a file, --json prints this summary.
    if (!toFile) return undefined;
    // The path as given may hold a secret-shaped run (40 hex digits): shown by its hint, like every echo of an input.
    const summary = {file: maskSecrets(path.resolve(flags.output!)), format, scope: list.scope, entries: count, aggregated: Boolean(flags.aggregate)};
    if (!this.json) await this.tell(`wrote ${counted(count, 'entry', 'entries')} (${format}) to ${untrusted(summary.file)}`, 'ok');
    return summary;
  }
}
