import {isLive} from '../core/decision.js';
import {EntryRecord} from '../core/model.js';
import {KeywardCommand} from '../cli/base.js';
import {dryRunFlag} from '../cli/flags.js';

export default class Prune extends KeywardCommand {
  static summary = 'Remove expired entries from the account list and every key list.';
  static description = `Expired entries already never match; prune takes them out of the store, and so changes no decision: a key list whose entries have all expired is kept as it is (without it the key would be restricted by nothing), and reported.`;
  static examples = ['<%= config.bin %> prune', '<%= config.bin %> prune --dry-run --json'];
  static flags = {'dry-run': dryRunFlag};

  async run(): Promise<void> {
    const {flags} = await this.parse(Prune);
    this.setup(flags);
    const dryRun = flags['dry-run'];
    const outcome = await this.updateStore(
      (data) => {
        const gone: {entry: string; scope: string; expiresAt: string | null}[] = [];
        const sweep = (records: EntryRecord[], scope: string) =>
          records.filter((r) => {
            if (isLive(r, this.now)) return true;
            gone.push({entry: r.entry, scope, expiresAt: r.expiresAt});
            return false;
          });
        data.account = sweep(data.account, 'account');
        const kept: string[] = [];
        for (const key of data.keys) {
          // A list of only expired entries refuses every address; an empty list would allow every one.
          if (key.allow.length > 0 && !key.allow.some((r) => isLive(r, this.now))) kept.push(key.name);
          else key.allow = sweep(key.allow, key.name);
        }
        return {gone, kept};
      },
      {dryRun},
    );
    const {gone: removed, kept} = outcome;
    for (const name of kept) {
      await this.tell(`key ${name}: every entry of its list has expired; kept, so that the key stays refused everywhere (authorize new entries with --key ${name}, or retire it with keyward keys revoke ${name})`, 'warn');
    }
    await this.report({removed, keptKeyLists: kept, dryRun}, () =>
      removed.length === 0
        ? 'no expired entries'
        : `${removed.length} expired ${removed.length === 1 ? 'entry' : 'entries'} ${dryRun ? 'would be ' : ''}removed:\n${removed.map((r) => `  ${r.entry} (${r.scope}, expired ${r.expiresAt})`).join('\n')}`,
    );
  }
}
