import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import {parseEntries} from '../core/entry-parse.js';
import {KeywardError, untrusted} from '../core/errors.js';
import {applySync, Assessment, assessSync, DesiredEntry, hasChanges, sameChanges, splitDenyMarks, syncJson} from '../core/sync.js';
import {KeywardCommand, write} from '../cli/base.js';
import {EXIT} from '../cli/exit-codes.js';
import {broadFlag, dryRunFlag, groupFlag, keyFlag, quietFlag, yesFlag} from '../cli/flags.js';
import {readSyncInputs} from '../cli/input.js';
import {checkGroupName} from '../core/keys.js';
import {canAsk} from '../cli/prompt.js';
import {renderCutOff, renderSyncPlan} from '../cli/views.js';
import {count, grouped} from '../core/count.js';

export default class Sync extends KeywardCommand {
  static summary = 'Make the account list, a key list with --key, or one group of it with --group, equal to a file of entries (allowlists kept in git, provider ranges).';
  static description = `FILE holds one entry a line (ENTRY [# label], or !ENTRY for a deny entry; - reads stdin), or is keyward's own csv or json export (told by its content: a JSON array, or a first line "entry,…" naming the columns), which also carries each entry's group and expiry. Entries follow the grammar of authorize --file: one bad line, or an entry broader than /8 (IPv4) or /16 (IPv6) without --force, and nothing is written; a file with no entries is refused. An entry inside another one of the file is kept as written, as authorize --file keeps it. sync prints the plan — entries to add, to remove, to relabel, unchanged, and the recently seen addresses the change would cut off — and applies it only with --yes or a confirmation on a terminal. Learned entries that the file does not name are kept unless --prune-learned; other lists are never touched.

--group NAME syncs only that group's entries of the list: the file's entries all go into group NAME, entries outside the group are never touched, and an entry of the file already in the list outside the group is left there and reported. This is how a provider's published ranges are refreshed without disturbing hand-made entries.

Exit codes: 0 nothing to do, or applied; 1 --dry-run and the list differs from the file (like git diff --exit-code); 2 bad input; 3 store problem; 4 a broad entry, or a key's list left with no allow entry, without --force, or changes pending but neither --yes nor a terminal to confirm on (nothing written).`;
  static examples = [
    {
      description: 'Review a pull request in CI: print the plan, exit 1 when the store would change',
      command: '<%= config.bin %> sync allowlist.txt --dry-run  # exit 1 when the list differs from the file',
    },
    {description: 'Apply after merge, without a prompt', command: '<%= config.bin %> sync allowlist.txt --yes'},
    {description: "Keep one key's list in git, removing learned entries too", command: '<%= config.bin %> sync keys/billing.txt --key billing --prune-learned --yes'},
    {description: 'From a pipeline', command: '$ git show main:allowlist.txt | <%= config.bin %> sync - --dry-run --json  # exit 1 when the list differs'},
    {
      description: "Refresh GitHub Actions' published ranges in their own group",
      command: "$ curl -s https://api.github.com/meta | jq -r '.actions[]' | <%= config.bin %> sync - --group github-actions --yes",
    },
    {
      description: 'Round trip: edit an export and read it back',
      command: '<%= config.bin %> export --format json > list.json && $EDITOR list.json && <%= config.bin %> sync list.json --dry-run',
    },
  ];
  // ignoreStdin: stdin is read by line for `-`, never by oclif.
  static args = {file: Args.string({description: 'file of entries, one a line; - reads stdin', required: true, ignoreStdin: true})};
  static flags = {
    key: keyFlag,
    group: groupFlag("sync only the entries of group NAME; the file's entries go into it"),
    normalize: Flags.boolean({description: 'accept ranges with host bits set as their network (192.168.1.25/24 → 192.168.1.0/24)'}),
    force: broadFlag,
    'prune-learned': Flags.boolean({description: 'also remove learned entries that the file does not name'}),
    'dry-run': dryRunFlag,
    yes: yesFlag,
    quiet: quietFlag,
  };

  async run() {
    const {args, flags} = await this.parse(Sync);
    const fromStdin = args.file === '-';
    if (flags.group !== undefined) checkGroupName(flags.group);
    const {inputs, effects} = splitDenyMarks((await readSyncInputs(args.file, true)).inputs);
    const prefixes = parseEntries(inputs, {normalize: flags.normalize, force: flags.force}).prefixes();
    const desired: DesiredEntry[] = prefixes.map((prefix, i) => ({
      prefix,
      label: inputs[i].label,
      where: inputs[i].where,
      source: inputs[i].source,
      effect: effects[i],
      ...('group' in inputs[i] ? {group: inputs[i].group} : {}),
      ...('expiresAt' in inputs[i] ? {expiresAt: inputs[i].expiresAt} : {}),
      ...(inputs[i].keepLabel ? {keepLabel: true as const} : {}),
    }));
    const dryRun = flags['dry-run'];
    const title = (a: Assessment) =>
      `sync of ${a.group === null ? '' : `group ${a.group} of `}${a.scope === 'account' ? 'the account list' : `key ${a.scope}'s list`} with ${fromStdin ? 'stdin' : args.file}`;
    // Without --yes the plan is shown (and confirmed) before taking the lock: a prompt must never hold it.
    const shown = dryRun || !flags.yes;
    let refusedPlan: ReturnType<typeof syncJson> | undefined;
    const {plan: a, applied: released} = await this.planAndApply({
      plan: (data) => assessSync(data, desired, {key: flags.key, group: flags.group, pruneLearned: flags['prune-learned'], force: flags.force, now: this.now}),
      ready: (p) => hasChanges(p.plan),
      present: async (p) => {
        await this.warnPlan(p, true);
        // The plan is the question: shown before asking, or before refusing without a terminal (exit 4).
        const plan = await renderSyncPlan(p.plan, p.cutOff.length, title(p));
        if (!this.json) await write(process.stdout, `${plan}\n`);
        else if (canAsk()) await this.tell(plan);
        // Under --json stdout holds one value: the plan goes into the error object of the refusal that follows.
        else refusedPlan = syncJson(p, false, dryRun);
      },
      same: (confirmed, locked) => sameChanges(confirmed.plan, locked.plan),
      apply: (data, p) => applySync(data, p, this.now),
      skip: flags.yes,
      skipFlag: '--yes',
      dryRun,
      planFirst: shown,
    }).catch((error: unknown) => {
      if (error instanceof KeywardError && refusedPlan !== undefined) error.extra = {plan: refusedPlan};
      throw error;
    });
    if (released === undefined) return this.notApplied(a, title(a), dryRun);
    if (!shown) await this.warnPlan(a, false);
    if (released > 0) await this.tell(`${count(released, 'address', 'addresses')} left the blocked list`);
    const p = a.plan;
    const g = grouped;
    const done = `applied: ${g(p.added.length)} added, ${g(p.removed.length)} removed${p.relabeled.length > 0 ? `, ${g(p.relabeled.length)} relabeled` : ''}${p.updated.length > 0 ? `, ${g(p.updated.length)} regrouped or re-dated` : ''}`;
    await this.printHuman(async () => (shown ? done : `${await renderSyncPlan(p, a.cutOff.length, title(a))}\n${done}`));
    return syncJson(a, true, dryRun);
  }

  /** Repeated lines, and the traffic the change refuses (warnings, on stderr, as with revoke and activate). */
  private async warnPlan(a: Assessment, would: boolean): Promise<void> {
    for (const r of a.plan.repeats) await this.tell(`${r.where}: ${r.entry} repeats ${r.first}; counted once`, 'warn');
    if (a.plan.elsewhere.length > 0) {
      const all = a.plan.elsewhere;
      const named = all.slice(0, 5).map((e) => `${e.entry} (${e.group === null ? 'no group' : `group ${untrusted(e.group)}`})`);
      const more = all.length > named.length ? ` and ${grouped(all.length - named.length)} more` : '';
      await this.tell(`${count(all.length, 'entry', 'entries')} of the file already in the list outside group ${a.group}, left there: ${named.join(', ')}${more}`, 'warn');
    }
    if (a.cutOff.length === 0) return;
    await this.tell(`${count(a.cutOff.length, 'recently seen address', 'recently seen addresses')} ${would ? 'would be' : 'are now'} cut off:`, 'warn');
    await this.tell(await renderCutOff(a.cutOff), 'info', true);
  }

  /** Nothing to do, or a dry run's plan (exit 1: the list differs from the file). */
  private async notApplied(a: Assessment, title: string, dryRun: boolean) {
    // A plan without changes cuts nothing off: only its repeats are said.
    await this.warnPlan(a, true);
    const pending = hasChanges(a.plan);
    const outcome = pending ? 'dry run: nothing was written; exit 1 because the list differs from the file' : 'nothing to do: the list already equals the file';
    await this.printHuman(async () => `${await renderSyncPlan(a.plan, a.cutOff.length, title)}\n${outcome}`);
    if (pending) process.exitCode = EXIT.pending;
    return syncJson(a, false, dryRun);
  }
}
