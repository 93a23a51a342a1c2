import {Args, Flags} from '@oclif/core';
import {addEntries, blockedCoveredBy, parseEntries} from '../core/allowlist.js';
import {findKey} from '../core/keys.js';
import {parseExpiry} from '../core/time.js';
import {KeywardCommand} from '../cli/base.js';
import {dryRunFlag, fileFlag, keyFlag} from '../cli/flags.js';
import {readEntryInputs} from '../cli/input.js';
import {renderChange} from '../cli/views.js';

export default class Authorize extends KeywardCommand {
  static summary = 'Add entries to the account list, or to a key list with --key.';
  static description = `Entries are IPv4 or IPv6 addresses or CIDR ranges. Give them as arguments, with - or piped stdin, or with --file, one a line (ENTRY [# label]). An import is all or nothing: one bad line and nothing is written. Entries already covered by the list are reported, not added; authorizing a blocked address takes it off the blocked list.`;
  static examples = [
    '<%= config.bin %> authorize 203.0.113.7 2001:db8::/48 --label "office"',
    '<%= config.bin %> authorize --file allowlist.txt --dry-run',
    'cat ranges.txt | <%= config.bin %> authorize --key billing --expires 30d',
  ];
  static strict = false;
  // ignoreStdin: oclif would read piped stdin into a missing argument as one string; readEntryInputs reads it by line.
  static args = {entries: Args.string({description: 'entries to add; - reads stdin', ignoreStdin: true})};
  static flags = {
    key: keyFlag,
    file: fileFlag,
    label: Flags.string({char: 'l', description: 'label for entries that have none of their own'}),
    expires: Flags.string({description: 'expiry: a duration (30d, 12h, 2w) or an ISO 8601 time'}),
    normalize: Flags.boolean({description: 'accept ranges with host bits set as their network (192.168.1.25/24 → 192.168.1.0/24)'}),
    force: Flags.boolean({description: 'accept 0.0.0.0/0 and ::/0 (the whole internet)'}),
    'dry-run': dryRunFlag,
  };

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Authorize);
    this.setup(flags);
    const expiresAt = flags.expires ? parseExpiry(flags.expires, this.now).toISOString() : null;
    const inputs = await readEntryInputs({args: argv as string[], file: flags.file});
    const prefixes = parseEntries(inputs, {normalize: flags.normalize, force: flags.force});
    const entries = prefixes.map((prefix, i) => ({
      prefix,
      label: inputs[i].label ?? flags.label ?? null,
      source: inputs[i].where.startsWith('argument') ? ('manual' as const) : ('import' as const),
      expiresAt,
    }));
    const dryRun = flags['dry-run'];
    const result = await this.updateStore(
      (data) => {
        const key = flags.key === undefined ? undefined : findKey(data.keys, flags.key);
        const change = addEntries(key ? key.allow : data.account, entries, this.now);
        const unblocked = new Set(blockedCoveredBy(data.blocked, prefixes, key?.name));
        data.blocked = data.blocked.filter((b) => !unblocked.has(b));
        return {...change, unblocked: unblocked.size};
      },
      {dryRun},
    );
    if (result.unblocked > 0 && !this.json) await this.tell(`${result.unblocked} address(es) left the blocked list`);
    await this.report({added: result.added, unchanged: result.unchanged, dryRun}, () => renderChange('added', result, dryRun));
  }
}
