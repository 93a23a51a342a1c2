/** Human renderings of the commands' results: tables, plans and summaries (the JSON is the result itself). */
import {AddResult, coveredCount, coveredSlice} from '../core/allowlist.js';
import {untrusted, visible} from '../core/errors.js';
import {BlockedRecord, HistoryChanges, HistoryRecord, StoreData} from '../core/model.js';
import {CutOff} from '../core/impact.js';
import {keyJson} from '../core/key-actions.js';
import {LearnOutcome, learningProgress, LearningProgress, MAX_BLOCKED, MAX_SEEN} from '../core/learning.js';
import {ContainsRow, EntryJson, StatusJson} from '../core/reports.js';
import {SyncPlan} from '../core/sync.js';
import {count as counted, dayNumber, days, grouped} from '../core/count.js';
import {waysOut} from './notify.js';
import {Column, expiresIn, paint, shortTime, table} from './render.js';

/** How many items a human summary lists before it says "and N more". */
const SHOWN = 20;

function listed(items: string[]): string {
  return listedOf(items.length, (start, end) => items.slice(start, end));
}

/** `listed` of `total` items, of which only those shown are made (`slice`). */
function listedOf(total: number, slice: (start: number, end: number) => string[]): string {
  const shown = slice(0, SHOWN).map((s) => `  ${s}`);
  if (total > SHOWN) shown.push(`  … and ${grouped(total - SHOWN)} more (--json lists all)`);
  return shown.join('\n');
}

const count = (n: number) => counted(n, 'entry', 'entries');

/** The report of authorize: added (and which of them other entries cover), updated, unchanged. */
export async function renderAdded(result: AddResult, dryRun: boolean, effect: 'allow' | 'deny' = 'allow'): Promise<string> {
  const c = await paint();
  const would = dryRun ? 'would be ' : '';
  const what = effect === 'deny' ? counted(result.added.length, 'deny entry', 'deny entries') : count(result.added.length);
  const lines: string[] = [c.bold(`${what} ${would}added${dryRun ? ' (dry run: nothing was written)' : ''}`)];
  // As everywhere: what is let in green, what is taken away red.
  if (result.added.length > 0) lines.push(effect === 'deny' ? c.red(listed(result.added)) : c.green(listed(result.added)));
  const n = coveredCount(result);
  if (n > 0) {
    lines.push(`${grouped(n)} of them ${n === 1 ? 'is' : 'are'} covered by other entries, and ${would}stored all the same (they stay when a cover expires or is revoked):`);
    // Only the covered entries shown are made (a large import covers hundreds of thousands).
    lines.push(listedOf(n, (start, end) => coveredSlice(result, start, end).map((u) => `${u.entry} (covered by ${u.coveredBy.join(', ')})`)));
  }
  if (result.updated.length > 0) {
    lines.push(c.bold(`${count(result.updated.length)} ${would}updated:`));
    lines.push(
      listed(
        result.updated.map(
          (u) => `${u.entry}: label ${u.label === null ? 'none' : `"${untrusted(u.label)}"`}, ${u.expiresAt === null ? 'no expiry' : `expires ${u.expiresAt}`}`,
        ),
      ),
    );
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

/** The report of enable / disable. */
export async function renderSwitched(changed: string[], unchanged: string[], enabled: boolean, dryRun: boolean): Promise<string> {
  const c = await paint();
  const done = enabled ? 'enabled' : 'disabled';
  const lines = [c.bold(`${count(changed.length)} ${dryRun ? 'would be ' : ''}${done}${dryRun ? ' (dry run: nothing was written)' : ''}`)];
  if (changed.length > 0) lines.push(listed(changed));
  if (unchanged.length > 0) lines.push(c.yellow(`${count(unchanged.length)} already ${done}:`), listed(unchanged));
  return lines.join('\n');
}

/** Seen addresses a change would refuse, as a table for stderr (where warnings go). */
export async function renderCutOff(refused: CutOff[]): Promise<string> {
  const shown = refused.slice(0, SHOWN);
  const text = await table<CutOff>(
    [
      {head: 'address', field: 'ip', value: (r) => r.ip, tone: () => 'red'},
      {head: 'channel', field: 'channel', value: (r) => r.channel},
      {head: 'keys', field: 'keys', value: (r) => r.keys.map(untrusted).join(','), text: (r) => r.keys.map(untrusted).join(', ')},
      {head: 'last seen (UTC)', field: 'lastSeen', value: (r) => r.lastSeen, text: (r) => shortTime(r.lastSeen)},
    ],
    shown,
    {stream: process.stderr, empty: ''},
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
  const n = (count: number, what: string) => `${grouped(count)} ${what}`;
  const counts = [
    n(plan.added.length, 'to add'),
    n(plan.removed.length, 'to remove'),
    ...(plan.relabeled.length > 0 ? [n(plan.relabeled.length, 'to relabel')] : []),
    ...(plan.updated.length > 0 ? [n(plan.updated.length, 'to regroup or re-date')] : []),
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
  if (plan.updated.length > 0) {
    const shown = (value: string | null) => (value === null ? '(none)' : untrusted(value));
    const change = (what: string, from: string | null, to: string | null) => (from === to ? [] : [`${what} ${shown(from)} → ${shown(to)}`]);
    const rows = plan.updated.map((u) => `~ ${u.entry}  ${[...change('group', u.previousGroup, u.group), ...change('expires', u.previousExpiresAt, u.expiresAt)].join(', ')}`);
    lines.push(c.yellow(listed(rows)));
  }
  if (plan.elsewhere.length > 0) {
    const count = plan.elsewhere.length;
    lines.push(`${counted(count, 'entry', 'entries')} of the file already in the list outside the group, left there:`);
    lines.push(listed(plan.elsewhere.map((e) => `${e.entry}  (${e.group === null ? 'no group' : `group ${untrusted(e.group)}`})`)));
  }
  if (plan.inAccount.length > 0) {
    lines.push(
      `${counted(plan.inAccount.length, 'deny entry', 'deny entries')} of the file the account list holds (in effect for every key), not copied into the key's list:`,
    );
    lines.push(listed(plan.inAccount));
  }
  if (plan.keptLearned.length > 0) {
    const count = plan.keptLearned.length;
    lines.push(`${counted(count, 'learned entry', 'learned entries')} not in the file kept (--prune-learned removes them):`);
    lines.push(listed(plan.keptLearned));
  }
  if (plan.keptDisabled.length > 0) {
    const count = plan.keptDisabled.length;
    lines.push(`${counted(count, 'disabled entry', 'disabled entries')} not in the file kept (exports leave them out; keyward revoke removes them):`);
    lines.push(listed(plan.keptDisabled));
  }
  if (plan.keptExpired.length > 0) {
    const count = plan.keptExpired.length;
    lines.push(
      `${counted(count, 'entry', 'entries')} of the file the list holds expired, kept expired (the file gives no expiry to come; \`keyward authorize ENTRY --expires …\` renews one):`,
    );
    lines.push(listed(plan.keptExpired));
  }
  if (cutOffCount > 0) lines.push(c.yellow(`${counted(cutOffCount, 'recently seen address', 'recently seen addresses')} would be cut off (listed on stderr)`));
  return lines.join('\n');
}

/** What API learning has observed and what it waits for (status, learn): lines without indentation. */
export function describeLearning(progress: LearningProgress, windowDays: number, now: Date): string[] {
  const since = progress.quietSince.toISOString();
  const at = progress.activatesAt.toISOString();
  const seen = progress.lastEventAt === null ? 'no API event seen yet' : `API traffic seen up to ${progress.lastEventAt.toISOString()}`;
  const lines = [`${dayNumber(progress.quietMs)} of ${grouped(windowDays)} quiet days observed since ${since} (${seen})`];
  const left = progress.activatesAt.getTime() - now.getTime();
  if (left > 0) {
    lines.push(`blocking turns on with the first event dated at or after ${at} (${days(left)} from now), unless a new address comes first`);
  } else {
    lines.push(`the window ended at ${at}, but blocking waits for traffic: it turns on with the first event dated at or after then (is the log still fed to keyward learn?)`);
  }
  return lines;
}

/** The table of `keys list`: in a pipe the fields of `keys list --json`, the list joined with commas. */
export async function renderKeys(keys: ReturnType<typeof keyJson>[]): Promise<string> {
  return table<ReturnType<typeof keyJson>>(
    [
      {head: 'name', field: 'name', value: (k) => untrusted(k.name)},
      {head: 'type', field: 'type', value: (k) => k.type},
      {head: 'hint', field: 'hint', value: (k) => untrusted(k.hint)},
      {head: 'status', field: 'status', value: (k) => k.status, tone: (k) => (k.status === 'active' ? 'green' : 'red')},
      {head: 'created (UTC)', field: 'createdAt', value: (k) => k.createdAt, text: (k) => shortTime(k.createdAt)},
      {head: 'rotated (UTC)', field: 'rotatedAt', value: (k) => k.rotatedAt, text: (k) => shortTime(k.rotatedAt)},
      {head: 'allow', field: 'allow', value: (k) => k.allow.join(','), text: (k) => k.allow.join('\n') || '(account list)'},
      {head: 'deny', field: 'deny', value: (k) => k.deny.join(','), text: (k) => k.deny.join('\n')},
    ],
    keys,
    {empty: 'no keys (create one with `keyward keys create NAME --type api`)'},
  );
}

/** How many entries of a list the history table names; --json has all the record holds. */
const HISTORY_SHOWN = 3;

/** The table of `history`: in a pipe the record's fields, its flags joined with commas and its changes with "; ". */
export async function renderHistory(records: readonly HistoryRecord[], since: Date | undefined): Promise<string> {
  return table<HistoryRecord>(
    [
      {head: 'time (UTC)', field: 'at', value: (r) => r.at, text: (r) => shortTime(r.at)},
      {head: 'user', text: (r) => visible(r.user)},
      {head: 'command', text: commandLine},
      {field: 'command', value: (r) => visible(r.command)},
      {field: 'flags', value: (r) => r.flags.map(visible).join(',')},
      {field: 'user', value: (r) => visible(r.user)},
      {head: 'changes', field: 'changes', value: (r) => describe(r.changes).join('; '), text: (r) => describe(r.changes).join('\n')},
    ],
    records,
    {empty: `no changes recorded${since === undefined ? '' : ` since ${since.toISOString()}`}`},
  );
}

function commandLine(r: HistoryRecord): string {
  return visible([r.command, ...r.flags.map((f) => `--${f}`)].join(' '));
}

function some(texts: readonly string[], total: number): string {
  const shown = texts.slice(0, HISTORY_SHOWN).map(visible).join(', ');
  return total > HISTORY_SHOWN ? `${shown}, … (${total})` : shown;
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
    lines.push(`(${grouped(c.counts.added)} added, ${grouped(c.counts.removed)} removed, ${grouped(c.counts.updated)} updated in all)`);
  }
  for (const k of c.keys) lines.push(`key ${visible(k.name)} (${k.type}) ${k.action}, ${visible(k.hint)}`);
  for (const b of c.blocking) lines.push(`${b.channel} blocking: ${b.from} → ${b.to}${b.automatic ? ' (by itself)' : ''}`);
  if (c.blocked.added > 0 || c.blocked.removed > 0) lines.push(`blocked list: +${c.blocked.added} -${c.blocked.removed}`);
  for (const s of c.settings) lines.push(`${s.name}: ${s.from} → ${s.to}`);
  return lines;
}

/** The table of `blocked`: in a pipe the fields of `blocked --json`. */
export async function renderBlocked(rows: readonly BlockedRecord[]): Promise<string> {
  return table<BlockedRecord>(
    [
      {head: 'address', field: 'ip', value: (b) => b.ip, tone: () => 'red'},
      {head: 'key', field: 'key', value: (b) => untrusted(b.key)},
      {head: 'channel', field: 'channel', value: (b) => b.channel},
      {head: 'reason', field: 'reason', value: (b) => b.reason ?? null},
      {head: 'first seen (UTC)', field: 'firstSeen', value: (b) => b.firstSeen, text: (b) => shortTime(b.firstSeen)},
      {head: 'last seen (UTC)', field: 'lastSeen', value: (b) => b.lastSeen, text: (b) => shortTime(b.lastSeen)},
      {head: 'count', field: 'count', value: (b) => b.count},
    ],
    rows,
    {empty: 'the blocked list is empty'},
  );
}

/** An entry's effect on a terminal: nothing for an enabled allow entry, else deny and/or disabled. */
function effectText(r: EntryJson): string {
  return [...(r.effect === 'deny' ? ['deny'] : []), ...(r.enabled ? [] : ['disabled'])].join(' ');
}

/** The columns of an entry (`list`, `list --contains`): in a pipe the fields of `list --json`. */
function entryColumns<R extends EntryJson>(now: Date): Column<R>[] {
  const live = (r: R) => r.expiresAt === null || Date.parse(r.expiresAt) > now.getTime();
  // Scopes and groups are few names over many rows: each escaped once.
  const escaped = new Map<string, string>();
  const name = (text: string) => escaped.get(text) ?? escaped.set(text, untrusted(text)).get(text)!;
  return [
    {head: 'entry', field: 'entry', value: (r) => r.entry, tone: (r) => (live(r) && r.enabled ? undefined : 'dim')},
    {head: 'scope', field: 'scope', value: (r) => name(r.scope)},
    {head: 'effect', text: effectText, tone: (r) => (r.effect === 'deny' ? 'red' : 'dim')},
    {field: 'effect', value: (r) => r.effect},
    {field: 'enabled', value: (r) => r.enabled},
    {head: 'source', field: 'source', value: (r) => r.source},
    {head: 'label', field: 'label', value: (r) => (r.label === null ? null : untrusted(r.label))},
    {head: 'group', field: 'group', value: (r) => (r.group === null ? null : name(r.group))},
    {head: 'added (UTC)', field: 'addedAt', value: (r) => r.addedAt, text: (r) => shortTime(r.addedAt)},
    {
      head: 'expires',
      field: 'expiresAt',
      value: (r) => r.expiresAt,
      text: (r) => (r.expiresAt === null ? null : expiresIn(r.expiresAt, now)),
      tone: (r) => (live(r) ? undefined : 'red'),
    },
  ];
}

/**
 * The table of `list` (rows as `list --json` has them): expired entries
 * dimmed, their expiry red; deny entries and disabled entries marked; labels,
 * key and group names escaped (an import, a hand-edited store).
 */
export async function renderList(rows: readonly EntryJson[], now: Date, filtered = false): Promise<string> {
  return table(entryColumns<EntryJson>(now), rows, {empty: filtered ? 'no entries match' : 'no entries (add some with `keyward authorize`)'});
}

/** The table of `list --aggregate`: entry and scope, always both. */
export async function renderAggregated(rows: readonly {entry: string; scope: string}[]): Promise<string> {
  return table<{entry: string; scope: string}>(
    [
      {head: 'entry', field: 'entry', value: (r) => r.entry},
      {head: 'scope', field: 'scope', value: (r) => untrusted(r.scope)},
    ],
    rows,
    {empty: 'no live entries'},
  );
}

/** What `list --contains ADDRESS` prints: each entry holding the address, whether it applies and why. */
export async function renderContains(rows: readonly ContainsRow[], address: string, now: Date): Promise<string> {
  // The fields of `list` in a pipe; on a terminal only the entry, its list, effect and group.
  const terminal = new Set(['entry', 'scope', 'effect', 'group']);
  const columns = entryColumns<ContainsRow>(now).map((c) => (c.head !== undefined && !terminal.has(c.head) ? {...c, head: undefined} : c));
  return table<ContainsRow>(
    [
      ...columns,
      {head: 'applies', field: 'applies', value: (r) => r.applies, text: (r) => (r.applies ? 'yes' : 'no'), tone: (r) => (r.applies ? 'green' : 'red')},
      {head: 'why', field: 'why', value: (r) => untrusted(r.why)},
    ],
    rows,
    {empty: `no entry holds ${address}`},
  );
}

/** What `status` prints: the store, each channel in words, learning progress, counts, the latest blocked. */
export async function renderStatus(status: StatusJson, data: StoreData, now: Date): Promise<string> {
  const c = await paint();
  const api = data.blocking.api;
  const progress = learningProgress(api, data.settings);
  const show = (state: string) =>
    state === 'active'
      ? c.green.bold('active: unknown addresses are refused')
      : state === 'learning'
        ? c.cyan('learning: callers are authorized as they come')
        : c.yellow('inactive: every address is allowed');
  const lines = [`${c.bold('store')} ${untrusted(status.store)}`, `${c.bold('api ')}  ${show(status.api.state)}`];
  if (progress !== null) {
    lines.push(`      learning since ${api.learningSince ?? api.changedAt}; last new address ${api.lastNewAddressAt ?? 'none yet'}`);
    for (const line of describeLearning(progress, data.settings.learningWindowDays, now)) lines.push(`      ${line}`);
  }
  lines.push(`${c.bold('smtp')}  ${show(status.smtp.state)}`);
  const n = status.counts;
  const g = grouped;
  lines.push(`entries: ${g(n.accountEntries)} in the account list (${g(n.learnedEntries)} learned), ${g(n.keyEntries)} in key lists, ${g(n.expiredEntries)} expired`);
  lines.push(`keys: ${g(n.keys)} (${g(n.activeKeys)} active); seen addresses: ${g(n.seen)}; blocked: ${g(n.blocked)}`);
  if (status.latestBlocked.length > 0) {
    lines.push(c.red('latest blocked:'));
    for (const b of status.latestBlocked) lines.push(`  ${b.ip}  key ${untrusted(b.key)} (${b.channel})  last seen ${b.lastSeen}  ×${b.count}`);
  }
  return lines.join('\n');
}

/** How many unknown keys the learn summary names. */
const UNKNOWN_SHOWN = 5;

/** The summary of `learn`, as messages for stderr: events, learned, blocked with ways out, problems, phase. */
export function learnSummary(
  outcome: LearnOutcome,
  data: StoreData,
  {bad, badLines, untimed, keyless = 0, unfinished = null}: {bad: string[]; badLines: number; untimed: number; keyless?: number; unfinished?: string | null},
  failures: string[],
  {dryRun, now, followed = false}: {dryRun: boolean; now: Date; followed?: boolean},
): [string, 'info' | 'warn'][] {
  const said: [string, 'info' | 'warn'][] = [];
  const would = dryRun ? ' (dry run: nothing was written)' : '';
  said.push([
    `${counted(outcome.events, 'event')} applied, ${counted(outcome.learned.length, 'entry', 'entries')} learned, ${counted(outcome.blocked.length, 'address', 'addresses')} newly blocked${would}`,
    'info',
  ]);
  if (untimed > 0) {
    said.push([
      `${counted(untimed, 'event had', 'events had')} no time and ${untimed === 1 ? 'was' : 'were'} taken as happening ${followed ? 'when read' : `now (${now.toISOString()})`}; --strict refuses such events`,
      'warn',
    ]);
  }
  if (keyless > 0) said.push([`${counted(keyless, 'request')} without a key skipped`, 'info']);
  if (outcome.refused) said.push([`${counted(outcome.refused, 'request')} the gateway refused (HTTP 401 or 403) not learned from`, 'info']);
  if (outcome.dropped) {
    const {seen, blocked} = outcome.dropped;
    const parts = [
      seen > 0 ? `${counted(seen, 'seen address', 'seen addresses')} (the store keeps the ${grouped(MAX_SEEN)} most recent)` : null,
      blocked > 0 ? `${counted(blocked, 'blocked record')} (the store keeps the ${grouped(MAX_BLOCKED)} most recent)` : null,
    ];
    said.push([`dropped the least recently seen: ${parts.filter(Boolean).join(' and ')}`, 'info']);
  }
  if (outcome.activation) {
    const {at, quietSince} = outcome.activation;
    said.push([
      `API blocking ${dryRun ? 'would turn' : 'turned'} itself on at ${at}: traffic was observed from ${quietSince} for the whole ${data.settings.learningWindowDays}-day window with no new address`,
      'warn',
    ]);
  }
  for (const b of outcome.blocked.slice(0, SHOWN)) {
    said.push([
      `blocked ${b.ip}: key ${untrusted(b.key)} (${b.channel}) was refused${b.reason === undefined ? '' : ` (${b.reason})`}. Ways out:\n${waysOut(b)
        .map((w) => `  ${untrusted(w)}`)
        .join('\n')}`,
      'warn',
    ]);
  }
  if (outcome.blocked.length > SHOWN) said.push([`… and ${grouped(outcome.blocked.length - SHOWN)} more newly blocked (see \`keyward blocked\`)`, 'warn']);
  if (outcome.unknownKeys.length > 0) {
    const shown = outcome.unknownKeys
      .slice(0, UNKNOWN_SHOWN)
      .map((u) => `${u.key} (${counted(u.events, 'event')})`)
      .join(', ');
    // The count said first is the events, as `unknownKeys` in --json counts them; the keys follow, each with its own.
    const events = outcome.unknownKeys.reduce((n, u) => n + u.events, 0);
    said.push([`${counted(events, 'event')} of unknown keys skipped: ${shown}${outcome.unknownKeys.length > UNKNOWN_SHOWN ? ', …' : ''}`, 'warn']);
  }
  if (unfinished !== null) said.push([unfinished, 'info']);
  if (badLines > 0) said.push([`${counted(badLines, 'bad line')} skipped:\n${bad.map((b) => `  ${b}`).join('\n')}${badLines > bad.length ? '\n  …' : ''}`, 'warn']);
  for (const f of failures) said.push([`--notify-command failed for ${f}`, 'warn']);
  const progress = learningProgress(data.blocking.api, data.settings);
  if (progress === null) said.push([`api: ${data.blocking.api.state}`, 'info']);
  else
    said.push([
      `api: learning\n${describeLearning(progress, data.settings.learningWindowDays, now)
        .map((l) => `  ${l}`)
        .join('\n')}`,
      'info',
    ]);
  return said;
}

/** The warning for entries an authorize or deny named that the list holds disabled (they stay off), or null. */
export function stillDisabled(disabled: readonly string[]): string | null {
  if (disabled.length === 0) return null;
  const named = disabled.slice(0, 5).join(' ');
  const more = disabled.length > 5 ? ` and ${grouped(disabled.length - 5)} more` : '';
  return `${disabled.length === 1 ? 'this entry is disabled and stays off (it never matches)' : 'these entries are disabled and stay off (they never match)'}: ${named}${more}; \`keyward enable ${disabled[0]}\` switches one on`;
}
