import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import {parseEntries} from '../../core/entry-parse.js';
import {createKey} from '../../core/key-actions.js';
import {checkKeyName} from '../../core/keys.js';
import {newSecret} from '../../core/secret.js';
import {KeywardCommand} from '../../cli/base.js';
import {broadFlag, quietFlag} from '../../cli/flags.js';
import {deliverSecret, notInEffect, secretCommitted} from '../../cli/keys-view.js';

export default class KeysCreate extends KeywardCommand {
  static summary = 'Create a key and print its secret, once.';
  static description = `The secret is 40 hex characters from a CSPRNG. Only its sha256 and a hint (a1b2…9f0e) are stored: save the secret now. It is printed before the key is stored: when it cannot be printed (a full disk, a closed pipe) no key is made and the command exits 3. --allow starts the key's own allowlist.`;
  static examples = [
    '<%= config.bin %> keys create payments --type api > payments.secret',
    '<%= config.bin %> keys create mailer --type smtp --allow 198.51.100.0/24 --allow 2001:db8::25',
    '$ SECRET=$(<%= config.bin %> keys create ci --type api --json | jq -r .secret)',
  ];
  static args = {name: Args.string({description: 'key name (letters, digits, ".", "_", "-")', required: true, ignoreStdin: true})};
  static flags = {
    type: Flags.option({options: ['api', 'smtp'] as const, description: 'key type', required: true})(),
    allow: Flags.string({description: "an entry of the key's own allowlist (repeatable)", multiple: true}),
    force: broadFlag,
    quiet: quietFlag,
  };

  async run(): Promise<void> {
    const {args, flags} = await this.parse(KeysCreate);
    checkKeyName(args.name);
    const allow = parseEntries(
      (flags.allow ?? []).map((text, i) => ({text, label: null, where: `--allow ${i + 1}`, source: 'manual' as const})),
      {force: flags.force},
    ).prefixes();
    const secret = newSecret();
    // The secret is printed under the lock, before the commit: a secret that cannot be printed is never a key's.
    let printed = false;
    const created = await this.updateStore(async (data) => {
      const record = createKey(data, {name: args.name, type: flags.type, allow}, secret, this.now);
      await deliverSecret(record, secret, 'created', this.json);
      printed = true;
      return record;
    }).catch(notInEffect(() => printed));
    await secretCommitted(created, 'created', this.json);
  }
}
