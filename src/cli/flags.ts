/** Flags that several commands share, declared once. */
import * as Flags from '@oclif/core/flags';
import {InputError} from '../core/errors.js';
import {Channel} from '../core/model.js';

export const keyFlag = Flags.string({char: 'k', description: "work on this key's own list instead of the account list", helpValue: 'NAME'});
export const fileFlag = Flags.string({char: 'f', description: 'read entries from FILE, one a line (ENTRY [# label]); --file - reads stdin', helpValue: 'FILE'});
// default false: --json reports dryRun as a boolean always (SPEC "Machine output").
export const dryRunFlag = Flags.boolean({description: 'show what would change, change nothing', default: false});
/** The safety override of the broad-entry rule (SPEC "Addresses"), for every command that adds entries. */
export const broadFlag = Flags.boolean({description: 'accept entries broader than /8 (IPv4) or /16 (IPv6), 0.0.0.0/0 and ::/0 included'});
export const yesFlag = Flags.boolean({char: 'y', description: 'do not ask for confirmation'});
/** --quiet, handled by base.ts (src/cli/quiet.ts): for every command that prints a summary. */
export const quietFlag = Flags.boolean({char: 'q', description: 'print no summary and no progress (errors, warnings and a new secret are still printed)'});

/** --api / --smtp: one of them, or both (see channelsOf). */
export const channelFlags = {
  api: Flags.boolean({description: 'API keys'}),
  smtp: Flags.boolean({description: 'SMTP keys'}),
};

/** The channels --api and --smtp name, in that order; neither is a usage error (exit 2). */
export function channelsOf(flags: {api?: boolean; smtp?: boolean}): Channel[] {
  const channels: Channel[] = [...(flags.api ? (['api'] as const) : []), ...(flags.smtp ? (['smtp'] as const) : [])];
  if (channels.length === 0) throw new InputError('give --api, --smtp or both');
  return channels;
}

/** --group NAME (SPEC "Groups"): `description` says what it selects or sets on each command. */
export const groupFlag = (description: string) => Flags.string({char: 'g', description, helpValue: 'NAME'});

/** --no-pager, for the commands that print tables (list, blocked, keys list, history): see pager.ts. */
export const pagerFlag = {
  'no-pager': Flags.boolean({description: 'print the table straight to the terminal, even when it is taller than the screen'}),
};
