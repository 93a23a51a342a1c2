/** Human renderings of results that several commands share. */
import {Covered} from '../core/allowlist.js';
import {untrusted} from '../core/errors.js';
import {CutOff} from '../core/impact.js';
import {SyncPlan} from '../core/sync.js';
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
  // As everywhere: what is let in green, what is taken away red.
  if (changed.length > 0) lines.push((verb === 'added' ? c.green : c.red)(listed(changed)));
  if (result.unchanged.length > 0) {
    lines.push(c.yellow(`${count(result.unchanged.length)} already covered, not added:`));
    lines.push(listed(result.unchanged.map((u) => `${u.entry} (covered by ${u.coveredBy.join(', ')})`)));
  }
  return lines.join('\n');
}

/** Seen addresses a change would refuse, as a table for stderr (where warnings go). */
export async function renderCutOff(refused: CutOff[]): Promise<string> {
  const shown = refused.slice(0, SHOWN);
  const c = await paint(process.stderr);
  const text = await table(
    ['address', 'channel', 'keys', 'last seen'],
    shown.map((r) => [c.red(r.ip), r.channel, r.keys.map(untrusted).join(', '), r.lastSeen]),
    {stream: process.stderr},
  );
  return refused.length > SHOWN ? `${text}\n… and ${refused.length - SHOWN} more` : text;
}

/** A label as an import line writes it: `  # office`, or nothing. */
function labelled(entry: string, label: string | null): string {
  return label === null ? entry : `${entry}  # ${untrusted(label)}`;
}

/**
 * The plan of `sync`, diff-like: + added, - removed, ~ relabeled; unchanged
 * entries only counted; learned entries kept named. The seen traffic it cuts
 * off is only counted here: `renderCutOff` lists it on stderr, as a warning.
 */
export async function renderSyncPlan(plan: SyncPlan, cutOffCount: number, title: string): Promise<string> {
  const c = await paint();
  const n = (count: number, what: string) => `${count} ${what}`;
  const counts = [
    n(plan.added.length, 'to add'),
    n(plan.removed.length, 'to remove'),
    ...(plan.relabeled.length > 0 ? [n(plan.relabeled.length, 'to relabel')] : []),
    n(plan.unchanged.length, 'unchanged'),
  ];
  const lines = [c.bold(`${untrusted(title)}: ${counts.join(', ')}`)];
  // plan.additions is in the order of plan.added.
  if (plan.added.length > 0) lines.push(c.green(listed(plan.added.map((e, i) => `+ ${labelled(e, plan.additions[i].label)}`))));
  if (plan.removed.length > 0) lines.push(c.red(listed(plan.removed.map((e) => `- ${e}`))));
  if (plan.relabeled.length > 0) {
    const quoted = (label: string | null) => (label === null ? '(none)' : `"${untrusted(label)}"`);
    lines.push(c.yellow(listed(plan.relabeled.map((r) => `~ ${r.entry}  label ${quoted(r.previousLabel)} → ${quoted(r.label)}`))));
  }
  if (plan.keptLearned.length > 0) {
    const count = plan.keptLearned.length;
    lines.push(`${count} learned ${count === 1 ? 'entry' : 'entries'} not in the file kept (--prune-learned removes them):`);
    lines.push(listed(plan.keptLearned));
  }
  if (cutOffCount > 0) lines.push(c.yellow(`${cutOffCount} recently seen address(es) would be cut off (listed on stderr)`));
  return lines.join('\n');
}
