import {keysJson} from '../../core/key-actions.js';
import {KeywardCommand} from '../../cli/base.js';
import {pagerFlag} from '../../cli/flags.js';
import {renderKeys} from '../../cli/views.js';

export default class KeysList extends KeywardCommand {
  static summary = 'List keys: name, type, hint, status and own allowlist.';
  static description = `Secrets are never shown, only their hint (a1b2…9f0e). A key with no list of its own is bound by the account list alone; a revoked key stays listed, and every use of it is denied.`;
  static examples = [
    '<%= config.bin %> keys list',
    '<%= config.bin %> keys list --json',
    '<%= config.bin %> keys list --json | jq -r \'.[] | select(.status == "active") | .name\'',
  ];

  static flags = {...pagerFlag};

  async run() {
    const {flags} = await this.parse(KeysList);
    const keys = keysJson(await this.readStore());
    await this.printTable(() => renderKeys(keys), flags);
    return keys;
  }
}
