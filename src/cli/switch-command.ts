/**
 * `enable` and `disable`: one command switching exact entries on or off. A
 * switch that cuts off recently seen traffic says which and asks (see
 * core/switch.ts), as `revoke` and `activate` do.
 */
import * as Args from '@oclif/core/args';
import {parseEntries} from '../core/entry-parse.js';
import {applySwitch, planSwitch} from '../core/switch.js';
import {count} from '../core/count.js';
import {KeywardCommand} from './base.js';
import {dryRunFlag, fileFlag, keyFlag, quietFlag, yesFlag} from './flags.js';
import {argumentsInOrder, placedInInput, readEntryInputs} from './input.js';
import {renderCutOff, renderSwitched} from './views.js';

export abstract class SwitchCommand extends KeywardCommand {
  static flags = {
    key: keyFlag,
    file: fileFlag,
    'dry-run': dryRunFlag,
    yes: yesFlag,
    quiet: quietFlag,
  };

  /** Switches the entries given on (`enable`) or off (`disable`); what changed and what was already so. */
  protected async switchEntries(enabled: boolean): Promise<{changed: string[]; unchanged: string[]; dryRun: boolean}> {
    const {flags, raw} = await this.parse(this.ctor as typeof SwitchCommand);
    const inputs = await readEntryInputs({args: argumentsInOrder(raw), file: flags.file as string | undefined});
    // Entries are taken as they are listed: host bits and /0 need no extra flag.
    const prefixes = parseEntries(inputs, {normalize: false, force: true}).prefixes();
    const dryRun = Boolean(flags['dry-run']);
    const {plan, applied} = await this.planAndApply({
      plan: (data) => placedInInput(inputs, () => planSwitch(data, prefixes, {key: flags.key as string | undefined, enabled, now: this.now})),
      present: async (p) => {
        if (p.cutOff.length === 0) return;
        await this.tell(`${count(p.cutOff.length, 'recently seen address', 'recently seen addresses')} would be cut off:`, 'warn');
        await this.tell(await renderCutOff(p.cutOff), 'info', true);
      },
      ready: (p) => p.changed.length > 0,
      apply: applySwitch,
      skip: Boolean(flags.yes),
      skipFlag: '--yes',
      dryRun,
    });
    const result = applied ?? plan;
    await this.printHuman(() => renderSwitched(result.changed, result.unchanged, enabled, dryRun));
    return {changed: result.changed, unchanged: result.unchanged, dryRun};
  }
}

/** The positional argument of both commands. */
export const switchArgs = (what: string) => ({entry: Args.string({description: `entries to ${what}; - reads stdin`, ignoreStdin: true})});
