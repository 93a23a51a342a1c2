import {planDeactivate, setBlocking, switchJson} from '../core/blocking.js';
import {Channel} from '../core/model.js';
import {KeywardCommand} from '../cli/base.js';
import {channelFlags, yesFlag} from '../cli/flags.js';

export default class Deactivate extends KeywardCommand {
  static summary = 'Turn blocking off for API keys (--api) or SMTP keys (--smtp): every address is allowed again.';
  static description = `Asks on a terminal; without one it needs --yes. Key lists still apply.`;
  static examples = ['<%= config.bin %> deactivate --smtp', '<%= config.bin %> deactivate --api --yes'];
  static flags = {...channelFlags, yes: yesFlag};

  async run() {
    const {flags} = await this.parse(Deactivate);
    const channel: Channel = flags.api ? 'api' : 'smtp';
    const {applied: transition} = await this.planAndApply({
      plan: (data) => planDeactivate(data, channel),
      apply: (data) => setBlocking(data, channel, 'inactive', this.now),
      skip: flags.yes,
      skipFlag: '--yes',
    });
    await this.printHuman(() => (transition ? `${channel} blocking is now inactive` : `${channel} blocking was already inactive`));
    return switchJson(transition ?? null, channel, 'inactive');
  }
}
