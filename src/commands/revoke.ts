import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import {EntryInput, parseEntries} from '../core/entry-parse.js';
import {applyRevoke, planRevoke} from '../core/revoke.js';
import {KeywardCommand} from '../cli/base.js';
import {dryRunFlag, fileFlag, groupFlag, keyFlag, quietFlag, yesFlag} from '../cli/flags.js';
import {InputError, show} from '../core/errors.js';
import {Prefix} from '../core/prefix.js';
import {checkGroupName} from '../core/keys.js';
import {argumentsInOrder, placedInInput, readEntryInputs} from '../cli/input.js';
import {renderCutOff, renderRemoved} from '../cli/views.js';
import {count} from '../core/count.js';

export default class Revoke extends KeywardCommand {
  static summary = 'Remove entries (exact match) from the account list, or from a key list with --key.';
  static description = `Takes the same inputs as authorize. Removes allow entries; --deny removes deny entries instead. An entry that is not in the list is an error that names the entries covering it, and nothing is removed. While blocking is active the removed addresses will be refused: revoke says so and asks on a terminal; without one it needs --yes. With --group NAME only entries of that group are removed; --group NAME --all removes every entry of the group (never without --all: an empty $IP in a loop must not empty a group). Removing the last entry of a key's list would leave the key restricted by nothing: that is refused (exit 4) unless --force.`;
  static examples = [
    '<%= config.bin %> revoke 203.0.113.7  # while blocking is active it asks first: exit 4 without a terminal or --yes',
    '<%= config.bin %> revoke --deny 10.66.0.0/16',
    '<%= config.bin %> revoke --key billing 198.51.100.0/24 --yes',
    '<%= config.bin %> revoke --file retired.txt --dry-run',
    '<%= config.bin %> revoke --group github-actions --all --yes',
  ];
  static usage = [
    'revoke ENTRY... [-k NAME] [-g NAME] [--deny] [--dry-run] [-y] [--force] [-q] [--json] [--store PATH]',
    'revoke (-f FILE | -) [-k NAME] [-g NAME] [--deny] [--dry-run] [-y] [--force] [-q] [--json] [--store PATH]',
    'revoke -g NAME --all [-k NAME] [--deny] [--dry-run] [-y] [--force] [-q] [--json] [--store PATH]',
  ];
  static strict = false;
  // ignoreStdin: as in authorize, stdin is read by line, never by oclif.
  static args = {entry: Args.string({description: 'entries to remove; - reads stdin', ignoreStdin: true})};
  static flags = {
    key: keyFlag,
    group: groupFlag('remove only entries of group NAME (an entry elsewhere is an error)'),
    all: Flags.boolean({description: 'with --group: every entry of the group (allow entries; with --deny, deny entries)', dependsOn: ['group']}),
    file: fileFlag,
    'dry-run': dryRunFlag,
    yes: yesFlag,
    force: Flags.boolean({description: 'remove the last entry of a key list: the key is then restricted by nothing'}),
    deny: Flags.boolean({description: 'remove deny entries (without it, revoke removes allow entries only)'}),
    quiet: quietFlag,
  };

  async run(): Promise<{removed: string[]; dryRun: boolean}> {
    const {flags, raw} = await this.parse(Revoke);
    if (flags.group !== undefined) checkGroupName(flags.group);
    const argv = argumentsInOrder(raw);
    // The whole group only when asked by name: no entries at all is a usage error, as everywhere.
    const wholeGroup = flags.all;
    if (wholeGroup && (argv.length > 0 || flags.file !== undefined)) throw new InputError('--all removes the whole group: give no entries with it');
    const inputs = wholeGroup ? [] : await readEntryInputs({args: argv, file: flags.file});
    // Revoke takes entries as they are listed: host bits and /0 need no extra flag to be removed.
    const prefixes = wholeGroup ? [] : await this.entriesToRevoke(inputs);
    const dryRun = flags['dry-run'];
    const {plan, applied} = await this.planAndApply({
      plan: (data) =>
        placedInInput(inputs, () =>
          planRevoke(data, prefixes, {key: flags.key, group: flags.group, force: flags.force, now: this.now, effect: flags.deny ? 'deny' : 'allow'}),
        ),
      present: async (p) => {
        if (p.blocking.length === 0) return;
        const active = `blocking is active for ${p.blocking.join(' and ')} keys`;
        if (p.stillHeld === 'all') await this.tell(`${active}; other entries of the list still allow every address of these`, 'info');
        else if (p.stillHeld === 'some') await this.tell(`${active}: the addresses of these that no other entry of the list allows will be refused from now on`, 'warn');
        else await this.tell(`${active}: these addresses will be refused from now on`, 'warn');
        if (p.cutOff.length > 0) {
          await this.tell(`${count(p.cutOff.length, 'recently seen address', 'recently seen addresses')} would be cut off:`, 'warn');
          await this.tell(await renderCutOff(p.cutOff), 'info', true);
        }
      },
      apply: applyRevoke,
      skip: flags.yes,
      skipFlag: '--yes',
      dryRun,
    });
    const removed = applied ?? plan.removed;
    await this.printHuman(() => renderRemoved(removed, dryRun));
    return {removed, dryRun};
  }

  /**
   * The entries to revoke; a key's name given as one (`keyward revoke web-api`) is
   * said as the mistake it is: `keys revoke` retires a key.
   */
  private async entriesToRevoke(inputs: EntryInput[]): Promise<Prefix[]> {
    try {
      return parseEntries(inputs, {normalize: false, force: true}).prefixes();
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      const keys = await this.readStoreOrEmpty().then(
        (data) => data.keys,
        () => [],
      );
      const named = inputs.find((input) => input.where.startsWith('argument') && keys.some((k) => k.name === input.text));
      if (named === undefined) throw error;
      const mistake = new InputError(
        `${named.where}: ${show(named.text)} is a key, not an entry`,
        `did you mean \`keyward keys revoke ${named.text}\`? (revoke removes entries from a list)`,
      );
      mistake.input = named.text;
      throw mistake;
    }
  }
}
