import * as Args from '@oclif/core/args';
import {planRotate, rotateKey} from '../../core/key-actions.js';
import {newSecret} from '../../core/secret.js';
import {KeywardCommand} from '../../cli/base.js';
import {quietFlag, yesFlag} from '../../cli/flags.js';
import {deliverSecret, notInEffect, secretCommitted} from '../../cli/keys-view.js';

export default class KeysRotate extends KeywardCommand {
  static summary = 'Give a key a new secret; the old one stops working at once.';
  static description = `Asks on a terminal; without one it needs --yes. The new secret is printed once, before it takes effect: when it cannot be printed (a full disk, a closed pipe) nothing changes and the command exits 3.`;
  static examples = ['<%= config.bin %> keys rotate billing  # asks first: exit 4 without a terminal or --yes', '<%= config.bin %> keys rotate billing --yes --json'];
  static args = {name: Args.string({description: 'key name', required: true, ignoreStdin: true})};
  static flags = {yes: yesFlag, quiet: quietFlag};

  async run(): Promise<void> {
    const {args, flags} = await this.parse(KeysRotate);
    const secret = newSecret();
    // The secret is printed under the lock, before the commit: when it cannot be printed the old one stays.
    let printed = false;
    const {plan} = await this.planAndApply({
      plan: (data) => planRotate(data, args.name),
      apply: async (_data, p) => {
        rotateKey(p.key, secret, this.now);
        await deliverSecret(p.key, secret, 'rotated', this.json);
        printed = true;
      },
      skip: flags.yes,
      skipFlag: '--yes',
    }).catch(notInEffect(() => printed));
    await secretCommitted(plan.key, 'rotated', this.json);
  }
}
