import {Flags} from '@oclif/core';
import {visible} from '../core/errors.js';
import {selectHistory} from '../core/history.js';
import {parseSince} from '../core/time.js';
import {HistoryChanges, HistoryRecord} from '../core/model.js';
import {KeywardCommand} from '../cli/base.js';
import {table} from '../cli/render.js';

/** How many entries of a list the table names; --json has all the record holds. */
const SHOWN = 3;

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
  };

  async run(): Promise<void> {
    const {flags} = await this.parse(History);
    this.setup(flags);
    const since = flags.since === undefined ? undefined : parseSince(flags.since, this.now);
    const data = await this.readStore();
    const records = selectHistory(data.history ?? [], {since, limit: flags.limit});
    await this.report(records, () =>
      records.length === 0
        ? `no changes recorded${since === undefined ? '' : ` since ${since.toISOString()}`}`
        : table(['time', 'user', 'command', 'changes'], records.map((r) => [r.at, visible(r.user), commandLine(r), describe(r.changes).join('\n')])),
    );
  }
}

function commandLine(r: HistoryRecord): string {
  return visible([r.command, ...r.flags.map((f) => `--${f}`)].join(' '));
}

function some(texts: readonly string[], total: number): string {
  const shown = texts.slice(0, SHOWN).map(visible).join(', ');
  return total > SHOWN ? `${shown}, … (${total})` : shown;
}

/** One line per kind of change, for the table. */
function describe(c: HistoryChanges): string[] {
  const lines: string[] = [];
  for (const e of c.entries) {
    if (e.counts.added > 0) lines.push(`+${e.counts.added} ${visible(e.scope)}: ${some(e.added, e.counts.added)}`);
    if (e.counts.removed > 0) lines.push(`-${e.counts.removed} ${visible(e.scope)}: ${some(e.removed, e.counts.removed)}`);
    if (e.counts.updated > 0) lines.push(`~${e.counts.updated} ${visible(e.scope)}: ${some(e.updated, e.counts.updated)}`);
  }
  const listed = c.entries.reduce((n, e) => n + e.counts.added + e.counts.removed + e.counts.updated, 0);
  if (listed < c.counts.added + c.counts.removed + c.counts.updated) {
    lines.push(`(${c.counts.added} added, ${c.counts.removed} removed, ${c.counts.updated} updated in all)`);
  }
  for (const k of c.keys) lines.push(`key ${visible(k.name)} (${k.type}) ${k.action}, ${visible(k.hint)}`);
  for (const b of c.blocking) lines.push(`${b.channel} blocking: ${b.from} → ${b.to}${b.automatic ? ' (by itself)' : ''}`);
  if (c.blocked.added > 0 || c.blocked.removed > 0) lines.push(`blocked list: +${c.blocked.added} -${c.blocked.removed}`);
  for (const s of c.settings) lines.push(`${s.name}: ${s.from} → ${s.to}`);
  return lines;
}
