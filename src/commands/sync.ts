import {Args, Flags} from '@oclif/core';
import {blockedReleasedBy} from '../core/allowlist.js';
import {parseEntries} from '../core/entry-parse.js';
import {SafetyError} from '../core/errors.js';
import {cutOff, CutOff, recentSeen} from '../core/impact.js';
import {findKey} from '../core/keys.js';
import {Channel, CHANNELS, EntryRecord, StoreData} from '../core/model.js';
import {DesiredEntry, hasChanges, planSync, sameChanges, SyncPlan, syncedList} from '../core/sync.js';
import {KeywardCommand, write} from '../cli/base.js';
import {EXIT} from '../cli/exit-codes.js';
import {broadFlag, dryRunFlag, keyFlag, yesFlag} from '../cli/flags.js';
import {readEntryInputs} from '../cli/input.js';
import {canAsk, confirmOrRefuse} from '../cli/prompt.js';
import {renderCutOff, renderSyncPlan} from '../cli/views.js';

/** The plan against one state of the store, and what it would do to traffic. */
interface Assessment {
  /** "account", or the name of the key whose list it is. */
  scope: string;
  plan: SyncPlan;
  /** The list as it will be. */
  synced: EntryRecord[];
  cutOff: CutOff[];
}

export default class Sync extends KeywardCommand {
  static summary = 'Make the account list, or a key list with --key, equal to a file of entries (allowlists kept in git).';
  static description = `FILE holds one entry a line (ENTRY [# label]; - reads stdin), with the grammar of authorize --file: one bad line, or an entry broader than /8 (IPv4) or /16 (IPv6) without --force, and nothing is written; a file with no entries is refused. An entry inside another one of the file is kept as written, as authorize --file keeps it. sync prints the plan — entries to add, to remove, to relabel, unchanged, and the recently seen addresses the change would cut off — and applies it only with --yes or a confirmation on a terminal. Learned entries that the file does not name are kept unless --prune-learned; other lists are never touched.

Exit codes: 0 nothing to do, or applied; 1 --dry-run and the list differs from the file (like git diff --exit-code); 2 bad input; 3 store problem; 4 a broad entry without --force, or changes pending but neither --yes nor a terminal to confirm on (nothing written).`;
  static examples = [
    {description: 'Review a pull request in CI: print the plan, exit 1 when the store would change', command: '<%= config.bin %> sync allowlist.txt --dry-run'},
    {description: 'Apply after merge, without a prompt', command: '<%= config.bin %> sync allowlist.txt --yes'},
    {description: "Keep one key's list in git, removing learned entries too", command: '<%= config.bin %> sync keys/billing.txt --key billing --prune-learned --yes'},
    {description: 'From a pipeline', command: 'git show main:allowlist.txt | <%= config.bin %> sync - --dry-run --json'},
  ];
  // ignoreStdin: stdin is read by line for `-`, never by oclif.
  static args = {file: Args.string({description: 'file of entries, one a line; - reads stdin', required: true, ignoreStdin: true})};
  static flags = {
    key: keyFlag,
    normalize: Flags.boolean({description: 'accept ranges with host bits set as their network (192.168.1.25/24 → 192.168.1.0/24)'}),
    force: broadFlag,
    'prune-learned': Flags.boolean({description: 'also remove learned entries that the file does not name'}),
    'dry-run': dryRunFlag,
    yes: yesFlag,
  };

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Sync);
    this.setup(flags);
    const fromStdin = args.file === '-';
    const inputs = await readEntryInputs(fromStdin ? {args: ['-'], progress: true} : {args: [], file: args.file, progress: true});
    const prefixes = parseEntries(inputs, {normalize: flags.normalize, force: flags.force}).prefixes();
    const desired: DesiredEntry[] = prefixes.map((prefix, i) => ({prefix, label: inputs[i].label, where: inputs[i].where, source: inputs[i].source}));
    const dryRun = flags['dry-run'];
    const pruneLearned = flags['prune-learned'];
    const source = fromStdin ? 'stdin' : args.file;
    const title = (a: Assessment) => `sync of ${a.scope === 'account' ? 'the account list' : `key ${a.scope}'s list`} with ${source}`;
    const output = (a: Assessment, applied: boolean) => syncJson(a, applied, dryRun);
    const repeats = async (a: Assessment) => {
      for (const r of a.plan.repeats) await this.tell(`${r.where}: ${r.entry} repeats ${r.first}; counted once`, 'warn');
    };
    const nothingToDo = (a: Assessment) =>
      this.report(output(a, false), async () => `${await renderSyncPlan(a.plan, 0, title(a))}\nnothing to do: the list already equals the file`);
    // The traffic a change refuses is a warning (stderr), as with revoke and activate.
    const warnCutOff = async (a: Assessment, would: boolean) => {
      if (a.cutOff.length === 0) return;
      await this.tell(`${a.cutOff.length} recently seen address(es) ${would ? 'would be' : 'are now'} cut off:`, 'warn');
      await this.tell(await renderCutOff(a.cutOff));
    };

    // Without --yes the plan is shown (and confirmed) before taking the lock: a prompt must never hold it.
    let shown: Assessment | undefined;
    if (dryRun || !flags.yes) {
      shown = this.assess(await (dryRun ? this.readStore() : this.readStoreOrEmpty()), desired, flags.key, pruneLearned);
      await repeats(shown);
      if (!hasChanges(shown.plan)) return nothingToDo(shown);
      await warnCutOff(shown, true);
      const plan = await renderSyncPlan(shown.plan, shown.cutOff.length, title(shown));
      if (dryRun) {
        await this.report(output(shown, false), () => `${plan}\ndry run: nothing was written; exit 1 because the list differs from the file`);
        process.exitCode = EXIT.pending;
        return;
      }
      // The plan is the question: shown before asking, or before refusing without a terminal (exit 4).
      if (!this.json) await write(process.stdout, `${plan}\n`);
      else if (canAsk()) await this.tell(plan);
      else await this.report(output(shown, false), () => '');
      const p = shown.plan;
      const summary = [`${p.added.length} to add`, `${p.removed.length} to remove`, ...(p.relabeled.length > 0 ? [`${p.relabeled.length} to relabel`] : [])];
      await confirmOrRefuse(`Apply the sync (${summary.join(', ')})?`, false, '--yes');
    }

    let outcome: {applied: Assessment; released: number};
    try {
      // The change is planned again against the store as it is under the lock.
      outcome = await this.updateStore((data) => {
        const locked = this.assess(data, desired, flags.key, pruneLearned);
        if (shown !== undefined && !sameChanges(locked.plan, shown.plan)) {
          throw new SafetyError('the store changed while the plan was being confirmed; nothing was changed', 'run keyward sync again to see the new plan');
        }
        if (!hasChanges(locked.plan)) throw new NothingToDo(locked);
        const keyName = locked.scope === 'account' ? undefined : locked.scope;
        if (keyName === undefined) data.account = locked.synced;
        else findKey(data.keys, keyName).allow = locked.synced;
        // Authorizing takes an address off the blocked list, as authorize does.
        const gone = new Set(blockedReleasedBy(data, locked.plan.additions.map((d) => d.prefix), this.now, keyName).released);
        if (gone.size > 0) data.blocked = data.blocked.filter((b) => !gone.has(b));
        return {applied: locked, released: gone.size};
      });
    } catch (error) {
      if (!(error instanceof NothingToDo)) throw error;
      await repeats(error.assessment);
      return nothingToDo(error.assessment);
    }
    const {applied, released} = outcome;
    if (shown === undefined) {
      await repeats(applied);
      await warnCutOff(applied, false);
    }
    if (released > 0) await this.tell(`${released} address(es) left the blocked list`);
    const p = applied.plan;
    const done = `applied: ${p.added.length} added, ${p.removed.length} removed${p.relabeled.length > 0 ? `, ${p.relabeled.length} relabeled` : ''}`;
    await this.report(output(applied, true), async () => (shown === undefined ? `${await renderSyncPlan(p, applied.cutOff.length, title(applied))}\n${done}` : done));
  }

  /** The plan for the list in scope (`keyGiven`'s, else the account's), the list it leads to, and the seen traffic it would refuse. */
  private assess(data: StoreData, desired: readonly DesiredEntry[], keyGiven: string | undefined, pruneLearned: boolean): Assessment {
    const key = keyGiven === undefined ? undefined : findKey(data.keys, keyGiven);
    const scope = key?.name ?? 'account';
    const list = key ? key.allow : data.account;
    const plan = planSync(list, desired, {now: this.now, pruneLearned});
    if (!hasChanges(plan)) return {scope, plan, synced: list, cutOff: []};
    const synced = syncedList(list, plan, this.now);
    // A key list restricts its key in every blocking state; the account list only where blocking is on (cutOff judges both).
    const channels: readonly Channel[] = key ? [key.type] : CHANNELS;
    // No recent traffic on these channels, nothing to cut off: spare indexing both lists.
    if (!recentSeen(data, this.now).some((s) => channels.includes(s.channel))) return {scope, plan, synced, cutOff: []};
    const after: StoreData = key
      ? {...data, keys: data.keys.map((k) => (k === key ? {...k, allow: synced} : k))}
      : {...data, account: synced};
    return {scope, plan, synced, cutOff: cutOff(data, after, this.now, channels)};
  }
}

/** `sync --json`: one object; entries in canonical form, cut-off traffic one record per address and key (as `blocked`). */
function syncJson(a: Assessment, applied: boolean, dryRun: boolean) {
  return {
    scope: a.scope,
    added: a.plan.added,
    removed: a.plan.removed,
    unchanged: a.plan.unchanged,
    relabeled: a.plan.relabeled,
    keptLearned: a.plan.keptLearned,
    cutOff: a.cutOff.flatMap((c) => c.keys.map((key) => ({ip: c.ip, key, channel: c.channel, lastSeen: c.lastSeen}))),
    applied,
    dryRun,
  };
}

/** Thrown under the lock to leave the store unwritten when it already equals the file. */
class NothingToDo extends Error {
  constructor(readonly assessment: Assessment) {
    super('nothing to do');
  }
}
