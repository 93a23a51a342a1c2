/**
 * "Did you mean …?" for a mistyped command. On a terminal it hands over to
 * @oclif/plugin-not-found, which asks and can run the suggestion; without one
 * (a CI job, a pipe, a cron line) it never asks: it names the closest command
 * on stderr and exits 2, a usage error, at once.
 */
import type {Hook} from '@oclif/core/hooks';
import type * as Interfaces from '@oclif/core/interfaces';
import {loadHelpClass} from '@oclif/core/help';
import {toConfiguredId} from '@oclif/core/util/ids';
import {visible} from '../core/errors.js';
import {nearest} from '../core/nearest.js';
import {EXIT} from '../cli/exit-codes.js';
import {canAsk} from '../cli/prompt.js';
import {jsonAsked, sayFailure} from '../cli/messages.js';

export {distance} from '../core/nearest.js';

/**
 * The command a person most likely meant by `typed`, or null when none is
 * close (see nearest): `auth` → `authorize`, `chek`, `stat`, `lern`.
 */
export function closestCommand(typed: string, ids: readonly string[]): string | null {
  return nearest(typed, ids);
}

/**
 * What was typed as the command and the command meant, from oclif's id (which
 * joins every word of the command line with ":", arguments too): the longest
 * run of leading words close to a command of as many words, else the first
 * word (two under a topic) and no suggestion.
 */
export function suggest(id: string, ids: readonly string[], isTopic: (word: string) => boolean): {typed: string; meant: string | null} {
  const words = id.split(':');
  for (let n = words.length; n >= 1; n--) {
    const typed = words.slice(0, n).join(':');
    const meant = closestCommand(
      typed,
      ids.filter((c) => c.split(':').length === n),
    );
    if (meant !== null) return {typed, meant};
  }
  return {typed: words.slice(0, words.length > 1 && isTopic(words[0]) ? 2 : 1).join(':'), meant: null};
}

/**
 * How many leading words of `argv` name an existing command (`keys list extra` → 2),
 * or 0: the longest run that does, among the words before the first flag.
 */
export function commandWords(argv: readonly string[], isCommand: (id: string) => boolean): number {
  const end = argv.findIndex((word) => word.startsWith('-'));
  for (let n = end < 0 ? argv.length : end; n >= 1; n--) if (isCommand(argv.slice(0, n).join(':'))) return n;
  return 0;
}

const hook: Hook.CommandNotFound = async function (options) {
  const {config, id} = options;
  const ids = config.commands.filter((c) => !c.hidden).flatMap((c) => [c.id, ...c.aliases]);
  const isTopic = (word: string) => config.findTopic(word) !== undefined;
  if (id === 'help' || id.startsWith('help:')) {
    // `keyward help [COMMAND]`, as many CLIs have it: the same as `keyward [COMMAND] --help`.
    const words = id
      .split(':')
      .slice(1)
      .filter((w) => !w.startsWith('-'));
    const asked = words.join(':');
    if (words.length > 0 && config.findCommand(asked) === undefined && !isTopic(asked)) {
      // `help chek`: no such command; say so as for `chek`, with the nearest one.
      return notACommand(this, config, suggest(asked, ids, isTopic));
    }
    const Help = await loadHelpClass(config);
    return new Help(config).showHelp(id.split(':').slice(1));
  }
  // `list extra`: oclif joined a command and an argument it does not take into one id. The command
  // exists: it runs, and reports the argument it does not expect (exit 2) as it would any other.
  const given = process.argv.slice(2);
  const exact = commandWords(given, (words) => config.findCommand(words) !== undefined);
  if (exact > 0 && exact < given.length) {
    try {
      return await config.runCommand(given.slice(0, exact).join(':'), given.slice(exact));
    } catch (error) {
      // oclif would look up the help of the whole command line (`list extra`), find none and exit 1.
      if (error && typeof error === 'object' && 'showHelp' in error) error.showHelp = false;
      throw error;
    }
  }
  const {typed, meant} = suggest(id, ids, isTopic);
  // plugin-not-found draws its question on stdout: it asks only when stdout is a terminal too (not `| jq`).
  if (canAsk() && process.stdout.isTTY) {
    // A person is there: plugin-not-found asks "Did you mean …?" and runs the answer. It is given the
    // command as typed and the arguments as given: oclif joined them into the id with ":", which
    // would cut an IPv6 address in pieces.
    const {default: ask} = await import('@oclif/plugin-not-found');
    const given = process.argv.slice(2);
    const words = given.findIndex((_, i) => given.slice(0, i + 1).join(':') === typed) + 1;
    const handed = words > 0 ? {...options, id: typed, argv: given.slice(words)} : options;
    try {
      return await ask.call(this, handed);
    } catch (error) {
      const exit = (error as {oclif?: {exit?: number}}).oclif?.exit;
      // It says no with exit 127; keyward's usage errors are exit 2.
      if (exit === 127) this.exit(EXIT.usage);
      throw error;
    }
  }
  return notACommand(this, config, {typed, meant});
};

/**
 * Says that `typed` is not a command, in keyward's one failure style (with
 * the nearest command, and the error object on stdout under --json), and
 * exits 2.
 */
async function notACommand(context: Hook.Context, config: Interfaces.Config, {typed, meant}: {typed: string; meant: string | null}): Promise<void> {
  // visible(): what was typed may hold control characters, or a key secret given where the command goes.
  let message = `${visible(toConfiguredId(typed, config))} is not a ${config.bin} command.`;
  let hint = `see \`${config.bin} --help\` for every command`;
  if (meant !== null) {
    const shown = toConfiguredId(meant, config);
    message += ` Did you mean ${shown}?`;
    hint = `see \`${config.bin} ${shown} --help\`, or \`${config.bin} --help\` for every command`;
  }
  await sayFailure({exit: EXIT.usage, message, details: [hint]}, {json: jsonAsked(process.argv.slice(2))});
  return context.exit(EXIT.usage);
}

export default hook;
