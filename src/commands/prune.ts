import {isLive} from '../core/decision.js';
import {EntryRecord} from '../core/model.js';
import {KeywardCommand} from '../cli/base.js';
import {dryRunFlag} from '../cli/flags.js';

export default class Prune extends KeywardCommand {
  static summary = 'Remove expired entries from the account list and every key list.';
  static description = `Expired entries already never match; prune takes them out of the store.`;
  static examples = ['<%= config.bin %> prune', '<%= config.bin %> prune --dry-run --json'];
  static flags = {'dry-run': dryRunFlag};

  async run(): Promise<void> {
    const {flags} = await this.parse(Prune);
    this.setup(flags);
    const dryRun = flags['dry-run'];
    const removed = await this.updateStore(
      (data) => {
        const gone: {entry: string; scope: string; expiresAt: string | null}[] = [];
        const sweep = (records: EntryRecord[], scope: string) =>
          records.filter((r) => {
            if (isLive(r, this.now)) return true;
            gone.push({entry: r.entry, scope, expiresAt: r.expiresAt});
            return false;
          });
        data.account = sweep(data.account, 'account');
        for (const key of data.keys) key.allow = sweep(key.allow, key.name);
        return gone;
      },
      {dryRun},
    );
    await this.report({removed, dryRun}, () =>
      removed.length === 0
        ? 'no expired entries'
        : `${removed.length} expired ${removed.length === 1 ? 'entry' : 'entries'} ${dryRun ? 'would be ' : ''}removed:\n${removed.map((r) => `  ${r.entry} (${r.scope}, expired ${r.expiresAt})`).join('\n')}`,
    );
  }
}
