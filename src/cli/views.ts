/** Human renderings of results that several commands share. */
import {Covered} from '../core/allowlist.js';
import {CutOff} from '../core/impact.js';
import {paint, table} from './render.js';

/** How many items a human summary lists before it says "and N more". */
const SHOWN = 20;

function listed(items: string[]): string {
  const shown = items.slice(0, SHOWN).map((s) => `  ${s}`);
  if (items.length > SHOWN) shown.push(`  … and ${items.length - SHOWN} more (--json lists all)`);
  return shown.join('\n');
}

/** The report of authorize or revoke. */
export async function renderChange(
  verb: 'added' | 'removed',
  result: {added?: string[]; removed?: string[]; unchanged: Covered[]},
  dryRun: boolean,
): Promise<string> {
  const c = await paint();
  const changed = (verb === 'added' ? result.added : result.removed) ?? [];
  const would = dryRun ? 'would be ' : '';
  const lines: string[] = [];
  const count = (n: number) => `${n} ${n === 1 ? 'entry' : 'entries'}`;
  lines.push(c.bold(`${count(changed.length)} ${would}${verb}${dryRun ? ' (dry run: nothing was written)' : ''}`));
  if (changed.length > 0) lines.push(listed(changed));
  if (result.unchanged.length > 0) {
    lines.push(c.yellow(`${count(result.unchanged.length)} already covered, not added:`));
    lines.push(listed(result.unchanged.map((u) => `${u.entry} (covered by ${u.coveredBy.join(', ')})`)));
  }
  return lines.join('\n');
}

/** Seen addresses a change would refuse, as a table. */
export async function renderCutOff(refused: CutOff[]): Promise<string> {
  const shown = refused.slice(0, SHOWN);
  const text = await table(
    ['address', 'channel', 'keys', 'last seen'],
    shown.map((r) => [r.ip, r.channel, r.keys.join(', '), r.lastSeen]),
  );
  return refused.length > SHOWN ? `${text}\n… and ${refused.length - SHOWN} more` : text;
}
