import {Args, Flags} from '@oclif/core';
import {blockedCoveredBy} from '../core/allowlist.js';
import {parseEntries} from '../core/entry-parse.js';
import {InputError, untrusted} from '../core/errors.js';
import {findKey} from '../core/keys.js';
import {BlockedRecord, CHANNELS} from '../core/model.js';
import {parseSince} from '../core/time.js';
import {KeywardCommand} from '../cli/base.js';
import {argumentInputs} from '../cli/input.js';
import {keyFlag} from '../cli/flags.js';
import {paint, table} from '../cli/render.js';

export default class Blocked extends KeywardCommand {
  static summary = 'Show the blocked list: addresses refused while blocking was active, newest first.';
  static description = `Each address is listed per key with its channel, first and last time seen and count. Authorize one with \`keyward authorize ADDRESS\` or \`keyward authorize --from-blocked\`; --dismiss removes addresses from the list without authorizing them.`;
  static examples = [
    '<%= config.bin %> blocked',
    '<%= config.bin %> blocked --key billing --since 7d --json',
    '<%= config.bin %> blocked --dismiss 192.0.2.66',
  ];
  static strict = false;
  static args = {addresses: Args.string({description: 'with --dismiss: the addresses or ranges to take off the list', ignoreStdin: true})};
  static flags = {
    key: keyFlag,
    channel: Flags.option({options: CHANNELS, description: 'only this channel'})(),
    since: Flags.string({description: 'only addresses seen since: a duration (7d, 12h) or an ISO 8601 time'}),
    dismiss: Flags.boolean({description: 'remove the given addresses from the blocked list without authorizing them'}),
  };

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Blocked);
    this.setup(flags);
    const since = flags.since === undefined ? undefined : parseSince(flags.since, this.now).toISOString();
    const keyName = flags.key === undefined ? undefined : findKey((await this.readStore()).keys, flags.key).name;
    const selected = (b: BlockedRecord) =>
      (keyName === undefined || b.key === keyName) && (flags.channel === undefined || b.channel === flags.channel) && (since === undefined || b.lastSeen >= since);

    if (flags.dismiss) {
      const args = argv as string[];
      if (args.length === 0) throw new InputError('--dismiss needs the addresses to dismiss');
      const wanted = parseEntries(argumentInputs(args), {force: true});
      const dismissed = await this.updateStore((data) => {
        const gone = blockedCoveredBy(data.blocked.filter(selected), wanted);
        if (gone.length === 0) throw new InputError('none of the given addresses is on the blocked list', 'see `keyward blocked`');
        data.blocked = data.blocked.filter((b) => !gone.includes(b));
        return gone.map((b) => ({ip: b.ip, key: b.key}));
      });
      await this.report({dismissed}, () => `${dismissed.length} dismissed from the blocked list: ${dismissed.map((d) => `${d.ip} (${untrusted(d.key)})`).join(', ')}`);
      return;
    }

    const data = await this.readStore();
    const rows = data.blocked.filter(selected).sort((a, b) => (a.lastSeen < b.lastSeen ? 1 : a.lastSeen > b.lastSeen ? -1 : 0));
    await this.report(rows, async () => {
      if (rows.length === 0) return 'the blocked list is empty';
      const c = await paint();
      return table(['address', 'key', 'channel', 'first seen', 'last seen', 'count'], rows.map((b) => [c.red(b.ip), untrusted(b.key), b.channel, b.firstSeen, b.lastSeen, b.count]));
    });
  }
}
