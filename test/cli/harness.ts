/**
 * Runs the built keyward (bin/run.js → dist/) as a subprocess, the way an
 * operator's shell or a CI job does: stdin is never a terminal (a pipe when
 * the test gives input, /dev/null otherwise), so no command can wait on a
 * prompt, and every run is bounded by a timeout.
 */
import {spawn, spawnSync} from 'node:child_process';
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

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
        throw new Error(`stdout is not one JSON value (${(error as Error).message})\n${describeRun(args, stdout, stderr)}`);
      }
    },
    ndjson() {
      const lines = stdout.split('\n');
      if (lines.pop() !== '') throw new Error(`NDJSON output does not end with a newline\n${describeRun(args, stdout, stderr)}`);
      return lines.map((line, i) => {
        try {
          return JSON.parse(line);
        } catch (error) {
          throw new Error(`line ${i + 1} of stdout is not JSON (${(error as Error).message})\n${describeRun(args, stdout, stderr)}`);
        }
      });
    },
  };
}

/** Runs keyward once against `store` and waits for it. */
export function runKeyward(store: string, args: readonly string[], options: RunOptions = {}): RunResult {
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
