/**
 * Atomic file replacement, shared by the store, its derived index cache and
 * `export --output`: a temporary file created beside the target (mode given),
 * flushed, renamed over it, and the folder flushed. A reader sees the old
 * file or the new one, never a half-written one.
 */
import {constants as fsConstants, promises as fs, Stats} from 'node:fs';
import path from 'node:path';

/** The temporary name a writer uses for `file`; `removeLeftovers` recognises it. */
function temporaryName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
}

/** `message` with every temporary file name in it (see temporaryName) made one: two failures of one write read the same. */
export function withoutTemporaryNames(message: string): string {
  return message.replace(/\.[^/\s'"]*\.\d+\.\d+\.tmp/g, '.tmp');
}

/**
 * Throws the file system's error unless this process may replace `file`
 * (where its links lead): write the file and its folder. Root is asked too:
 * an immutable file (chattr +i) refuses even root, and a write that changes
 * nothing would never find out.
 */
export async function checkReplaceable(file: string): Promise<void> {
  const real = await fs.realpath(file);
  await fs.access(real, fsConstants.W_OK);
  await fs.access(path.dirname(real), fsConstants.W_OK);
}

/**
 * Removes temporary files that writers killed mid-write left beside `file`.
 * Call it only where no other writer can be writing `file` (under its lock).
 */
export async function removeLeftovers(file: string): Promise<void> {
  const prefix = `.${path.basename(file)}.`;
  const names = await fs.readdir(path.dirname(file)).catch(() => [] as string[]);
  const leftovers = names.filter((n) => n.startsWith(prefix) && /^\d+\.\d+\.tmp$/.test(n.slice(prefix.length)));
  await Promise.all(leftovers.map((n) => fs.rm(path.join(path.dirname(file), n), {force: true}).catch(() => undefined)));
}

/** How many bytes of pieces writeFileAtomic holds before it writes them. */
const WRITE_AT_ONCE = 1 << 20;

/** A piece this large is written at once (with those held before it): holding it longer only holds memory. */
const WRITE_ALONE = 64 << 10;

/** The block text pieces are encoded into (see writeFileAtomic): WRITE_AT_ONCE, and room for a piece past it. */
const BLOCK_BYTES = WRITE_AT_ONCE + (WRITE_AT_ONCE >> 1);

/** Writes `parts` (`length` bytes in all) at the handle's position, in as many calls as the file system needs. */
export async function writeAll(handle: fs.FileHandle, parts: Uint8Array[], length: number): Promise<void> {
  let done = 0;
  let rest = parts;
  while (done < length) {
    const {bytesWritten} = await handle.writev(rest);
    if (bytesWritten <= 0) throw new Error(`wrote ${done} of ${length} bytes`);
    done += bytesWritten;
    // A short write: what is left, from where it stopped.
    let skip = bytesWritten;
    let i = 0;
    while (i < rest.length && skip >= rest[i].byteLength) skip -= rest[i++].byteLength;
    rest = rest.slice(i);
    if (skip > 0) rest[0] = rest[0].subarray(skip);
  }
}

/** A content that ran past AtomicWriteHooks.maxBytes: `bytes` is how many it had come to when it was abandoned. */
export class TooLargeError extends Error {
  constructor(
    readonly bytes: number,
    readonly maxBytes: number,
  ) {
    super(`over ${maxBytes} bytes`);
  }
}

/** How writeFileAtomic writes: what it may do between its rename and its look at the file it wrote (a test's pause), and whose mode and owner the file takes. */
export interface AtomicWriteHooks {
  /** Called once the new file is whole and synced, just before its rename; what it throws abandons the write (nothing renamed). */
  beforeRename?: () => Promise<void>;
  /**
   * Told the status of the new file at the last moment before its rename:
   * its device, inode, size and modification time are the file's under its
   * name from the rename on (its change time is not: the rename sets it).
   */
  renaming?: (written: Stats) => void;
  /** The most bytes the file may have: a content that runs past it is abandoned (TooLargeError, nothing renamed). */
  maxBytes?: number;
  afterRename?: () => Promise<void>;
  /**
   * The file whose mode, owner and group the new file takes: by default the
   * file replaced (null: none, `mode` then); a derived file takes its
   * store's (the store's status after its write).
   */
  like?: Stats | null;
}

/**
 * The file `file` a write replaces, when it is a regular file: a write must
 * keep what the operator set on it. Refused, as writing into it would be,
 * when this user may not write it (`chmod 400` to freeze a store): the
 * rename would replace it all the same.
 */
async function replacedFile(file: string): Promise<Stats | null> {
  const stat = await fs.stat(file).catch(() => null);
  if (stat === null || !stat.isFile() || process.geteuid?.() === 0) return stat?.isFile() ? stat : null;
  try {
    await fs.access(file, fsConstants.W_OK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EACCES' && (error as NodeJS.ErrnoException).code !== 'EPERM') throw error;
    throw Object.assign(new Error(`permission denied: read-only for this user (mode ${(stat.mode & 0o7777).toString(8).padStart(4, '0')})`), {
      code: 'EACCES',
      syscall: 'access',
      path: file,
    });
  }
  return stat;
}

/**
 * Gives the new file (its handle) the mode, owner and group of `like`: the
 * owner and group where this user may give them (root may; a user may give
 * a group it is in), else its own. A root's write must not lock out the
 * service user that owns the store.
 */
async function takeModeAndOwner(handle: fs.FileHandle, like: Stats, mode: number): Promise<void> {
  // (Each call is a trip to the file system's thread: only what differs from a new file's.)
  if ((like.mode & 0o777) !== mode) await handle.chmod(like.mode & 0o777);
  if (like.uid === process.geteuid?.() && like.gid === process.getegid?.()) return;
  try {
    await handle.chown(like.uid, like.gid);
  } catch {
    // (Not root: the group alone, when this user is in it; else the file stays this user's.)
    await handle.chown(-1, like.gid).catch(() => undefined);
  }
}

/**
 * Replaces `file` with `content` atomically. On failure the temporary file is
 * removed, `file` is as it was, and the error is rethrown for the caller to name.
 * The new file keeps the mode, owner and group of the file it replaces (see
 * AtomicWriteHooks.like); a new file has `mode`.
 *
 * Returns the status of the file written, taken through the writer's own
 * descriptor after the rename (see index-cache.ts for why after), or null
 * when that file no longer holds exactly what was written: someone wrote
 * into it between the write and that look (its size or modification time
 * moved). A later look at the path could see another file that took its
 * place; the descriptor can only see the file this writer made.
 */
export async function writeFileAtomic(
  file: string,
  content: string | Uint8Array | (string | Uint8Array)[] | AsyncIterable<string | Uint8Array>,
  mode = 0o600,
  hooks: AtomicWriteHooks = {},
): Promise<Stats | null> {
  const temporary = temporaryName(file);
  const like = hooks.like !== undefined ? hooks.like : await replacedFile(file);
  let handle: fs.FileHandle | undefined;
  let written: Stats;
  try {
    handle = await fs.open(temporary, fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_WRONLY, mode);
    if (like !== null) await takeModeAndOwner(handle, like, mode);
    let bytes = 0;
    // Pieces may be made as they are asked for (a store's text): they are written a few megabytes at a time, in one call
    // (a call to the file system's thread a piece was a tenth of a small write: issue 15), and never held whole.
    const held: Uint8Array[] = [];
    let heldBytes = 0;
    // Text pieces are encoded into one block, written and filled again: not a new buffer for each piece (memory
    // touched for the first time is slow on some machines: docs/performance.md, issue 15, round 11).
    let block: Buffer | null = null;
    let blockUsed = 0;
    const writeHeld = async () => {
      if (held.length === 1) await handle!.writeFile(held[0]);
      else if (held.length > 1) await writeAll(handle!, held, heldBytes);
      held.length = 0;
      heldBytes = 0;
      blockUsed = 0;
    };
    const hold = async (encoded: Uint8Array) => {
      held.push(encoded);
      heldBytes += encoded.byteLength;
      bytes += encoded.byteLength;
      if (hooks.maxBytes !== undefined && bytes > hooks.maxBytes) throw new TooLargeError(bytes, hooks.maxBytes);
      if (heldBytes >= WRITE_AT_ONCE || encoded.byteLength >= WRITE_ALONE) await writeHeld();
    };
    for await (const part of typeof content === 'string' || content instanceof Uint8Array ? [content] : content) {
      if (typeof part !== 'string') {
        await hold(part);
        continue;
      }
      // Encoded once: counted and written from the same bytes (a 15 MB piece is not encoded twice). A piece that may
      // not fit what is left of the block (UTF-8 is at most three bytes a UTF-16 unit) is encoded alone.
      if (3 * part.length > BLOCK_BYTES - blockUsed) {
        if (3 * part.length > BLOCK_BYTES / 4) {
          await hold(Buffer.from(part, 'utf8'));
          continue;
        }
        await writeHeld();
      }
      block ??= Buffer.allocUnsafe(BLOCK_BYTES);
      const length = block.write(part, blockUsed, 'utf8');
      const encoded = block.subarray(blockUsed, blockUsed + length);
      blockUsed += length;
      await hold(encoded);
    }
    await writeHeld();
    await handle.sync();
    written = await handle.stat();
    if (written.size !== bytes) throw new Error(`wrote ${bytes} bytes but the file holds ${written.size}`);
    await hooks.beforeRename?.();
    hooks.renaming?.(written);
    // The descriptor stays open across the rename: it is how the file written is looked at afterwards.
    await fs.rename(temporary, file);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await fs.rm(temporary, {force: true}).catch(() => undefined);
    throw error;
  }
  let identity: Stats | null = null;
  try {
    await hooks.afterRename?.();
    const after = await handle!.stat();
    if (after.ino === written.ino && after.size === written.size && after.mtimeMs === written.mtimeMs) identity = after;
  } catch {
    // The file is written; only its identity is unknown, which costs a derived file at most.
  } finally {
    await handle!.close().catch(() => undefined);
  }
  try {
    const dirHandle = await fs.open(path.dirname(file), 'r');
    await dirHandle.sync().finally(() => dirHandle.close());
  } catch {
    // Some file systems cannot flush a folder; the rename is done either way.
  }
  return identity;
}

/**
 * Writes an output file the operator named (`export --output`): a regular
 * file, or a new one, is replaced atomically where its links lead (the links
 * stay links); anything else that is there (a terminal, `/dev/stdout`, a
 * FIFO, a device) is written into, as a shell's `> FILE` would, and never
 * replaced: renaming over `/dev/full` as root would put a file in its place.
 * Returns the file that was written. Errors are rethrown for the caller to name.
 */
export async function writeOutputFile(file: string, content: string, mode = 0o644): Promise<string> {
  const stat = await fs.stat(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (stat === null) {
    await writeFileAtomic(file, content, mode);
    return file;
  }
  if (stat.isDirectory()) throw Object.assign(new Error(`${file} is a folder`), {code: 'EISDIR'});
  if (!stat.isFile()) {
    const handle = await fs.open(file, 'w');
    try {
      await handle.writeFile(content);
    } finally {
      await handle.close();
    }
    return file;
  }
  const target = await fs.realpath(file);
  await writeFileAtomic(target, content, mode);
  return target;
}
