/**
 * The worker thread behind the harness's in-process runs: it runs the built
 * keyward's bin/run.js for each command, with stdout and stderr captured,
 * stdin given by the test (empty otherwise), the argv and environment the
 * subprocess would have had, and oclif loaded once. The exit code is the one
 * the process would have exited with: the one given to oclif's `handle` or
 * `process.exit`, else `process.exitCode`.
 *
 * A thread, not the test's own process, so that a run cannot change the
 * test's environment, exit code, streams or console, and so that the harness
 * can stay synchronous: the test's thread waits on a shared word and takes
 * the result with receiveMessageOnPort.
 */
import {Console} from 'node:console';
import {createRequire} from 'node:module';
import path from 'node:path';
import {Readable, Writable} from 'node:stream';
import {pathToFileURL} from 'node:url';
import {MessagePort, workerData} from 'node:worker_threads';

export interface Job {
  args: string[];
  /** The working folder: the harness makes it the process's; this thread's `process.cwd()` is told it. */
  cwd: string;
  env: NodeJS.ProcessEnv;
  input?: string;
}

export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

const {root, port, signal} = workerData as {root: string; port: MessagePort; signal: Int32Array};

/** A stream that keeps what is written to it: not a terminal, like the subprocess's pipes. */
class Capture extends Writable {
  text = '';

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    done();
  }
}

/** The thread's own stderr (the test process's): for what belongs to no run. */
const threadStderr = process.stderr;
// Node's warnings about this thread (listeners on the captured streams, say) are not a run's output.
process.removeAllListeners('warning');
process.on('warning', (warning) => threadStderr.write(`in-process keyward: ${warning.name}: ${warning.message}\n`));

const stdout = new Capture({decodeStrings: false});
const stderr = new Capture({decodeStrings: false});
// Node's worker machinery calls, through process.stdout and process.stderr, a method of the thread's own
// streams (found by its symbol's description) when the test process has read what they wrote.
for (const [capture, own] of [
  [stdout, process.stdout],
  [stderr, process.stderr],
] as const) {
  for (let proto: object | null = own; proto !== null; proto = Object.getPrototypeOf(proto)) {
    for (const symbol of Object.getOwnPropertySymbols(proto)) {
      const value = (own as unknown as Record<symbol, unknown>)[symbol];
      if (symbol.description === 'kStdioWantsMoreDataCallback' && typeof value === 'function') {
        (capture as unknown as Record<symbol, unknown>)[symbol] = (...args: unknown[]) => value.apply(own, args);
      }
    }
  }
}
Object.defineProperty(process, 'stdout', {configurable: true, get: () => stdout});
Object.defineProperty(process, 'stderr', {configurable: true, get: () => stderr});
globalThis.console = new Console({stdout, stderr});

let stdin: Readable = Readable.from([]);
Object.defineProperty(process, 'stdin', {configurable: true, get: () => stdin});

/** process.exit from within a run ends the run, not the thread. */
class Exited extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}
process.exit = ((code?: number | string | null) => {
  throw new Exited(Number(code ?? process.exitCode ?? 0));
}) as typeof process.exit;

const fromRoot = createRequire(path.join(root, 'package.json'));
// oclif's `handle` ends the process through this object, so that tests can stub it; it catches
// what this throws, so the code is noted instead and `handle` returns.
const {Exit} = fromRoot('@oclif/core/handle') as {Exit: {exit(code?: number): void}};
let handled: number | undefined;
Exit.exit = (code = 0) => {
  handled ??= code;
};
// The same for the oclif of the bundle (dist/keyward.cjs) that bin/run.js runs commands with, when the build made it.
const bundled = (fromRoot('./bin/bundle-loader.cjs') as {oclifFromBundle(argv: string[]): {Exit: typeof Exit} | null}).oclifFromBundle([]);
if (bundled) bundled.Exit.exit = Exit.exit;
const bin = path.join(root, 'bin', 'run.js');
const binUrl = pathToFileURL(bin).href;
// Loaded once here, so that each run costs what the command costs.
await import(pathToFileURL(fromRoot.resolve('@oclif/core')).href);
let runs = 0;

/** Runs bin/run.js itself, evaluated afresh (a module runs once per URL): its argv, its error handling, its exit code. */
async function runOnce(): Promise<number> {
  handled = undefined;
  const emitters: NodeJS.EventEmitter[] = [stdout, stderr, process];
  const before = emitters.map((emitter) => new Map(emitter.eventNames().map((name) => [name, emitter.listeners(name)])));
  try {
    await import(`${binUrl}?run=${++runs}`);
  } catch (error) {
    if (error instanceof Exited) return error.code;
    throw error;
  } finally {
    // What a run listens for on the streams it was given (bin/run.js their errors, oclif's flush a drain
    // that never comes) and on the process (bin/run.js an error nothing handled) is that run's own: the
    // process would have ended.
    emitters.forEach((emitter, i) => {
      for (const name of emitter.eventNames()) {
        const kept = before[i].get(name) ?? [];
        for (const listener of emitter.listeners(name)) if (!kept.includes(listener)) emitter.off(name, listener as () => void);
      }
    });
  }
  return handled ?? Number(process.exitCode ?? 0);
}

async function serve(job: Job): Promise<Outcome> {
  for (const name of Object.keys(process.env)) delete process.env[name];
  Object.assign(process.env, job.env);
  process.argv = [process.execPath, bin, ...job.args];
  // A thread's process.cwd() is a copy that does not always follow the process's chdir.
  process.cwd = () => job.cwd;
  process.exitCode = undefined;
  stdout.text = '';
  stderr.text = '';
  stdin = Readable.from(job.input === undefined ? [] : [Buffer.from(job.input)]);
  let code: number;
  try {
    code = await runOnce();
  } catch (error) {
    // What an uncaught error does to the process: its stack on stderr, exit 1.
    stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    code = 1;
  }
  process.exitCode = undefined;
  return {code, stdout: stdout.text, stderr: stderr.text};
}

// An error no run awaited (a stream's callback): said on the current run's stderr, as the process would print
// it, and on the test process's, in case it is a leftover of an earlier run.
const unawaited = (error: unknown) => {
  const text = `${(error as Error)?.stack ?? String(error)}\n`;
  stderr.write(text);
  threadStderr.write(`in-process keyward: not awaited: ${text}`);
};
process.on('uncaughtException', unawaited);
process.on('unhandledRejection', unawaited);

port.on('message', async (job: Job) => {
  const outcome = await serve(job);
  port.postMessage(outcome);
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
});
