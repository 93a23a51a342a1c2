/**
 * `authorize`, run: what the oclif command (src/commands/authorize.ts) does
 * once it has its entries, shared with bin/run.js's fast path, which runs a
 * plain `keyward authorize ENTRY... [--label TEXT] [-q] [--json] [--store
 * PATH]` without loading oclif (bundled into dist/authorize-fast.cjs, as
 * check's and status's runners are), because oclif's start-up alone was
 * more than a one-entry write's target. Any other command line goes to
 * oclif, so that help, flag errors and their exit codes stay oclif's.
 */
import {authorize, AuthorizeJson, authorizeJson, authorizeOneUnread, isOneIntoAccount} from '../../core/authorize.js';
import {accountUnread} from '../../core/model.js';
import {grouped, count} from '../../core/count.js';
import {EntryBatch} from '../../core/entry-parse.js';
import {maskSecrets, untrusted} from '../../core/errors.js';
import {now} from '../clock.js';
import {readEntryBatch} from '../input.js';
import {jsonText, reportFailure} from '../messages.js';
import {nameStoreInWaysOut} from '../notify.js';
import {printHumanUnless, setQuiet, tellUnlessQuiet} from '../quiet.js';
import {recordedUpdate, WritingCommand} from '../recorded.js';
import {dataDir, storeFileOf, storePathGiven} from '../store-path.js';
import {renderAdded, stillDisabled} from '../views.js';
import {write} from '../write.js';

export interface AuthorizeOptions {
  key?: string;
  label: string | null;
  expiresAt: string | null;
  group: string | null;
  dryRun: boolean;
}

/**
 * Adds the entries of `held` to the store as `options` say, tells what
 * happened, and returns the JSON result. The batch is let go once applied
 * (held.batch set to null): its columns are not needed while the store is
 * written, and a 1M-entry import must not hold them through its write.
 */
export async function authorizeBatch(command: WritingCommand, held: {batch: EntryBatch | null}, options: AuthorizeOptions): Promise<AuthorizeJson> {
  // One entry into the account list: the list is read only if the change must (see authorizeOneUnread).
  const one = isOneIntoAccount(held.batch!.count, options) && !options.dryRun;
  const result = await command.update(
    (data, context) => {
      const taken = held.batch!;
      held.batch = null;
      const change = {key: options.key, label: options.label, expiresAt: options.expiresAt, group: options.group, now: command.now};
      const account = one && accountUnread(data) ? context.compiledAccount(command.now) : null;
      const unread = account && authorizeOneUnread(data, taken, change, account, context.addToAccountUnread);
      return unread || authorize(data, taken, change);
    },
    {dryRun: options.dryRun, deferAccount: one},
  );
  if (result.unblocked > 0 && !command.json) await command.tell(`${count(result.unblocked, 'address', 'addresses')} left the blocked list`);
  if (result.stillRefused.length > 0) {
    await command.tell(`still refused, so kept on the blocked list: ${result.stillRefused.join(', ')} (see \`keyward check KEY ADDRESS\`)`, 'warn');
  }
  if (result.elsewhere.length > 0) {
    const named = result.elsewhere.slice(0, 5).map((e) => `${e.entry} (group ${untrusted(e.group)})`);
    const more = result.elsewhere.length > named.length ? ` and ${grouped(result.elsewhere.length - named.length)} more` : '';
    await command.tell(`already in another group, left there: ${named.join(', ')}${more} (revoke it from that group first to move it)`, 'warn');
  }
  const disabled = stillDisabled(result.disabled);
  if (disabled !== null) await command.tell(disabled, 'warn');
  await command.printHuman(() => renderAdded(result, options.dryRun));
  return authorizeJson(result, options.dryRun);
}

export interface PlainAuthorize {
  entries: string[];
  label?: string;
  quiet: boolean;
  json: boolean;
  store?: string;
}

/**
 * The request of an `authorize` command line (the words after `authorize`),
 * or null when oclif must handle it: entries (words that do not start with
 * `-`), and `--label TEXT` (`-l TEXT`, `--label=TEXT`), `-q` (`--quiet`),
 * `--json` and `--store PATH` (`--store=PATH`), each at most once, a value
 * not empty and not starting with `-`. At least one entry.
 */
export function parseAuthorizeArgv(argv: readonly string[]): PlainAuthorize | null {
  const request: PlainAuthorize = {entries: [], quiet: false, json: false};
  const value = (word: string, name: string, i: number): [string, number] | null => {
    const text = word.startsWith(`${name}=`) ? word.slice(name.length + 1) : word === name ? argv[i + 1] : undefined;
    if (text === undefined || text.length === 0 || text.startsWith('-')) return null;
    return [text, word === name ? i + 1 : i];
  };
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (!word.startsWith('-')) request.entries.push(word);
    else if (word === '--json' && !request.json) request.json = true;
    else if ((word === '-q' || word === '--quiet') && !request.quiet) request.quiet = true;
    else if ((word === '--store' || word.startsWith('--store=')) && request.store === undefined) {
      const given = value(word, '--store', i);
      if (given === null) return null;
      [request.store, i] = given;
    } else if ((word === '--label' || word.startsWith('--label=') || word === '-l') && request.label === undefined) {
      const given = value(word, word === '-l' ? '-l' : '--label', i);
      if (given === null) return null;
      [request.label, i] = given;
    } else return null;
  }
  return request.entries.length > 0 ? request : null;
}

/**
 * bin/run.js's fast path: runs `authorize` for `argv` (the words after
 * `authorize`) and returns true, or returns false, having done nothing, when
 * oclif must run it. Output, history and failures as the oclif command gives them.
 */
export async function runFast(argv: readonly string[]): Promise<boolean> {
  const request = parseAuthorizeArgv(argv);
  if (request === null) return false;
  setQuiet(request.quiet);
  try {
    const storeFile = storeFileOf(request.store, () => dataDir());
    nameStoreInWaysOut(request.store);
    // The flags the oclif command records in history: those given, by name, sorted.
    const flags = [
      ...(request.json ? ['json'] : []),
      ...(request.label === undefined ? [] : ['label']),
      ...(request.quiet ? ['quiet'] : []),
      ...(request.store === undefined ? [] : ['store']),
    ];
    const changer = {command: 'authorize', flags, now: now(), storeGiven: storePathGiven(request.store)};
    const command: WritingCommand = {
      json: request.json,
      now: changer.now,
      update: (change, options) => recordedUpdate(storeFile, changer, change, options),
      tell: (message, tone) => tellUnlessQuiet(message, tone),
      printHuman: (human) => printHumanUnless(request.json, human),
    };
    const held = {batch: await readEntryBatch({args: request.entries, progress: true}, {normalize: false, force: false})};
    const label = request.label === undefined ? null : maskSecrets(request.label);
    const result = await authorizeBatch(command, held, {label, expiresAt: null, group: null, dryRun: false});
    if (request.json) await write(process.stdout, jsonText(result));
  } catch (error) {
    await reportFailure(error, {json: request.json});
  }
  return true;
}
