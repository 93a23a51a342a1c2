import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import {parseEntries} from '../core/entry-parse.js';
import {AuthorizeJson, authorizeJson, deny} from '../core/authorize.js';
import {maskSecrets} from '../core/errors.js';
import {parseExpiry} from '../core/time.js';
import {KeywardCommand} from '../cli/base.js';
import {broadFlag, dryRunFlag, fileFlag, groupFlag, keyFlag, quietFlag} from '../cli/flags.js';
import {checkGroupName} from '../core/keys.js';
import {argumentsInOrder, placedInInput, readEntryInputs} from '../cli/input.js';
import {renderAdded, stillDisabled} from '../cli/views.js';

export default class Deny extends KeywardCommand {
  static summary = 'Add deny entries to the account list, or to a key list with --key: addresses they contain are refused.';
  static description = `A deny entry wins over every allow entry, in every blocking state, learning included: "allow 10.0.0.0/8 except 10.66.0.0/16", or stop a stolen key's caller now. Same inputs, grammar and all-or-nothing rule as authorize, the broad-entry rule included (a broad deny locks everyone out). An entry the list already holds as an allow entry is refused: revoke it first. Remove deny entries with revoke --deny.`;
  static examples = [
    '<%= config.bin %> deny 10.66.0.0/16 --label "lab network"',
    '<%= config.bin %> deny 198.51.100.23 --key billing --expires 7d',
    '$ cat abusers.txt | <%= config.bin %> deny - --dry-run',
  ];
  static strict = false;
  // ignoreStdin: as in authorize, stdin is read by line, never by oclif.
  static args = {entry: Args.string({description: 'entries to deny; - reads stdin', ignoreStdin: true})};
  static flags = {
    key: keyFlag,
    file: fileFlag,
    label: Flags.string({char: 'l', description: 'label for entries that have none of their own (replaces the label of an entry already in the list)', helpValue: 'TEXT'}),
    expires: Flags.string({description: 'expiry: a duration (30d, 12h, 2w) or an ISO 8601 time (replaces the expiry of an entry already in the list)', helpValue: 'WHEN'}),
    normalize: Flags.boolean({description: 'accept ranges with host bits set as their network (192.168.1.25/24 → 192.168.1.0/24)'}),
    group: groupFlag('put the deny entries in group NAME (an entry already in another group stays there)'),
    force: broadFlag,
    'dry-run': dryRunFlag,
    quiet: quietFlag,
  };

  async run(): Promise<AuthorizeJson> {
    const {flags, raw} = await this.parse(Deny);
    if (flags.group !== undefined) checkGroupName(flags.group);
    const expiresAt = flags.expires ? parseExpiry(flags.expires, this.now).toISOString() : null;
    const inputs = await readEntryInputs({args: argumentsInOrder(raw), file: flags.file, progress: true});
    const entries = parseEntries(inputs, {normalize: flags.normalize, force: flags.force});
    const label = flags.label === undefined ? null : maskSecrets(flags.label);
    const dryRun = flags['dry-run'];
    const result = await this.updateStore(
      (data) => placedInInput(inputs, () => deny(data, entries, {key: flags.key, label, expiresAt, group: flags.group ?? null, now: this.now})),
      {dryRun},
    );
    const disabled = stillDisabled(result.disabled);
    if (disabled !== null) await this.tell(disabled, 'warn');
    await this.printHuman(() => renderAdded(result, dryRun, 'deny'));
    return authorizeJson(result, dryRun);
  }
}
