/**
 * "Did you mean …?" for a mistyped command. On a terminal it hands over to
 * @oclif/plugin-not-found, which asks and can run the suggestion; without one
 * (a CI job, a pipe, a cron line) it never asks: it names the closest command
 * on stderr and exits 2, a usage error, at once.
 */
import {Hook, loadHelpClass, toConfiguredId} from '@oclif/core';
import {visible} from '../core/errors.js';
import {EXIT} from '../cli/exit-codes.js';
import {canAsk} from '../cli/prompt.js';
import {paint} from '../cli/render.js';

/** Edit distance (insertions, deletions, substitutions) between two command ids. */
export function distance(a: string, b: string): number {
  let previous = Array.from({length: b.length + 1}, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/**
 * The command a person most likely meant by `typed`, or null when none is
 * close: one the typed text begins (`auth` → `authorize`), else the nearest
 * within a third of its length (at least 2 edits: `chek`, `stat`, `lern`).
 */
export function closestCommand(typed: string, ids: readonly string[]): string | null {
  const lower = typed.toLowerCase();
  const prefixed = ids.filter((id) => id.startsWith(lower));
  if (lower.length >= 2 && prefixed.length === 1) return prefixed[0];
  let best: string | null = null;
  let bestDistance = Math.max(2, Math.ceil(lower.length / 3)) + 1;
  for (const id of [...ids].sort()) {
    const d = distance(lower, id);
    if (d < bestDistance) {
      best = id;
      bestDistance = d;
    }
  }
  return best;
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
  if (id === 'help' || id.startsWith('help:')) {
    // `keyward help [COMMAND]`, as many CLIs have it: the same as `keyward [COMMAND] --help`.
    const Help = await loadHelpClass(config);
    return new Help(config).showHelp(id.split(':').slice(1));
  }
  const ids = config.commands.filter((c) => !c.hidden).flatMap((c) => [c.id, ...c.aliases]);
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
  const {typed, meant} = suggest(id, ids, (word) => config.findTopic(word) !== undefined);
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
  const c = await paint(process.stderr);
  // visible(): what was typed may hold control characters, or a key secret given where the command goes.
  const lines = [`${c.red(`${config.bin}:`)} ${c.yellow(visible(toConfiguredId(typed, config)))} is not a ${config.bin} command.`];
  if (meant === null) {
    lines.push(`  see \`${config.bin} --help\` for every command`);
  } else {
    const shown = toConfiguredId(meant, config);
    lines[0] += ` Did you mean ${c.bold(shown)}?`;
    lines.push(`  see \`${config.bin} ${shown} --help\`, or \`${config.bin} --help\` for every command`);
  }
  process.stderr.write(`${lines.join('\n')}\n`);
  this.exit(EXIT.usage);
};

export default hook;
