import {Args} from '@oclif/core';
import {findKey} from '../../core/keys.js';
import {KeywardCommand} from '../../cli/base.js';
import {yesFlag} from '../../cli/flags.js';
import {keyJson} from '../../cli/keys-view.js';
import {confirmOrRefuse} from '../../cli/prompt.js';

export default class KeysRevoke extends KeywardCommand {
  static summary = 'Retire a key: every use of it is denied; it stays listed as revoked.';
  static description = `Asks on a terminal; without one it needs --yes.`;
  static examples = ['<%= config.bin %> keys revoke old-billing', '<%= config.bin %> keys revoke old-billing --yes --json'];
  static args = {name: Args.string({description: 'key name', required: true, ignoreStdin: true})};
  static flags = {yes: yesFlag};

  async run(): Promise<void> {
    const {args, flags} = await this.parse(KeysRevoke);
    this.setup(flags);
    const before = findKey((await this.readStoreOrEmpty()).keys, args.name);
    if (before.status !== 'revoked') {
      await confirmOrRefuse(`Revoke key ${before.name}? Every use of it will be denied.`, flags.yes, '--yes');
    }
    const key = await this.updateStore((data) => {
      const k = findKey(data.keys, before.name);
      if (k.status !== 'revoked') {
        k.status = 'revoked';
        k.revokedAt = this.now.toISOString();
      }
      return k;
    });
    await this.report(keyJson(key), () => `key ${key.name} is revoked`);
  }
}
