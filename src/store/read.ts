/**
 * Reading the JSON store: the file parsed and checked against the schema,
 * with the store errors (exit 3) that say what is wrong. Split from store.ts
 * so that a reader (check's fast path) does not load the lock.
 */
import {constants as bufferConstants, isAscii} from 'node:buffer';
import {constants as fsConstants, promises as fs, Stats} from 'node:fs';
import {KeywardError, show, untrusted} from '../core/errors.js';
import {DeferredList, deferList, emptyStore, EntryRecord, KeyRecord, SCHEMA_VERSION, StoreData} from '../core/model.js';
import type {AccountSummary} from '../core/reports.js';
import {AccountCounts, cacheVouchesFor, MIN_STORE_BYTES, vouchedAccountCounts} from './index-cache.js';
import {ShapeError, UNREAD_LIST, validate, versionOf} from './schema.js';
import {testPause} from './test-pause.js';

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
    `no store at ${untrusted(file)}`,
    'check --store and KEYWARD_STORE; a store is created by the first command that writes one (keyward authorize ENTRY, keyward keys create NAME --type api)',
  );
}

/** The error of a store path the operator gave whose folder does not exist (keyward never creates it). */
export function missingFolder(folder: string, file: string): StoreError {
  return new StoreError(
    `no folder ${untrusted(folder)} for the store ${untrusted(file)}`,
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
  // (V8 quotes the text around the error, marking with "..." where it cut it, before or after: that excerpt is never
  // shown, as it may hold part of a secret pasted into the store, cut where no mask can tell; found by an outside tester.)
  const quoted = /^Unexpected token '([\s\S]*?)', (?:\.\.\.)?"[\s\S]*"(?:\.\.\.)? is not valid JSON$/.exec(message);
  if (quoted) return `unexpected character ${show(quoted[1])}`;
  return message.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
}

/** The store file's bytes and their status, taken through the descriptor it was read from. */
interface StoreBytes {
  bytes: Buffer;
  /**
   * The file's status after the read, or null when it moved while being read
   * (another size, modification or change time than before the read): then
   * nothing derived may name it (storeBytes reads it again).
   */
  stat: Stats | null;
}

const sameStat = (a: Stats, b: Stats) => a.ino === b.ino && a.dev === b.dev && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;

/** How many times a read that another program's write in place cut across is made again before the store is refused. */
const TORN_READS = 3;

/**
 * The store file's bytes, read whole at one time: keyward replaces a store
 * by renaming a new file over it, but another program (an editor saving in
 * place) may write it while it is read, and bytes of two versions may make
 * valid JSON that is neither (an entry half one and half the other). A read
 * the file's status says was cut across (its size, modification or change
 * time moved) is made again; after TORN_READS such reads the store is refused.
 */
async function storeBytes(file: string): Promise<StoreBytes | null> {
  for (let attempt = 1; ; attempt++) {
    const read = await storeBytesOnce(file);
    if (read === null || read.stat !== null) return read;
    if (attempt === TORN_READS) {
      throw new StoreError(`the store ${untrusted(file)} changed while it was read, ${TORN_READS} times`, 'another program is writing it in place; try again once it is done');
    }
  }
}

/**
 * The store file's bytes, read once. Opened without blocking (a FIFO put at
 * the path must not hang the command) and read only when it is a regular
 * file; a symbolic link is followed (a linked store is the operator's choice).
 */
async function storeBytesOnce(file: string): Promise<StoreBytes | null> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new StoreError(`cannot read the store ${untrusted(file)} (${describe(error)})`, 'check the path and its permissions');
  }
  try {
    const before = await handle.stat();
    if (!before.isFile()) throw new StoreError(`the store ${untrusted(file)} is not a regular file`, 'point --store at a keyward store file');
    // More bytes than the longest string: refused before half a gigabyte is read only to be refused (textOf says the same of a file that grew).
    if (before.size > bufferConstants.MAX_STRING_LENGTH) throw tooLarge(file, before.size);
    const bytes = await handle.readFile();
    // (Test-only, see test-pause.ts: a test writes the file in place between the read and the look after it.)
    await testPause('KEYWARD_TEST_PAUSE_STORE_READ', 'read');
    const after = await handle.stat();
    return {bytes, stat: sameStat(before, after) && bytes.length === after.size ? after : null};
  } catch (error) {
    if (error instanceof StoreError) throw error;
    throw new StoreError(`cannot read the store ${untrusted(file)} (${describe(error)})`, 'check the path and its permissions');
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** A store document as read: its data, its text, and whether keyward provably wrote that text. */
export interface StoreDocument {
  data: StoreData;
  /**
   * The file's text as read; when `unread` is set, with UNREAD_LIST in
   * place of the account list's value (see deferredDocument).
   */
  text: string;
  /** The file's bytes as read (`text` is their UTF-8, but for `unread`). */
  bytes: Buffer;
  /** Where the lists not decoded stand, in the order of the text: in `text`, UNREAD_LIST at `at`; in `bytes`, `bytes` bytes from `byteStart`. */
  unread?: UnreadSpan[];
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

/** A list's value not decoded (see deferredDocument): which, its place in the text, and its length in bytes. */
export interface UnreadSpan {
  name: DeferredList;
  at: number;
  bytes: number;
  /** Where the list's bytes start in the file's. */
  byteStart: number;
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
export async function readStoreDocument(file: string, options: {deferAccount?: boolean} = {}): Promise<StoreDocument | null> {
  const read = await storeBytes(file);
  if (read === null) return null;
  return (options.deferAccount && (await deferredDocument(file, read.bytes, read.stat))) || documentOf(file, read.bytes, read.stat);
}

/** The line that names the account list in a document keyward wrote, up to its value. */
const ACCOUNT_NAME = '\n  "account": ';

/** The line of the member that follows the account list in a document keyward wrote (see schema.ts MEMBERS). */
const KEYS_NAME = '\n  "keys": ';

/**
 * Where the account list's value stands in the bytes of a document keyward
 * wrote: from after its name to the line of the next member, the keys, less
 * the comma; null when the bytes are not laid out so. A member's line (two
 * spaces and a quote) is found nowhere else (strings hold no raw line
 * breaks, deeper lines are indented more), so the keys' line is sought from
 * the end: through the members after the list (their size is bounded), not
 * through the list's megabytes. Both bounds are ASCII bytes, so the text on
 * either side is its bytes' own UTF-8.
 */
function accountSpan(bytes: Buffer): {start: number; end: number} | null {
  const at = bytes.indexOf(ACCOUNT_NAME);
  const start = at + ACCOUNT_NAME.length;
  const next = at < 0 ? -1 : bytes.lastIndexOf(KEYS_NAME);
  if (next < start || bytes[next - 1] !== 0x2c) return null;
  return {start, end: next - 1};
}

/** The line of the member that follows the keys in a document keyward wrote (see schema.ts MEMBERS). */
const BLOCKED_NAME = '\n  "blocked": ';

/**
 * A file keyward provably wrote, cut around its account list (see
 * accountSpan): the document with the list empty, the text on either side
 * of it, and where it stands; null for any other file, or one not laid out
 * as keyward writes. With `throughKeys`, the document ends after the keys
 * (the members after them are left unparsed, and out of `tail`).
 */
async function vouchedAround(
  file: string,
  bytes: Buffer,
  stat: Stats | null,
  throughKeys = false,
): Promise<{data: StoreData; head: string; tail: string; span: {start: number; end: number}} | null> {
  const span = await vouchedSpan(file, bytes, stat);
  if (span === null) return null;
  // (The member after the keys starts on a line of its own, after a comma, as accountSpan finds the keys.)
  const blocked = throughKeys ? bytes.indexOf(BLOCKED_NAME, span.end) : -1;
  if (throughKeys && (blocked === -1 || bytes[blocked - 1] !== 0x2c)) return null;
  const head = textOf(file, bytes.subarray(0, span.start));
  const tail = throughKeys ? `${textOf(file, bytes.subarray(span.end, blocked - 1))}\n}` : textOf(file, bytes.subarray(span.end));
  let data: StoreData;
  try {
    data = JSON.parse(`${head}[]${tail}`) as StoreData;
  } catch {
    return null;
  }
  return soundAround(data) ? {data, head, tail, span} : null;
}

/** Where the account list stands in the bytes of a file keyward provably wrote (see accountSpan); null for any other file. */
async function vouchedSpan(file: string, bytes: Buffer, stat: Stats | null): Promise<{start: number; end: number} | null> {
  return (await vouched(file, stat)) ? accountSpan(bytes) : null;
}

/** Whether `data`, parsed with the account list cut out (`[]`), is a document of this version. */
function soundAround(data: StoreData): boolean {
  return versionOf(data) === SCHEMA_VERSION && Array.isArray(data.account) && data.account.length === 0;
}

/**
 * The document of a file keyward provably wrote (see readStoreDocument) with
 * its account list, seen list and history read only when asked for (see
 * model.ts deferList): everything else is parsed now. The lists' bytes are
 * not even decoded: each one's text is what UNREAD_LIST stands for in the
 * document's (turning the 16 MB of a 100,000-entry list into a string was a
 * third of a follow commit; the seen list and the history were most of what
 * a one-entry `authorize` parsed, copied and wrote again: issue 15). Null for
 * any other file, or one not laid out as keyward writes (see summaryOf): the
 * caller reads it whole.
 */
async function deferredDocument(file: string, bytes: Buffer, stat: Stats | null): Promise<StoreDocument | null> {
  const span = await vouchedSpan(file, bytes, stat);
  if (span === null) return null;
  const head = textOf(file, bytes.subarray(0, span.start));
  // The seen list and the history, when the document ends with them as keyward writes it (the members' order: schema.ts
  // MEMBERS), each a list up to the next member's line (after a comma) or to the end of the document.
  const spans: {name: DeferredList; start: number; end: number}[] = [{name: 'account', ...span}];
  const later: typeof spans = [];
  let next = -1;
  for (const name of ['history', 'seen'] as const) {
    const line = Buffer.from(`\n  "${name}": `, 'latin1');
    const at = bytes.lastIndexOf(line, next === -1 ? bytes.length - 1 : next - 1);
    if (at <= span.end) continue;
    const start = at + line.length;
    const end = next === -1 ? bytes.length - 3 : next - 1;
    const closes = next === -1 ? bytes.toString('latin1', end) === '\n}\n' : bytes[end] === 0x2c;
    if (!closes || bytes[start] !== 0x5b || bytes[end - 1] !== 0x5d) break;
    // (A history is appended to unread only when it holds records as keyward writes them: see schema.ts unreadHistoryEdits.)
    if (name === 'history' && bytes.toString('latin1', start, start + 7) !== '[\n    {') {
      next = at;
      continue;
    }
    later.unshift({name, start, end});
    next = at;
  }
  spans.push(...later);
  let text = head;
  let json = head;
  const unread: UnreadSpan[] = [];
  for (const [i, s] of spans.entries()) {
    const between = textOf(file, bytes.subarray(s.end, i + 1 < spans.length ? spans[i + 1].start : bytes.length));
    unread.push({name: s.name, at: text.length, bytes: s.end - s.start, byteStart: s.start});
    text += `${UNREAD_LIST}${between}`;
    json += `[]${between}`;
  }
  let data: StoreData;
  try {
    data = JSON.parse(json) as StoreData;
  } catch {
    return null;
  }
  if (!soundAround(data)) return null;
  for (const s of spans) {
    if (!Array.isArray((data as unknown as Record<string, unknown>)[s.name])) return null;
    deferList(data, s.name, () => {
      const listText = textOf(file, bytes.subarray(s.start, s.end));
      try {
        return {list: JSON.parse(listText), text: listText};
      } catch (error) {
        throw new StoreError(`the store ${untrusted(file)} is corrupt: its ${s.name} list is not valid JSON (${jsonProblem(error)})`, 'restore it from a backup or git');
      }
    });
  }
  return {data, text, bytes, stat, trusted: true, unread};
}

/**
 * The data of a file keyward provably wrote, for a command that only reads
 * (no text is kept): the account list parsed apart from the rest, from a
 * one-byte string when its bytes are ASCII (a list's usually are; a key's
 * hint, "a1b2…9f0e", is not, and made the whole 18 MB of a 100,000-entry
 * store a two-byte string, slower to make and to parse: issue 15). Null for
 * any other file: the caller reads it whole.
 */
async function readData(file: string, bytes: Buffer, stat: Stats | null): Promise<StoreData | null> {
  const parts = await vouchedAround(file, bytes, stat);
  if (parts === null) return null;
  const list = bytes.subarray(parts.span.start, parts.span.end);
  try {
    parts.data.account = JSON.parse(list.toString(isAscii(list) ? 'latin1' : 'utf8')) as EntryRecord[];
  } catch {
    // (A list too long for one string, or not JSON: the file is read whole, and said so.)
    return null;
  }
  return parts.data;
}

/**
 * The store at `file` for a listing of its records (`list --json`): for a
 * file keyward provably wrote, its keys and its account list's text as the
 * file's bytes (`accountText`, see account-text.ts: the records need not be
 * parsed to be copied), and nothing after the keys parsed (the blocked and
 * seen lists and the history are not listed); for any other file, its data
 * read and checked as every reader does. A store that does not exist is an
 * error (exit 3).
 */
export async function readStoreForListing(file: string): Promise<{data: StoreData; accountText: null} | {keys: KeyRecord[]; accountText: Uint8Array}> {
  const read = await storeBytes(file);
  if (read === null) throw missingStore(file);
  const parts = await vouchedAround(file, read.bytes, read.stat, true);
  if (parts !== null && Array.isArray(parts.data.keys)) return {keys: parts.data.keys, accountText: read.bytes.subarray(parts.span.start, parts.span.end)};
  return {data: (await documentOf(file, read.bytes, read.stat)).data, accountText: null};
}

/** The text of the store file's bytes; a StoreError for a file too large to be one string (about 512 MiB, V8's limit). */
function textOf(file: string, bytes: Buffer): string {
  try {
    return bytes.toString('utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_STRING_TOO_LONG') throw error;
    throw tooLarge(file, bytes.length);
  }
}

function tooLarge(file: string, bytes: number): StoreError {
  return new StoreError(`the store ${untrusted(file)} is too large to read (${bytes} bytes; a store is a JSON text under 512 MiB)`, 'point --store at a keyward store file');
}

/** The document of `bytes`, the store file's bytes as read (`text` their UTF-8), with the file's status `stat` (see readStoreDocument). */
async function documentOf(file: string, bytes: Buffer, stat: Stats | null, text = textOf(file, bytes)): Promise<StoreDocument> {
  const repair = `the file was left as it is: restore it from a backup or git, or point --store elsewhere`;
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    const why = text.trim().length === 0 ? 'it is empty' : `it is not valid JSON (${jsonProblem(error)})`;
    throw new StoreError(`the store ${untrusted(file)} is corrupt: ${why}`, repair);
  }
  const version = versionOf(document);
  if (version !== undefined && version > SCHEMA_VERSION) {
    throw new StoreError(
      `the store ${untrusted(file)} has schema version ${version}, newer than this keyward reads (${SCHEMA_VERSION})`,
      'upgrade keyward; the file was left as it is',
    );
  }
  if (version === SCHEMA_VERSION && (await vouched(file, stat))) return {data: document as StoreData, text, bytes, stat, trusted: true};
  try {
    return {data: validate(document), text, bytes, stat, trusted: false};
  } catch (error) {
    if (error instanceof ShapeError) throw new StoreError(`the store ${untrusted(file)} is not a keyward store: ${error.message}`, repair);
    throw error;
  }
}

/** A store as `status` reads it: everything but the account list, which is only counted. */
export interface StoreSummary {
  /** The store; when `account` is given, its account list is empty here and its history left out. */
  data: StoreData;
  /** The account list counted in the file's bytes; null when the file was read whole (`data.account` is the list). */
  account: AccountSummary | null;
}

/**
 * The store at `file` as `status` wants it (a store that does not exist is
 * an error, exit 3). For a file keyward provably wrote (see
 * readStoreDocument) whose cache holds the account list's counts (see
 * index-cache.ts AccountCounts), the account list is neither parsed nor
 * read (its 100,000 records were most of status's time: issue 15), nor is
 * the history, which status does not show; every other member is parsed.
 * Any other file is read and checked whole, as every reader does.
 */
export async function readStoreSummary(file: string): Promise<StoreSummary> {
  const summary = await vouchedSummary(file);
  if (summary !== null) return summary;
  const read = await storeBytes(file);
  if (read === null) throw missingStore(file);
  const {data} = await documentOf(file, read.bytes, read.stat);
  return {data, account: null};
}

/** How much of a large store's start `summaryOf` reads for its head (version, settings, blocking: under 1 KB as keyward writes them). */
const HEAD_BYTES = 1 << 16;
/** How much of a large store's end `summaryOf` reads first for the members after the account list; doubled until they are in it. */
const TAIL_BYTES = 1 << 20;

const ACCOUNT_LINE = '\n  "account": [';

/**
 * The StoreSummary of the store at `file` when it is one keyward provably
 * wrote and its cache counts its account list; else null (also when it
 * cannot be read: the caller reads it whole, and says why). Only the file's
 * head and the part after the account list are read, through one
 * descriptor, and the file must be the same one (see sameStat) after.
 */
async function vouchedSummary(file: string): Promise<StoreSummary | null> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const before = await handle.stat();
    if (!before.isFile() || before.size < MIN_STORE_BYTES) return null;
    const real = await fs.realpath(file).catch(() => null);
    const counts = real === null ? null : vouchedAccountCounts(real, before);
    if (counts === null) return null;
    const size = before.size;
    const head = await readAt(handle, 0, Math.min(size, HEAD_BYTES));
    // (Test-only, see test-pause.ts: a test edits the file between the two reads.)
    await testPause('KEYWARD_TEST_PAUSE_STATUS_READ', 'paused');
    const account = head.indexOf(ACCOUNT_LINE);
    if (account === -1) return null;
    const listStart = account + ACCOUNT_LINE.length;
    for (let want = TAIL_BYTES; ; want *= 2) {
      const from = Math.max(listStart, size - want);
      const tail = await readAt(handle, from, size - from);
      // The list's last line and the keys' line after it (a line of exactly two spaces and a quote starts a member).
      const keys = tail.lastIndexOf('\n  "keys": [');
      if (keys < 1 && from > listStart) continue;
      const after = await handle.stat();
      if (!sameStat(before, after)) return null;
      return summaryOf(head, account, tail, keys, counts);
    }
  } catch {
    return null;
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** `length` bytes of the file from `position` (fewer when it ends sooner). */
async function readAt(handle: fs.FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const {bytesRead} = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buffer.subarray(0, done);
}

/**
 * The StoreSummary of a canonical document keyward wrote, from its start
 * `head` (the account list's line at `account`) and an end of it `tail`
 * (the keys' line at `keys`, -1 when it is not there), its account list
 * counted by its cache; null when they are not laid out as one (then the
 * caller reads the file whole). In that text a line of exactly two spaces
 * and a quote starts a top-level member (strings hold no raw line breaks;
 * deeper lines are indented more), in the order the schema writes them: the
 * head (version, settings, blocking), the account list, then keys, blocked,
 * seen and perhaps history. The list itself is never looked at.
 */
function summaryOf(head: Buffer, account: number, tail: Buffer, keys: number, counts: AccountCounts): StoreSummary | null {
  if (head.toString('latin1', 0, 5) !== '{\n  "' || tail.toString('latin1', tail.length - 3) !== '\n}\n') return null;
  const history = tail.lastIndexOf('\n  "history": [');
  // The members after the account list end before the history's line (and its comma), else before the closing line.
  const end = history === -1 ? tail.length - 3 : history - 1;
  if (keys < 1 || end <= keys || head[account - 1] !== 0x2c || tail[keys - 1] !== 0x2c) return null;
  if (history !== -1 && tail[end] !== 0x2c) return null;
  let data: StoreData;
  try {
    data = JSON.parse(`{${head.toString('utf8', 2, account)}"account": [],${tail.toString('utf8', keys + 1, end)}}`) as StoreData;
  } catch {
    return null;
  }
  if (versionOf(data) !== SCHEMA_VERSION) return null;
  return {data, account: {entries: counts.records, learned: counts.learned, expiries: counts.expiries}};
}

/** Reads and checks the document at `file`, for a command that only reads; null when there is no file yet. */
export async function readDocument(file: string): Promise<StoreData | null> {
  const read = await storeBytes(file);
  if (read === null) return null;
  return (await readData(file, read.bytes, read.stat)) ?? (await documentOf(file, read.bytes, read.stat)).data;
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
