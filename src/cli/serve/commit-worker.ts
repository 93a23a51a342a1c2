/**
 * `keyward serve`'s commits, in a worker thread: a commit reads, changes and
 * writes the whole store under its lock (and its index cache), which takes a
 * large store tenths of a second; on the thread that answers requests that
 * would hold every request of that moment. The worker does what
 * `learn --follow`'s commit does (learn(), history, updateStore) and answers
 * with the outcome and the store's settings and blocking states.
 */
import {parentPort, workerData} from 'node:worker_threads';
import {Family} from '../../core/address.js';
import {KeywardError} from '../../core/errors.js';
import {appendHistory, diffStore, snapshot} from '../../core/history.js';
import {EventLog, learn} from '../../core/learning.js';
import {updateStore} from '../../store/store.js';
import {statSync} from 'node:fs';
import {encodeIndexCache, identityOf} from '../../store/index-cache.js';
import {readDocument} from '../../store/read.js';
import {WrittenSlot} from './commits.js';
import type {CommitAnswer, CommitJob, LoadAnswer, LoadJob} from './commits.js';

/** Where the thread that answers requests finds what this one's last commit wrote. */
const written = new WrittenSlot(workerData as SharedArrayBuffer);

async function commit(job: CommitJob): Promise<CommitAnswer> {
  const log = new EventLog();
  const w = new Uint32Array(4);
  for (let i = 0; i < job.count; i++) {
    w.set(job.words.subarray(i * 4, i * 4 + 4));
    log.add(job.keys[job.keyIds[i]], job.families[i] as Family, w, job.times[i]);
  }
  const now = new Date(job.nowMs);
  try {
    return await updateStore(
      job.file,
      now,
      (data) => {
        const before = snapshot(data);
        const outcome = learn(data, log, {settings: {}, strict: false, now});
        const changes = diffStore(before, data, {operatorSetsBlocking: false});
        if (changes !== null) appendHistory(data, [{at: now.toISOString(), command: 'serve', flags: job.flags, user: job.user, changes}]);
        return {ok: true as const, outcome, settings: data.settings, blocking: data.blocking};
        // serve answers from a store it read: one moved away meanwhile keeps the events (a failed commit), never a new empty store.
      },
      {mustExist: true, renaming: (stat) => written.set(stat)},
    );
  } catch (error) {
    if (error instanceof KeywardError) return {ok: false, message: error.message, kind: error.kind, hint: error.hint};
    return {ok: false, message: error instanceof Error ? error.message : String(error), kind: null};
  }
}

/**
 * A large store whose index cache cannot be used (written by hand, or by a
 * keyward that writes none), read here rather than on the thread that
 * answers requests: parsed and checked, then encoded as an index cache whose
 * bytes are handed over (transferred, not copied) and decoded there.
 */
async function load(job: LoadJob): Promise<LoadAnswer> {
  try {
    const before = statSync(job.file);
    const data = await readDocument(job.file);
    if (data === null) return {ok: false, message: `no store at ${job.file}`, kind: 'store'};
    const identity = identityOf(before);
    const bytes = encodeIndexCache(data, identity);
    return {ok: true, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), identity};
  } catch (error) {
    if (error instanceof KeywardError) return {ok: false, message: error.message, kind: error.kind, hint: error.hint};
    return {ok: false, message: error instanceof Error ? error.message : String(error), kind: null};
  }
}

parentPort?.on('message', (job: CommitJob | LoadJob) => {
  if ('load' in job) {
    void load(job).then((answer) => parentPort!.postMessage(answer, answer.ok ? [answer.bytes.buffer as ArrayBuffer] : []));
    return;
  }
  void commit(job).then((answer) => parentPort!.postMessage(answer));
});
