/**
 * A change of the store that records itself in the store's history: what
 * every writing command does, through oclif (KeywardCommand.updateStore)
 * and through bin/run.js's fast paths (src/cli/COMMAND/run.ts), which must
 * write the same bytes.
 */
import {appendHistory, diffStore, snapshot} from '../core/history.js';
import {HistoryRecord, StoreData} from '../core/model.js';
import {ChangeContext, updateStore} from '../store/store.js';
import {userName} from './user-name.js';

/** Who changes the store, and how: what its history record says. */
export interface Changer {
  /** The command as typed: "keys rotate". */
  command: string;
  /** The names of the flags given (never their values: `--key` can be given a secret). */
  flags: readonly string[];
  /** The time of the command. */
  now: Date;
  /** Whether --store or $KEYWARD_STORE named the store: its folder must then exist (else it is created). */
  storeGiven: boolean;
}

export interface RecordedOptions {
  dryRun?: boolean;
  mustExist?: boolean;
  deferAccount?: boolean;
}

/** The commands whose changes only narrow what the store lets in: they may use the room kept below a store's limit (see store.ts). */
const NARROWING: ReadonlySet<string> = new Set(['revoke', 'deny', 'keys revoke', 'disable', 'prune']);

/**
 * Changes the store at `storeFile` under its lock (a dry run takes no lock
 * and writes nothing; see store.ts updateStore). What the change did is
 * appended to the store's history in the same write (nothing for a dry run
 * or a change that changed nothing), so no writing command can forget it.
 */
export function recordedUpdate<T>(
  storeFile: string,
  changer: Changer,
  change: (data: StoreData, context: ChangeContext) => T | Promise<T>,
  options: RecordedOptions = {},
): Promise<T> {
  return updateStore(
    storeFile,
    changer.now,
    async (data, context) => {
      if (options.dryRun) return change(data, context);
      const before = snapshot(data);
      const outcome = await change(data, context);
      // Only activate and deactivate set a blocking state by hand; any other switch is learning's own.
      const changes = diffStore(before, data, {operatorSetsBlocking: changer.command === 'activate' || changer.command === 'deactivate'});
      if (changes !== null) {
        const record: HistoryRecord = {at: changer.now.toISOString(), command: changer.command, flags: [...changer.flags], user: userName(), changes};
        appendHistory(data, [record]);
      }
      return outcome;
    },
    {dryRun: options.dryRun, createFolder: !changer.storeGiven, mustExist: options.mustExist, deferAccount: options.deferAccount, narrows: NARROWING.has(changer.command)},
  );
}

/** What a writing command's runner needs of the command running it (KeywardCommand, or a fast path's own). */
export interface WritingCommand {
  /** --json was given: the result goes on stdout as JSON (by the caller), messages stay on stderr. */
  json: boolean;
  now: Date;
  /** Changes the store under its lock, recorded in its history. */
  update<T>(change: (data: StoreData, context: ChangeContext) => T | Promise<T>, options?: RecordedOptions): Promise<T>;
  /** A message on stderr; under --quiet only warnings. */
  tell(message: string, tone?: 'info' | 'ok' | 'warn'): Promise<void>;
  /** The human rendering on stdout, unless --json or --quiet. */
  printHuman(human: () => string | Promise<string>): Promise<void>;
}
