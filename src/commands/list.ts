import * as Flags from '@oclif/core/flags';
import {Address} from '../core/address.js';
import {checkGroupName, findKey} from '../core/keys.js';
import {aggregatedListJson, containsRows, filters, filterScopes, ListFilter, listJson, listScopes} from '../core/reports.js';
import {KeywardCommand} from '../cli/base.js';
import {printListJson} from '../cli/list/run.js';
import {groupFlag, keyFlag, pagerFlag} from '../cli/flags.js';
import {renderAggregated, renderContains, renderList} from '../cli/views.js';

export default class List extends KeywardCommand {
  static summary = 'Show the account list and key lists, with source, label, group and expiry.';
  static description = `Expired entries are shown as such; they never match. --aggregate prints instead the fewest CIDR ranges covering the same live addresses, per list.

Finding entries: --group, --source, --label (a part of the label, in any case), --expired and --disabled keep only the entries that match them all. --contains ADDRESS lists every entry, of the account list and of every key list, that holds the address, and whether it applies and why not: expired, another key's list, a revoked key, the account list while blocking is off (with --key: for that key).`;
  static examples = [
    '<%= config.bin %> list',
    '<%= config.bin %> list --key billing --json',
    '<%= config.bin %> list --aggregate',
    '<%= config.bin %> list --group github-actions',
    '<%= config.bin %> list --contains 203.0.113.7',
    '<%= config.bin %> list --expired --json',
  ];
  static flags = {
    key: keyFlag,
    account: Flags.boolean({description: 'only the account list', exclusive: ['key']}),
    aggregate: Flags.boolean({char: 'a', description: "print the minimal CIDR cover of each list's live entries", exclusive: ['contains']}),
    group: groupFlag('only entries of group NAME'),
    source: Flags.option({options: ['manual', 'learned', 'import', 'blocked'] as const, description: 'only entries with this source'})(),
    label: Flags.string({description: 'only entries whose label holds TEXT (in any case)', helpValue: 'TEXT'}),
    expired: Flags.boolean({description: 'only expired entries'}),
    disabled: Flags.boolean({description: 'only disabled entries'}),
    contains: Flags.string({description: 'every entry that holds ADDRESS, and whether it applies (and why not)', helpValue: 'ADDRESS'}),
    ...pagerFlag,
  };

  async run() {
    const {flags} = await this.parse(List);
    if (flags.group !== undefined) checkGroupName(flags.group);
    const address = flags.contains === undefined ? undefined : Address.parse(flags.contains.trim());
    const filter: ListFilter = {group: flags.group, source: flags.source, label: flags.label, expired: flags.expired, disabled: flags.disabled};
    const data = await this.readStore();
    if (address !== undefined) {
      // Every list, so that entries of other keys' lists show why they do not apply to --key's key.
      const forKey = flags.key === undefined ? undefined : findKey(data.keys, flags.key).name;
      const scopes = filterScopes(listScopes(data, {accountOnly: flags.account}), filter, this.now);
      const rows = containsRows(data, scopes, address, this.now, forKey);
      await this.printTable(() => renderContains(rows, address.toString(), this.now), flags);
      return rows;
    }
    const scopes = filterScopes(listScopes(data, {key: flags.key, accountOnly: flags.account}), filter, this.now);
    if (flags.aggregate) {
      const rows = aggregatedListJson(scopes, this.now);
      await this.printTable(() => renderAggregated(rows), flags);
      return rows;
    }
    if (this.json) {
      // As bin/run.js's fast path prints it (src/cli/list/run.ts).
      await printListJson(scopes);
      return undefined;
    }
    const rows = listJson(scopes);
    await this.printTable(() => renderList(rows, this.now, filters(filter)), flags);
    return rows;
  }
}
