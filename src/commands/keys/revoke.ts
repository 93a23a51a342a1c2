import * as Args from '@oclif/core/args';
import {keyJson, planKeyRevoke, revokeKey} from '../../core/key-actions.js';
import {KeywardCommand} from '../../cli/base.js';
import {quietFlag, yesFlag} from '../../cli/flags.js';

export default class KeysRevoke extends KeywardCommand {
  static summary = 'Retire a key: every use of it is denied; it stays listed as revoked.';
  static description = `Asks on a terminal; without one it needs --yes.`;
  static examples = ['<%= config.bin %> keys revoke old-billing  # asks first: exit 4 without a terminal or --yes', '<%= config.bin %> keys revoke old-billing --yes --json'];
  static args = {name: Args.string({description: 'key name', required: true, ignoreStdin: true})};
  static flags = {yes: yesFlag, quiet: quietFlag};

  async run() {
    const {args, flags} = await this.parse(KeysRevoke);
    const {plan} = await this.planAndApply({
      plan: (data) => planKeyRevoke(data, args.name),
      apply: (_data, p) => revokeKey(p.key, this.now),
      skip: flags.yes,
      skipFlag: '--yes',
    });
    await this.printHuman(() => `key ${plan.key.name} is revoked`);
    return keyJson(plan.key);
  }
}
