import * as Args from '@oclif/core/args';
import {parseEntries} from '../core/entry-parse.js';
import {switchListEntries} from '../core/authorize.js';
import {KeywardCommand} from '../cli/base.js';
import {dryRunFlag, fileFlag, keyFlag, quietFlag} from '../cli/flags.js';
import {argumentsInOrder, readEntryInputs} from '../cli/input.js';
import {renderSwitched} from '../cli/views.js';

export default class Disable extends KeywardCommand {
  static summary = 'Switch entries off: a disabled entry never matches and is left out of exports, and keeps its label and dates.';
  static description = `Exact entries (allow or deny) of the account list, or of a key list with --key. An entry that is not in the list is an error that names the entries covering it, and nothing is changed. keyward enable switches them back on.`;
  static examples = ['<%= config.bin %> disable 203.0.113.0/24', '<%= config.bin %> disable --key billing 198.51.100.7 --dry-run'];
  static strict = false;
  // ignoreStdin: as in authorize, stdin is read by line, never by oclif.
  static args = {entry: Args.string({description: 'entries to disable; - reads stdin', ignoreStdin: true})};
  static flags = {
    key: keyFlag,
    file: fileFlag,
    'dry-run': dryRunFlag,
    quiet: quietFlag,
  };

  async run(): Promise<{disabled: string[]; unchanged: string[]; dryRun: boolean}> {
    const {flags, raw} = await this.parse(Disable);
    const inputs = await readEntryInputs({args: argumentsInOrder(raw), file: flags.file});
    // Entries are taken as they are listed: host bits and /0 need no extra flag.
    const prefixes = parseEntries(inputs, {normalize: false, force: true}).prefixes();
    const dryRun = flags['dry-run'];
    const result = await this.updateStore((data) => switchListEntries(data, prefixes, {key: flags.key, enabled: false}), {dryRun});
    await this.printHuman(() => renderSwitched(result.changed, result.unchanged, false, dryRun));
    return {disabled: result.changed, unchanged: result.unchanged, dryRun};
  }
}
