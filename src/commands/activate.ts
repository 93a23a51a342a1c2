import {Flags} from '@oclif/core';
import {setBlocking} from '../core/blocking.js';
import {SafetyError} from '../core/errors.js';
import {cutOff} from '../core/impact.js';
import {Channel} from '../core/model.js';
import {KeywardCommand} from '../cli/base.js';
import {channelFlags, yesFlag} from '../cli/flags.js';
import {canAsk, confirmOrRefuse} from '../cli/prompt.js';
import {renderCutOff} from '../cli/views.js';

export default class Activate extends KeywardCommand {
  static summary = 'Turn blocking on for API keys (--api) or SMTP keys (--smtp).';
  static description = `Before it does, lists the recently seen addresses that would now be refused. If there are any, or (SMTP) the account list is empty, it asks on a terminal (--yes answers yes) and otherwise refuses with exit 4 unless --force or --yes.`;
  static examples = [
    '<%= config.bin %> activate --api',
    '<%= config.bin %> activate --smtp --force',
  ];
  static flags = {
    ...channelFlags,
    force: Flags.boolean({description: 'activate even if seen traffic would be refused or the account list is empty'}),
    yes: yesFlag,
  };

  async run(): Promise<void> {
    const {flags} = await this.parse(Activate);
    this.setup(flags);
    const channel: Channel = flags.api ? 'api' : 'smtp';
    const before = await this.readStoreOrEmpty();
    const after = structuredClone(before);
    setBlocking(after, channel, 'active', this.now);
    const refused = cutOff(before, after, this.now, [channel]);
    const reasons: string[] = [];
    if (refused.length > 0) {
      await this.tell(`${refused.length} recently seen address(es) would be refused once ${channel} blocking is on:`, 'warn');
      await this.tell(await renderCutOff(refused));
      reasons.push('seen traffic would be refused');
    }
    if (channel === 'smtp' && before.account.length === 0) {
      await this.tell('the account list is empty: every SMTP connection would be refused', 'warn');
      reasons.push('the account list is empty');
    }
    if (reasons.length > 0) {
      const confirmed = flags.force || flags.yes;
      if (!confirmed && !canAsk()) {
        throw new SafetyError(`not activating ${channel} blocking: ${reasons.join(' and ')}`, `authorize the addresses first (keyward authorize ADDRESS), or pass --force`);
      }
      await confirmOrRefuse(`Activate ${channel} blocking anyway?`, confirmed, '--force');
    }
    const transition = await this.updateStore((data) => setBlocking(data, channel, 'active', this.now));
    const result = {channel, state: 'active', changed: transition !== null, refused};
    await this.report(result, () => (transition ? `${channel} blocking is now active` : `${channel} blocking was already active`));
  }
}
