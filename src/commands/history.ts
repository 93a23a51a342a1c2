import * as Flags from '@oclif/core/flags';
import {historyJson, historyOf} from '../core/history.js';
import {checkGroupName} from '../core/keys.js';
import {groupFlag, pagerFlag} from '../cli/flags.js';
import {parseSince} from '../core/time.js';
import {KeywardCommand} from '../cli/base.js';
import {renderHistory} from '../cli/views.js';

export default class History extends KeywardCommand {
  static summary = 'Show the audit record: every change to the store, when, by whom, with which command.';
  static description = `Every command that changes the store appends a record in the same atomic write: the time (KEYWARD_NOW honoured), the command and the names of the flags it was given (never their values), the user, and what changed: entries added, removed and updated (new label, renewed expiry) per list, keys created, rotated or revoked (by hint; never a secret), blocking switched on or off (also by learning itself), addresses put on or taken off the blocked list, settings. The store keeps the newest 500 records; a record names at most 50 entries per list, with exact counts. Dry runs and commands that changed nothing are not recorded. Oldest first; --limit keeps the newest.`;
  static examples = [
    '<%= config.bin %> history --since 7d',
    '<%= config.bin %> history --limit 20',
    `<%= config.bin %> history --since 2026-01-01 --json | jq '.[] | select(.changes.counts.removed > 0) | {at, user, command}'`,
  ];
  static flags = {
    since: Flags.string({description: 'only changes since: a duration (7d, 12h) or an ISO 8601 time'}),
    limit: Flags.integer({description: 'only the newest N changes', min: 1}),
    group: groupFlag('only changes that added, removed or updated an entry of group NAME (before or after the change)'),
    ...pagerFlag,
  };

  async run() {
    const {flags} = await this.parse(History);
    const since = flags.since === undefined ? undefined : parseSince(flags.since, this.now);
    if (flags.group !== undefined) checkGroupName(flags.group);
    const records = historyOf(await this.readStore(), {since, limit: flags.limit, group: flags.group});
    await this.printTable(() => renderHistory(records, since), flags);
    return historyJson(records);
  }
}
