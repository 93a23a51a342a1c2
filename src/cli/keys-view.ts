/** How a new secret is shown: once, by keys create and keys rotate. */
import {KeywardError} from '../core/errors.js';
import {KeyRecord} from '../core/model.js';
import {paint} from './render.js';
import {deliver} from './write.js';
import {isQuiet} from './quiet.js';
import {commitSettled} from '../store/store.js';

/**
 * The only place a secret is ever printed: stdout, once (as JSON under
 * --json), with a note on stderr. Called under the store's lock before the
 * change is committed: when stdout does not take the secret (a full disk, a
 * closed pipe) it throws a store error (exit 3) and the change is dropped, so
 * a secret nobody received never becomes the key's secret.
 */
export async function deliverSecret(k: KeyRecord, secret: string, verb: 'created' | 'rotated', json: boolean): Promise<void> {
  const text = json ? JSON.stringify({name: k.name, type: k.type, secret, hint: k.hint}, null, 2) : secret;
  const kept = verb === 'created' ? `key ${k.name} was not created` : `key ${k.name} keeps its current secret`;
  // Written there, the secret would be delivered to nobody (a closed stdout is reopened as /dev/null by Node).
  if (stdoutIsNull()) {
    throw new KeywardError(
      'store',
      `stdout is /dev/null (or was closed): the new secret would be lost; nothing was changed, ${kept}`,
      'print it to a terminal, a file or a pipe that is read',
    );
  }
  try {
    await deliver(process.stdout, `${text}\n`);
    sayIfInterrupted();
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new KeywardError(
      'store',
      `the new secret could not be printed (${why}): nothing was changed, ${kept}`,
      'print it somewhere that can take it (a file with free space, a pipe that is read) and run the command again',
    );
  }
}

/**
 * From the secret's delivery on: Ctrl-C or SIGTERM before the commit (a
 * large store takes a moment to write) leaves a printed secret that is not
 * the key's, and that is said, as for a commit that fails (exit 128 + the
 * signal's number, as a shell reports it). After the commit the key's change
 * is done and the printed secret is its only working one: that is said, and
 * the run ends with 0, so that a script (`timeout 5 keyward keys rotate …`)
 * that throws away the output of a failure does not throw the secret away.
 */
function sayIfInterrupted(): void {
  // Ended by process.exit once its output is flushed (bin/run.js): Node's own end of a process that runs out of work
  // puts every signal back to its default action first, and a signal then (a few milliseconds) would end it with
  // 130 or 143, saying nothing, with the secret in effect. process.exit keeps the handlers below to the end.
  (globalThis as Record<symbol, unknown>)[Symbol.for('keyward.exit-when-done')] = true;
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      // A write under way may have renamed the store into place already: its end says whether the secret is in effect.
      void commitSettled().then((committed) => {
        if (committed) {
          process.stderr.write(`keyward: interrupted (${signal}) after the commit: the secret printed above IS in effect (the old one, if any, no longer works)\n`);
          process.exit(0);
        }
        process.stderr.write(`keyward: interrupted (${signal}) before the commit: the secret printed above is NOT in effect; nothing was changed\n`);
        process.exit(code);
      });
    });
  }
}

/** Said on stderr once the change holding the secret is committed (never before: the commit may fail). */
export async function secretCommitted(k: {name: string; type: string}, verb: 'created' | 'rotated', json: boolean): Promise<void> {
  if (json || isQuiet()) return;
  const c = await paint(process.stderr);
  process.stderr.write(`${c.green(`key ${k.name} (${k.type}) ${verb}`)}; its secret, on stdout, is shown this once and cannot be recovered\n`);
}

/** Whether stdout is the null device. */
function stdoutIsNull(): boolean {
  const fs = process.getBuiltinModule('node:fs');
  try {
    const out = fs.fstatSync(1);
    const nul = fs.statSync('/dev/null');
    return out.isCharacterDevice() && out.rdev === nul.rdev;
  } catch {
    return false;
  }
}

/**
 * For the commit after deliverSecret: a catch that, when the commit failed
 * (the store could not be written) after `printed()` (the secret was
 * delivered), says the secret already printed is not the key's.
 */
export function notInEffect(printed: () => boolean): (error: unknown) => never {
  return (error) => {
    if (printed() && error instanceof KeywardError) {
      throw new KeywardError(error.kind, `${error.message}; the secret printed above is NOT in effect`, error.hint);
    }
    throw error;
  };
}
