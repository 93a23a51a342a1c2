/** Human renderings of results that several commands share. */
import {AddResult} from '../core/allowlist.js';
import {untrusted} from '../core/errors.js';
import {CutOff} from '../core/impact.js';
import {LearningProgress} from '../core/learning.js';
import {SyncPlan} from '../core/sync.js';
import {DAY_MS} from '../core/time.js';
import {paint, table} from './render.js';

/** How many items a human summary lists before it says "and N more". */
const SHOWN = 20;

function listed(items: string[]): string {
  const shown = items.slice(0, SHOWN).map((s) => `  ${s}`);
  if (items.length > SHOWN) shown.push(`  … and ${items.length - SHOWN} more (--json lists all)`);
  return shown.join('\n');
}

const count = (n: number) => `${n} ${n === 1 ? 'entry' : 'entries'}`;

/** The report of authorize: added (and which of them other entries cover), updated, unchanged. */
export async function renderAdded(result: AddResult, dryRun: boolean): Promise<string> {
  const c = await paint();
  const would = dryRun ? 'would be ' : '';
  const lines: string[] = [c.bold(`${count(result.added.length)} ${would}added${dryRun ? ' (dry run: nothing was written)' : ''}`)];
  // As everywhere: what is let in green, what is taken away red.
  if (result.added.length > 0) lines.push(c.green(listed(result.added)));
  if (result.covered.length > 0) {
    const n = result.covered.length;
    lines.push(`${n} of them ${n === 1 ? 'is' : 'are'} covered by other entries, and ${would}stored all the same (they stay when a cover expires or is revoked):`);
    lines.push(listed(result.covered.map((u) => `${u.entry} (covered by ${u.coveredBy.join(', ')})`)));
  }
  if (result.updated.length > 0) {
    lines.push(c.bold(`${count(result.updated.length)} ${would}updated:`));
    lines.push(listed(result.updated.map((u) => `${u.entry}: label ${u.label === null ? 'none' : `"${untrusted(u.label)}"`}, ${u.expiresAt === null ? 'no expiry' : `expires ${u.expiresAt}`}`)));
  }
  if (result.unchanged.length > 0) {
    lines.push(c.yellow(`${count(result.unchanged.length)} already in the list, unchanged:`));
    lines.push(listed(result.unchanged));
  }
  return lines.join('\n');
}

/** The report of revoke. */
export async function renderRemoved(removed: string[], dryRun: boolean): Promise<string> {
  const c = await paint();
  const lines = [c.bold(`${count(removed.length)} ${dryRun ? 'would be ' : ''}removed${dryRun ? ' (dry run: nothing was written)' : ''}`)];
  if (removed.length > 0) lines.push(c.red(listed(removed)));
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

/** Whole days of quiet time a learning phase has observed. */
export function quietDays(progress: LearningProgress): number {
  return Math.floor(progress.quietMs / DAY_MS);
}

/** What API learning has observed and what it waits for (status, learn): lines without indentation. */
export function describeLearning(progress: LearningProgress, windowDays: number, now: Date): string[] {
  const since = progress.quietSince.toISOString();
  const at = progress.activatesAt.toISOString();
  const seen = progress.lastEventAt === null ? 'no API event seen yet' : `API traffic seen up to ${progress.lastEventAt.toISOString()}`;
  const lines = [`${quietDays(progress)} of ${windowDays} quiet days observed since ${since} (${seen})`];
  const left = (progress.activatesAt.getTime() - now.getTime()) / DAY_MS;
  if (left > 0) {
    lines.push(`blocking turns on with the first event dated at or after ${at} (${left.toFixed(1)} days from now), unless a new address comes first`);
  } else {
    lines.push(`the window ended at ${at}, but blocking waits for traffic: it turns on with the first event dated at or after then (is the log still fed to keyward learn?)`);
  }
  return lines;
}
