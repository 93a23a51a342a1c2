/**
 * Runs the built keyward (bin/run.js → dist/) the way an operator's shell or
 * a CI job does: stdin is never a terminal (a pipe when the test gives input,
 * empty otherwise), so no command can wait on a prompt, and every run is
 * bounded by a timeout.
 *
 * `run` runs a command in-process when a subprocess would show nothing more:
 * bin/run.js itself, in a worker thread (see in-process.ts), with the
 * subprocess's argv, environment, working folder and stdin, its output
 * captured. It runs as a subprocess for what only a process shows: `check
 * KEY -` and a check given stdin (read from descriptor 0), `keys create` and `keys
 * rotate` when this process's stdout is the null device (they refuse to
 * print a secret there, and in-process they would look at this process's),
 * another entry point (`bin`), and any environment that oclif or
 * chalk read once at start-up (colour, data folders, DEBUG). `start` and
 * `runAll` always start subprocesses: they run side by side.
 * KEYWARD_TEST_SUBPROCESS=1 runs everything as a subprocess.
 */
import {spawn, spawnSync} from 'node:child_process';
import {existsSync, fstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';
import {createRequire} from 'node:module';
import {MessageChannel, MessagePort, receiveMessageOnPort, Worker} from 'node:worker_threads';
import type {Job, Outcome} from './in-process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = path.join(ROOT, 'bin', 'run.js');

/** A subprocess that has not finished by then is killed and the test fails. */
const DEFAULT_TIMEOUT_MS = 30_000;

export interface RunOptions {
  /** Text piped to stdin. Without it stdin is /dev/null: not a terminal, and empty. */
  input?: string;
  /** KEYWARD_NOW for this run (ISO 8601). */
  now?: string;
  /** Extra environment; a value of undefined removes the variable. */
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  /** The working folder; the system's temporary folder unless given. */
  cwd?: string;
  /** The entry point to run, when not this checkout's bin/run.js. */
  bin?: string;
}

export interface RunResult {
  /** The exit code; null only when the process was killed by a signal. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as one JSON value; fails the test, showing both streams, when it is anything else. */
  json<T = any>(): T;
  /** stdout parsed as NDJSON: one JSON value per line. */
  ndjson<T = any>(): T[];
}

let built = false;

function assertBuilt(): void {
  if (built) return;
  if (!existsSync(path.join(ROOT, 'dist', 'commands'))) {
    throw new Error('dist/ is missing: run `npm run build` before the CLI tests');
  }
  built = true;
}

/** The environment of a run: the test's own, minus anything that would change keyward's behaviour. */
export function environment(store: string, options: RunOptions = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    // KEYWARD_* would leak the developer's store or clock; colour and the test runner's loaders do not belong to a user's shell.
    if (name.startsWith('KEYWARD_') || name === 'FORCE_COLOR' || name === 'NODE_OPTIONS') continue;
    env[name] = value;
  }
  env.NO_COLOR = '1';
  env.KEYWARD_STORE = store;
  if (options.now !== undefined) env.KEYWARD_NOW = options.now;
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

function describeRun(args: readonly string[], stdout: string, stderr: string): string {
  return `keyward ${args.join(' ')}\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`;
}

function result(args: readonly string[], code: number | null, stdout: string, stderr: string): RunResult {
  return {
    code,
    stdout,
    stderr,
    json() {
      try {
        return JSON.parse(stdout);
      } catch (error) {
        throw new Error(`stdout is not one JSON value (${(error as Error).message})\n${describeRun(args, stdout, stderr)}`, {cause: error});
      }
    },
    ndjson() {
      const lines = stdout.split('\n');
      if (lines.pop() !== '') throw new Error(`NDJSON output does not end with a newline\n${describeRun(args, stdout, stderr)}`);
      return lines.map((line, i) => {
        try {
          return JSON.parse(line);
        } catch (error) {
          throw new Error(`line ${i + 1} of stdout is not JSON (${(error as Error).message})\n${describeRun(args, stdout, stderr)}`, {cause: error});
        }
      });
    },
  };
}

/** Variables keyward reads each time it runs, which an in-process run can therefore be given. */
const READ_PER_RUN = new Set(['KEYWARD_STORE', 'KEYWARD_NOW', 'KEYWARD_LOCK_TIMEOUT_MS', 'KEYWARD_NO_FAST_PATH', 'KEYWARD_DEBUG']);

/** Whether a run shows nothing more as a subprocess than in-process (see the top of this file). */
export function inProcessShowsAll(args: readonly string[], options: RunOptions = {}): boolean {
  if (process.env.KEYWARD_TEST_SUBPROCESS === '1' || options.bin !== undefined) return false;
  const [first = '', second = ''] = args;
  const command = first.includes(':') ? first.split(':') : [first, second];
  if (command[0] === 'check' && (args.includes('-') || options.input !== undefined)) return false;
  if (command[0] === 'keys' && (command[1] === 'create' || command[1] === 'rotate') && stdoutIsNull()) return false;
  return Object.keys(options.env ?? {}).every((name) => READ_PER_RUN.has(name));
}

let nullStdout: boolean | undefined;

/**
 * Whether this process's stdout is the null device: `keys create` and `keys
 * rotate` refuse to print a secret there, and an in-process run looks at the
 * test process's own (a test run with `> /dev/null`), so they then run as subprocesses.
 */
function stdoutIsNull(): boolean {
  if (nullStdout === undefined) {
    try {
      const out = fstatSync(1);
      nullStdout = out.isCharacterDevice() && out.rdev === statSync('/dev/null').rdev;
    } catch {
      nullStdout = true;
    }
  }
  return nullStdout;
}

interface InProcess {
  worker: Worker;
  port: MessagePort;
  /** Set to 1 by the worker when the run's outcome is on the port. */
  done: Int32Array;
}

let inProcess: InProcess | null = null;

function inProcessWorker(): InProcess {
  if (inProcess) return inProcess;
  const {port1, port2} = new MessageChannel();
  const done = new Int32Array(new SharedArrayBuffer(4));
  // Loaded through tsx's API: a worker does not inherit the loader the tests run under.
  // Its ES module entry: the CommonJS one waits on the thread that loaded it, which is waiting on this worker.
  const tsxPackage = createRequire(import.meta.url).resolve('tsx/package.json');
  const tsx = pathToFileURL(path.join(path.dirname(tsxPackage), 'dist', 'esm', 'api', 'index.mjs')).href;
  const script = new URL('in-process.ts', import.meta.url).href;
  const worker = new Worker(`import(${JSON.stringify(tsx)}).then((tsx) => tsx.tsImport(${JSON.stringify(script)}, ${JSON.stringify(script)}))`, {
    eval: true,
    workerData: {root: ROOT, port: port2, signal: done},
    transferList: [port2],
  });
  // Neither keeps the test process alive once its tests are done.
  worker.unref();
  port1.unref();
  inProcess = {worker, port: port1, done};
  return inProcess;
}

function runInProcess(store: string, args: readonly string[], options: RunOptions): RunResult {
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const {worker, port, done} = inProcessWorker();
  // As a process receives them: text through UTF-8 (a lone surrogate arrives as U+FFFD).
  const received = (text: string) => Buffer.from(text, 'utf8').toString('utf8');
  const env = Object.fromEntries(Object.entries(environment(store, options)).map(([name, value]) => [name, value === undefined ? value : received(value)]));
  const job: Job = {args: args.map(received), cwd: options.cwd ?? os.tmpdir(), env, input: options.input};
  // The thread shares the process's working folder; this thread waits while the command runs.
  const cwd = process.cwd();
  process.chdir(job.cwd);
  try {
    Atomics.store(done, 0, 0);
    port.postMessage(job);
    if (Atomics.wait(done, 0, 0, timeout) === 'timed-out') {
      inProcess = null;
      void worker.terminate();
      throw new Error(`keyward did not finish within ${timeout} ms (in-process)\n${describeRun(args, '', '')}`);
    }
    const outcome = receiveMessageOnPort(port)!.message as Outcome;
    return result(args, outcome.code, outcome.stdout, outcome.stderr);
  } finally {
    process.chdir(cwd);
  }
}

/** Runs keyward once against `store` and waits for it: in-process when that shows all a subprocess would. */
export function runKeyward(store: string, args: readonly string[], options: RunOptions = {}): RunResult {
  assertBuilt();
  return inProcessShowsAll(args, options) ? runInProcess(store, args, options) : runProcess(store, args, options);
}

/** Runs keyward once against `store` as a subprocess of bin/run.js and waits for it. */
export function runProcess(store: string, args: readonly string[], options: RunOptions = {}): RunResult {
  assertBuilt();
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const child = spawnSync(process.execPath, [options.bin ?? BIN, ...args], {
    cwd: options.cwd ?? os.tmpdir(),
    env: environment(store, options),
    input: options.input,
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout,
    killSignal: 'SIGKILL',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (child.error) {
    throw new Error(`keyward did not finish within ${timeout} ms or could not start (${child.error.message})\n${describeRun(args, child.stdout ?? '', child.stderr ?? '')}`);
  }
  return result(args, child.status, child.stdout, child.stderr);
}

/** Starts keyward without waiting, so that several can run at the same time. */
export function startKeyward(store: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  assertBuilt();
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [options.bin ?? BIN, ...args], {
      cwd: options.cwd ?? os.tmpdir(),
      env: environment(store, options),
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`keyward did not finish within ${timeout} ms\n${describeRun(args, stdout, stderr)}`));
    }, timeout);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(result(args, code, stdout, stderr));
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

const created: string[] = [];

process.on('exit', () => {
  if (process.env.KEYWARD_TEST_KEEP) return;
  for (const dir of created) rmSync(dir, {recursive: true, force: true});
});

/**
 * A fresh temporary folder with a store path in it (store.json, not created
 * until keyward writes it), and ways to run keyward on it and look at it.
 * Folders are removed when the test process exits (kept with KEYWARD_TEST_KEEP=1).
 */
export class Workspace {
  readonly store: string;

  private constructor(readonly dir: string) {
    this.store = path.join(dir, 'store.json');
  }

  static create(): Workspace {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'keyward-cli-'));
    created.push(dir);
    return new Workspace(dir);
  }

  run(args: readonly string[], options: RunOptions = {}): RunResult {
    return runKeyward(this.store, args, {cwd: this.dir, ...options});
  }

  start(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    return startKeyward(this.store, args, {cwd: this.dir, ...options});
  }

  /**
   * For many independent runs (through `pool`): in-process when that shows all
   * a subprocess would (one at a time, at once), else a subprocess started.
   */
  runOrStart(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const all = {cwd: this.dir, ...options};
    return inProcessShowsAll(args, all) ? Promise.resolve(runKeyward(this.store, args, all)) : startKeyward(this.store, args, all);
  }

  /**
   * Runs independent commands side by side (each subprocess spends a few
   * tenths of a second starting; side by side they use every core) and
   * returns their results in order.
   * Only for commands that do not depend on one another's effects.
   */
  runAll(argsList: ReadonlyArray<readonly string[]>, options: RunOptions = {}): Promise<RunResult[]> {
    return Promise.all(argsList.map((args) => this.start(args, options)));
  }

  /** Writes a file in the workspace and returns its path. */
  file(name: string, text: string | Buffer): string {
    const file = path.join(this.dir, name);
    mkdirSync(path.dirname(file), {recursive: true});
    writeFileSync(file, text);
    return file;
  }

  /** The store file's bytes, or null when there is none. */
  storeBytes(): Buffer | null {
    return existsSync(this.store) ? readFileSync(this.store) : null;
  }

  /** The store document as keyward wrote it. */
  storeJson(): any {
    return JSON.parse(readFileSync(this.store, 'utf8'));
  }

  storeMtimeMs(): number {
    return statSync(this.store).mtimeMs;
  }

  /** Every regular file under the workspace, with its bytes. */
  allFiles(): {file: string; bytes: Buffer}[] {
    const files: {file: string; bytes: Buffer}[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, {withFileTypes: true})) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (entry.isFile()) files.push({file: full, bytes: readFileSync(full)});
      }
    };
    walk(this.dir);
    return files;
  }
}

/** A fixed "now" for tests that depend on time, and helpers to move it. */
export const NOW = '2026-01-01T00:00:00.000Z';

export function daysAfter(iso: string, days: number): string {
  return new Date(Date.parse(iso) + days * 86_400_000).toISOString();
}
