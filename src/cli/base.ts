/**
 * What every keyward command shares: the --store and --json flags, the clock,
 * output (machine output alone on stdout, messages on stderr) and the single
 * place where errors become messages and exit codes.
 */
import {realpath, stat as statPath} from 'node:fs/promises';
import path from 'node:path';
import {Command} from '@oclif/core/command';
import * as Errors from '@oclif/core/errors';
import * as Flags from '@oclif/core/flags';
import type * as Interfaces from '@oclif/core/interfaces';
import {InputError, KeywardError, SafetyError, show} from '../core/errors.js';
import {StoreData} from '../core/model.js';
import {Question} from '../core/question.js';
import {writeOutputFile} from '../store/atomic.js';
import {ChangeContext, missingFolder, readStore, readStoreOrEmpty} from '../store/store.js';
import {Changer, recordedUpdate, RecordedOptions, WritingCommand} from './recorded.js';
import {now} from './clock.js';
import {jsonAsked, jsonText, oclifFailure, reportFailure, sayFailure} from './messages.js';
import {confirmOrRefuse} from './prompt.js';
import {printHumanUnless, setQuiet, tellUnlessQuiet} from './quiet.js';
import {absolute, storeFileOf, storePathGiven} from './store-path.js';
import {nameStoreInWaysOut} from './notify.js';

export {write} from './write.js';

// oclif's own bounds of parse's type parameters (not exported by @oclif/core).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Output = {[name: string]: any};

export abstract class KeywardCommand extends Command {
  static baseFlags = {
    store: Flags.string({
      description: 'path of the store file [default: $KEYWARD_STORE, else store.json in the data directory]',
      helpValue: 'PATH',
      helpGroup: 'GLOBAL',
    }),
    json: Flags.boolean({description: 'print machine output (JSON) on stdout', helpGroup: 'GLOBAL'}),
  };

  /** Set from --json by `init`; decides where output goes. */
  protected json = false;
  protected storeFile = '';
  /** Whether --store or $KEYWARD_STORE named the store: its folder must then exist. */
  private storeGiven = false;
  protected now = new Date(0);
  /** Names of the flags given, for history (never their values: `check` and `--key` can be given a secret). */
  private flagsGiven: string[] = [];
  /** The command line parsed once: by `init` for the shared flags, and handed to `run` as its own command's flags. */
  private parsing?: Promise<unknown>;

  /** oclif's parse, done once a run: `init` and `run` get the same result. */
  protected parse<F extends Output, B extends Output, A extends Output>(options?: Interfaces.Input<F, B, A>, argv?: string[]): Promise<Interfaces.ParserOutput<F, B, A>> {
    this.parsing ??= super.parse(options, argv);
    return this.parsing as Promise<Interfaces.ParserOutput<F, B, A>>;
  }

  /** Reads the shared flags before `run`: the store, the clock, --json, and the flags to record in history. */
  async init(): Promise<void> {
    // Reset first: an in-process run must not inherit the last run's --quiet when its parse fails.
    setQuiet(false);
    await super.init();
    const {flags} = await this.parse(this.ctor);
    const shared = flags as {store?: string; json?: boolean};
    this.json = Boolean(shared.json);
    setQuiet(Boolean((flags as {quiet?: boolean}).quiet));
    this.storeFile = storeFileOf(shared.store, () => this.config.dataDir);
    nameStoreInWaysOut(shared.store);
    this.storeGiven = storePathGiven(shared.store);
    this.now = now();
    this.flagsGiven = givenFlags(flags, this.ctor as typeof KeywardCommand);
  }

  /** oclif prints what `run` returns when this is true (Command._run): under --json. */
  jsonEnabled(): boolean {
    return this.json;
  }

  /** The one place machine output is printed: `run`'s result under --json, as indented JSON on stdout. */
  logJson(json: unknown): void {
    process.stdout.write(jsonText(json));
  }

  /** The human rendering of the result on stdout; under --json the result itself is printed instead (logJson). */
  protected async printHuman(human: () => string | Promise<string>): Promise<void> {
    return printHumanUnless(this.json, human);
  }

  /**
   * A table on stdout (the human rendering, as printHuman): through a pager
   * on a terminal when it is taller than the screen, unless --no-pager (see pager.ts).
   */
  protected async printTable(human: () => Promise<string>, flags: {'no-pager'?: boolean}): Promise<void> {
    if (this.json) return;
    const {printPaged} = await import('./pager.js');
    await printPaged(`${await human()}\n`, {pager: !flags['no-pager']});
  }

  /** The store, for a command that only reads: a missing store is an error (exit 3), never an empty one. */
  protected readStore(): Promise<StoreData> {
    return readStore(this.storeFile);
  }

  /** The store a writing command looks at before it takes the lock: empty when there is none yet (its write creates it). */
  protected readStoreOrEmpty(): Promise<StoreData> {
    return readStoreOrEmpty(this.storeFile, this.now);
  }

  /** Changes the store under its lock, the change recorded in its history (see recorded.ts). */
  protected async updateStore<T>(change: (data: StoreData, context: ChangeContext) => T | Promise<T>, options: RecordedOptions = {}): Promise<T> {
    return recordedUpdate(this.storeFile, this.changer(), change, options);
  }

  /** This command as a shared runner sees it (src/cli/COMMAND/run.ts). */
  protected writing(): WritingCommand {
    return {
      json: this.json,
      now: this.now,
      update: (change, options) => this.updateStore(change, options),
      tell: (message, tone) => this.tell(message, tone),
      printHuman: (human) => this.printHuman(human),
    };
  }

  /** Who changes the store, for its history: this command, its flags, its time. */
  protected changer(): Changer {
    return {command: this.commandName(), flags: this.flagsGiven, now: this.now, storeGiven: this.storeGiven};
  }

  /**
   * Plan → confirm → plan again under the lock → apply, for every command
   * that asks. The plan is made from the store as it is (a prompt must never
   * hold the lock), presented, and its question asked (a terminal, else the
   * skip flag, else exit 4: see confirmOrRefuse). Under the lock it is made
   * again: when it is no longer the plan that was confirmed, nothing is
   * changed (exit 4). A dry run, or a plan with nothing to apply, stops after
   * the first plan and returns it without `applied`.
   */
  protected async planAndApply<P extends Plan, R>(steps: PlanSteps<P, R>): Promise<{plan: P; applied?: R}> {
    const ready = (plan: P) => steps.ready?.(plan) ?? true;
    let confirmed: P | undefined;
    // A store path whose folder is missing is a store error (exit 3) before any plan: the plan of an empty
    // store would otherwise refuse the change as a usage error ("not in the account list", "unknown key").
    if (!steps.dryRun) await this.folderGiven();
    if (steps.planFirst ?? true) {
      const first = steps.plan(await (steps.dryRun ? this.readStore() : this.readStoreOrEmpty()));
      if (steps.dryRun || !ready(first)) return {plan: first};
      await steps.present?.(first);
      if (first.question !== null) await confirmOrRefuse(first.question.text, steps.skip, steps.skipFlag, first.question.refusal);
      confirmed = first;
    }
    let locked: P | undefined;
    const applied = await this.updateStore((data) => {
      locked = steps.plan(data);
      const same = steps.same ?? asksNoMore;
      if (confirmed !== undefined && !steps.skip && !same(confirmed, locked)) {
        throw new SafetyError('the store changed while the plan was being confirmed; nothing was changed', `run keyward ${this.commandName()} again to see the new plan`);
      }
      return ready(locked) ? steps.apply(data, locked) : undefined;
    });
    return applied === undefined ? {plan: locked!} : {plan: locked!, applied};
  }

  /** The folder of a store path the operator gave must exist: keyward never creates it (exit 3). */
  private async folderGiven(): Promise<void> {
    if (!this.storeGiven) return;
    const folder = path.dirname(this.storeFile);
    const stat = await statPath(folder).catch(() => null);
    if (stat === null || !stat.isDirectory()) {
      throw missingFolder(folder, this.storeFile);
    }
  }

  /**
   * Writes `text` to the file the operator named (export --output), never
   * the store itself: replaced atomically when it is a regular file (mode
   * 0644, less the umask), written into when it is a device or a FIFO (see
   * writeOutputFile). A path that cannot be a file is exit 2, a full disk or
   * an I/O error exit 3; nothing is written either way. Returns the file's absolute path.
   */
  protected async writeOutput(given: string, text: string): Promise<string> {
    const file = absolute(given);
    if (file === null) {
      throw new InputError(
        `cannot write --output ${show(given)}: it is relative to the working folder, which no longer exists; nothing was written`,
        'cd to a folder that exists, or give --output an absolute path',
      );
    }
    const real = async (p: string) => realpath(p).catch(() => p);
    if ((await real(file)) === (await real(this.storeFile))) {
      throw new InputError(`--output ${show(given)} is the store itself; nothing was written`, 'write the export to another file');
    }
    try {
      await writeOutputFile(file, text, 0o644);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      // (Node's permission model: said as such, naming the flag that allows it.)
      if (reason === 'ERR_ACCESS_DENIED') throw error;
      const message = `cannot write --output ${show(given)} (${reason}); nothing was written`;
      // A path that cannot be a file is the operator's to fix (2); a full disk or an I/O error is not (3).
      if (['ENOENT', 'ENOTDIR', 'EISDIR', 'EACCES', 'EPERM', 'EROFS'].includes(reason)) throw new InputError(message, 'check that the folder exists and is writable');
      throw new KeywardError('store', message, 'check free space on that file system');
    }
    return file;
  }

  /** The command as typed: "keys rotate". */
  private commandName(): string {
    return (this.id ?? 'unknown').replaceAll(':', ' ');
  }

  /** A message for the person at the terminal (see quiet.ts tellUnlessQuiet). */
  protected async tell(message: string, tone: 'info' | 'ok' | 'warn' = 'info', always = false): Promise<void> {
    return tellUnlessQuiet(message, tone, always);
  }

  protected async catch(error: Error & {oclif?: {exit?: number}}): Promise<void> {
    // this.exit(): an exit code, not a failure to say.
    if (error instanceof Errors.ExitError) throw error;
    // --json is read from the command line itself: a parse error comes before init has read the flags.
    const json = this.json || jsonAsked(this.argv);
    // oclif's own errors (a bad flag, a missing argument, a value not among its options) in keyward's
    // words and style, with the nearest flag and where to read more.
    if (!(error instanceof KeywardError) && error.oclif?.exit !== undefined) {
      await sayFailure(oclifFailure(error, {command: this.commandName(), flags: flagNames(this.ctor as typeof KeywardCommand)}), {json});
      return;
    }
    await reportFailure(error, {json});
  }
}

/** What a plan asks before it is applied: its question, and the refusal when no one can answer. */
export interface Plan {
  question: Question | null;
}

export interface PlanSteps<P extends Plan, R> {
  /** What the command would do to `data`; throws what makes it impossible. */
  plan(data: StoreData): P;
  /** Applies `plan` (made from `data` under the lock) and returns what it did. */
  apply(data: StoreData, plan: P): R | Promise<R>;
  /** Said before the question (warnings on stderr, the plan itself). */
  present?(plan: P): Promise<void>;
  /** Whether the plan has something to apply (default: yes). */
  ready?(plan: P): boolean;
  /** Whether the plan made under the lock is still the one confirmed (default: it asks no other question). */
  same?(confirmed: P, locked: P): boolean;
  /** The flag that answers the question (--yes, or --force for a safety override) was given. */
  skip: boolean;
  skipFlag: '--yes' | '--force';
  /** Plan, present and stop: reads the store without creating it. */
  dryRun?: boolean;
  /** Whether to plan and ask before taking the lock (default: yes). */
  planFirst?: boolean;
}

/** The plan under the lock needs no confirmation other than the one given. */
function asksNoMore(confirmed: Plan, locked: Plan): boolean {
  return locked.question === null || locked.question.text === confirmed.question?.text;
}

/** Every flag `command` takes, as typed: `--name`, and `-c` for a flag with a short form. */
function flagNames(command: typeof KeywardCommand): string[] {
  const defined = {...command.baseFlags, ...command.flags} as Record<string, {char?: string; allowNo?: boolean} | undefined>;
  return Object.entries(defined).flatMap(([name, flag]) => [`--${name}`, ...(flag?.allowNo ? [`--no-${name}`] : []), ...(flag?.char ? [`-${flag.char}`] : [])]);
}

/** The flags given on the command line, by name: set, and not just their default. */
function givenFlags(flags: object, command: typeof KeywardCommand): string[] {
  const defined = {...command.baseFlags, ...command.flags} as Record<string, {default?: unknown} | undefined>;
  return Object.entries(flags)
    .filter(([name, value]) => {
      if (value === undefined || value === false || (Array.isArray(value) && value.length === 0)) return false;
      const fallback = defined[name]?.default;
      return typeof fallback === 'function' || fallback !== value;
    })
    .map(([name]) => name)
    .sort();
}
