/**
 * What the reliability tests need beyond test/cli/harness.ts: a child process
 * fed from a stream (for inputs too big to hold, and stdin that never ends),
 * its peak memory read from /proc, a bounded pool for many runs at once, and
 * the switch for the long variants (KEYWARD_LONG_TESTS=1).
 */
import {spawn, ChildProcess} from 'node:child_process';
import {existsSync, readFileSync, readdirSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

import {expect} from 'chai';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = path.join(ROOT, 'bin', 'run.js');

/** The long variants: every corpus input through the CLI, 200 kills, 10 million lines, … */
export const LONG = process.env.KEYWARD_LONG_TESTS === '1';

/** Pick the default-run or the long-run figure. */
export function scale<T>(normal: T, long: T): T {
  return LONG ? long : normal;
}

/** The environment keyward runs in: the test's own minus KEYWARD_* and loaders, plus the store. */
export function keywardEnv(store: string, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith('KEYWARD_') || name === 'FORCE_COLOR' || name === 'NODE_OPTIONS') continue;
    env[name] = value;
  }
  env.NO_COLOR = '1';
  env.KEYWARD_STORE = store;
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** A small deterministic PRNG (mulberry32), so that a failing run can be repeated from its seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed of this run: KEYWARD_TEST_SEED when given, else a fresh one (printed by the tests that use it). */
export function runSeed(): number {
  const given = Number(process.env.KEYWARD_TEST_SEED);
  return Number.isInteger(given) && given > 0 ? given : Math.floor(Math.random() * 2 ** 31) + 1;
}

/** Runs `tasks` with at most `limit` at a time; results in task order. */
export async function pool<T>(limit: number, tasks: readonly (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  };
  await Promise.all(Array.from({length: Math.min(limit, tasks.length)}, worker));
  return results;
}

/** A peak-memory reading of a live process: VmHWM from /proc/PID/status, in bytes (0 when unreadable). */
export function peakRss(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The current resident memory of a live process (VmRSS), in bytes (0 when unreadable). */
export function currentRss(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export const MB = 1024 * 1024;

export interface Streamed {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** stdout, unless `countStdout` was set (then only its line count is kept). */
  stdout: string;
  stdoutLines: number;
  stdoutBytes: number;
  stderr: string;
  /** The highest VmHWM read while the process ran (polled every 20 ms), in bytes. */
  peakRss: number;
}

export interface StreamOptions {
  env?: Record<string, string | undefined>;
  /** Keep only a count of stdout's lines, not its text (for outputs of millions of lines). */
  countStdout?: boolean;
  timeoutMs?: number;
  /** Run under umask 000 (through /bin/sh, which execs node: the pid is keyward's). */
  umask000?: boolean;
  /** Called with the child once it runs: to feed stdin, pause stdout, or kill it. */
  drive?: (child: ChildProcess) => void | Promise<void>;
}

/**
 * Runs keyward with piped stdin/stdout/stderr; `drive` feeds stdin (and must end it).
 * Peak memory is polled from /proc while it runs.
 */
export function runStreamed(store: string, args: readonly string[], options: StreamOptions = {}): Promise<Streamed> {
  const timeout = options.timeoutMs ?? 120_000;
  return new Promise((resolve, reject) => {
    const [command, argv] = options.umask000 ? ['/bin/sh', ['-c', 'umask 000 && exec "$@"', 'sh', process.execPath, BIN, ...args]] : [process.execPath, [BIN, ...args]];
    const child = spawn(command, argv, {
      cwd: existsSync(path.dirname(store)) ? path.dirname(store) : os.tmpdir(),
      env: keywardEnv(store, options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let stdoutLines = 0;
    let stdoutBytes = 0;
    let peak = 0;
    child.stdout!.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (options.countStdout) {
        for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) stdoutLines++;
      } else {
        stdout += chunk.toString('utf8');
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      if (stderr.length < 1 << 20) stderr += text;
    });
    // The child may exit before reading all its input (a refused line): that is not the test's error.
    child.stdin!.on('error', () => undefined);
    const poll = setInterval(() => {
      if (child.pid !== undefined) peak = Math.max(peak, peakRss(child.pid));
    }, 20);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`keyward ${args.join(' ')} did not finish within ${timeout} ms\n${stderr}`));
    }, timeout);
    child.on('error', (error) => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', () => {
      clearInterval(poll);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (!options.countStdout) stdoutLines = stdout.split('\n').length - 1;
      resolve({code, signal, stdout, stdoutLines, stdoutBytes, stderr, peakRss: peak});
    });
    Promise.resolve(options.drive ? options.drive(child) : child.stdin!.end()).catch((error) => {
      child.kill('SIGKILL');
      reject(error);
    });
  });
}

/** Calls `done` once when the child exits or could not start: to stop watchers set up beside it. */
export function whenGone(child: ChildProcess, done: () => void): void {
  let called = false;
  const once = () => {
    if (!called) done();
    called = true;
  };
  child.once('exit', once);
  child.once('error', once);
}

/** Writes to a child's stdin, waiting when its pipe is full; false when the child stopped reading. */
export function feed(child: ChildProcess, data: string | Buffer): Promise<boolean> {
  const stdin = child.stdin!;
  if (stdin.destroyed || !stdin.writable) return Promise.resolve(false);
  if (stdin.write(data)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      stdin.off('drain', onDrain);
      stdin.off('close', onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    stdin.once('drain', onDrain);
    stdin.once('close', onClose);
  });
}

/**
 * No stack frame ("    at f (file:1:2)", "    at file:1:2") and no internal error in what keyward printed.
 * A frame ends in a line and column: help text that wraps to a line starting with "at (" is not one.
 */
export function expectNoStackTrace(output: string, what: string): void {
  expect(output, `${what}: a stack trace was printed`).not.to.match(/^\s+at (?:.+ \(.+:\d+:\d+\)|\S+:\d+:\d+)$/m);
  expect(output, `${what}: an internal error`).not.to.contain('internal error');
}

/** The names in a folder, sorted: to see that no lock or temporary file was left. */
export function listing(dir: string): string[] {
  return readdirSync(dir).sort();
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
