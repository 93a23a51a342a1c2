/**
 * The JSON store on disk: read, and change under a cross-process lock with an
 * atomic write (temporary file, fsync, rename, fsync of the folder). A store
 * that cannot be read, is corrupt or is newer is never overwritten.
 */
import callbackFs, {promises as fs} from 'node:fs';
import path from 'node:path';
import {Low} from 'lowdb';
import lockfile from 'proper-lockfile';
import {emptyStore, StoreData} from '../core/model.js';
import {removeLeftovers, writeFileAtomic} from './atomic.js';
import {writeIndexCache} from './index-cache.js';
import {describe, readDocument, StoreError} from './read.js';
import {documentText} from './schema.js';

export {readStore, StoreError} from './read.js';

const DEFAULT_LOCK_TIMEOUT_MS = 30_000;
const STALE_LOCK_MS = 10_000;

function lockTimeoutMs(): number {
  const configured = Number(process.env.KEYWARD_LOCK_TIMEOUT_MS);
  return Number.isFinite(configured) && configured >= 0 ? configured : DEFAULT_LOCK_TIMEOUT_MS;
}

/**
 * Writes the document atomically (see atomic.ts). Called only under the
 * store's lock, so temporary files other writers left are garbage.
 */
async function writeDocument(file: string, data: StoreData): Promise<void> {
  const pieces = await documentText(data);
  await removeLeftovers(file);
  try {
    await writeFileAtomic(file, pieces, 0o600);
  } catch (error) {
    throw new StoreError(`cannot write the store ${file} (${describe(error)})`, 'the store was left as it was; check free space and permissions');
  }
  // Still under the lock: the index cache (see index-cache.ts) follows the store, or is removed.
  await writeIndexCache(file, data);
}

/** lowdb's adapter for the store file. */
class StoreFile {
  constructor(readonly file: string) {}
  read(): Promise<StoreData | null> {
    return readDocument(this.file);
  }
  write(data: StoreData): Promise<void> {
    return writeDocument(this.file, data);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Done = (error: NodeJS.ErrnoException | null) => void;

/** Lock folders this process holds: removing one is a release; removing any other is a stale takeover. */
const held = new Set<string>();

const busy = () => Object.assign(new Error('Lock file is already being held'), {code: 'ELOCKED'});

/**
 * Removes a stale lock folder (left by a process that died) without the race
 * in proper-lockfile's own removal: two waiters that both judged the old lock
 * stale would both remove "the lock", the second one removing the fresh lock
 * the first had just taken, and both would write. Takeovers go one at a time
 * through a guard folder, and each checks again, inside it, that the lock is
 * still the stale one.
 */
async function takeOver(lock: string): Promise<void> {
  const guard = `${lock}.takeover`;
  try {
    await fs.mkdir(guard, {mode: 0o700});
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // A guard left by a process killed while taking over: once old, it is removed for the next try.
    const stat = await fs.stat(guard).catch(() => null);
    if (stat && stat.mtimeMs < Date.now() - STALE_LOCK_MS) await fs.rmdir(guard).catch(() => undefined);
    throw busy();
  }
  try {
    const stat = await fs.stat(lock).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
    if (stat === null) return;
    if (stat.mtimeMs >= Date.now() - STALE_LOCK_MS) throw busy();
    await fs.rmdir(lock).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  } finally {
    await fs.rmdir(guard).catch(() => undefined);
  }
}

/**
 * The file system proper-lockfile uses: the lock folder made 0700 (by default
 * it gets 0777 less the umask, world-writable under umask 000, and a file
 * another user put in it would stop the lock from being removed), and a
 * stale lock removed through `takeOver`.
 */
const lockFs = {
  ...callbackFs,
  mkdir: (dir: string, done: Done) => callbackFs.mkdir(dir, 0o700, done),
  rmdir: (dir: string, done: Done) => {
    if (held.has(dir)) return callbackFs.rmdir(dir, done);
    takeOver(dir).then(() => done(null), (error: NodeJS.ErrnoException) => done(error));
  },
};

async function acquireLock(file: string): Promise<() => Promise<void>> {
  const deadline = Date.now() + lockTimeoutMs();
  let compromised: Error | undefined;
  for (;;) {
    try {
      const release = await lockfile.lock(file, {
        realpath: false,
        fs: lockFs,
        stale: STALE_LOCK_MS,
        retries: 0,
        onCompromised: (error) => {
          compromised = error;
        },
      });
      const lock = `${path.resolve(file)}.lock`;
      held.add(lock);
      return async () => {
        await release().catch(() => undefined);
        held.delete(lock);
        if (compromised) throw new StoreError(`the lock on ${file} was lost while writing (${compromised.message})`);
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') {
        throw new StoreError(`cannot lock the store ${file} (${describe(error)})`, 'check that its folder exists and is writable');
      }
      if (Date.now() >= deadline) {
        throw new StoreError(
          `the store ${file} is locked by another keyward process; gave up after ${lockTimeoutMs()} ms`,
          `nothing was written; try again, or remove ${file}.lock if no keyward is running`,
        );
      }
      await sleep(5 + Math.random() * 25);
    }
  }
}

/**
 * Reads, changes and writes the store under its lock. `change` mutates the
 * data in place and returns a result; it may throw to abandon the change
 * (nothing is written). Returns what `change` returned.
 */
export async function updateStore<T>(file: string, now: Date, change: (data: StoreData) => T | Promise<T>, options: {dryRun?: boolean} = {}): Promise<T> {
  await fs.mkdir(path.dirname(file), {recursive: true, mode: 0o700}).catch((error) => {
    throw new StoreError(`cannot create the folder of the store ${file} (${describe(error)})`);
  });
  const release = await acquireLock(file);
  let result: T;
  try {
    const db = new Low<StoreData>(new StoreFile(file), emptyStore(now));
    await db.read();
    result = await change(db.data);
    if (!options.dryRun) await db.write();
  } finally {
    await release();
  }
  return result;
}
