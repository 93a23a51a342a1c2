import {Flags} from '@oclif/core';
import {untrusted} from '../core/errors.js';
import {aggregatedListJson, listJson, listScopes} from '../core/reports.js';
import {KeywardCommand} from '../cli/base.js';
import {keyFlag} from '../cli/flags.js';
import {renderList} from '../cli/views.js';

export default class List extends KeywardCommand {
  static summary = 'Show the account list and key lists, with source, label and expiry.';
  static description = `Expired entries are shown as such; they never match. --aggregate prints instead the fewest CIDR ranges covering the same live addresses, per list.`;
  static examples = ['<%= config.bin %> list', '<%= config.bin %> list --key billing --json', '<%= config.bin %> list --aggregate'];
  static flags = {
    key: keyFlag,
    account: Flags.boolean({description: 'only the account list', exclusive: ['key']}),
    aggregate: Flags.boolean({char: 'a', description: "print the minimal CIDR cover of each list's live entries"}),
  };

  async run() {
    const {flags} = await this.parse(List);
    const scopes = listScopes(await this.readStore(), {key: flags.key, accountOnly: flags.account});
    if (flags.aggregate) {
      const rows = aggregatedListJson(scopes, this.now);
      await this.printHuman(() =>
        rows.length === 0 ? 'no live entries' : rows.map((r) => (flags.key || scopes.length === 1 ? r.entry : `${r.entry}\t${untrusted(r.scope)}`)).join('\n'),
      );
      return rows;
    }
    await this.printHuman(() => renderList(scopes, this.now));
    return listJson(scopes);
  }
}
