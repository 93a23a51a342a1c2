import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import {EntryInput, parseEntries} from '../core/entry-parse.js';
import {AuthorizeJson} from '../core/authorize.js';
import {blockedCandidates, blockedChosen, blockedInputs} from '../core/blocked-list.js';
import {InputError, maskSecrets} from '../core/errors.js';
import {parseExpiry} from '../core/time.js';
import {KeywardCommand} from '../cli/base.js';
import {broadFlag, dryRunFlag, fileFlag, groupFlag, keyFlag, quietFlag} from '../cli/flags.js';
import {checkGroupName} from '../core/keys.js';
import {argumentInputs, argumentsInOrder, readEntryBatch} from '../cli/input.js';
import {canAsk} from '../cli/prompt.js';
import {authorizeBatch} from '../cli/authorize/run.js';

export default class Authorize extends KeywardCommand {
  static summary = 'Add entries to the account list, or to a key list with --key.';
  static description = `Entries are IPv4 or IPv6 addresses or CIDR ranges. Give them as arguments, or with --file or - (stdin, read only when - is given), one a line (ENTRY [# label]). An import is all or nothing: one bad line, or an entry broader than /8 (IPv4) or /16 (IPv6) without --force, and nothing is written. Every entry is stored, also one that another entry already covers (it is reported as covered, and stays when its cover expires or is revoked). An entry already in the list is left as it is, or given the new --label, --expires or --group; an expired one is renewed. With --group an entry already in another group stays in that group and is reported (a warning; "elsewhere" in --json). Authorizing a blocked address takes it off the blocked list once its key may use it; one another list still refuses stays (a warning), its reason brought up to date.`;
  static examples = [
    '<%= config.bin %> authorize 203.0.113.7 2001:db8::/48 --label "office"',
    '<%= config.bin %> authorize --file allowlist.txt --dry-run',
    '$ cat ranges.txt | <%= config.bin %> authorize - --key billing --expires 30d',
  ];
  static usage = [
    'authorize ENTRY... [-k NAME] [-g NAME] [-l TEXT] [--expires WHEN] [--normalize] [--force] [--dry-run] [-q] [--json] [--store PATH]',
    'authorize (-f FILE | -) [-k NAME] [-g NAME] [-l TEXT] [--expires WHEN] [--normalize] [--force] [--dry-run] [-q] [--json] [--store PATH]',
    'authorize --from-blocked [ENTRY... | --all] [-k NAME] [-g NAME] [-l TEXT] [--expires WHEN] [--dry-run] [-q] [--json] [--store PATH]',
  ];
  static strict = false;
  // ignoreStdin: oclif would read piped stdin into a missing argument as one string; readEntryBatch reads it by line.
  static args = {entry: Args.string({description: 'entries to add; - reads stdin', ignoreStdin: true})};
  static flags = {
    key: keyFlag,
    group: groupFlag('put the entries in group NAME (an entry already in another group stays there, with a warning)'),
    file: fileFlag,
    label: Flags.string({char: 'l', description: 'label for entries that have none of their own (replaces the label of an entry already in the list)', helpValue: 'TEXT'}),
    expires: Flags.string({description: 'expiry: a duration (30d, 12h, 2w) or an ISO 8601 time (replaces the expiry of an entry already in the list)', helpValue: 'WHEN'}),
    normalize: Flags.boolean({description: 'accept ranges with host bits set as their network (192.168.1.25/24 → 192.168.1.0/24)'}),
    force: broadFlag,
    'dry-run': dryRunFlag,
    'from-blocked': Flags.boolean({description: 'authorize addresses from the blocked list: those the arguments cover, --all, or chosen on a terminal', exclusive: ['file']}),
    all: Flags.boolean({description: 'with --from-blocked: every blocked address', dependsOn: ['from-blocked']}),
    quiet: quietFlag,
  };

  async run(): Promise<AuthorizeJson> {
    const {flags, raw} = await this.parse(Authorize);
    const argv = argumentsInOrder(raw);
    const expiresAt = flags.expires ? parseExpiry(flags.expires, this.now).toISOString() : null;
    if (flags.group !== undefined) checkGroupName(flags.group);
    // Lines are parsed as they are read (no object per line is kept): a 1M-entry import need not hold them through its write.
    const options = {normalize: flags.normalize, force: flags.force};
    const held = {
      batch: flags['from-blocked']
        ? parseEntries(await this.fromBlocked(argv, flags.all, flags.key), options)
        : await readEntryBatch({args: argv, file: flags.file, progress: true}, options),
    };
    const label = flags.label === undefined ? null : maskSecrets(flags.label);
    // The same runner as bin/run.js's fast path (src/cli/authorize/run.ts).
    return authorizeBatch(this.writing(), held, {key: flags.key, label, expiresAt, group: flags.group ?? null, dryRun: flags['dry-run']});
  }

  /** Blocked addresses to authorize: covered by the arguments, all of them, or picked on a terminal. */
  private async fromBlocked(args: string[], all: boolean, key: string | undefined): Promise<EntryInput[]> {
    const candidates = blockedCandidates(await this.readStore(), key);
    if (all) return blockedInputs(candidates);
    if (args.length > 0) return blockedInputs(blockedChosen(candidates, parseEntries(argumentInputs(args), {force: true}).prefixes()));
    if (!canAsk()) throw new InputError('--from-blocked needs addresses or --all when there is no terminal to choose on');
    const {checkbox} = await import('@inquirer/prompts');
    const chosen = await checkbox(
      {
        message: 'Authorize which blocked addresses?',
        choices: candidates.map((b) => ({name: `${b.ip}  key ${b.key} (${b.channel}), seen ${b.count}× until ${b.lastSeen}`, value: b})),
      },
      {output: process.stderr},
    );
    if (chosen.length === 0) throw new InputError('nothing chosen; nothing was changed');
    return blockedInputs(chosen);
  }
}
