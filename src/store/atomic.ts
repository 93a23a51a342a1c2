/**
 * Atomic file replacement, shared by the store, its derived index cache and
 * `export --output`: a temporary file created beside the target (mode given),
 * flushed, renamed over it, and the folder flushed. A reader sees the old
 * file or the new one, never a half-written one.
 */
import {constants as fsConstants, promises as fs} from 'node:fs';
import path from 'node:path';

/** The temporary name a writer uses for `file`; `removeLeftovers` recognises it. */
function temporaryName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
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

/**
 * Replaces `file` with `content` atomically. On failure the temporary file is
 * removed, `file` is as it was, and the error is rethrown for the caller to name.
 */
export async function writeFileAtomic(file: string, content: string | Uint8Array | (string | Uint8Array)[], mode = 0o600): Promise<void> {
  const temporary = temporaryName(file);
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(temporary, fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_WRONLY, mode);
    for (const part of Array.isArray(content) ? content : [content]) await handle.writeFile(part);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(temporary, file);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await fs.rm(temporary, {force: true}).catch(() => undefined);
    throw error;
  }
  try {
    const dirHandle = await fs.open(path.dirname(file), 'r');
    await dirHandle.sync().finally(() => dirHandle.close());
  } catch {
    // Some file systems cannot flush a folder; the rename is done either way.
  }
}
