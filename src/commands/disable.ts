import {SwitchCommand, switchArgs} from '../cli/switch-command.js';

export default class Disable extends SwitchCommand {
  static summary = 'Switch entries off: a disabled entry never matches and is left out of exports, and keeps its label and dates.';
  static description = `Exact entries (allow or deny) of the account list, or of a key list with --key. An entry that is not in the list is an error that names the entries covering it, and nothing is changed. Switching allow entries off refuses their addresses: when that cuts off recently seen traffic, disable lists it and asks on a terminal; without one it needs --yes (exit 4). keyward enable switches them back on.`;
  static examples = [
    '<%= config.bin %> disable 203.0.113.0/24',
    '<%= config.bin %> disable --key billing 198.51.100.7 --dry-run',
    '<%= config.bin %> disable 203.0.113.0/24 --yes  # also when recently seen callers would be cut off',
  ];
  // Set on each command: oclif's parse takes `strict` from the command's own properties only.
  static strict = false;
  // ignoreStdin: as in authorize, stdin is read by line, never by oclif.
  static args = switchArgs('disable');

  async run(): Promise<{disabled: string[]; unchanged: string[]; dryRun: boolean}> {
    const {changed, unchanged, dryRun} = await this.switchEntries(false);
    return {disabled: changed, unchanged, dryRun};
  }
}
