import {SwitchCommand, switchArgs} from '../cli/switch-command.js';

export default class Enable extends SwitchCommand {
  static summary = 'Switch disabled entries back on, as they were.';
  static description = `Exact entries (allow or deny) of the account list, or of a key list with --key. An entry that is not in the list is an error that names the entries covering it, and nothing is changed. Switching a deny entry on refuses its addresses: when that cuts off recently seen traffic, enable lists it and asks on a terminal; without one it needs --yes (exit 4).`;
  static examples = ['<%= config.bin %> enable 203.0.113.0/24', '<%= config.bin %> enable --key billing 198.51.100.7 --dry-run'];
  // Set on each command: oclif's parse takes `strict` from the command's own properties only.
  static strict = false;
  // ignoreStdin: as in authorize, stdin is read by line, never by oclif.
  static args = switchArgs('enable');

  async run(): Promise<{enabled: string[]; unchanged: string[]; dryRun: boolean}> {
    const {changed, unchanged, dryRun} = await this.switchEntries(true);
    return {enabled: changed, unchanged, dryRun};
  }
}
