/**
 * Reading the JSON store: the file parsed and checked against the schema,
 * with the store errors (exit 3) that say what is wrong. Split from store.ts
 * so that a reader (check's fast path) loads neither lowdb nor the lock.
 */
import {promises as fs} from 'node:fs';
import {KeywardError, show} from '../core/errors.js';
import {emptyStore, SCHEMA_VERSION, StoreData} from '../core/model.js';
import {ShapeError, validate, versionOf} from './schema.js';

/** The store cannot be used: unreadable, corrupt, newer, locked or not writable. */
export class StoreError extends KeywardError {
  constructor(message: string, hint?: string) {
    super('store', message, hint);
    this.name = 'StoreError';
  }
}

export function describe(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e.code ? `${e.code}: ${e.message}` : String(error);
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

/** Reads and checks the document at `file`; null when there is no file yet. */
export async function readDocument(file: string): Promise<StoreData | null> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new StoreError(`cannot read the store ${file} (${describe(error)})`, 'check the path and its permissions');
  }
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
    throw new StoreError(
      `the store ${file} has schema version ${version}, newer than this keyward reads (${SCHEMA_VERSION})`,
      'upgrade keyward; the file was left as it is',
    );
  }
  try {
    return validate(document);
  } catch (error) {
    if (error instanceof ShapeError) throw new StoreError(`the store ${file} is not a keyward store: ${error.message}`, repair);
    throw error;
  }
}

/** The store as it is now, or a new empty one when there is no file (nothing is created). */
export async function readStore(file: string, now: Date): Promise<StoreData> {
  return (await readDocument(file)) ?? emptyStore(now);
}
