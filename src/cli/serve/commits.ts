/**
 * The thread side of serve's commits: a worker (commit-worker.ts) runs them
 * one at a time; this module sends it the events and turns its answer back
 * into an outcome or an error.
 */
import {Worker} from 'node:worker_threads';
import {Family} from '../../core/address.js';
import {KeywardError} from '../../core/errors.js';
import {EventLog, LearnOutcome} from '../../core/learning.js';
import {StoreData} from '../../core/model.js';
import type {StoreIdentity} from '../../store/index-cache.js';
import {testPause} from '../../store/test-pause.js';

/** A commit asked of the worker: the events as columns (copied, not shared). */
export interface CommitJob {
  file: string;
  nowMs: number;
  count: number;
  keys: string[];
  keyIds: Int32Array;
  families: Uint8Array;
  words: Uint32Array;
  times: Float64Array;
  /** For the store's history: the command's flags given and the user. */
  flags: string[];
  user: string;
}

export type CommitAnswer =
  | {ok: true; outcome: LearnOutcome; settings: StoreData['settings']; blocking: StoreData['blocking']}
  | {ok: false; message: string; kind: KeywardError['kind'] | null; hint?: string};

/** A large store to read in the worker (see commit-worker.ts load). */
export interface LoadJob {
  load: true;
  file: string;
}

export type LoadAnswer = {ok: true; bytes: Uint8Array; identity: StoreIdentity} | {ok: false; message: string; kind: KeywardError['kind'] | null; hint?: string};

/** The job of the events of `log`. */
export function commitJob(log: EventLog, file: string, nowMs: number, flags: string[], user: string): CommitJob {
  const n = log.count;
  return {
    file,
    nowMs,
    count: n,
    keys: [...log.keys],
    keyIds: log.keyIds.slice(0, n),
    families: log.families.slice(0, n),
    words: log.words.slice(0, n * 4),
    times: log.times.slice(0, n),
    flags,
    user,
  };
}

/** Calls `add` for each event of `log`, in its order (to hand events to another log). */
export function replay(log: EventLog, add: (key: string, family: Family, words: Uint32Array, at: number) => void): void {
  const w = new Uint32Array(4);
  for (let i = 0; i < log.count; i++) {
    w.set(log.words.subarray(i * 4, i * 4 + 4));
    add(log.keys[log.keyIds[i]], log.families[i] as Family, w, log.times[i]);
  }
}

/** What tells a file keyward wrote from another under the store's name (see StoreView): all but the change time, which its rename sets. */
export interface FileIdentity {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
}

/**
 * The identity of the file the worker's last commit wrote, in memory both
 * threads share. The worker sets it just before its rename, under the lock:
 * the thread that answers requests tells serve's own file from another
 * process's from the first moment either is there, and waits for the other
 * (see StoreView.fresh). Found by an outside tester: a revoke that landed
 * while serve heard of its own commit was taken for it, and requests were
 * answered from the store before the revoke.
 */
export class WrittenSlot {
  /** Even when settled, odd while the worker sets it; 0 before the first. */
  private readonly turn: Int32Array;
  private readonly values: Float64Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(40)) {
    this.turn = new Int32Array(buffer, 0, 1);
    this.values = new Float64Array(buffer, 8, 4);
  }

  set(stat: FileIdentity): void {
    Atomics.add(this.turn, 0, 1);
    this.values.set([stat.dev, stat.ino, stat.size, stat.mtimeMs]);
    Atomics.add(this.turn, 0, 1);
  }

  /** The identity last set; null before the first, or while one is being set (a request then waits for the file read). */
  get(): FileIdentity | null {
    const turn = Atomics.load(this.turn, 0);
    if (turn === 0 || turn % 2 === 1) return null;
    const [dev, ino, size, mtimeMs] = this.values;
    return Atomics.load(this.turn, 0) === turn ? {dev, ino, size, mtimeMs} : null;
  }
}

export class Committer {
  private readonly worker: Worker;
  private queue: Promise<unknown> = Promise.resolve();
  /** What the worker's last commit wrote (see WrittenSlot). */
  readonly written = new WrittenSlot();

  constructor() {
    // Not unref'd: a commit under way (the last one, after the server closed) keeps the process alive.
    // Without the loaders of the thread that starts it (a test runner's): the worker is plain built JavaScript.
    const execArgv = process.execArgv.filter((a) => !/^--(import|loader|experimental-loader|require)\b|^-r$/.test(a));
    const url = new URL('./commit-worker.js', import.meta.url);
    try {
      this.worker = new Worker(url, {execArgv, workerData: this.written.buffer});
    } catch (error) {
      // A flag a thread may not be given (`node --max-old-space-size=4096 keyward serve`, --trace-gc, --stack-size: V8's
      // and the process's own) is refused here; V8's apply to every thread anyway, and the worker needs none of them.
      if ((error as NodeJS.ErrnoException).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw error;
      this.worker = new Worker(url, {execArgv: [], workerData: this.written.buffer});
    }
  }

  /** Commits a job; resolves with the outcome, rejects with a KeywardError (kind as the store said). */
  commit(job: CommitJob): Promise<{outcome: LearnOutcome; settings: StoreData['settings']; blocking: StoreData['blocking']}> {
    return this.ask<CommitAnswer>(job).then((answer) => {
      if (!answer.ok) throw failure(answer);
      return answer;
    });
  }

  /** Reads a store in the worker: its index cache's bytes (see commit-worker.ts load), or a KeywardError. */
  load(file: string): Promise<{bytes: Uint8Array; identity: StoreIdentity}> {
    const job: LoadJob = {load: true, file};
    return this.ask<LoadAnswer>(job).then((answer) => {
      if (!answer.ok) throw failure(answer);
      return answer;
    });
  }

  /** One job at a time, in the order asked. */
  private ask<A>(job: CommitJob | LoadJob): Promise<A> {
    const run = this.queue.then(
      () =>
        new Promise<A>((resolve, reject) => {
          const onError = (error: Error) => reject(new KeywardError('store', `the commit thread failed: ${error.message}`));
          this.worker.once('error', onError);
          this.worker.once('message', (answer: A) => {
            this.worker.off('error', onError);
            // (A test holds the answer of a commit here: the store written and its lock let go, this thread not told yet.)
            if ('load' in job) resolve(answer);
            else void testPause('KEYWARD_TEST_PAUSE_SERVE_COMMITTED', 'committed').then(() => resolve(answer));
          });
          this.worker.postMessage(job);
        }),
    );
    this.queue = run.catch(() => undefined);
    return run;
  }

  stop(): Promise<number> {
    return this.worker.terminate();
  }
}

function failure(answer: {message: string; kind: KeywardError['kind'] | null; hint?: string}): Error {
  return answer.kind === null ? new Error(answer.message) : new KeywardError(answer.kind, answer.message, answer.hint);
}
