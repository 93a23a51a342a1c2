/**
 * What every keyward command shares: the --store and --json flags, the clock,
 * output (machine output alone on stdout, messages on stderr) and the single
 * place where errors become messages and exit codes.
 */
import os from 'node:os';
import {Command, Flags} from '@oclif/core';
import {KeywardError} from '../core/errors.js';
import {appendHistory, diffStore, snapshot, StoreSnapshot} from '../core/history.js';
import {HistoryRecord, StoreData} from '../core/model.js';
import {readStore, readStoreOrEmpty, updateStore} from '../store/store.js';
import {now} from './clock.js';
import {maskedOclifError, reportFailure, tell} from './messages.js';
import {storeFileOf, storePathGiven} from './store-path.js';
import {write} from './write.js';

export {write} from './write.js';

export abstract class KeywardCommand extends Command {
  static baseFlags = {
    store: Flags.string({
      description: 'path of the store file [default: $KEYWARD_STORE, else store.json in the data directory]',
      helpGroup: 'GLOBAL',
    }),
    json: Flags.boolean({description: 'print machine output (JSON) on stdout', helpGroup: 'GLOBAL'}),
  };

  /** Set from --json by `setup`; decides where output goes. */
  protected json = false;
  protected storeFile = '';
  /** Whether --store or $KEYWARD_STORE named the store: its folder must then exist. */
  private storeGiven = false;
  protected now = new Date(0);
  /** Names of the flags given, for history (never their values: `check` and `--key` can be given a secret). */
  private flagsGiven: string[] = [];

  /** Reads the shared flags. Every command calls it first with its parsed flags. */
  protected setup(flags: {store?: string; json?: boolean}): void {
    this.json = Boolean(flags.json);
    this.storeFile = storeFileOf(flags.store, () => this.config.dataDir);
    this.storeGiven = storePathGiven(flags.store);
    this.now = now();
    this.flagsGiven = givenFlags(flags, this.constructor as typeof KeywardCommand);
  }

  /** The store, for a command that only reads: a missing store is an error (exit 3), never an empty one. */
  protected readStore(): Promise<StoreData> {
    return readStore(this.storeFile);
  }

  /** The store a writing command looks at before it takes the lock: empty when there is none yet (its write creates it). */
  protected readStoreOrEmpty(): Promise<StoreData> {
    return readStoreOrEmpty(this.storeFile, this.now);
  }

  /**
   * Changes the store under its lock (a dry run takes no lock and writes
   * nothing; see store.ts updateStore). What the change did is appended to
   * the store's history in the same write (nothing for a dry run or a change
   * that changed nothing), so no writing command can forget it.
   */
  protected async updateStore<T>(change: (data: StoreData) => T | Promise<T>, options: {dryRun?: boolean} = {}): Promise<T> {
    return updateStore(
      this.storeFile,
      this.now,
      async (data) => {
        if (options.dryRun) return change(data);
        const before = snapshot(data);
        const outcome = await change(data);
        this.recordHistory(data, before);
        return outcome;
      },
      {dryRun: options.dryRun, createFolder: !this.storeGiven},
    );
  }

  /** Appends to `data.history` what changed since `before`. */
  private recordHistory(data: StoreData, before: StoreSnapshot): void {
    const command = (this.id ?? 'unknown').replaceAll(':', ' ');
    // Only activate and deactivate set a blocking state by hand; any other switch is learning's own.
    const changes = diffStore(before, data, {operatorSetsBlocking: command === 'activate' || command === 'deactivate'});
    if (changes === null) return;
    const record: HistoryRecord = {at: this.now.toISOString(), command, flags: [...this.flagsGiven], user: userName(), changes};
    appendHistory(data, [record]);
  }

  /** The command's result: JSON on stdout under --json, else the human rendering on stdout. */
  protected async report(value: unknown, human: () => string | Promise<string>): Promise<void> {
    const text = this.json ? JSON.stringify(value, null, 2) : await human();
    if (text.length > 0) await write(process.stdout, `${text}\n`);
  }

  /** A message for the person at the terminal (stderr; never mixed into machine output). */
  protected tell(message: string, tone: 'info' | 'ok' | 'warn' = 'info'): Promise<void> {
    return tell(message, tone);
  }

  protected async catch(error: Error & {oclif?: {exit?: number}}): Promise<void> {
    // oclif's own errors (bad flags, missing arguments, this.exit) carry their exit code; oclif prints
    // them (errors/handle.js) after this, quoting what was typed: a secret is masked first.
    if (!(error instanceof KeywardError) && error.oclif?.exit !== undefined) throw maskedOclifError(error);
    await reportFailure(error);
  }
}

/** Who ran the command: the login name, else $USER, else "unknown". */
function userName(): string {
  try {
    const name = os.userInfo().username;
    if (name) return name;
  } catch {
    // No passwd entry for this uid (containers): fall back to the environment.
  }
  return process.env.USER || 'unknown';
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
