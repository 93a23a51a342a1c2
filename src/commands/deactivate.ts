import {planDeactivate, setBlocking, switchJson} from '../core/blocking.js';
import {KeywardCommand} from '../cli/base.js';
import {channelFlags, channelsOf, quietFlag, yesFlag} from '../cli/flags.js';

export default class Deactivate extends KeywardCommand {
  static summary = 'Turn blocking off for API keys (--api), SMTP keys (--smtp) or both: every address is allowed again.';
  static description = `Asks on a terminal; without one it needs --yes. Key lists still apply.`;
  static usage = ['deactivate --api [--smtp] [--yes] [--quiet] [--json] [--store PATH]', 'deactivate --smtp [--yes] [--quiet] [--json] [--store PATH]'];
  static examples = ['<%= config.bin %> deactivate --smtp --yes', '<%= config.bin %> deactivate --api --smtp --yes'];
  static flags = {...channelFlags, yes: yesFlag, quiet: quietFlag};

  async run() {
    const {flags} = await this.parse(Deactivate);
    const channels = channelsOf(flags);
    const {applied: transitions} = await this.planAndApply({
      plan: (data) => planDeactivate(data, channels),
      apply: (data) => channels.map((channel) => setBlocking(data, channel, 'inactive', this.now)),
      skip: flags.yes,
      skipFlag: '--yes',
    });
    const done = transitions ?? channels.map(() => null);
    await this.printHuman(() => channels.map((ch, i) => (done[i] ? `${ch} blocking is now inactive` : `${ch} blocking was already inactive`)).join('\n'));
    return switchJson(done, channels, 'inactive');
  }
}
