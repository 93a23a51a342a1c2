import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import {parseEntries} from '../core/entry-parse.js';
import {blockedJson, dismissBlocked, selectBlocked} from '../core/blocked-list.js';
import {InputError, show, untrusted} from '../core/errors.js';
import {keyNamed} from '../core/keys.js';
import {CHANNELS} from '../core/model.js';
import {parseSince} from '../core/time.js';
import {KeywardCommand} from '../cli/base.js';
import {argumentInputs} from '../cli/input.js';
import {pagerFlag} from '../cli/flags.js';
import {renderBlocked} from '../cli/views.js';
import {count} from '../core/count.js';

export default class Blocked extends KeywardCommand {
  static summary = 'Show the blocked list: addresses refused while blocking was active, newest first.';
  static description = `Each address is listed per key with its channel, first and last time seen and count. Authorize one with \`keyward authorize ADDRESS\` or \`keyward authorize --from-blocked\`; --dismiss removes addresses from the list without authorizing them.`;
  static examples = ['<%= config.bin %> blocked', '<%= config.bin %> blocked --key billing --since 7d --json', '<%= config.bin %> blocked --dismiss 192.0.2.66'];
  static strict = false;
  static args = {address: Args.string({description: 'with --dismiss: the addresses or ranges to take off the list', ignoreStdin: true})};
  static flags = {
    key: Flags.string({char: 'k', description: 'only addresses blocked for this key (with --dismiss: dismissed for it only)', helpValue: 'NAME'}),
    channel: Flags.option({options: CHANNELS, description: 'only this channel'})(),
    since: Flags.string({description: 'only addresses seen since: a duration (7d, 12h) or an ISO 8601 time'}),
    dismiss: Flags.boolean({description: 'remove the given addresses from the blocked list without authorizing them'}),
    ...pagerFlag,
  };

  async run() {
    const {argv, flags} = await this.parse(Blocked);
    const since = flags.since === undefined ? undefined : parseSince(flags.since, this.now).toISOString();
    // The key is named from the store as it is: a missing store is exit 3 here, as for every read.
    const key = flags.key === undefined ? undefined : keyNamed(await this.readStore(), flags.key);
    const filter = {key, channel: flags.channel, since};
    const args = argv as string[];
    // An address without --dismiss is no filter: listing every record would pass for an answer about it.
    if (!flags.dismiss && args.length > 0) {
      throw new InputError(
        `unexpected argument: ${show(args[0])} (blocked takes addresses only with --dismiss)`,
        'to see one address: keyward blocked --json, and look for its ip; to remove it: keyward blocked --dismiss ADDRESS',
      );
    }
    if (!flags.dismiss) {
      const rows = selectBlocked(await this.readStore(), filter);
      await this.printTable(() => renderBlocked(rows), flags);
      return rows.map(blockedJson);
    }
    if (args.length === 0) throw new InputError('--dismiss needs the addresses to dismiss');
    const wanted = parseEntries(argumentInputs(args), {force: true}).prefixes();
    const dismissed = await this.updateStore((data) => dismissBlocked(data, wanted, filter));
    await this.printHuman(
      () => `${count(dismissed.length, 'address', 'addresses')} dismissed from the blocked list: ${dismissed.map((d) => `${d.ip} (${untrusted(d.key)})`).join(', ')}`,
    );
    return {dismissed};
  }
}
