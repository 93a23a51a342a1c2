import {Flags} from '@oclif/core';
import {Family} from '../core/address.js';
import {InputError, show} from '../core/errors.js';
import os from 'node:os';
import {EventLog, LearnOutcome, learnJson} from '../core/learning.js';
import {KeyRecord} from '../core/model.js';
import {KeywardCommand} from '../cli/base.js';
import {now} from '../cli/clock.js';
import {DEFAULT_COMMIT_EVERY, followAndLearn, parseCommitEvery} from '../cli/follow.js';
import {EventsRead} from '../cli/input.js';
import {commitJob, Committer, replay} from '../cli/serve/commits.js';
import {Metrics} from '../cli/serve/metrics.js';
import {DEFAULT_KEY_HEADER, DEFAULT_LISTEN, parseKeyHeader, parseListen, TrustedProxies} from '../cli/serve/options.js';
import {createServer} from '../cli/serve/server.js';
import {StoreView} from '../cli/serve/store-view.js';
import {learnSummary} from '../cli/views.js';

/** serve commits at least this often: what waits for a commit is held in memory. */
const MAX_COMMIT_MS = 60_000;
/** Events waiting for a commit (kept from failed commits included) beyond which new ones are dropped and counted. */
const MAX_WAITING_EVENTS = 2_000_000;
/** How long SIGTERM waits for requests in flight before it closes the connections left. */
const DRAIN_MS = 5000;

export default class Serve extends KeywardCommand {
  static summary = 'Answer forward-auth requests from a gateway: allow (204) or deny (403) each key and address, learning and blocking as learn --follow does.';
  static description = `An HTTP/1.1 service for nginx auth_request, Traefik ForwardAuth, Caddy forward_auth, HAProxy and Envoy ext_authz (HTTP); recipes in docs/serve.md. Each request is decided as \`keyward check\` decides: the key from --key-header (a key's name or its secret, bare or as \`Bearer SECRET\`, matched by hash and never logged), the address from the connection, or from X-Real-IP or X-Forwarded-For when the connection comes from a --trust-proxy range. The answer is 204 (allow) or 403 (deny) with the headers Keyward-Decision, Keyward-Reason, Keyward-Key, Keyward-Address and Keyward-Matched, and check's JSON object as the body with Accept: application/json (an allow is then 200); a request without a key or with a bad address is 400. GET /healthz says whether the store is read and committed (ok or degraded) and GET /metrics gives Prometheus metrics. The store is read again when another process changes it; a store that cannot be read is never used: the last good one goes on answering, and /healthz and stderr say so. Every decision is an event, committed every --commit-every under the store's lock as learn --follow commits: while API keys are learning their callers' networks are learned; while a channel is active refused addresses go on the blocked list and --notify-command runs. SIGTERM or SIGINT stops taking connections, finishes the requests in flight, commits and exits 0. Listens on loopback unless --listen says otherwise; request bodies are never read; headers are limited to 8 KiB and must arrive within 5 s.`;
  static examples = [
    '<%= config.bin %> serve',
    '<%= config.bin %> serve --listen 127.0.0.1:8431 --key-header X-Api-Key --notify-command /usr/local/bin/page-oncall',
    '<%= config.bin %> serve --listen 10.0.0.5:8431 --trust-proxy 10.0.0.0/24 --key-header Authorization',
  ];
  static flags = {
    listen: Flags.string({description: `ADDRESS:PORT to listen on ([IPV6]:PORT; port 0: any free port) [default: ${DEFAULT_LISTEN}]`}),
    'key-header': Flags.string({description: `the request header that holds the key: a name, a secret, or Bearer SECRET [default: ${DEFAULT_KEY_HEADER}]`}),
    'trust-proxy': Flags.string({
      description: 'a proxy (address or CIDR) whose X-Real-IP or X-Forwarded-For names the client; repeat or separate with commas. Without it the headers are ignored',
      multiple: true,
    }),
    'commit-every': Flags.string({description: `how often decision events are committed to the store (50ms to 60s, e.g. 500ms, 5s) [default: ${DEFAULT_COMMIT_EVERY}]`}),
    'notify-command': Flags.string({description: 'run CMD once per newly blocked address, with a JSON payload on its stdin'}),
    'max-connections': Flags.integer({description: 'connections held at once; more are refused [default: 4096]', min: 1, max: 1_000_000}),
  };

  async run() {
    const {flags} = await this.parse(Serve);
    const listen = parseListen(flags.listen ?? DEFAULT_LISTEN);
    const keyHeader = parseKeyHeader(flags['key-header'] ?? DEFAULT_KEY_HEADER);
    const trusted = TrustedProxies.parse(flags['trust-proxy'] ?? []);
    const commitEveryMs = parseCommitEvery(flags['commit-every'] ?? DEFAULT_COMMIT_EVERY);
    if (commitEveryMs > MAX_COMMIT_MS)
      throw new InputError(`--commit-every ${flags['commit-every']} is out of range for serve: give 50ms to 60s`, 'events wait in memory until they are committed');
    // KEYWARD_NOW, when set, is every decision's time (tests, replays); else the clock.
    const fixedMs = process.env.KEYWARD_NOW ? now().getTime() : null;
    const nowMs = fixedMs === null ? Date.now : () => fixedMs;
    const say = (message: string, tone: 'info' | 'ok' | 'warn' = 'info') => void this.tell(message, tone);

    const metrics = new Metrics();
    // The worker thread that commits, and reads a large store whose index cache cannot be used.
    const committer = new Committer();
    const view = new StoreView(
      this.storeFile,
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
      keyHeader,
      trusted,
      nowMs,
      event,
      maxConnections: flags['max-connections'] ?? 4096,
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
    const flagsGiven = Object.entries(flags)
      .filter(([, value]) => value !== undefined && !(Array.isArray(value) && value.length === 0))
      .map(([name]) => name)
      .sort();
    // A first commit (of no event) before listening shows the store can be written, as learn --follow's first commit
    // does: a store that cannot be is exit 3 here. Later commits that fail keep their events for the next.
    try {
      await committer.commit(commitJob(new EventLog(), this.storeFile, nowMs(), flagsGiven, userName()));
    } catch (error) {
      view.stop();
      await committer.stop();
      throw error;
    }
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', (error: NodeJS.ErrnoException) =>
          reject(new InputError(`cannot listen on ${show(flags.listen ?? DEFAULT_LISTEN)} (${error.code ?? error.message})`, 'choose another --listen address or port')),
        );
        server.listen({host: listen.host, port: listen.port, exclusive: true}, () => resolve());
      });
    } catch (error) {
      view.stop();
      await committer.stop();
      throw error;
    }
    server.on('error', (error) => say(`server error: ${error.message}`, 'warn'));
    const address = server.address() as {address: string; port: number};
    const url = `http://${listen.family === 6 ? `[${address.address}]` : address.address}:${address.port}`;
    if (!listen.loopback) say(`listening on ${address.address}, not loopback: anyone who can reach it can ask for decisions (they reveal which keys exist)`, 'warn');

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
        commitEveryMs,
        announce: `listening on ${url} (key in ${flags['key-header'] ?? DEFAULT_KEY_HEADER}${trusted.none ? '' : `; client address from X-Real-IP/X-Forwarded-For of ${trusted.entries.join(', ')}`}); store ${this.storeFile} (generation ${first.generation}); committing every ${commitEveryMs} ms; SIGTERM or SIGINT drains, commits and stops`,
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
          this.now = new Date(nowMs());
          try {
            const answer = await committer.commit(commitJob(log, this.storeFile, this.now.getTime(), flagsGiven, userName()));
            const result = {outcome: answer.outcome, data: {...view.current.data, settings: answer.settings, blocking: answer.blocking}};
            if (commitError !== null) say(`committed again: ${log.count} events, those kept from the failed commits included`, 'info');
            commitError = null;
            metrics.commits++;
            metrics.lastCommitMs = Date.now();
            void view.look();
            return result;
          } catch (error) {
            metrics.commitFailures++;
            const message = error instanceof Error ? error.message : String(error);
            // The last commit has no next one.
            if (stopRequested) {
              stopServer();
              throw error;
            }
            if (commitError?.message !== message) say(`commit failed: ${message}; its ${log.count} events are kept for the next commit`, 'warn');
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
        notifyCommand: flags['notify-command'],
        say: (message, tone) => this.tell(message, tone),
      });
      this.now = new Date(nowMs());
      const decisions = metrics.totals();
      await this.tell(`${decisions.allow} allowed, ${decisions.deny} denied, ${decisions.badRequests} bad requests`);
      for (const [message, tone] of learnSummary(outcome, data, read, failures, {dryRun: false, now: this.now})) await this.tell(message, tone);
      const {events, learned, blocked, unknownKeys, api} = learnJson(outcome, data, read, false);
      return {decisions, events, learned, blocked, unknownKeys, api, eventsDropped: metrics.eventsDropped};
    } finally {
      stopServer();
      view.stop();
      await committer.stop();
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    }
  }
}

/** The user recorded in the store's history (as base.ts records it). */
function userName(): string {
  try {
    const name = os.userInfo().username;
    if (name) return name;
  } catch {
    // No passwd entry for this uid (containers).
  }
  return process.env.USER || 'unknown';
}
