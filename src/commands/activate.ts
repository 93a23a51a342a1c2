import * as Flags from '@oclif/core/flags';
import {channelNames, planActivate, setBlocking, switchJson} from '../core/blocking.js';
import {KeywardCommand} from '../cli/base.js';
import {channelFlags, channelsOf, quietFlag, yesFlag} from '../cli/flags.js';
import {renderCutOff} from '../cli/views.js';
import {count} from '../core/count.js';

export default class Activate extends KeywardCommand {
  static summary = 'Turn blocking on for API keys (--api), SMTP keys (--smtp) or both.';
  static description = `Before it does, lists the recently seen addresses that would now be refused: if there are any, it asks on a terminal, and without one it refuses with exit 4 unless --yes (or --force). SMTP blocking with an account list that allows no address (empty, or only deny, disabled or expired entries and allow entries its deny entries cover) would refuse every SMTP connection: that is refused with exit 4 unless --force, on a terminal too, and --yes does not answer it.`;
  static usage = ['activate --api [--smtp] [--yes] [--force] [--quiet] [--json] [--store PATH]', 'activate --smtp [--yes] [--force] [--quiet] [--json] [--store PATH]'];
  static examples = ['<%= config.bin %> activate --api', '<%= config.bin %> activate --api --smtp --yes', '<%= config.bin %> activate --smtp --force'];
  static flags = {
    ...channelFlags,
    yes: yesFlag,
    force: Flags.boolean({description: 'activate even if the account list allows no address (every SMTP connection refused) or seen traffic would be refused'}),
    quiet: quietFlag,
  };

  async run() {
    const {flags} = await this.parse(Activate);
    const channels = channelsOf(flags);
    const names = channelNames(channels);
    const {plan, applied: transitions} = await this.planAndApply({
      plan: (data) => planActivate(data, channels, this.now, {force: flags.force}),
      present: async (p) => {
        if (p.refused.length > 0) {
          await this.tell(`${count(p.refused.length, 'recently seen address', 'recently seen addresses')} would be refused once ${names} blocking is on:`, 'warn');
          await this.tell(await renderCutOff(p.refused), 'info', true);
        }
        if (p.emptyAccount !== null) await this.tell(`${p.emptyAccount}: every SMTP connection will be refused`, 'warn');
      },
      apply: (data) => channels.map((channel) => setBlocking(data, channel, 'active', this.now)),
      skip: flags.force || flags.yes,
      skipFlag: '--yes',
    });
    const done = transitions ?? channels.map(() => null);
    await this.printHuman(() => channels.map((ch, i) => (done[i] ? `${ch} blocking is now active` : `${ch} blocking was already active`)).join('\n'));
    return {...switchJson(done, channels, 'active'), refused: plan.refused};
  }
}
