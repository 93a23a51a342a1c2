/**
 * The store as `keyward serve` decides from it: loaded once, then again
 * whenever the file's identity (device, inode, size, modification and change
 * time) changes, noticed by a watch on its folder and by a cheap stat once a
 * second (a watch can miss events: network file systems, some containers).
 * The new store is built aside and swapped in at once: a request is answered
 * from one whole store, old or new, never from a mixture. A request waits
 * only when the file changed before it came and the new store is not read
 * yet (the file is looked at once an event-loop turn: fresh), so that a
 * write that has ended (a rotation, a revoke) is in effect for every request
 * that follows it.
 * A store that cannot be read (corrupt, half-written by hand, gone, a newer
 * schema) is never used: the last good one goes on answering, and the
 * problem is reported on stderr and /healthz until a good file is back.
 */
import {watch, FSWatcher, promises as fs, statSync, Stats} from 'node:fs';
import path from 'node:path';
import {Policy} from '../../core/decision.js';
import {KeyRecord, StoreData} from '../../core/model.js';
import {hashSecret} from '../../core/secret.js';
import {decodeIndexCache, MIN_STORE_BYTES, readIndexCache, StoreIdentity} from '../../store/index-cache.js';
import type {FileIdentity} from './commits.js';
import {describe, missingStore, readDocument, StoreError} from '../../store/read.js';
import {maskSecrets, untrusted} from '../../core/errors.js';

/** How often the store file is looked at besides the watch. */
const STAT_EVERY_MS = 1000;
/** How long a large store's index cache is waited for before its JSON is read instead (which takes longer). */
const CACHE_WAITS = 10;
const CACHE_WAIT_MS = 100;
/** Changes seen by the watch within this time are one look. */
const SETTLE_MS = 25;

/** One loaded store: what a decision needs, fixed. */
export interface StoreSnapshot {
  data: StoreData;
  policy: Policy;
  byName: Map<string, KeyRecord>;
  /** sha256 of a secret → its key. */
  byHash: Map<string, KeyRecord>;
  /**
   * Secrets as requests spelled them that matched a key of this store (at
   * most SECRETS_KEPT): not hashed again. Kept in memory only, with the
   * store they matched in: a store read again (a rotation) starts empty.
   */
  matched: Map<string, KeyRecord>;
  generation: number;
  loadedAt: Date;
  /** The identity of the file it was read from. */
  identity: string;
}

export interface StoreHealth {
  status: 'ok' | 'degraded';
  store: string;
  generation: number;
  loadedAt: string;
  /** Set while degraded: why the file could not be used, since when. */
  error: string | null;
  since: string | null;
}

const identityOf = (s: Stats) => `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;

/** The store and its data as loaded: from the index cache when it provably matches, else from the JSON. */
/** Reads a large store elsewhere (the commit worker): its index cache's bytes and the identity they describe. */
export type LargeLoader = (file: string) => Promise<{bytes: Uint8Array; identity: StoreIdentity}>;

async function load(file: string, now: Date, loadLarge: LargeLoader | null): Promise<{data: StoreData; policy: Policy; identity: string}> {
  for (let attempt = 0; ; attempt++) {
    const before = await fs.stat(file).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') throw missingStore(file);
      throw new StoreError(`cannot read the store ${untrusted(file)} (${describe(error)})`);
    });
    let cached = readIndexCache(file, now);
    // A large store just written by keyward: its cache is written right after it, under the same lock.
    for (let wait = 0; cached === null && before.size >= MIN_STORE_BYTES && wait < CACHE_WAITS; wait++) {
      await new Promise((resolve) => setTimeout(resolve, CACHE_WAIT_MS));
      const now2 = await fs.stat(file).catch(() => null);
      if (now2 === null || identityOf(now2) !== identityOf(before)) break;
      cached = readIndexCache(file, now);
    }
    let data: StoreData;
    let policy: Policy;
    if (cached) {
      data = cached.data;
      policy = new Policy(cached.data, now, cached.account);
    } else {
      // A large store without a usable cache: read in the worker when there is one (parsing megabytes of JSON here
      // would hold every request), handed over as index-cache bytes.
      const handed = loadLarge && before.size >= MIN_STORE_BYTES ? await loadLarge(file) : null;
      const decoded = handed === null ? null : decodeIndexCache(Buffer.from(handed.bytes.buffer, handed.bytes.byteOffset, handed.bytes.byteLength), handed.identity, now);
      if (decoded !== null) {
        data = decoded.data;
        policy = new Policy(decoded.data, now, decoded.account);
      } else {
        const read = await readDocument(file);
        if (read === null) throw missingStore(file);
        data = read;
        policy = new Policy(data, now);
      }
    }
    const after = await fs.stat(file).catch(() => null);
    // Changed while it was read: read again (a writer's rename is atomic, so each read saw one whole file).
    if (after !== null && identityOf(after) === identityOf(before)) return {data, policy, identity: identityOf(before)};
    if (attempt >= 5) return {data, policy, identity: after === null ? '' : `changed:${identityOf(before)}`};
  }
}

export class StoreView {
  current!: StoreSnapshot;
  private degraded: {error: string; since: Date; identity: string} | null = null;
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private settle: NodeJS.Timeout | null = null;
  private looking: Promise<void> | null = null;
  private again = false;
  /** Whether the file was looked at in this event-loop turn, and whether it had changed then (see fresh). */
  private lookedThisTurn = false;
  private stale = false;

  constructor(
    readonly file: string,
    private readonly now: () => Date,
    private readonly say: (message: string, tone: 'info' | 'warn') => void,
    private readonly onChange: (snapshot: StoreSnapshot | null, health: StoreHealth) => void = () => undefined,
    private readonly loadLarge: LargeLoader | null = null,
    /** The identity of the file serve's own last commit wrote, told by its commit thread (see commits.ts WrittenSlot). */
    private readonly ownWritten: () => FileIdentity | null = () => null,
  ) {}

  /** Loads the store (a StoreError when it cannot be read: serve does not start) and starts watching it. */
  async start(): Promise<StoreSnapshot> {
    const {data, policy, identity} = await load(this.file, this.now(), this.loadLarge);
    this.current = snapshotOf(data, policy, 1, identity, this.now());
    try {
      this.watcher = watch(path.dirname(path.resolve(this.file)), {persistent: false}, (_event, name) => {
        if (name === null || name === path.basename(this.file) || name.startsWith(path.basename(this.file))) this.soon();
      });
      this.watcher.on('error', () => {
        // The timer goes on looking.
        this.watcher?.close();
        this.watcher = null;
      });
    } catch {
      // No watch on this file system: the timer alone.
    }
    this.timer = setInterval(() => void this.look(), STAT_EVERY_MS);
    this.timer.unref();
    return this.current;
  }

  stop(): void {
    this.watcher?.close();
    if (this.timer) clearInterval(this.timer);
    if (this.settle) clearTimeout(this.settle);
  }

  health(): StoreHealth {
    return {
      status: this.degraded ? 'degraded' : 'ok',
      store: this.file,
      generation: this.current.generation,
      loadedAt: this.current.loadedAt.toISOString(),
      error: this.degraded?.error ?? null,
      since: this.degraded?.since.toISOString() ?? null,
    };
  }

  /**
   * Null when the store requests are answered from is the file's; else the
   * look under way, for a request to wait for. The file is stat'ed once an
   * event-loop turn: a request read in a turn that started after a writer's
   * rename finds the change.
   */
  fresh(): Promise<void> | null {
    if (!this.lookedThisTurn) {
      this.lookedThisTurn = true;
      setImmediate(() => {
        this.lookedThisTurn = false;
      });
      let stat: Stats | null = null;
      try {
        stat = statSync(this.file);
      } catch {
        // Gone or unreadable: the watch and the timer say so; the last good store goes on answering.
      }
      const identity = stat === null ? null : identityOf(stat);
      // serve's own write is read in the background (ownCommit): its events are serve's own. Any other is waited for.
      this.stale = stat !== null && identity !== this.current.identity && identity !== this.degraded?.identity && !this.isOwn(stat);
    }
    return this.stale ? this.look() : null;
  }

  /** Whether the file is the one serve's own last commit wrote (its change time aside, which the rename set). */
  private isOwn(stat: Stats): boolean {
    const own = this.ownWritten();
    return own !== null && stat.dev === own.dev && stat.ino === own.ino && stat.size === own.size && stat.mtimeMs === own.mtimeMs;
  }

  /**
   * Serve's own commit, under way: requests do not wait for the file it
   * writes (its events are serve's own; see fresh), which is read in the
   * background once it has landed, as the watch reads any change.
   */
  async ownCommit<T>(commit: Promise<T>): Promise<T> {
    const answer = await commit;
    void this.look();
    return answer;
  }

  private soon(): void {
    if (this.settle) return;
    this.settle = setTimeout(() => {
      this.settle = null;
      void this.look();
    }, SETTLE_MS);
  }

  /** Looks at the file, and loads it when its identity changed; one look at a time. */
  look(): Promise<void> {
    if (this.looking) {
      this.again = true;
      return this.looking;
    }
    this.looking = (async () => {
      do {
        this.again = false;
        await this.lookOnce();
      } while (this.again);
    })().finally(() => {
      this.looking = null;
      this.stale = false;
    });
    return this.looking;
  }

  private async lookOnce(): Promise<void> {
    let identity: string;
    try {
      identity = identityOf(await fs.stat(this.file));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      this.fail(code === 'ENOENT' ? `the store ${untrusted(this.file)} is gone` : `cannot read the store ${untrusted(this.file)} (${describe(error)})`, `gone:${code}`);
      return;
    }
    if (identity === this.current.identity) {
      if (this.degraded) this.recover('the store file is back as it was');
      return;
    }
    if (this.degraded && this.degraded.identity === identity) return;
    try {
      const loaded = await load(this.file, this.now(), this.loadLarge);
      this.current = snapshotOf(loaded.data, loaded.policy, this.current.generation + 1, loaded.identity, this.now());
      if (this.degraded) this.recover(`the store is readable again (generation ${this.current.generation})`);
      this.onChange(this.current, this.health());
    } catch (error) {
      // (/healthz shows it: secret-shaped text in it, a secret pasted into the store by mistake, by hint as on stderr.)
      this.fail(maskSecrets(error instanceof Error ? error.message : String(error)), identity);
    }
  }

  private fail(error: string, identity: string): void {
    // A new failure: another error, or another file that failed the same way (each change of the file is counted).
    const fresh = this.degraded === null || this.degraded.error !== error || this.degraded.identity !== identity;
    if (this.degraded === null || this.degraded.identity !== identity) this.degraded = {error, since: this.degraded?.since ?? this.now(), identity};
    if (fresh) {
      this.say(`${error}; still answering from the last good store (generation ${this.current.generation}, loaded ${this.current.loadedAt.toISOString()})`, 'warn');
      this.onChange(null, this.health());
    }
  }

  private recover(message: string): void {
    this.degraded = null;
    this.say(message, 'info');
    this.onChange(null, this.health());
  }
}

function snapshotOf(data: StoreData, policy: Policy, generation: number, identity: string, loadedAt: Date): StoreSnapshot {
  const byName = new Map<string, KeyRecord>();
  const byHash = new Map<string, KeyRecord>();
  for (const key of data.keys) {
    byName.set(key.name, key);
    byHash.set(key.hash, key);
  }
  return {data, policy, byName, byHash, matched: new Map(), generation, loadedAt, identity};
}

/** How many spellings of matched secrets a store snapshot keeps (see StoreSnapshot.matched). */
const SECRETS_KEPT = 256;

/**
 * The key a header value names: its secret (bare or `Bearer SECRET`, any
 * case, spaces around), by hash; with `names` (serve --key-names) also its
 * name. A name is no credential (anyone may send `billing`): without
 * --key-names it names no key.
 */
export function keyOf(snapshot: StoreSnapshot, value: string, names = false): KeyRecord | undefined {
  if (names) {
    const byName = snapshot.byName.get(value);
    if (byName) return byName;
  }
  let text = value.trim();
  if (text.length > 7 && /^bearer\s/i.test(text)) text = text.slice(7).trim();
  if (names) {
    const byNameAfter = snapshot.byName.get(text);
    if (byNameAfter) return byNameAfter;
  }
  if (text.length !== 40 || !/^[0-9a-fA-F]{40}$/.test(text)) return undefined;
  const known = snapshot.matched.get(text);
  if (known !== undefined) return known;
  const key = snapshot.byHash.get(hashSecret(text.toLowerCase()));
  // (Only secrets that matched: a client sending random ones cannot fill it.)
  if (key !== undefined && snapshot.matched.size < SECRETS_KEPT) snapshot.matched.set(text, key);
  return key;
}
