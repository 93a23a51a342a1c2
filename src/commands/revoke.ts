import {Args, Flags} from '@oclif/core';
import {refuseOpeningKeyList, removeEntries} from '../core/allowlist.js';
import {parseEntries} from '../core/entry-parse.js';
import {cutOff} from '../core/impact.js';
import {findKey} from '../core/keys.js';
import {CHANNELS} from '../core/model.js';
import {KeywardCommand} from '../cli/base.js';
import {dryRunFlag, fileFlag, keyFlag, yesFlag} from '../cli/flags.js';
import {argumentsInOrder, readEntryInputs} from '../cli/input.js';
import {confirmOrRefuse} from '../cli/prompt.js';
import {renderCutOff, renderRemoved} from '../cli/views.js';

export default class Revoke extends KeywardCommand {
  static summary = 'Remove entries (exact match) from the account list, or from a key list with --key.';
  static description = `Takes the same inputs as authorize. An entry that is not in the list is an error that names the entries covering it, and nothing is removed. While blocking is active the removed addresses will be refused: revoke says so and asks on a terminal; without one it needs --yes. Removing the last entry of a key's list would leave the key restricted by nothing: that is refused (exit 4) unless --force.`;
  static examples = [
    '<%= config.bin %> revoke 203.0.113.7',
    '<%= config.bin %> revoke --key billing 198.51.100.0/24 --yes',
    '<%= config.bin %> revoke --file retired.txt --dry-run',
  ];
  static strict = false;
  // ignoreStdin: as in authorize, stdin is read by line, never by oclif.
  static args = {entries: Args.string({description: 'entries to remove; - reads stdin', ignoreStdin: true})};
  static flags = {
    key: keyFlag,
    file: fileFlag,
    'dry-run': dryRunFlag,
    yes: yesFlag,
    force: Flags.boolean({description: 'remove the last entry of a key list: the key is then restricted by nothing'}),
  };

  async run(): Promise<void> {
    const {flags, raw} = await this.parse(Revoke);
    const argv = argumentsInOrder(raw);
    this.setup(flags);
    const inputs = await readEntryInputs({args: argv as string[], file: flags.file});
    // Revoke takes entries as they are listed: host bits and /0 need no extra flag to be removed.
    const prefixes = parseEntries(inputs, {normalize: false, force: true}).prefixes();
    const dryRun = flags['dry-run'];

    // Check and warn before taking the lock: a prompt must never hold it.
    const before = await (dryRun ? this.readStore() : this.readStoreOrEmpty());
    const key = flags.key === undefined ? undefined : findKey(before.keys, flags.key);
    const after = structuredClone(before);
    removeEntries(key ? findKey(after.keys, key.name).allow : after.account, prefixes);
    if (key) refuseOpeningKeyList(key.name, key.allow.length, findKey(after.keys, key.name).allow.length, flags.force);
    const channels = key ? [key.type] : CHANNELS;
    const blocking = channels.filter((ch) => before.blocking[ch].state === 'active');
    if (blocking.length > 0 && !dryRun) {
      await this.tell(`blocking is active for ${blocking.join(' and ')} keys: these addresses will be refused from now on`, 'warn');
      const refused = cutOff(before, after, this.now, channels);
      if (refused.length > 0) {
        await this.tell(`${refused.length} recently seen address(es) would be cut off:`, 'warn');
        await this.tell(await renderCutOff(refused));
      }
      await confirmOrRefuse(`Revoke ${prefixes.length} ${prefixes.length === 1 ? 'entry' : 'entries'}?`, flags.yes, '--yes');
    }

    const removed = await this.updateStore(
      (data) => {
        if (!key) return removeEntries(data.account, prefixes);
        // Again under the lock: the list may have changed since it was read.
        const list = findKey(data.keys, key.name).allow;
        const had = list.length;
        const removed = removeEntries(list, prefixes);
        refuseOpeningKeyList(key.name, had, list.length, flags.force);
        return removed;
      },
      {dryRun},
    );
    await this.report({removed, dryRun}, () => renderRemoved(removed, dryRun));
  }
}
