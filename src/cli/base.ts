/**
 * What every keyward command shares: the --store and --json flags, the clock,
 * output (machine output alone on stdout, messages on stderr) and the single
 * place where errors become messages and exit codes.
 */
import path from 'node:path';
import {Command, Flags} from '@oclif/core';
import {settle, Transition} from '../core/blocking.js';
import {KeywardError} from '../core/errors.js';
import {StoreData} from '../core/model.js';
import {readStore, updateStore} from '../store/store.js';
import {now} from './clock.js';
import {EXIT, exitCodeOf} from './exit-codes.js';
import {paint} from './render.js';
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
  protected now = new Date(0);

  /** Reads the shared flags. Every command calls it first with its parsed flags. */
  protected setup(flags: {store?: string; json?: boolean}): void {
    this.json = Boolean(flags.json);
    const fromEnv = process.env.KEYWARD_STORE;
    this.storeFile = path.resolve(flags.store ?? (fromEnv ? fromEnv : path.join(this.config.dataDir, 'store.json')));
    this.now = now();
  }

  protected readStore(): Promise<StoreData> {
    return readStore(this.storeFile, this.now);
  }

  /**
   * Changes the store under its lock. A switch that time has made (learning
   * past its window) is recorded first, and said.
   */
  protected async updateStore<T>(
    change: (data: StoreData) => T | Promise<T>,
    options: {dryRun?: boolean; settle?: boolean} = {},
  ): Promise<T> {
    let settled: Transition | null = null;
    const result = await updateStore(
      this.storeFile,
      this.now,
      (data) => {
        if (options.settle !== false) settled = settle(data, this.now);
        return change(data);
      },
      options,
    );
    if (settled !== null && !options.dryRun) await this.tellTransition(settled);
    return result;
  }

  protected async tellTransition(t: Transition): Promise<void> {
    await this.tell(`API blocking turned itself on at ${t.at}: the learning window passed with no new address`, 'warn');
  }

  /** The command's result: JSON on stdout under --json, else the human rendering on stdout. */
  protected async report(value: unknown, human: () => string | Promise<string>): Promise<void> {
    const text = this.json ? JSON.stringify(value, null, 2) : await human();
    if (text.length > 0) await write(process.stdout, `${text}\n`);
  }

  /** A message for the person at the terminal (stderr; never mixed into machine output). */
  protected async tell(message: string, tone: 'info' | 'ok' | 'warn' = 'info'): Promise<void> {
    const c = await paint(process.stderr);
    const styled = tone === 'warn' ? c.yellow(message) : tone === 'ok' ? c.green(message) : message;
    process.stderr.write(`${styled}\n`);
  }

  protected async catch(error: Error & {oclif?: {exit?: number}}): Promise<void> {
    if (error instanceof KeywardError) {
      const c = await paint(process.stderr);
      process.stderr.write(`${c.red('keyward:')} ${error.message}\n`);
      if (error.hint) process.stderr.write(`  ${error.hint}\n`);
      process.exitCode = exitCodeOf(error.kind);
      return;
    }
    // oclif's own errors (bad flags, missing arguments, this.exit) carry their exit code.
    if (error.oclif?.exit !== undefined) throw error;
    process.stderr.write(`keyward: internal error: ${error.message}\n`);
    if (process.env.KEYWARD_DEBUG) process.stderr.write(`${error.stack}\n`);
    process.exitCode = EXIT.internal;
  }
}
