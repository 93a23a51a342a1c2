/**
 * The JSON store on disk: read, and change under a cross-process lock with an
 * atomic write (temporary file, fsync, rename, fsync of the folder). A store
 * that cannot be read, is corrupt or is newer is never overwritten; a store
 * that a change left as it was is not written at all.
 */
import {constants as bufferConstants, isAscii, isUtf8} from 'node:buffer';
import callbackFs, {promises as fs, Stats} from 'node:fs';
import path from 'node:path';
import {accountUnread, addToUnreadAccount, DeferredList, emptyStore, EntryRecord, historyAppendedUnread, StoreData} from '../core/model.js';
import {removeLeftovers, TooLargeError, writeFileAtomic} from './atomic.js';
import {testPause} from './test-pause.js';
import type {EntryIndex} from '../core/decision.js';
import {compiledAccountFor, writeIndexCache} from './index-cache.js';
import {InputError, show, untrusted} from '../core/errors.js';
import type {Adapter} from 'lowdb';
import {describe, missingFolder, readStore, readStoreDocument, StoreDocument, StoreError, UnreadSpan} from './read.js';
import {
  accountAsWritten,
  documentPieces,
  documentReuse,
  documentText,
  pieceSource,
  UNREAD_LIST,
  unreadAccountInsertion,
  unreadHistoryEdits,
  withProvenValues,
} from './schema.js';

export {missingFolder, readStore, readStoreOrEmpty, StoreError} from './read.js';

/**
 * The largest store a write makes: the largest a read takes (its text is one
 * string: V8's limit, about 512 MiB). (Tests set a smaller one.)
 */
const MAX_STORE_BYTES = Number(process.env.KEYWARD_TEST_MAX_STORE_BYTES) || bufferConstants.MAX_STRING_LENGTH;
/** The room below MAX_STORE_BYTES that only changes that narrow access may take (see UpdateOptions.narrows): 1 MiB. */
const STORE_ROOM = Math.min(2 ** 20, Math.floor(MAX_STORE_BYTES / 8));

const DEFAULT_LOCK_TIMEOUT_MS = 30_000;
const STALE_LOCK_MS = 10_000;
/** How often a writer refreshes its lock's time (proper-lockfile's `update`): well inside STALE_LOCK_MS. */
const LOCK_UPDATE_MS = 2_000;
/**
 * A lock refreshed this recently is the writer's for STALE_LOCK_MS less this
 * at least: no other writer may take it over before then (see LockHold.commit).
 */
const LOCK_FRESH_MS = LOCK_UPDATE_MS + 1_000;

/** KEYWARD_LOCK_TIMEOUT_MS, else 30 s; a usage error when it is set to anything but whole milliseconds (a typo must not wait 30 s unsaid). */
function lockTimeoutMs(): number {
  const given = process.env.KEYWARD_LOCK_TIMEOUT_MS;
  if (given === undefined || given === '') return DEFAULT_LOCK_TIMEOUT_MS;
  if (!/^\d{1,9}$/.test(given)) throw new InputError(`KEYWARD_LOCK_TIMEOUT_MS is ${show(given)}: give a whole number of milliseconds (0 to 999999999)`);
  return Number(given);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Test-only (see test-pause.ts): a store write stops right after its
 * rename, so that a test can replace the store in exactly the gap between
 * the rename and the writer's look at what it wrote.
 */
const testPauseAfterRename = () => testPause('KEYWARD_TEST_PAUSE_AFTER_RENAME', 'renamed');

/**
 * Where this process records the store file it committed a change to, for
 * bin/run.js: output that cannot be written after the commit (a full disk)
 * is still exit 3, but must not be said to have left the store as it was.
 */
const COMMITTED = Symbol.for('keyward.committed');
/** The store write under way in this process, if any (see commitSettled). */
let writeUnderWay: Promise<unknown> | null = null;

/**
 * Whether this process has committed a change to a store, once the write
 * under way (if any) has ended: a write may have renamed the store into
 * place already. For a signal handler that must say whether a printed
 * secret is in effect (cli/keys-view.ts).
 */
export async function commitSettled(): Promise<boolean> {
  await writeUnderWay?.catch(() => undefined);
  return (globalThis as Record<symbol, unknown>)[COMMITTED] !== undefined;
}

/**
 * Writes the document's pieces atomically (see atomic.ts) to `file`, the
 * store's real file (a link's target). Called only under the store's lock,
 * so temporary files other writers left are garbage.
 */
async function writeDocument(
  file: string,
  lock: LockHold,
  maxBytes: number,
  data: StoreData,
  pieces: AsyncIterable<string | Uint8Array>,
  previous: Stats | null = null,
  read: Stats | null = null,
  added: EntryRecord | null = null,
  renaming?: (stat: Stats) => void,
): Promise<void> {
  await removeLeftovers(file);
  await testPause('KEYWARD_TEST_PAUSE_BEFORE_WRITE', 'writing');
  let written;
  try {
    const writing = writeFileAtomic(file, pieces, 0o600, {beforeRename: () => lock.commit(), renaming, afterRename: testPauseAfterRename, maxBytes});
    writeUnderWay = writing;
    written = await writing;
  } catch (error) {
    if (error instanceof StoreError) throw error;
    if (error instanceof TooLargeError) {
      const room = maxBytes < MAX_STORE_BYTES ? `, less the ${STORE_ROOM} bytes kept for revoke, deny and keys revoke` : '';
      throw new StoreError(
        `the store ${untrusted(file)} would be over ${Math.floor(maxBytes / 2 ** 20)} MiB, more than keyward can read back (a JSON text of at most ${MAX_STORE_BYTES} bytes${room}); nothing was written`,
        'keep it smaller: fewer entries at once, entries merged into ranges (`keyward list --aggregate`), expired entries pruned (`keyward prune`)',
      );
    }
    throw new StoreError(`cannot write the store ${untrusted(file)} (${describe(error)})`, 'the store was left as it was; check free space and permissions');
  }
  (globalThis as Record<symbol, unknown>)[COMMITTED] = file;
  // Still under the lock: the index cache (see index-cache.ts) follows the store, or is removed; from the account list in the
  // order written when its text was spliced (the same records: the cache is compiled without a sort).
  const account = accountAsWritten(data);
  // (Not a spread of `data`: its lists not read stay so; the cache needs only these.)
  const cached = account === null ? data : ({settings: data.settings, blocking: data.blocking, keys: data.keys, account} as StoreData);
  await writeIndexCache(file, cached, written, previous, read, added);
}

/**
 * lowdb's adapter for one change under the lock: it reads the document
 * already read (and checked, or trusted) and writes the text the change
 * prepared, atomically, with the index cache.
 */
class StoreFile implements Adapter<StoreData> {
  /** The document text the next write puts on disk, piece by piece. */
  pending: AsyncIterable<string | Uint8Array> = (async function* () {})();
  /** The status of the file read, when the account list is unchanged: its cache lends the compiled part. */
  previous: Stats | null = null;
  /** The status of the file read, when keyward provably wrote it: its cache lends the words of the entries it holds. */
  lender: Stats | null = null;
  /** The record added to the account list unread (see ChangeContext.addToAccountUnread): the cache of the file read gets it too. */
  added: EntryRecord | null = null;
  constructor(
    readonly file: string,
    readonly document: StoreDocument | null,
    readonly lock: LockHold,
    /** The most bytes the store may come to (see UpdateOptions.narrows). */
    readonly maxBytes: number,
    readonly renaming?: (stat: Stats) => void,
  ) {}
  async read(): Promise<StoreData | null> {
    return this.document?.data ?? null;
  }
  write(data: StoreData): Promise<void> {
    return writeDocument(this.file, this.lock, this.maxBytes, data, this.pending, this.previous, this.lender, this.added, this.renaming);
  }
}

/**
 * The file a write of `file` replaces: where its symbolic links lead (the
 * link stays a link, the store it names gets the change, and every link to
 * one store shares its lock), or, with no file there yet, the file a
 * dangling link names, else `file` in its folder's real place.
 */
async function writeTarget(file: string): Promise<string> {
  const fail = (error: unknown) => new StoreError(`cannot resolve the store path ${untrusted(file)} (${describe(error)})`, 'check the path and its links');
  try {
    return await fs.realpath(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw fail(error);
  }
  let current = file;
  for (let hops = 0; ; hops++) {
    let link: string;
    try {
      link = await fs.readlink(current);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EINVAL' || code === 'ENOENT') break;
      throw fail(error);
    }
    if (hops >= 40) throw fail(Object.assign(new Error('too many symbolic links'), {code: 'ELOOP'}));
    current = path.resolve(path.dirname(current), link);
  }
  const folder = await fs.realpath(path.dirname(current)).catch(() => path.dirname(current));
  return path.join(folder, path.basename(current));
}

/** Creates the store's folder when keyward chose it (the data directory); a folder the operator named must exist. */
async function ensureFolder(file: string, target: string, create: boolean): Promise<void> {
  const folder = path.dirname(target);
  if (create) {
    await fs.mkdir(folder, {recursive: true, mode: 0o700}).catch((error) => {
      throw new StoreError(`cannot create the folder of the store ${untrusted(file)} (${describe(error)})`);
    });
    return;
  }
  const stat = await fs.stat(folder).catch(() => null);
  if (stat === null || !stat.isDirectory()) {
    throw missingFolder(folder, file);
  }
}

/** Whether two texts in pieces are the same text (pieces may be cut differently). */
function sameText(a: string[], b: string[]): boolean {
  if (a.length === b.length && a.every((piece, i) => piece === b[i])) return true;
  let length = 0;
  for (const piece of a) length += piece.length;
  for (const piece of b) length -= piece.length;
  return length === 0 && a.join('') === b.join('');
}

/** A place in a text held as pieces, moved along by pieces of another text that match it. */
class TextCursor {
  private piece = 0;
  private at = 0;

  constructor(private readonly pieces: readonly string[]) {}

  /** Whether the text goes on with `text` from here: then the cursor moves past it; else it stays. */
  take(text: string): boolean {
    let piece = this.piece;
    let at = this.at;
    let done = 0;
    while (done < text.length) {
      if (piece >= this.pieces.length) return false;
      const p = this.pieces[piece];
      const n = Math.min(p.length - at, text.length - done);
      if (!p.startsWith(n === text.length ? text : text.slice(done, done + n), at)) return false;
      done += n;
      at += n;
      if (at === p.length) {
        piece++;
        at = 0;
      }
    }
    this.piece = piece;
    this.at = at;
    return true;
  }

  /**
   * Moves past `length` characters known to be the text's own from `start`
   * (a piece cut from it: see pieceSource), when the text is one piece, the
   * cursor is at `start` and the text goes that far; else stays. Whether it moved.
   */
  skip(start: number, length: number): boolean {
    if (this.pieces.length !== 1 || this.piece !== 0 || this.at !== start || start + length > this.pieces[0].length) return false;
    this.at += length;
    if (this.at === this.pieces[0].length) {
      this.piece = 1;
      this.at = 0;
    }
    return true;
  }

  /** Whether the text ends here. */
  atEnd(): boolean {
    for (let p = this.piece; p < this.pieces.length; p++) if (this.pieces[p].length > (p === this.piece ? this.at : 0)) return false;
    return true;
  }

  /** The text up to here. */
  taken(): string[] {
    const whole = this.pieces.slice(0, this.piece);
    if (this.at > 0) whole.push(this.pieces[this.piece].slice(0, this.at));
    return whole;
  }
}

/**
 * The bytes of pieces of the file's own text (see pieceSource), taken from
 * the file's bytes as read instead of encoded again: a follow commit wrote
 * the 16 MB of an unchanged account list that way (issue 15). Only for a
 * file keyward provably wrote, whose bytes are exactly the UTF-8 of its
 * text, but for lists not decoded (`unread`, see read.ts
 * deferredDocument): there the text holds UNREAD_LIST and the bytes the
 * list. `edits` (in the order of the bytes) replace bytes of the lists not
 * decoded: what a change put into them unread (see Edit). Pieces are best
 * asked for in the order they stand in the text (the count of bytes before
 * them goes on from the last one).
 */
class SourceBytes {
  private char = 0;
  private byte = 0;

  constructor(
    private readonly text: string,
    private readonly bytes: Buffer,
    private readonly unread: readonly UnreadSpan[] = [],
    private readonly edits: readonly Edit[] = [],
  ) {}

  /** How many of the edits were written. */
  edited = 0;

  /** The bytes of text[start, end), in parts: the file's, and the edits' where they fall inside. */
  of(start: number, end: number): Buffer[] {
    if (start < this.char) {
      this.char = 0;
      this.byte = 0;
    }
    this.byte += this.byteLength(this.char, start, this.byte);
    this.char = start;
    const from = this.byte;
    const to = from + this.byteLength(start, end, from);
    lastChange.bytesTaken += to - from;
    for (const gap of this.unread) if (start <= gap.at && end > gap.at) lastChange.undecoded += gap.bytes;
    const parts: Buffer[] = [];
    let at = from;
    for (const edit of this.edits) {
      // (An edit stands inside a list not decoded, which a piece holds whole or not at all.)
      if (edit.from <= from || edit.to >= to) continue;
      parts.push(this.bytes.subarray(at, edit.from), edit.bytes);
      at = edit.to;
      this.edited++;
    }
    parts.push(this.bytes.subarray(at, to));
    return parts;
  }

  /** How many bytes text[from, to) takes, its bytes starting at `at`: each list not decoded that it holds, its own. */
  private byteLength(from: number, to: number, at: number): number {
    let length = 0;
    let char = from;
    for (const gap of this.unread) {
      if (to <= gap.at || char >= gap.at + UNREAD_LIST.length) continue;
      // Pieces are cut at members' bounds: one that holds part of a list alone would be a defect, never a write.
      if (char > gap.at || to < gap.at + UNREAD_LIST.length) throw new Error(`a piece of the text cut across the ${gap.name} list not read (${from}-${to})`);
      length += this.decodedLength(char, gap.at, at + length);
      length += gap.bytes;
      char = gap.at + UNREAD_LIST.length;
    }
    return length + this.decodedLength(char, to, at + length);
  }

  /** How many bytes text[from, to) takes (decoded text), its bytes starting at `at`. */
  private decodedLength(from: number, to: number, at: number): number {
    // ASCII bytes are a character each: n of them from `at` are text[from, from + n) (found by a scan, not an encoding).
    const bytes = this.bytes.subarray(at, at + (to - from));
    if (bytes.length === to - from && isAscii(bytes)) return to - from;
    return Buffer.byteLength(this.text.slice(from, to));
  }
}

/**
 * What is written after a change: `head`, then the piece `next` (unless the
 * pieces were done), then the rest of `pieces`. With `source`, the text
 * before (the head) and every piece cut from it (`cutStart`, `start` for
 * `next`) as the file's own bytes. `unread`: the text before holds an
 * account list not decoded (see SourceBytes).
 */
async function* joined(
  head: string[],
  next: IteratorResult<string>,
  start: number,
  pieces: AsyncGenerator<string>,
  source: SourceBytes | null,
  cutStart: (piece: string) => number,
  unread: boolean,
  edits = 0,
): AsyncGenerator<string | Uint8Array> {
  // (A text holds UNREAD_LIST only where the file's account list was not decoded.)
  const asText = unread ? textOnly : (piece: string) => piece;
  const length = head.reduce((sum, piece) => sum + piece.length, 0);
  if (source !== null && length > 0) yield* source.of(0, length);
  else yield* head.map(asText);
  if (!next.done) {
    if (source !== null && start >= 0) yield* source.of(start, start + next.value.length);
    else yield asText(next.value);
    for (let piece = await pieces.next(); !piece.done; piece = await pieces.next()) {
      const at = source === null ? -1 : cutStart(piece.value);
      if (at >= 0) yield* source!.of(at, at + piece.value.length);
      else yield asText(piece.value);
    }
  }
  // What was put into a list unread that the text did not take (a defect) stops the write before the store is replaced.
  if ((source?.edited ?? 0) !== edits) throw new Error('what a change put into a list not read was not written; nothing was written');
}

/**
 * `piece`, to be written as text: never one that holds UNREAD_LIST (an
 * account list not decoded is written from its bytes only, see
 * SourceBytes), which would stop the write before the store is replaced.
 */
function textOnly(piece: string): string {
  if (piece.includes(UNREAD_LIST)) throw new Error('the account list not read would have been written as text; nothing was written');
  return piece;
}

/**
 * What a change put into a list not decoded, as the bytes of the file
 * read: bytes [from, to) replaced by `bytes` (a record added: none
 * replaced; the oldest history records cut: none put in).
 */
interface Edit {
  from: number;
  to: number;
  bytes: Buffer;
}

type Done = (error: NodeJS.ErrnoException | null) => void;

/**
 * Lock folders this process holds (removing one is a release; removing any
 * other is a stale takeover), each with the time this process last gave it
 * (ms, as proper-lockfile compares them) and when.
 */
const held = new Map<string, {mtime: number; at: number}>();

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
    if (stat && lockIsStale(stat.mtimeMs)) await fs.rmdir(guard).catch(() => undefined);
    throw busy();
  }
  try {
    const stat = await fs.stat(lock).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
    if (stat === null) return;
    if (!lockIsStale(stat.mtimeMs)) throw busy();
    await fs.rmdir(lock).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  } finally {
    await fs.rmdir(guard).catch(() => undefined);
  }
}

/**
 * Whether a lock last refreshed at `mtimeMs` is stale: not refreshed for
 * STALE_LOCK_MS, or dated more than that ahead of now. A live writer
 * refreshes its lock to its own now every few seconds; a date far ahead is
 * a lock left behind before the clock was set back (a machine that booted
 * with its clock wrong), which would otherwise hold every writer off until
 * the clock caught up.
 */
function lockIsStale(mtimeMs: number): boolean {
  const now = Date.now();
  return mtimeMs < now - STALE_LOCK_MS || mtimeMs > now + STALE_LOCK_MS;
}

/**
 * The file system proper-lockfile uses: the lock folder made 0700 (by default
 * it gets 0777 less the umask, world-writable under umask 000, and a file
 * another user put in it would stop the lock from being removed), a stale
 * lock removed through `takeOver`, and a lock dated far ahead seen as stale
 * (see lockIsStale: proper-lockfile only knows locks that are too old).
 */
const lockFs = {
  ...callbackFs,
  stat: (file: string, done: (error: NodeJS.ErrnoException | null, stat?: Stats | {mtime: Date}) => void) =>
    callbackFs.stat(file, (error, stat) => {
      if (error === null && !held.has(file) && stat.mtimeMs > Date.now() + STALE_LOCK_MS) done(null, {...stat, mtime: new Date(0)});
      else done(error, stat);
    }),
  mkdir: (dir: string, done: Done) => callbackFs.mkdir(dir, 0o700, done),
  // A refresh of a lock this process holds: its new time is the one that proves it is still this process's.
  utimes: (dir: string, atime: Date, mtime: Date, done: Done) =>
    callbackFs.utimes(dir, atime, mtime, (error) => {
      if (error === null && held.has(dir)) held.set(dir, {mtime: mtime.getTime(), at: Date.now()});
      done(error);
    }),
  rmdir: (dir: string, done: Done) => {
    if (held.has(dir)) return callbackFs.rmdir(dir, done);
    takeOver(dir).then(
      () => done(null),
      (error: NodeJS.ErrnoException) => done(error),
    );
  },
};

/** Whether `folder` is an empty folder (a link is not one); true when it is gone meanwhile (a lock just released). */
function isEmptyFolder(folder: string): boolean {
  try {
    return callbackFs.lstatSync(folder).isDirectory() && callbackFs.readdirSync(folder).length === 0;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** What is at a lock's path that is not keyward's lock (see isEmptyFolder), for a message. */
function lockKind(lock: string): string {
  try {
    const stat = callbackFs.lstatSync(lock);
    return stat.isDirectory() ? 'a folder with something in it' : stat.isSymbolicLink() ? 'a symbolic link' : stat.isFile() ? 'a file' : 'not a folder';
  } catch (error) {
    return describe(error);
  }
}

/** A store's lock as its writer holds it. */
interface LockHold {
  /**
   * Called just before the write is renamed into place: throws a StoreError
   * (nothing written) unless the lock is still this writer's, and will stay
   * so for seconds yet. A writer paused (Ctrl-Z, a suspended laptop or VM)
   * past STALE_LOCK_MS may have lost its lock to another writer, which then
   * committed its own change; renaming now would undo that change. The lock
   * folder must have the time this writer last gave it (another writer's
   * lock has its own), and that time must be recent (LOCK_FRESH_MS): else
   * the overdue refresh is awaited, and a lock proper-lockfile finds lost or
   * too old to refresh is given up. What remains is a pause of several
   * seconds exactly between this look and the rename.
   */
  commit(): Promise<void>;
  /** Releases the lock; throws when it was lost before anything was written. */
  release(): Promise<void>;
}

function lostLock(file: string, why: string): StoreError {
  return new StoreError(
    `the lock on ${untrusted(file)} was lost before the write (${why}); nothing was written`,
    'another keyward may have written the store meanwhile: run the command again',
  );
}

async function acquireLock(file: string): Promise<LockHold> {
  const deadline = Date.now() + lockTimeoutMs();
  let compromised: Error | undefined;
  // Loaded by the first write only: a read does not pay for it (docs/performance.md).
  const {default: lockfile} = await import('proper-lockfile');
  for (;;) {
    try {
      const release = await lockfile.lock(file, {
        realpath: false,
        fs: lockFs,
        stale: STALE_LOCK_MS,
        update: LOCK_UPDATE_MS,
        retries: 0,
        onCompromised: (error) => {
          compromised = error;
        },
      });
      const lock = `${path.resolve(file)}.lock`;
      // (Its time as proper-lockfile took it when the folder was made.)
      held.set(lock, {mtime: callbackFs.statSync(lock).mtime.getTime(), at: Date.now()});
      let committed = false;
      return {
        commit: async () => {
          for (const end = Date.now() + STALE_LOCK_MS; ; await sleep(10)) {
            if (compromised) throw lostLock(file, compromised.message);
            let mtime: number;
            try {
              mtime = callbackFs.statSync(lock).mtime.getTime();
            } catch (error) {
              throw lostLock(file, `its lock folder is gone: ${describe(error)}`);
            }
            const own = held.get(lock)!;
            if (mtime !== own.mtime) throw lostLock(file, 'another writer holds it now');
            if (Date.now() - own.at < LOCK_FRESH_MS) break;
            // (Not refreshed for a while: this process was paused or busy. Its timer refreshes it now, or finds it lost.)
            if (Date.now() > end) throw lostLock(file, 'it could not be refreshed');
          }
          committed = true;
        },
        release: async () => {
          await release().catch(() => undefined);
          held.delete(lock);
          // A lock lost after the store was renamed into place (while its derived files were written) lost nothing.
          if (compromised && !committed) throw lostLock(file, compromised.message);
        },
      };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const lock = `${path.resolve(file)}.lock`;
      // A lock keyward did not make (a file, or a folder with something in it), stale or not: never removed blindly,
      // and not waited for (keyward's own lock is an empty folder).
      if (code === 'ENOTDIR' || code === 'ENOTEMPTY' || (code === 'ELOCKED' && !isEmptyFolder(lock))) {
        throw new StoreError(
          `cannot lock the store ${untrusted(file)}: ${untrusted(lock)} is left over and is not keyward's own empty lock folder (${code === 'ELOCKED' ? lockKind(lock) : describe(error)})`,
          `remove ${untrusted(lock)} if no keyward is running`,
        );
      }
      if (code !== 'ELOCKED') {
        throw new StoreError(`cannot lock the store ${untrusted(file)} (${describe(error)})`, 'check that its folder exists and is writable');
      }
      if (Date.now() >= deadline) {
        throw new StoreError(
          `the store ${untrusted(file)} is locked by another keyward process; gave up after ${lockTimeoutMs()} ms`,
          `nothing was written; try again, or remove ${untrusted(file)}.lock if no keyward is running`,
        );
      }
      await sleep(5 + Math.random() * 25);
    }
  }
}

/** What a change may ask of the store it changes, besides its data. */
export interface ChangeContext {
  /**
   * The account list as read, compiled for decisions, when the store's index
   * cache provably describes the file read (its identity taken from the
   * descriptor the store was read from); else null. It describes the list as
   * read: ask before changing the account list.
   */
  compiledAccount(now: Date): EntryIndex | null;
  /**
   * Adds `record` to the account list without reading it (see model.ts
   * addToUnreadAccount), when the list was not read yet (the change was
   * run with `deferAccount`) and holds no record of the same entry, in a
   * file keyward provably wrote: its text goes where sorting puts it in the
   * file's own. Whether it did; when not, nothing changed, and the change
   * goes on the long way (reading the list). Once per change.
   */
  addToAccountUnread(record: EntryRecord): boolean;
}

/**
 * What the last change in this process took from the file as it was: whether
 * it trusted the file (see read.ts) and which lists it wrote as the file's own
 * text (see DocumentReuse), and how many characters of it were not compared
 * with the file's (see pieceSource), and how many bytes it wrote from the
 * file's own bytes (see SourceBytes), of which `undecoded` an account list
 * never decoded. For tests and the benchmark: what a change did not redo.
 */
export const lastChange: {
  trusted: boolean;
  reused: string[];
  uncompared: number;
  bytesTaken: number;
  undecoded: number;
  addedUnread: boolean;
  appendedUnread: boolean;
} = {
  addedUnread: false,
  appendedUnread: false,
  trusted: false,
  reused: [],
  uncompared: 0,
  bytesTaken: 0,
  undecoded: 0,
};

export interface UpdateOptions {
  /** Read the store and run the change on it, take no lock and write nothing (works on a read-only store); the store must exist. */
  dryRun?: boolean;
  /** Create the store's folder when it is missing: only for the data directory, never for a path the operator gave. */
  createFolder?: boolean;
  /**
   * The store must be there (a long-running follower's later commits): a store moved or deleted meanwhile
   * is a StoreError, so that the events are kept for the next commit, never applied to a new empty store.
   */
  mustExist?: boolean;
  /**
   * The change seldom looks at the account list (a learn commit, a one-entry authorize): of a file keyward provably
   * wrote, it is read only when the change asks for it, and so are the seen list and the history (see read.ts
   * deferredDocument, model.ts deferList).
   */
  deferAccount?: boolean;
  /**
   * The change only narrows what the store lets in (revoke, deny, keys revoke, disable, prune): it may take the
   * store up to MAX_STORE_BYTES. Any other change stops STORE_ROOM short of it, so that a store an import filled
   * can still have a key revoked or an address denied (each adds a history record).
   */
  narrows?: boolean;
  /**
   * Told the status of the file about to be renamed into place, at the last moment before the rename: its device,
   * inode, size and modification time are the store's from the rename on, until the lock is let go (no other writer's
   * file can be there before). serve's commit thread tells the thread that answers requests (serve/commits.ts WrittenSlot).
   */
  renaming?: (stat: Stats) => void;
}

/**
 * Reads, changes and writes the store under its lock. `change` mutates the
 * data in place and returns a result; it may throw to abandon the change
 * (nothing is written). Returns what `change` returned. A change that
 * leaves the document as it was writes nothing: not the store (its bytes
 * and times stay), not its cache; a missing store is then not created.
 */
export async function updateStore<T>(file: string, now: Date, change: (data: StoreData, context: ChangeContext) => T | Promise<T>, options: UpdateOptions = {}): Promise<T> {
  if (options.dryRun) return change(await readStore(file), {compiledAccount: () => null, addToAccountUnread: () => false});
  const target = await writeTarget(file);
  await ensureFolder(file, target, options.createFolder === true);
  const lock = await acquireLock(target);
  let result: T;
  try {
    let read = await readStoreDocument(target, {deferAccount: options.deferAccount});
    if (read === null && options.mustExist) {
      throw new StoreError(`no store at ${untrusted(target)}: it was moved or deleted while keyward kept reading`, 'put it back where it was: nothing was written elsewhere');
    }
    // What a file keyward provably wrote lends the text after the change: the lists the change leaves as they were (see DocumentReuse).
    let reuse = read?.trusted ? documentReuse(read.text, read.data) : null;
    if (read?.unread !== undefined && reuse === null) {
      // A text whose account list was not decoded is written only through its reuse (see SourceBytes): without one
      // (never for a text keyward wrote), the file is read whole.
      read = await readStoreDocument(target);
      reuse = read?.trusted ? documentReuse(read.text, read.data) : null;
    }
    const file = new StoreFile(target, read, lock, options.narrows ? MAX_STORE_BYTES : MAX_STORE_BYTES - STORE_ROOM, options.renaming);
    const {Low} = await import('lowdb');
    const db = new Low<StoreData>(file, emptyStore(now));
    await db.read();
    const data = db.data;
    result = await withProvenValues(reuse, async () => {
      // The document as it would be written now, to compare with after the change (the file's own bytes may be a hand edit's).
      // A file keyward provably wrote is that document already: its text is the comparison.
      const before = read?.trusted ? [read.text] : await documentText(data);
      const stat = read?.stat ?? null;
      // What the change puts into lists not read, as edits of the file's bytes (see SourceBytes).
      const edits: Edit[] = [];
      const spanOf = (name: DeferredList) => read?.unread?.find((s) => s.name === name);
      const listBytes = (span: UnreadSpan) => read!.bytes.subarray(span.byteStart, span.byteStart + span.bytes);
      let added: EntryRecord | null = null;
      const addToAccountUnread = (record: EntryRecord) => {
        const span = spanOf('account');
        if (added !== null || span === undefined || reuse === null || !accountUnread(data)) return false;
        const placed = unreadAccountInsertion(listBytes(span), record);
        if (placed === null) return false;
        addToUnreadAccount(data, record);
        added = record;
        const at = span.byteStart + placed.at;
        edits.push({from: at, to: at, bytes: Buffer.from(placed.text, 'utf8')});
        return true;
      };
      const outcome = await change(data, {compiledAccount: (at) => (stat === null ? null : compiledAccountFor(target, stat, at)), addToAccountUnread});
      const appended = historyAppendedUnread(data);
      if (appended !== null) {
        // (A history is deferred only as keyward lays it out, and read by nothing since.)
        const span = spanOf('history')!;
        const history = unreadHistoryEdits(listBytes(span), appended.records, appended.limit);
        if (history === null) throw new Error('the history not read is not laid out as keyward writes it; nothing was written');
        edits.push({from: span.byteStart + 2, to: span.byteStart + 2 + history.cut, bytes: Buffer.alloc(0)});
        edits.push({from: span.byteStart + history.at, to: span.byteStart + history.at, bytes: Buffer.from(history.text, 'utf8')});
      }
      edits.sort((a, b) => a.from - b.from || a.to - b.to);
      const reused = new Set<string>();
      // The text after the change, piece by piece: compared with the text before as it is made, and written from
      // the first difference on (with the text before up to there), so that a large store's text is never held whole.
      const pieces = documentPieces(data, reuse, reused);
      const cursor = new TextCursor(before);
      // A piece cut from the file's text where the cursor stands is that text: not compared (see pieceSource).
      const own = reuse !== null && before.length === 1 && before[0] === reuse.source;
      let uncompared = 0;
      // Where the piece documentPieces gave last starts in the file's text when it was cut from it, else -1.
      const cutStart = (piece: string) => {
        const start = own && pieceSource.text === piece ? pieceSource.start : -1;
        pieceSource.text = null;
        return start;
      };
      const known = (piece: string, start: number) => {
        if (start < 0 || !cursor.skip(start, piece.length)) return false;
        uncompared += piece.length;
        return true;
      };
      let next = await pieces.next();
      let start = next.done ? -1 : cutStart(next.value);
      while (!next.done && (known(next.value, start) || cursor.take(next.value))) {
        next = await pieces.next();
        start = next.done ? -1 : cutStart(next.value);
      }
      lastChange.trusted = read?.trusted ?? false;
      lastChange.reused = [...reused];
      lastChange.uncompared = uncompared;
      lastChange.bytesTaken = 0;
      lastChange.undecoded = 0;
      lastChange.addedUnread = added !== null;
      lastChange.appendedUnread = appended !== null;
      const changed = !next.done || !cursor.atEnd() || edits.length > 0;
      // The account list as it was: the index cache of the file read lends its compiled part.
      if (changed) {
        const source = own ? new SourceBytes(read!.text, read!.bytes, read!.unread, edits) : null;
        file.pending = joined(cursor.taken(), next, start, pieces, source, cutStart, read?.unread !== undefined, edits.length);
        file.previous = reused.has('account') ? read!.stat : null;
        file.lender = read?.trusted ? read.stat : null;
        file.added = added;
        await db.write();
      } else if (read !== null && !read.trusted && read.stat !== null && sameText(before, [read.text]) && isUtf8(read.bytes)) {
        // Nothing changed, and the file is the canonical document: a missing or stale cache (another format after an upgrade) is rebuilt, named by the descriptor the file was read from.
        // (Its bytes must be that document's: bytes that are not UTF-8 are read as U+FFFD, the same text as the document's but not
        // its bytes, and the readers of a file the cache vouches for copy its bytes.)
        await writeIndexCache(target, data, read.stat);
      }
      return outcome;
    });
  } finally {
    await lock.release();
  }
  return result;
}
