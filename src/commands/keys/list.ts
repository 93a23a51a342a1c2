import {untrusted} from '../../core/errors.js';
import {KeywardCommand} from '../../cli/base.js';
import {keyJson} from '../../cli/keys-view.js';
import {paint, table} from '../../cli/render.js';

export default class KeysList extends KeywardCommand {
  static summary = 'List keys: name, type, hint, status and own allowlist.';
  static description = `Secrets are never shown, only their hint (a1b2…9f0e). A key with no list of its own is bound by the account list alone; a revoked key stays listed, and every use of it is denied.`;
  static examples = [
    '<%= config.bin %> keys list',
    '<%= config.bin %> keys list --json',
    '<%= config.bin %> keys list --json | jq -r \'.[] | select(.status == "active") | .name\'',
  ];

  async run(): Promise<void> {
    const {flags} = await this.parse(KeysList);
    this.setup(flags);
    const data = await this.readStore();
    const keys = data.keys.map(keyJson);
    await this.report(keys, async () => {
      if (keys.length === 0) return 'no keys (create one with `keyward keys create NAME --type api`)';
      const c = await paint();
      return table(
        ['name', 'type', 'hint', 'status', 'created', 'rotated', 'allow'],
        keys.map((k) => [untrusted(k.name), k.type, untrusted(k.hint), k.status === 'active' ? c.green(k.status) : c.red(k.status), k.createdAt, k.rotatedAt, k.allow.join('\n') || '(account list)']),
      );
    });
  }
}
