/**
 * `learn --follow`: reads a never-ending input (stdin, or a file followed
 * through rotation and truncation as `tail -F` does) and commits what it read
 * every --commit-every under the store's lock, never holding the lock between
 * commits, until the input ends or SIGINT/SIGTERM.
 *
 * Files are polled (a stat every 250 ms at most, while idle at the end of the
 * file) rather than watched with fs.watch: a watch follows an inode, so it
 * misses the new file a rotation creates under the old name unless the folder
 * is watched too, it is missing or unreliable on network and some container
 * file systems, and its events coalesce; a stat costs nothing measurable, and
 * the delay it adds is far below the commit interval (GNU tail's own polling
 * default is 1 s).
 */
import {FSWatcher, promises as fs, watch} from 'node:fs';
import path from 'node:path';
import type {FileHandle} from 'node:fs/promises';
import {Readable} from 'node:stream';
import {InputError, show, untrusted} from '../core/errors.js';
import {EventLog, LearnOutcome, UnknownKey} from '../core/learning.js';
import {BlockedRecord, StoreData} from '../core/model.js';
import {EventFollowHooks, EventsRead, stdin} from './input.js';
import {notifyBlocked, stopNotifications, waysOut} from './notify.js';
import {count, grouped} from '../core/count.js';

/** How long a stopping follower lets queued --notify-command runs go on. */
const NOTIFY_GRACE_MS = 5000;

/** --commit-every's default. */
export const DEFAULT_COMMIT_EVERY = '5s';
const MIN_COMMIT_MS = 50;
const MAX_COMMIT_MS = 3_600_000;
/** The longest wait between two looks at an idle file. */
const MAX_POLL_MS = 250;
/** Events waiting for a commit beyond this start one at once, and reading waits for it (a bound on memory). */
const MAX_PENDING_EVENTS = 500_000;
const CHUNK_BYTES = 1 << 16;
/** After a rotation the old file is read until it has been quiet this long (but no longer than ROTATED_MAX_MS). */
const ROTATED_QUIET_MS = 1000;
const ROTATED_MAX_MS = 30_000;
/** How many of the last bytes read are kept to tell a rewritten file from a grown one. */
const TAIL_BYTES = 64;
/** How many distinct unknown keys the final summary names; their events are all counted. */
const UNKNOWN_KEPT = 100;
/** How many --notify-command failures the final summary repeats (each is said when it happens). */
const FAILURES_KEPT = 20;

/**
 * `--commit-every 5s|500ms|2m`: milliseconds from 50 ms to `most` (1 h for
 * learn --follow; serve's own limit is less), or an InputError naming the range.
 */
export function parseCommitEvery(text: string, most = MAX_COMMIT_MS, mostText = '60m', hint?: string): number {
  const m = /^(\d{1,7})(ms|s|m)$/.exec(text);
  const range = `give 50ms to ${mostText} (e.g. 500ms, 5s, 1m)`;
  if (m === null) throw new InputError(`--commit-every ${show(text)} is not a duration: ${range}`, hint);
  const ms = Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000);
  if (ms < MIN_COMMIT_MS || ms > most) throw new InputError(`--commit-every ${text} is out of range: ${range}`, hint);
  return ms;
}

export type Tone = 'info' | 'ok' | 'warn';

export interface FollowSetup {
  /** The one input followed: a file, or '-' for stdin. */
  input: string;
  commitEveryMs: number;
  /** Reads the input with these hooks until it ends (readEvents). */
  read(hooks: EventFollowHooks): Promise<EventsRead>;
  /** Applies `log` to the store under its lock (reading the store afresh) and returns what it did. */
  commit(log: EventLog): Promise<{outcome: LearnOutcome; data: StoreData}>;
  /** "Now", read afresh for each line and commit. */
  now(): Date;
  notifyCommand?: string;
  /** A message on stderr. */
  say(message: string, tone: Tone): Promise<void>;
  /** The message said when following starts, instead of "following INPUT: …" (keyward serve's). */
  announce?: string;
}

/** What a follow run did in all, for learn's summary. */
export interface FollowResult {
  outcome: LearnOutcome;
  data: StoreData;
  read: EventsRead;
  failures: string[];
}

/** Follows `setup.input` until it ends or a signal, committing as it goes (see the top of this file). */
export async function followAndLearn(setup: FollowSetup): Promise<FollowResult> {
  const stop = new Stop();
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    // The first signal stops (the end of the input may have stopped it already: that is no signal, and its last commit
    // is not dropped by the signal that follows it).
    if (!signalled) {
      signalled = true;
      stop.request();
      return;
    }
    // A second signal while the last commit waits (a held lock, a slow disk): leave now, as asked.
    process.stderr.write(`keyward: second ${signal}: exiting without committing ${count(pending.count + committing, 'event')} read since the last commit\n`);
    // A --notify-command still running ends with this process, with all it started, as after one signal's grace time
    // (found by an outside tester: it was left running).
    stopNotifications();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // SIGHUP (a closed terminal, a service manager's "reload") would end the process with its events uncommitted: it is
  // said and ignored. There is nothing to reload: the store is read at each commit (serve: when it changes).
  // (After a closed terminal the message may not be deliverable: that must not end the process either.)
  const onHangup = () =>
    void setup.say('SIGHUP ignored (the store is read again as it changes): SIGTERM or SIGINT commits what was read and stops', 'warn').catch(() => undefined);
  process.on('SIGHUP', onHangup);

  let pending = new EventLog();
  const totals = new Totals();
  let data: StoreData | null = null;
  let notifying = Promise.resolve();
  // After a signal, the notifications still queued get NOTIFY_GRACE_MS to run; the rest are skipped and counted,
  // so that a slow --notify-command never keeps a stopped follower (or serve) alive past its service manager's timeout.
  const skipNotify = {stopping: false, when: () => skipNotify.stopping, skipped: 0};
  const failures: string[] = [];
  let failureCount = 0;
  /** Resolved by each commit: reading waits on it while too many events are pending. */
  let committed = deferred();

  /** Events of the commit under way (a second signal drops them). */
  let committing = 0;
  const commitPending = async () => {
    const log = pending;
    pending = new EventLog();
    committing = log.count;
    const result = await setup.commit(log);
    committing = 0;
    data = result.data;
    const done = committed;
    committed = deferred();
    done.resolve();
    totals.add(result.outcome);
    await tellCommit(setup, result.outcome, result.data);
    const blocked = result.outcome.blocked;
    if (setup.notifyCommand && blocked.length > 0) {
      const command = setup.notifyCommand;
      // Not awaited: a slow notification must not delay the next commit; the queue keeps them in order.
      notifying = notifying.then(async () => {
        for (const failure of await notifyBlocked(command, blocked, skipNotify)) {
          failureCount++;
          if (failures.length < FAILURES_KEPT) failures.push(failure);
          await setup.say(`--notify-command failed for ${failure}`, 'warn');
        }
      });
    }
  };

  const hooks: EventFollowHooks = {
    restarts: 0,
    open: (input) =>
      Readable.from(
        gated(input === '-' ? untilStopped(stdin(), stop) : followFile(input, {...setup, restarted: () => hooks.restarts++}, stop), async () => {
          while (pending.count >= MAX_PENDING_EVENTS && !stop.requested) {
            stop.wake();
            await new Promise<void>((resolve) => {
              const off = stop.whenRequested(resolve);
              void committed.promise.then(() => {
                off();
                resolve();
              });
            });
          }
        }),
        {objectMode: false},
      ),
    add: (key, family, words, at, smtpOnly, refused) => pending.add(key, family, words, at, smtpOnly, refused),
    now: setup.now,
    signalled: () => signalled,
  };

  await setup.say(
    setup.announce ??
      `following ${setup.input === '-' ? 'stdin' : show(setup.input)}: committing every ${setup.commitEveryMs} ms; SIGINT or SIGTERM commits what was read and stops`,
    'info',
  );
  let readError: unknown = null;
  let read: EventsRead | null = null;
  const reading = setup
    .read(hooks)
    .then(
      (result) => {
        read = result;
      },
      (error) => {
        readError = error;
      },
    )
    .finally(() => stop.request());

  try {
    // The first commit comes at once: it writes the settings given and shows the store can be written.
    let first = true;
    while (!stop.requested) {
      if (!first && !(await stop.sleep(setup.commitEveryMs))) break;
      if (first || pending.count > 0) await commitPending();
      first = false;
    }
    await reading;
    if (pending.count > 0 || data === null) await commitPending();
  } catch (error) {
    // A commit that failed: stop reading, and report it (exit 3 for a store error) with what was lost.
    stop.request();
    await reading;
    const lost = pending.count + committing;
    if (lost > 0) await setup.say(`${count(lost, 'event')} read since the last commit ${lost === 1 ? 'was' : 'were'} not committed`, 'warn');
    throw error;
  } finally {
    let graceOver: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      graceOver = setTimeout(() => {
        skipNotify.stopping = true;
        // The one running is killed (its process group), the queued ones skipped: a stop never waits past the grace time.
        stopNotifications();
        resolve();
      }, NOTIFY_GRACE_MS);
    });
    await Promise.race([notifying, grace]);
    await notifying;
    clearTimeout(graceOver);
    if (skipNotify.skipped > 0)
      await setup.say(`--notify-command skipped for ${count(skipNotify.skipped, 'blocked address', 'blocked addresses')}: stopping (they are on the blocked list)`, 'warn');
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onHangup);
  }
  if (readError !== null) throw readError;
  if (failureCount > failures.length) failures.push(`… and ${grouped(failureCount - failures.length)} more`);
  return {outcome: totals.outcome(), data: data!, read: read!, failures};
}

/** A short line on stderr for a commit that changed something an operator cares about. */
async function tellCommit(setup: FollowSetup, outcome: LearnOutcome, data: StoreData): Promise<void> {
  if (outcome.learned.length === 0 && outcome.blocked.length === 0 && outcome.activation === null) return;
  const at = setup.now().toISOString();
  await setup.say(
    `${at} committed ${count(outcome.events, 'event')}: ${count(outcome.learned.length, 'entry', 'entries')} learned, ${count(outcome.blocked.length, 'address', 'addresses')} newly blocked`,
    'info',
  );
  for (const b of outcome.blocked.slice(0, 10)) {
    // The way out for this refusal (see notify.ts waysOut); the others are in the final summary and `keyward blocked`.
    const why = b.reason === undefined ? '' : ` (${b.reason})`;
    await setup.say(`blocked ${b.ip}: key ${untrusted(b.key)} (${b.channel}) was refused${why}; let it in: ${untrusted(waysOut(b)[0])}`, 'warn');
  }
  if (outcome.activation) {
    await setup.say(
      `API blocking turned itself on at ${outcome.activation.at}: traffic was observed from ${outcome.activation.quietSince} for the whole ${data.settings.learningWindowDays}-day window with no new address`,
      'warn',
    );
  }
}

/** The outcomes of every commit as one: what the final summary reports. */
class Totals {
  private events = 0;
  private refused = 0;
  private readonly learned: string[] = [];
  private readonly blocked: BlockedRecord[] = [];
  private readonly unknown = new Map<string, number>();
  private unknownOther = 0;
  private activation: LearnOutcome['activation'] = null;

  add(outcome: LearnOutcome): void {
    this.events += outcome.events;
    this.refused += outcome.refused ?? 0;
    // Each entry is learned, and each address blocked, once: these grow only as the store does.
    this.learned.push(...outcome.learned);
    this.blocked.push(...outcome.blocked);
    this.activation ??= outcome.activation;
    for (const u of outcome.unknownKeys) {
      const known = this.unknown.get(u.key);
      if (known !== undefined) this.unknown.set(u.key, known + u.events);
      else if (this.unknown.size < UNKNOWN_KEPT) this.unknown.set(u.key, u.events);
      else this.unknownOther += u.events;
    }
  }

  outcome(): LearnOutcome {
    const unknownKeys: UnknownKey[] = [...this.unknown].map(([key, events]) => ({key, events}));
    if (this.unknownOther > 0) unknownKeys.push({key: '(other keys)', events: this.unknownOther});
    return {events: this.events, learned: this.learned, blocked: this.blocked, unknownKeys, activation: this.activation, refused: this.refused};
  }
}

/** The stop of a follow run: asked for by a signal or the end of the input; wakes the commit loop. */
class Stop {
  requested = false;
  private wakeUp: (() => void) | null = null;
  private readonly stopped = deferred();
  private readonly waiters = new Set<() => void>();

  request(): void {
    this.requested = true;
    this.stopped.resolve();
    this.wake();
    for (const waiter of this.waiters) waiter();
  }

  /**
   * Calls `waiter` when a stop is asked for, until the function returned is
   * called. (A wait that raced `promise` would leave a reaction on it for
   * each wait: a follower running for days would keep millions.)
   */
  whenRequested(waiter: () => void): () => void {
    this.waiters.add(waiter);
    return () => this.waiters.delete(waiter);
  }

  /** Ends the current sleep early (a commit is due). */
  wake(): void {
    this.wakeUp?.();
  }

  /** Waits `ms`, or less when woken; false when a stop was asked for. */
  sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = null;
        resolve(!this.requested);
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  /** Resolves when a stop is asked for. */
  get promise(): Promise<void> {
    return this.stopped.promise;
  }
}

function deferred(): {promise: Promise<void>; resolve: () => void} {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return {promise, resolve};
}

/** Chunks of `source`, each after `gate` allowed it (reading waits while too much is pending). */
async function* gated(source: AsyncGenerator<Buffer>, gate: () => Promise<void>): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    await gate();
    yield chunk;
  }
}

/** Chunks of a stream until it ends or a stop is asked for (what was read so far is then committed). */
async function* untilStopped(stream: Readable, stop: Stop): AsyncGenerator<Buffer> {
  const chunks = stream[Symbol.asyncIterator]();
  try {
    for (;;) {
      if (stop.requested) return;
      const next = await new Promise<IteratorResult<unknown> | null>((resolve, reject) => {
        const off = stop.whenRequested(() => resolve(null));
        chunks.next().then(
          (result) => {
            off();
            resolve(result);
          },
          (error: unknown) => {
            off();
            reject(error);
          },
        );
      });
      if (next === null || next.done) return;
      yield next.value as Buffer;
    }
  } finally {
    // Leaves stdin (an open pipe would keep the process alive): a chunk still on its way is dropped with it.
    void chunks.return?.();
    stream.destroy();
  }
}

/** Identity of a file: a rotation puts another file (another inode) under the name. */
const sameFile = (a: {dev: number; ino: number}, b: {dev: number; ino: number}) => a.dev === b.dev && a.ino === b.ino;

/**
 * The bytes of `file` as `tail -F` follows it, from its start: at its end it
 * waits and looks again; a new file under the name (rename and create) is
 * opened when seen, and read once the old file has been quiet for a second (a
 * writer may reopen its log only after the rename), from its start (each file
 * seen under the name in turn, however soon it was moved away again);
 * a file shorter than what was read (truncated, logrotate's copytruncate) is
 * read again from its start; a name that does not exist (yet, or between a
 * rename and a create) is waited for, saying so. A stop ends the reading at
 * once (the chunk being read is the last). A line cut by a rotation is ended there.
 */
async function* followFile(file: string, setup: Pick<FollowSetup, 'commitEveryMs' | 'say'> & {restarted: () => void}, stop: Stop): AsyncGenerator<Buffer> {
  const pollMs = Math.max(20, Math.min(MAX_POLL_MS, Math.floor(setup.commitEveryMs / 4)));
  const name = show(file);
  let handle: FileHandle | null = null;
  let opened = false;
  let waitingSaid = false;
  let position = 0;
  let endsLine = true;
  /** The last bytes read (ending at `position`), read again before each read: see drain. */
  let last = Buffer.alloc(0);
  /** Set by drain when those bytes changed: the file was truncated and written again up to or past `position`. */
  let rewritten = false;
  const say = (message: string) => setup.say(message, 'warn');

  const open = async (): Promise<boolean> => {
    try {
      handle = await fs.open(file, 'r');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // A file that is not there yet is waited for; one that cannot be read when following starts is an error.
      if (!opened && code !== 'ENOENT') throw error;
      if (!waitingSaid) await say(code === 'ENOENT' ? `waiting for ${name} to appear` : `cannot open ${name} (${code}); trying again`);
      waitingSaid = true;
      return false;
    }
    if (waitingSaid) await say(`${name} has appeared; following it`);
    waitingSaid = false;
    opened = true;
    begin();
    return true;
  };

  /** Reading starts at the start of the file now in `handle`. */
  const begin = () => {
    position = 0;
    last = Buffer.alloc(0);
    rewritten = false;
  };

  /**
   * Files that came under the name after the one being read, oldest first,
   * each opened as soon as it was seen: one rotated away again before its
   * turn (rotations less than a second apart) is still read whole (found by
   * an outside tester: such a file was skipped).
   */
  const newer: {handle: FileHandle; dev: number; ino: number}[] = [];
  let cannotOpenSaid = false;

  // A watch on the folder (inotify) wakes a look as soon as a file is renamed or made under the name: looks every
  // pollMs alone miss a file rotated away again within one wait (found by an outside tester). Where there is no
  // watch (some network and container file systems), the looks alone.
  let woken = false;
  let wake: (() => void) | null = null;
  let watcher: FSWatcher | null = null;
  try {
    watcher = watch(path.dirname(path.resolve(file)), {persistent: false}, (event, changed) => {
      // Only a name's change (a rename, a file made or removed): a busy log's every append is a `change` event.
      if (event !== 'rename' || (changed !== null && changed !== path.basename(file))) return;
      woken = true;
      wake?.();
    });
    watcher.on('error', () => {
      watcher?.close();
      watcher = null;
    });
  } catch {
    watcher = null;
  }
  /** Waits pollMs, or less: until the watch sees the name change (or saw it since the last wait), or a stop. */
  const nap = async (): Promise<void> => {
    if (!woken && !stop.requested) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          off();
          wake = null;
          resolve();
        };
        const timer = setTimeout(done, pollMs);
        const off = stop.whenRequested(done);
        wake = done;
      });
    }
    woken = false;
  };

  /**
   * Looks at the name: a file under it that is neither `current` nor one
   * already waiting is opened and put in `newer`. Returns the name's file, or
   * null when nothing is there.
   */
  const look = async (current: {dev: number; ino: number}): Promise<{dev: number; ino: number} | null> => {
    const named = await fs.stat(file).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
    const known = (f: {dev: number; ino: number}) => sameFile(f, current) || newer.some((n) => sameFile(n, f));
    if (named === null || known(named)) return named;
    let fresh: FileHandle;
    try {
      fresh = await fs.open(file, 'r');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Moved away again between the stat and the open: the next look finds what is there then.
      if (code !== 'ENOENT' && !cannotOpenSaid) await say(`cannot open the new ${name} (${code}); trying again`);
      cannotOpenSaid = code !== 'ENOENT';
      return named;
    }
    cannotOpenSaid = false;
    const opened = await fresh.stat();
    if (known(opened)) await fresh.close();
    else newer.push({handle: fresh, dev: opened.dev, ino: opened.ino});
    return named;
  };

  /**
   * Reads from `position` to the end of the open file. Each read starts with
   * the last bytes read before: when they are not the same (the file was
   * truncated and written again up to or past `position` between two polls,
   * which its size alone cannot show), nothing of it is passed on and
   * `rewritten` is set. One read holds both, so new bytes are never taken
   * from the middle of another file's line.
   */
  async function* drain(): AsyncGenerator<Buffer> {
    // A stop ends the reading at the next chunk: a large backlog (a file followed from its start) must not keep a
    // stopped follower reading for seconds past its service manager's timeout (found by an outside tester).
    while (!stop.requested) {
      const again = last.length;
      const buffer = Buffer.allocUnsafe(again + CHUNK_BYTES);
      const {bytesRead} = await handle!.read(buffer, 0, again + CHUNK_BYTES, position - again);
      if (again > 0 && (bytesRead < again || !buffer.subarray(0, again).equals(last))) {
        rewritten = true;
        return;
      }
      if (bytesRead === again) return;
      const fresh = buffer.subarray(again, bytesRead);
      position += fresh.length;
      endsLine = fresh[fresh.length - 1] === 10;
      last = fresh.subarray(Math.max(0, fresh.length - TAIL_BYTES));
      yield fresh;
    }
  }

  const endLine = function* () {
    if (!endsLine) yield Buffer.from('\n');
    endsLine = true;
  };

  try {
    while (!(await open())) {
      await nap();
      if (stop.requested) return;
    }
    let goneSaid = false;
    for (;;) {
      yield* drain();
      if (stop.requested) return;
      let current: {dev: number; ino: number; size: number};
      let named: {dev: number; ino: number} | null;
      try {
        current = await handle!.stat();
        named = await look(current);
      } catch {
        named = null;
        current = {dev: -1, ino: -1, size: position};
      }
      if (newer.length > 0) {
        // The old file is read until it has been quiet a while: a writer that reopens its log only after the
        // rename (nginx between logrotate's rename and its USR1) still writes there, and loses nothing.
        // Meanwhile the name is watched: a file put under it and moved away again in that while is read next.
        const detected = Date.now();
        let quietSince = detected;
        for (;;) {
          const before = position;
          yield* drain();
          const now = Date.now();
          if (position !== before) quietSince = now;
          if (stop.requested) return;
          if (now - quietSince >= ROTATED_QUIET_MS || now - detected >= ROTATED_MAX_MS) break;
          await nap();
          await look(current).catch(() => null);
        }
        yield* endLine();
        await handle!.close();
        handle = newer.shift()!.handle;
        begin();
        await say(`${name} was replaced (rotated); following the new file from its start`);
        // (Lines are numbered from the new file's first: what a bad line's number points at is that file.)
        setup.restarted();
        goneSaid = false;
        continue;
      }
      if (named === null) {
        // Moved away and not created again yet: the old file may still be written to; keep reading it.
        if (!goneSaid) await say(`${name} is gone (moved or removed); reading the rest of it and waiting for a new ${name}`);
        goneSaid = true;
      } else if (current.size < position || rewritten) {
        yield* endLine();
        await say(`${name} was truncated; reading it again from its start`);
        setup.restarted();
        begin();
        continue;
      }
      await nap();
    }
  } finally {
    (watcher as FSWatcher | null)?.close();
    await (handle as FileHandle | null)?.close().catch(() => undefined);
    for (const waiting of newer) await waiting.handle.close().catch(() => undefined);
  }
}
