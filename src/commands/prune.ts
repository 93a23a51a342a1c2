import {pruneExpired} from '../core/allowlist.js';
import {KeywardCommand} from '../cli/base.js';
import {dryRunFlag, quietFlag} from '../cli/flags.js';
import {count} from '../core/count.js';

export default class Prune extends KeywardCommand {
  static summary = 'Remove expired entries from the account list and every key list.';
  static description = `Expired entries already never match; prune takes them out of the store, and so changes no decision: a key list whose allow entries have all expired is kept as it is, deny entries included (without an allow entry the key would be restricted by nothing), and reported.`;
  static examples = ['<%= config.bin %> prune', '<%= config.bin %> prune --dry-run --json'];
  static flags = {'dry-run': dryRunFlag, quiet: quietFlag};

  async run() {
    const {flags} = await this.parse(Prune);
    const dryRun = flags['dry-run'];
    const {removed, keptKeyLists: kept} = await this.updateStore((data) => pruneExpired(data, this.now), {dryRun});
    for (const name of kept) {
      await this.tell(
        `key ${name}: every entry of its list has expired; kept, so that the key stays refused everywhere (authorize new entries with --key ${name}, or retire it with keyward keys revoke ${name})`,
        'warn',
      );
    }
    await this.printHuman(() =>
      removed.length === 0
        ? 'no expired entries'
        : `${count(removed.length, 'expired entry', 'expired entries')} ${dryRun ? 'would be ' : ''}removed:\n${removed.map((r) => `  ${r.entry} (${r.scope}, expired ${r.expiresAt})`).join('\n')}`,
    );
    return {removed, keptKeyLists: kept, dryRun};
  }
}
