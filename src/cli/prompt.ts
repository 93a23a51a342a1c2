/**
 * Confirmations: asked only on a terminal. Without one, an action that needs
 * confirming is refused (exit 4) unless the flag that skips the question was
 * given, so no prompt ever waits on a pipe or a CI job.
 */
import {SafetyError} from '../core/errors.js';
import {Question} from '../core/question.js';

/**
 * Whether a person can answer: stdin and stderr (where prompts are drawn) are
 * terminals, and not TERM=dumb (Emacs's shell, some CI consoles), where a
 * prompt's cursor movements would print as garbage.
 */
export function canAsk(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY) && process.env.TERM !== 'dumb';
}

/**
 * Resolves when the action may go ahead: `skip` (--yes or --force) was given,
 * or a person said yes. Throws SafetyError otherwise (`refusal`, when there
 * is no terminal and it is given).
 */
export async function confirmOrRefuse(question: string, skip: boolean, skipFlag: '--yes' | '--force', refusal?: Question['refusal']): Promise<void> {
  if (skip) return;
  if (!canAsk()) {
    if (refusal) throw new SafetyError(refusal.message, refusal.hint);
    const why = process.stdin.isTTY && process.env.TERM === 'dumb' ? 'the terminal (TERM=dumb) cannot show a prompt' : 'there is no terminal to confirm on';
    throw new SafetyError(`${question} — refused: ${why}`, `pass ${skipFlag} to go ahead`);
  }
  const {confirm} = await import('@inquirer/prompts');
  const yes = await confirm({message: question, default: false}, {output: process.stderr});
  if (!yes) throw new SafetyError('not confirmed; nothing was changed');
}
