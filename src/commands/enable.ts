import * as Args from '@oclif/core/args';
import {parseEntries} from '../core/entry-parse.js';
import {switchListEntries} from '../core/authorize.js';
import {KeywardCommand} from '../cli/base.js';
import {dryRunFlag, fileFlag, keyFlag, quietFlag} from '../cli/flags.js';
import {argumentsInOrder, readEntryInputs} from '../cli/input.js';
import {renderSwitched} from '../cli/views.js';

export default class Enable extends KeywardCommand {
  static summary = 'Switch disabled entries back on, as they were.';
  static description = `Exact entries (allow or deny) of the account list, or of a key list with --key. An entry that is not in the list is an error that names the entries covering it, and nothing is changed.`;
  static examples = ['<%= config.bin %> enable 203.0.113.0/24', '<%= config.bin %> enable --key billing 198.51.100.7 --dry-run'];
  static strict = false;
  // ignoreStdin: as in authorize, stdin is read by line, never by oclif.
  static args = {entry: Args.string({description: 'entries to enable; - reads stdin', ignoreStdin: true})};
  static flags = {
    key: keyFlag,
    file: fileFlag,
    'dry-run': dryRunFlag,
    quiet: quietFlag,
  };

  async run(): Promise<{enabled: string[]; unchanged: string[]; dryRun: boolean}> {
    const {flags, raw} = await this.parse(Enable);
    const inputs = await readEntryInputs({args: argumentsInOrder(raw), file: flags.file});
    // Entries are taken as they are listed: host bits and /0 need no extra flag.
    const prefixes = parseEntries(inputs, {normalize: false, force: true}).prefixes();
    const dryRun = flags['dry-run'];
    const result = await this.updateStore((data) => switchListEntries(data, prefixes, {key: flags.key, enabled: true}), {dryRun});
    await this.printHuman(() => renderSwitched(result.changed, result.unchanged, true, dryRun));
    return {enabled: result.changed, unchanged: result.unchanged, dryRun};
  }
}
