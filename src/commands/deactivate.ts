import {setBlocking} from '../core/blocking.js';
import {Channel} from '../core/model.js';
import {KeywardCommand} from '../cli/base.js';
import {channelFlags, yesFlag} from '../cli/flags.js';
import {confirmOrRefuse} from '../cli/prompt.js';

export default class Deactivate extends KeywardCommand {
  static summary = 'Turn blocking off for API keys (--api) or SMTP keys (--smtp): every address is allowed again.';
  static description = `Asks on a terminal; without one it needs --yes. Key lists still apply.`;
  static examples = ['<%= config.bin %> deactivate --smtp', '<%= config.bin %> deactivate --api --yes'];
  static flags = {...channelFlags, yes: yesFlag};

  async run(): Promise<void> {
    const {flags} = await this.parse(Deactivate);
    this.setup(flags);
    const channel: Channel = flags.api ? 'api' : 'smtp';
    const current = (await this.readStoreOrEmpty()).blocking[channel].state;
    if (current !== 'inactive') {
      await confirmOrRefuse(`Deactivate ${channel} blocking? Every address will be allowed for ${channel} keys.`, flags.yes, '--yes');
    }
    const transition = await this.updateStore((data) => setBlocking(data, channel, 'inactive', this.now));
    const result = {channel, state: 'inactive', changed: transition !== null};
    await this.report(result, () => (transition ? `${channel} blocking is now inactive` : `${channel} blocking was already inactive`));
  }
}
