/** Flags that several commands share, declared once. */
import {Flags} from '@oclif/core';

export const keyFlag = Flags.string({char: 'k', description: "work on this key's own list instead of the account list"});
export const fileFlag = Flags.string({char: 'f', description: 'read entries from FILE, one a line (ENTRY [# label]); --file - reads stdin'});
// default false: --json reports dryRun as a boolean always (SPEC "Machine output").
export const dryRunFlag = Flags.boolean({description: 'show what would change, change nothing', default: false});
/** The safety override of the broad-entry rule (SPEC "Addresses"), for every command that adds entries. */
export const broadFlag = Flags.boolean({description: 'accept entries broader than /8 (IPv4) or /16 (IPv6), 0.0.0.0/0 and ::/0 included'});
export const yesFlag = Flags.boolean({char: 'y', description: 'do not ask for confirmation'});

/** --api / --smtp, exactly one. */
export const channelFlags = {
  api: Flags.boolean({description: 'API keys', exactlyOne: ['api', 'smtp']}),
  smtp: Flags.boolean({description: 'SMTP keys', exactlyOne: ['api', 'smtp']}),
};

/** --group NAME (SPEC "Groups"): `description` says what it selects or sets on each command. */
export const groupFlag = (description: string) => Flags.string({char: 'g', description, helpValue: 'NAME'});

/** --no-pager, for the commands that print tables (list, blocked, keys list, history): see pager.ts. */
export const pagerFlag = {
  'no-pager': Flags.boolean({description: 'print the table straight to the terminal, even when it is taller than the screen'}),
};
