/**
 * Reading the JSON store: the file parsed and checked against the schema,
 * with the store errors (exit 3) that say what is wrong. Split from store.ts
 * so that a reader (check's fast path) does not load the lock.
 */
import {constants as fsConstants, promises as fs, Stats} from 'node:fs';
import {KeywardError, show} from '../core/errors.js';
import {emptyStore, SCHEMA_VERSION, StoreData} from '../core/model.js';
import {cacheVouchesFor, MIN_STORE_BYTES} from './index-cache.js';
import {ShapeError, validate, versionOf} from './schema.js';

/** The store cannot be used: unreadable, corrupt, newer, locked or not writable. */
export class StoreError extends KeywardError {
  constructor(message: string, hint?: string) {
    super('store', message, hint);
    this.name = 'StoreError';
  }
}

/** A system error as a person reads it: its code once ("ENOSPC: no space left on device, write"; Node's own message already starts with the code). */
export function describe(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  if (!(error instanceof Error)) return String(error);
  return e.code && !e.message.startsWith(`${e.code}:`) ? `${e.code}: ${e.message}` : e.message;
}

/** The error of a reading command pointed at a store that does not exist (a mistyped --store must not read as an empty store). */
export function missingStore(file: string): StoreError {
  return new StoreError(
    `no store at ${file}`,
    'check --store and KEYWARD_STORE; a store is created by the first command that writes one (keyward authorize ENTRY, keyward keys create NAME --type api)',
  );
}

/** The error of a store path the operator gave whose folder does not exist (keyward never creates it). */
export function missingFolder(folder: string, file: string): StoreError {
  return new StoreError(
    `no folder ${folder} for the store ${file}`,
    'check --store and KEYWARD_STORE for a typo; keyward creates a store file, never the folders of a path you give (create them first)',
  );
}

/**
 * Why JSON.parse refused a store, without the piece of the file V8 quotes in
 * its message: raw bytes of a broken file (newlines, control characters)
 * do not belong on a terminal.
 */
function jsonProblem(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const quoted = /^Unexpected token '([\s\S]*?)', "[\s\S]*" is not valid JSON$/.exec(message);
  if (quoted) return `unexpected character ${show(quoted[1])}`;
  return message.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
}

/** The store file's text and its status, taken through the descriptor it was read from. */
interface StoreText {
  text: string;
  /**
   * The file's status after the read, or null when it moved while being read
   * (another size, modification or change time than before the read): then
   * nothing derived may name it.
   */
  stat: Stats | null;
}

const sameStat = (a: Stats, b: Stats) => a.ino === b.ino && a.dev === b.dev && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;

/**
 * The store file's text. Opened without blocking (a FIFO put at the path
 * must not hang the command) and read only when it is a regular file; a
 * symbolic link is followed (a linked store is the operator's choice).
 */
async function storeText(file: string): Promise<StoreText | null> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new StoreError(`cannot read the store ${file} (${describe(error)})`, 'check the path and its permissions');
  }
  try {
    const before = await handle.stat();
    if (!before.isFile()) throw new StoreError(`the store ${file} is not a regular file`, 'point --store at a keyward store file');
    const bytes = await handle.readFile();
    const after = await handle.stat();
    return {text: bytes.toString('utf8'), stat: sameStat(before, after) && bytes.length === after.size ? after : null};
  } catch (error) {
    if (error instanceof StoreError) throw error;
    throw new StoreError(`cannot read the store ${file} (${describe(error)})`, 'check the path and its permissions');
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** A store document as read: its data, its text, and whether keyward provably wrote that text. */
export interface StoreDocument {
  data: StoreData;
  /** The file's text as read. */
  text: string;
  /** The file's status through the descriptor it was read from; null when it moved while being read. */
  stat: Stats | null;
  /**
   * True when the index cache names this very file (its identity taken from
   * the descriptor it was read from) as the one keyward wrote: the text is
   * then the canonical document keyward checked and wrote, and was not
   * checked again (see index-cache.ts cacheVouchesFor).
   */
  trusted: boolean;
}

/** Whether the index cache vouches for the file read (see StoreDocument.trusted). */
async function vouched(file: string, stat: Stats | null): Promise<boolean> {
  if (stat === null || stat.size < MIN_STORE_BYTES) return false;
  const real = await fs.realpath(file).catch(() => null);
  return real !== null && cacheVouchesFor(real, stat);
}

/**
 * Reads the document at `file`: checked against the schema, unless keyward
 * provably wrote the file as it is (then it is parsed only); null when there
 * is no file yet.
 */
export async function readStoreDocument(file: string): Promise<StoreDocument | null> {
  const read = await storeText(file);
  if (read === null) return null;
  const {text, stat} = read;
  const repair = `the file was left as it is: restore it from a backup or git, or point --store elsewhere`;
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    const why = text.trim().length === 0 ? 'it is empty' : `it is not valid JSON (${jsonProblem(error)})`;
    throw new StoreError(`the store ${file} is corrupt: ${why}`, repair);
  }
  const version = versionOf(document);
  if (version !== undefined && version > SCHEMA_VERSION) {
    throw new StoreError(`the store ${file} has schema version ${version}, newer than this keyward reads (${SCHEMA_VERSION})`, 'upgrade keyward; the file was left as it is');
  }
  if (version === SCHEMA_VERSION && (await vouched(file, stat))) return {data: document as StoreData, text, stat, trusted: true};
  try {
    return {data: validate(document), text, stat, trusted: false};
  } catch (error) {
    if (error instanceof ShapeError) throw new StoreError(`the store ${file} is not a keyward store: ${error.message}`, repair);
    throw error;
  }
}

/** Reads and checks the document at `file`; null when there is no file yet. */
export async function readDocument(file: string): Promise<StoreData | null> {
  return (await readStoreDocument(file))?.data ?? null;
}

/** The store as it is now, for a command that only reads: a store that does not exist is an error (exit 3). */
export async function readStore(file: string): Promise<StoreData> {
  const data = await readDocument(file);
  if (data === null) throw missingStore(file);
  return data;
}

/**
 * The store as it is now, or a new empty one when there is no file (nothing
 * is created): what a writing command looks at before it changes the store.
 */
export async function readStoreOrEmpty(file: string, now: Date): Promise<StoreData> {
  return (await readDocument(file)) ?? emptyStore(now);
}
