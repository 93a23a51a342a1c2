/**
 * A table taller than the terminal goes through a pager, as `git` and `gh`
 * do: $KEYWARD_PAGER, else $PAGER, else `less -FRX`. Never off a terminal
 * (a pipe, a file, a CI log), on TERM=dumb, and never under --json (which prints no table);
 * `--no-pager` prints straight. A pager that cannot be started is not an
 * error: the text is printed as it would have been without one.
 */
import {spawn} from 'node:child_process';
import {write} from './write.js';

/** The pager to run (a shell command), or null for none: an empty $KEYWARD_PAGER or $PAGER means none. */
export function pagerCommand(env: NodeJS.ProcessEnv = process.env): string | null {
  for (const name of ['KEYWARD_PAGER', 'PAGER']) {
    const command = env[name];
    if (command !== undefined) return command.trim() === '' ? null : command;
  }
  return 'less -FRX';
}

/** Lines the terminal shows at once: $LINES when set, else the terminal's; undefined when unknown. */
function screenHeight(stream: NodeJS.WriteStream): number | undefined {
  const given = Number(process.env.LINES);
  if (Number.isInteger(given) && given > 0) return given;
  return stream.rows > 0 ? stream.rows : undefined;
}

/** Whether `text` on `stream` goes through a pager: a terminal it does not fit on (not TERM=dumb, where less cannot page), and a pager allowed and named. */
export function wantsPager(text: string, stream: NodeJS.WriteStream, allowed: boolean): boolean {
  if (!allowed || !stream.isTTY || process.env.TERM === 'dumb') return false;
  const height = screenHeight(stream);
  if (height === undefined) return false;
  let lines = 0;
  for (let at = text.indexOf('\n'); at >= 0 && lines < height; at = text.indexOf('\n', at + 1)) lines++;
  // The shell's prompt takes the last line.
  return lines >= height;
}

/** Prints `text` (ending with a newline) on stdout, through the pager when it is wanted (see wantsPager). */
export async function printPaged(text: string, options: {pager: boolean}): Promise<void> {
  const command = pagerCommand();
  if (command === null || !wantsPager(text, process.stdout, options.pager) || !(await throughPager(command, text))) await write(process.stdout, text);
}

/** Shell exit codes for a command that could not run: not executable, not found. */
const NOT_STARTED = new Set([126, 127]);

/** Runs `command` with `text` on its stdin and the terminal as its output; false when it could not be started. */
function throughPager(command: string, text: string): Promise<boolean> {
  return new Promise((resolve) => {
    // Ctrl-C is the pager's (less stops a search with it); keyward waits for the pager to end.
    const ignore = () => {};
    process.on('SIGINT', ignore);
    let child;
    try {
      child = spawn(command, {shell: true, stdio: ['pipe', 'inherit', 'inherit']});
    } catch {
      process.removeListener('SIGINT', ignore);
      resolve(false);
      return;
    }
    // The pager may quit before it has read everything (q in less): the rest is not wanted.
    child.stdin.on('error', ignore);
    child.stdin.end(text);
    let settled = false;
    const done = (started: boolean) => {
      if (settled) return;
      settled = true;
      process.removeListener('SIGINT', ignore);
      resolve(started);
    };
    child.on('error', () => done(false));
    child.on('close', (code) => done(code === null || !NOT_STARTED.has(code)));
  });
}
