import {Args} from '@oclif/core';
import {InputError} from '../../core/errors.js';
import {findKey} from '../../core/keys.js';
import {hashSecret, hintOf, newSecret} from '../../core/secret.js';
import {KeywardCommand} from '../../cli/base.js';
import {yesFlag} from '../../cli/flags.js';
import {deliverSecret, notInEffect, secretCommitted} from '../../cli/keys-view.js';
import {confirmOrRefuse} from '../../cli/prompt.js';

export default class KeysRotate extends KeywardCommand {
  static summary = 'Give a key a new secret; the old one stops working at once.';
  static description = `Asks on a terminal; without one it needs --yes. The new secret is printed once, before it takes effect: when it cannot be printed (a full disk, a closed pipe) nothing changes and the command exits 3.`;
  static examples = ['<%= config.bin %> keys rotate billing', '<%= config.bin %> keys rotate billing --yes --json'];
  static args = {name: Args.string({description: 'key name', required: true, ignoreStdin: true})};
  static flags = {yes: yesFlag};

  async run(): Promise<void> {
    const {args, flags} = await this.parse(KeysRotate);
    this.setup(flags);
    const before = findKey((await this.readStoreOrEmpty()).keys, args.name);
    if (before.status === 'revoked') throw new InputError(`key ${before.name} is revoked and cannot be rotated`, 'create a new key instead');
    await confirmOrRefuse(`Rotate key ${before.name}? Its current secret (${before.hint}) stops working at once.`, flags.yes, '--yes');
    const secret = newSecret();
    // The secret is printed under the lock, before the commit: when it cannot be printed the old one stays.
    const rotated = await this.updateStore(async (data) => {
      const k = findKey(data.keys, before.name);
      if (k.status === 'revoked') throw new InputError(`key ${k.name} is revoked and cannot be rotated`);
      k.hash = hashSecret(secret);
      k.hint = hintOf(secret);
      k.rotatedAt = this.now.toISOString();
      await deliverSecret(k, secret, 'rotated', this.json);
      return {name: k.name, type: k.type};
    }).catch(notInEffect);
    await secretCommitted(rotated, 'rotated', this.json);
  }
}
