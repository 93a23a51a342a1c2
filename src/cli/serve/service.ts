/**
 * `keyward serve` run: the store view, the HTTP server, and learn --follow's
 * commit loop (follow.ts) fed by the decisions instead of a log, committing
 * in a worker thread (commits.ts); until SIGTERM or SIGINT. See docs/serve.md.
 */
import {Family} from '../../core/address.js';
import {grouped} from '../../core/count.js';
import {InputError, maskSecrets, show, untrusted} from '../../core/errors.js';
import {checkReplaceable, withoutTemporaryNames} from '../../store/atomic.js';
import {describe, StoreError} from '../../store/read.js';
import {EventLog, LearnOutcome, learnJson} from '../../core/learning.js';
import {KeyRecord} from '../../core/model.js';
import {now} from '../clock.js';
import {followAndLearn} from '../follow.js';
import {userName} from '../user-name.js';
import {EventsRead} from '../input.js';
import {learnSummary} from '../views.js';
import {commitJob, Committer, replay} from './commits.js';
import {Metrics} from './metrics.js';
import {Listen, TrustedProxies} from './options.js';
import {createServer} from './server.js';
import {StoreView} from './store-view.js';

/** serve commits at least this often: what waits for a commit is held in memory. */
export const MAX_COMMIT_MS = 60_000;
/** Events waiting for a commit (kept from failed commits included) beyond which new ones are dropped and counted. */
const MAX_WAITING_EVENTS = 2_000_000;
/** How long SIGTERM waits for requests in flight before it closes the connections left. */
const DRAIN_MS = 5000;

export interface ServeSetup {
  storeFile: string;
  listen: Listen;
  /** --listen and --key-header as given, for messages. */
  listenText: string;
  keyHeaderText: string;
  /** The key header's name in lower case. */
  keyHeader: string;
  /** --key-names: a key's name in the key header names it. */
  keyNames: boolean;
  trusted: TrustedProxies;
  commitEveryMs: number;
  notifyCommand?: string;
  maxConnections: number;
  /** The flags given, by name, for the store's history. */
  flagsGiven: string[];
  tell(message: string, tone?: 'info' | 'ok' | 'warn'): Promise<void>;
}

/** Serves until a signal; returns serve's --json summary. */
export async function runServe(options: ServeSetup) {
  // KEYWARD_NOW, when set, is every decision's time (tests, replays); else the clock.
  const fixedMs = process.env.KEYWARD_NOW ? now().getTime() : null;
  const nowMs = fixedMs === null ? Date.now : () => fixedMs;
  const say = (message: string, tone: 'info' | 'ok' | 'warn' = 'info') => void options.tell(message, tone);

  const metrics = new Metrics();
  // The worker thread that commits, and reads a large store whose index cache cannot be used.
  const committer = new Committer();
  const view = new StoreView(
    options.storeFile,
    () => new Date(nowMs()),
    say,
    (snapshot, health) => {
      metrics.storeDegraded = health.status === 'degraded';
      if (snapshot) {
        metrics.storeGeneration = snapshot.generation;
        metrics.storeLoadedAtMs = snapshot.loadedAt.getTime();
        metrics.reloads++;
      } else if (health.status === 'degraded') metrics.reloadFailures++;
    },
    (file) => committer.load(file),
    () => committer.written.get(),
  );
  let first;
  try {
    first = await view.start();
  } catch (error) {
    await committer.stop();
    throw error;
  }
  metrics.storeGeneration = first.generation;
  metrics.storeLoadedAtMs = Date.now();

  /** The commit loop's event sink (set when it starts) and what waits for it. */
  let add: ((key: string, family: Family, words: Uint32Array, at: number) => void) | null = null;
  let waiting = 0;
  let inCommit = 0;
  let commitError: {message: string; since: string} | null = null;
  /** Decisions made before the commit loop took its first event: handed to it when it starts. */
  const early = new EventLog();
  const event = (key: KeyRecord, family: Family, words: Uint32Array, atMs: number) => {
    if (add === null) {
      early.add(key.name, family, words, atMs);
      return;
    }
    if (waiting + inCommit >= MAX_WAITING_EVENTS) {
      metrics.eventsDropped++;
      return;
    }
    waiting++;
    add(key.name, family, words, atMs);
  };

  metrics.eventsPending = () => waiting + inCommit;
  const {server, stopping} = createServer({
    view,
    metrics,
    keyHeader: options.keyHeader,
    keyNames: options.keyNames,
    trusted: options.trusted,
    nowMs,
    event,
    maxConnections: options.maxConnections,
    health: () => {
      const store = view.health();
      return {
        ...store,
        status: store.status === 'ok' && commitError === null ? 'ok' : 'degraded',
        commit: {lastAt: metrics.lastCommitMs ? new Date(metrics.lastCommitMs).toISOString() : null, error: commitError?.message ?? null, since: commitError?.since ?? null},
        eventsPending: waiting + inCommit,
      };
    },
  });
  // A first commit (of no event) before listening shows the store can be written, as learn --follow's first commit
  // does: a store that cannot be is exit 3 here. Later commits that fail keep their events for the next. A commit of
  // nothing writes nothing, so the file system is also asked whether the store may be replaced (an immutable file,
  // chattr +i, refuses even root).
  try {
    await committer.commit(commitJob(new EventLog(), options.storeFile, nowMs(), options.flagsGiven, userName()));
    await mayReplace(options.storeFile);
  } catch (error) {
    view.stop();
    await committer.stop();
    throw error;
  }
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(new InputError(`cannot listen on ${show(options.listenText)} (${error.code ?? error.message})`, 'choose another --listen address or port')),
      );
      server.listen({host: options.listen.host, port: options.listen.port, exclusive: true}, () => resolve());
    });
  } catch (error) {
    view.stop();
    await committer.stop();
    throw error;
  }
  server.on('error', (error) => say(`server error: ${error.message}`, 'warn'));
  const address = server.address() as {address: string; port: number};
  const url = `http://${options.listen.family === 6 ? `[${address.address}]` : address.address}:${address.port}`;
  if (!options.listen.loopback) say(`listening on ${address.address}, not loopback: anyone who can reach it can ask for decisions (they reveal which keys exist)`, 'warn');

  let stopRequested = false;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));
  const stopServer = () => {
    if (stopRequested) return;
    stopRequested = true;
    stopping();
    server.close(() => resolveStopped());
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), DRAIN_MS).unref();
  };
  const onSignal = () => stopServer();
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  const read: EventsRead = {log: new EventLog(), bad: [], badLines: 0, untimed: 0, format: null, chosenBy: null, chosenAt: null, keyless: 0, skipped: 0};
  const nothing: LearnOutcome = {events: 0, learned: [], blocked: [], unknownKeys: [], activation: null};
  try {
    const {outcome, data, failures} = await followAndLearn({
      input: 'serve',
      commitEveryMs: options.commitEveryMs,
      announce: `listening on ${url} (key in ${options.keyHeaderText}${options.trusted.none ? '' : `; client address from X-Real-IP/X-Forwarded-For of ${options.trusted.entries.join(', ')}`}); store ${options.storeFile} (generation ${first.generation}); committing every ${options.commitEveryMs} ms; SIGTERM or SIGINT drains, commits and stops`,
      read: async (hooks) => {
        replay(early, hooks.add);
        waiting = early.count;
        add = hooks.add;
        await stopped;
        return read;
      },
      commit: async (log) => {
        inCommit = log.count;
        waiting = 0;
        try {
          const answer = await view.ownCommit(committer.commit(commitJob(log, options.storeFile, nowMs(), options.flagsGiven, userName())));
          const result = {outcome: answer.outcome, data: {...view.current.data, settings: answer.settings, blocking: answer.blocking}};
          if (commitError !== null) say(`committed again: ${log.count} events, those kept from the failed commits included`, 'info');
          commitError = null;
          metrics.commits++;
          metrics.lastCommitMs = Date.now();
          return result;
        } catch (error) {
          metrics.commitFailures++;
          // (/healthz shows it: secret-shaped text in it, by hint, as stderr shows it.)
          const message = maskSecrets(error instanceof Error ? error.message : String(error));
          // The last commit has no next one.
          if (stopRequested) {
            stopServer();
            throw error;
          }
          // Said once for each new failure: a temporary file's name (its pid and time) does not make the same failure a new one.
          if (sameFailure(commitError?.message, message)) {
            // (Still failing: the health says so.)
          } else say(`commit failed: ${message}; its ${log.count} events are kept for the next commit`, 'warn');
          commitError ??= {message, since: new Date().toISOString()};
          commitError.message = message;
          // Back in line for the next commit (times keep their order: the log is sorted when applied).
          waiting += log.count;
          replay(log, add!);
          return {outcome: nothing, data: view.current.data};
        } finally {
          inCommit = 0;
        }
      },
      now: () => new Date(nowMs()),
      notifyCommand: options.notifyCommand,
      say: (message, tone) => options.tell(message, tone),
    });
    const decisions = metrics.totals();
    // Requests for a key the store does not know are refused and make no event (nothing to learn from): counted here,
    // with any event whose key was gone by its commit (found by an outside tester: the summary said 0).
    const unknownRequests = metrics.decisions.get('deny unknown-key') ?? 0;
    await options.tell(
      `${decisions.allow} allowed, ${decisions.deny} denied${unknownRequests > 0 ? ` (${grouped(unknownRequests)} for an unknown key)` : ''}, ${decisions.badRequests} bad requests`,
    );
    for (const [message, tone] of learnSummary(outcome, data, read, failures, {dryRun: false, now: new Date(nowMs())})) await options.tell(message, tone);
    const {events, learned, blocked, unknownKeys, api} = learnJson(outcome, data, read, false);
    return {decisions, events, learned, blocked, unknownKeys: unknownKeys + unknownRequests, api, eventsDropped: metrics.eventsDropped};
  } finally {
    stopServer();
    view.stop();
    await committer.stop();
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

/** Whether two commit failures' messages say the same, a temporary file's name aside (see withoutTemporaryNames). */
function sameFailure(before: string | undefined, now: string): boolean {
  return before !== undefined && withoutTemporaryNames(before) === withoutTemporaryNames(now);
}

/** Refuses (a store error) a store serve could not commit to: see checkReplaceable. */
async function mayReplace(store: string): Promise<void> {
  try {
    await checkReplaceable(store);
  } catch (error) {
    throw new StoreError(`cannot write the store ${untrusted(store)} (${describe(error)})`, 'serve commits what it learns: give it a store it may replace');
  }
}
