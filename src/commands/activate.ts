import {Flags} from '@oclif/core';
import {planActivate, setBlocking, switchJson} from '../core/blocking.js';
import {Channel} from '../core/model.js';
import {KeywardCommand} from '../cli/base.js';
import {channelFlags, yesFlag} from '../cli/flags.js';
import {renderCutOff} from '../cli/views.js';

export default class Activate extends KeywardCommand {
  static summary = 'Turn blocking on for API keys (--api) or SMTP keys (--smtp).';
  static description = `Before it does, lists the recently seen addresses that would now be refused. If there are any, or (SMTP) the account list is empty, it asks on a terminal (--yes answers yes) and otherwise refuses with exit 4 unless --force or --yes.`;
  static examples = ['<%= config.bin %> activate --api', '<%= config.bin %> activate --smtp --force'];
  static flags = {
    ...channelFlags,
    force: Flags.boolean({description: 'activate even if seen traffic would be refused or the account list is empty'}),
    yes: yesFlag,
  };

  async run() {
    const {flags} = await this.parse(Activate);
    const channel: Channel = flags.api ? 'api' : 'smtp';
    const {plan, applied: transition} = await this.planAndApply({
      plan: (data) => planActivate(data, channel, this.now),
      present: async (p) => {
        if (p.refused.length > 0) {
          await this.tell(`${p.refused.length} recently seen address(es) would be refused once ${channel} blocking is on:`, 'warn');
          await this.tell(await renderCutOff(p.refused));
        }
        if (p.emptyAccount) await this.tell('the account list is empty: every SMTP connection would be refused', 'warn');
      },
      apply: (data) => setBlocking(data, channel, 'active', this.now),
      skip: flags.force || flags.yes,
      skipFlag: '--force',
    });
    await this.printHuman(() => (transition ? `${channel} blocking is now active` : `${channel} blocking was already active`));
    return {...switchJson(transition ?? null, channel, 'active'), refused: plan.refused};
  }
}
