/**
 * The index cache: a derived, rebuildable binary file beside a large store
 * (`STORE.cache`) holding what a decision needs, so that `check` does not
 * parse and validate megabytes of JSON to answer one address. The JSON store
 * stays the only source of truth: the cache is written by the store's writer
 * after each write (under the store's lock), and a reader uses it only when
 * it provably belongs to the store file as it is now; anything else (no
 * cache, another store, a changed store, a broken or foreign file) reads the
 * JSON as before.
 *
 * Layout (little-endian; every section starts on a multiple of 8):
 *
 *   0   "KEYWARDX"                       magic
 *   8   u32 format                       CACHE_FORMAT
 *   12  u32 H                            header length
 *   16  u32 CRC-32 of every other byte (bytes 24-47 zero)
 *   20  u32 CRC-32 of bytes 0-15 and the header: the head's own, so that
 *           `status` trusts the header's counts without reading the rest
 *   48  H bytes of JSON                  Header: the store's identity, schema
 *                                        version, counts, and the small part
 *                                        of the store (settings, blocking, keys)
 *   then, for IPv4 then IPv6: starts, ends (u32), parents, origin (i32),
 *   expires (f64), bits (u8) of the account list's CompiledIndex; then the
 *   account entries' texts: offsets (u32, entries + 1) and latin1 bytes;
 *   then one effect byte per entry (1: deny, 0: allow).
 *
 * Only enabled entries are in it (disabled entries never match): positions
 * are those of the account list's enabled entries, in the order of the list
 * it was compiled from (the store's, or that of the change that compiled
 * it, before the writer's sort; an entry added unread takes the place
 * sorting gives it, the others keep theirs). Readers go from a sorted
 * position to a text or an effect only through `origin`.
 */
import {closeSync, constants as fsConstants, fstatSync, lstatSync, promises as fs, openSync, readSync, realpathSync, statSync, Stats} from 'node:fs';
import {denyFlags, EntryIndex} from '../core/decision.js';
import {EntryWords, EntryWordsBuilder, entryWordsOfRecords} from '../core/entry-order.js';
import {maskScanned, ScannedPrefix, scanPrefix} from '../core/prefix.js';
import {emptyStore, EntryRecord, isEnabled, KeyRecord, SCHEMA_VERSION, StoreData} from '../core/model.js';
import {arraysAreSound, CompiledIndex, FamilyArrays, IndexArrays, nonDecreasing} from '../core/prefix-index.js';
import {compareWords, lastOfPrefix} from '../core/words.js';

const MAGIC = 'KEYWARDX';
/** Changed whenever the layout or the header changes: a cache of another format is ignored. */
export const CACHE_FORMAT = 4;
const PREFIX_BYTES = 48;

/**
 * Stores smaller than this get no cache: their JSON is quick to read, and a
 * store in git is better without a file beside it.
 */
export const MIN_STORE_BYTES = 1 << 20;

/**
 * The CRC-32 of the cache's bytes: it catches a file damaged on disk or cut
 * short (the cache is no defence against someone who can write beside the
 * store, and neither would a hash be). node:zlib is loaded only when a cache
 * is read or written; it loads and sums faster than node:crypto's SHA-256
 * (docs/performance.md).
 */
function checksum(bytes: Uint8Array): number {
  const {crc32} = process.getBuiltinModule('node:zlib');
  return crc32(bytes.subarray(20), crc32(bytes.subarray(0, 16)));
}

/** The CRC-32 of a cache's head: bytes 0-15 of its prefix, then its header (see the layout above). */
function headChecksum(prefix: Uint8Array, header: Uint8Array): number {
  const {crc32} = process.getBuiltinModule('node:zlib');
  return crc32(header, crc32(prefix.subarray(0, 16)));
}

/**
 * The text of an entry by position: decoded one at a time for the first few
 * (a single check wants one or two), then cut from the whole text decoded at
 * once (a stream may want every one; a cut costs no copy).
 */
function entryTexts(buffer: Buffer, start: number, length: number, offsets: Uint32Array): (position: number) => string {
  let asked = 0;
  let whole: string | null = null;
  return (position) => {
    if (whole === null && ++asked > 64) whole = buffer.toString('latin1', start, start + length);
    if (whole !== null) return whole.substring(offsets[position], offsets[position + 1]);
    return buffer.toString('latin1', start + offsets[position], start + offsets[position + 1]);
  };
}

/** The cache file of a store. */
export function indexCacheFile(store: string): string {
  return `${store}.cache`;
}

/**
 * What identifies one version of the store file: a rewrite (rename of a new
 * file), an edit in place, `git checkout` or a copy changes the inode, the
 * size or the change time (which no program can set back), even when the
 * size and the modification time are kept. Times in milliseconds with their
 * fraction (what the file system keeps, to a fraction of a microsecond), all
 * as decimal strings.
 */
export interface StoreIdentity {
  dev: string;
  ino: string;
  size: string;
  mtimeMs: string;
  ctimeMs: string;
}

export function identityOf(stat: Stats): StoreIdentity {
  return {dev: String(stat.dev), ino: String(stat.ino), size: String(stat.size), mtimeMs: String(stat.mtimeMs), ctimeMs: String(stat.ctimeMs)};
}

/**
 * Whether the file system keeps times only to the second (or coarser): there
 * an edit in the same second as a write keeps both times, so no cache is
 * trusted. (On a file system with finer times, both being whole seconds is
 * a one-in-10^18 coincidence, which costs only a JSON read.)
 */
function coarseTimes(stat: Stats): boolean {
  return stat.mtimeMs % 1000 === 0 && stat.ctimeMs % 1000 === 0;
}

/** What the cache keeps of the store besides the account list. */
interface Head {
  settings: StoreData['settings'];
  blocking: StoreData['blocking'];
  keys: KeyRecord[];
}

interface Header {
  store: StoreIdentity;
  schema: number;
  entries: number;
  v4: number;
  v6: number;
  textBytes: number;
  head: Head;
  /** What `status` counts of the account list (see AccountCounts); absent in caches written before it. */
  counts?: AccountCounts;
}

/**
 * What `status` counts of the store's account list, every record (disabled
 * ones too): records, learned records, and the expiry times given, each
 * with how many records have it. Kept in the header so that `status` on a
 * large store does not read the list (issue 15).
 */
export interface AccountCounts {
  records: number;
  learned: number;
  expiries: [string, number][];
}

/** The AccountCounts of an account list. */
function accountCounts(records: readonly EntryRecord[]): AccountCounts {
  let learned = 0;
  const expiries = new Map<string, number>();
  for (const r of records) {
    if (r.source === 'learned') learned++;
    if (r.expiresAt !== null) expiries.set(r.expiresAt, (expiries.get(r.expiresAt) ?? 0) + 1);
  }
  // By time: the same counts whatever the list's order.
  return {records: records.length, learned, expiries: [...expiries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))};
}

/** Whether `counts` is a sound AccountCounts. */
function soundCounts(counts: unknown): counts is AccountCounts {
  if (!isObject(counts) || !Number.isSafeInteger(counts.records) || !Number.isSafeInteger(counts.learned) || !Array.isArray(counts.expiries)) return false;
  return counts.expiries.every((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' && Number.isSafeInteger(e[1]));
}

const align8 = (n: number) => (n + 7) & ~7;

/**
 * The whole cache's length in bytes for header `h` of `headerLength` bytes
 * (every section after it aligned to 8 but the last), or null when the
 * header's sizes are not sound: whole numbers, the families' entries adding
 * up to all of them. One rule for check's decoding and status's counts.
 */
function cacheLength(h: Record<string, unknown>, headerLength: number): number | null {
  const sizes = [h.entries, h.v4, h.v6, h.textBytes];
  if (!sizes.every((n) => Number.isSafeInteger(n) && (n as number) >= 0) || (h.v4 as number) + (h.v6 as number) !== h.entries) return null;
  const lengths = sectionLengths(h as Pick<Header, 'entries' | 'v4' | 'v6' | 'textBytes'>);
  return lengths.reduce((sum, length, i) => sum + (i === lengths.length - 1 ? length : align8(length)), PREFIX_BYTES + align8(headerLength));
}

/** Byte lengths of the sections after the header, in order. */
function sectionLengths(h: Pick<Header, 'entries' | 'v4' | 'v6' | 'textBytes'>): number[] {
  const family = (n: number, width: number) => [n * width * 4, n * width * 4, n * 4, n * 4, n * 8, n];
  return [...family(h.v4, 1), ...family(h.v6, 4), (h.entries + 1) * 4, h.textBytes, h.entries];
}

/** The cache's bytes for `data` (the store as written), identified by `store`. */
export function encodeIndexCache(data: StoreData, store: StoreIdentity): Buffer {
  return Buffer.concat(encodeIndexCacheParts(data, store));
}

/** `encodeIndexCache` as the parts it is made of, one after another, to be written without a copy (a 1M-entry cache is 50 MB). */
export function encodeIndexCacheParts(data: StoreData, store: StoreIdentity, lender: ((texts: readonly string[]) => EntryWords | null) | null = null): Uint8Array[] {
  // Every entry enabled (the usual case): the list itself, no copy of it (a 1M-entry list is written under the lock).
  const everyEnabled = data.account.every(isEnabled);
  const enabled = everyEnabled ? data.account : data.account.filter(isEnabled);
  const expires = new Float64Array(enabled.length);
  for (let i = 0; i < enabled.length; i++) {
    const at = enabled[i].expiresAt;
    expires[i] = at === null ? Number.POSITIVE_INFINITY : Date.parse(at);
  }
  const deny = denyFlags(enabled) ?? new Uint8Array(enabled.length);
  // The words the cache of the file read lends (see wordsLentBy), else every entry enabled: the list's own words, the part a change
  // appended not parsed again (see KnownEntryWords).
  const lent = lender === null ? null : lender(enabled.map((r) => r.entry));
  const {arrays} =
    lent !== null
      ? CompiledIndex.fromWords(lent, expires)
      : everyEnabled
        ? CompiledIndex.fromWords(entryWordsOfRecords(data.account), expires)
        : CompiledIndex.fromTexts(
            enabled.map((r) => r.entry),
            expires,
          );
  const {textBytes, offsets} = encodeEntryTexts(enabled);
  // Keys in the store's order (sorted by name, as the writer sorts them), so that a lookup finds the same key.
  const keys = [...data.keys].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Header = {
    store,
    schema: SCHEMA_VERSION,
    entries: enabled.length,
    v4: arrays.v4.parents.length,
    v6: arrays.v6.parents.length,
    textBytes: textBytes.length,
    head: {settings: data.settings, blocking: data.blocking, keys},
    counts: accountCounts(data.account),
  };
  return cacheParts(header, arrays, offsets, textBytes, deny);
}

/** The cache's parts, one after another: its prefix (checksums filled in), the header, and the sections of the layout. */
function cacheParts(header: Header, arrays: IndexArrays, offsets: Uint32Array, textBytes: Uint8Array, deny: Uint8Array): Uint8Array[] {
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  // The prefix first, filled in below: the cache is put together in one copy (a 1M-entry cache is 50 MB).
  const prefix = Buffer.alloc(PREFIX_BYTES);
  const parts: Uint8Array[] = [prefix, headerBytes];
  const pad = (length: number) => {
    if (length % 8 !== 0) parts.push(new Uint8Array(8 - (length % 8)));
  };
  pad(headerBytes.length);
  for (const f of [arrays.v4, arrays.v6]) {
    for (const a of [f.starts, f.ends, f.parents, f.origin, f.expires, f.bits]) {
      parts.push(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
      pad(a.byteLength);
    }
  }
  parts.push(new Uint8Array(offsets.buffer));
  pad(offsets.byteLength);
  parts.push(textBytes);
  pad(textBytes.length);
  parts.push(deny);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(CACHE_FORMAT, 8);
  prefix.writeUInt32LE(headerBytes.length, 12);
  prefix.writeUInt32LE(headChecksum(prefix, headerBytes), 20);
  // The checksum of the whole (see checksum), part by part.
  const {crc32} = process.getBuiltinModule('node:zlib');
  let crc = crc32(prefix.subarray(20), crc32(prefix.subarray(0, 16)));
  // (An empty part is skipped: node:zlib's crc32 of an empty view answers 0, not the value it was given.)
  for (let p = 1; p < parts.length; p++) if (parts[p].byteLength > 0) crc = crc32(parts[p], crc);
  prefix.writeUInt32LE(crc, 16);
  return parts;
}

/**
 * The entries' texts one after another (Latin-1: entries are ASCII) and
 * where each starts, written straight into their buffer a few thousand at a
 * time: no string of them all (a 1M-entry list has 16 MB of texts).
 */
function encodeEntryTexts(records: readonly EntryRecord[]): {textBytes: Buffer; offsets: Uint32Array} {
  const offsets = new Uint32Array(records.length + 1);
  for (let i = 0; i < records.length; i++) offsets[i + 1] = offsets[i] + records[i].entry.length;
  const textBytes = Buffer.allocUnsafe(offsets[records.length]);
  const run: string[] = [];
  for (let i = 0; i < records.length; i += TEXTS_AT_ONCE) {
    const end = Math.min(records.length, i + TEXTS_AT_ONCE);
    run.length = 0;
    for (let j = i; j < end; j++) run.push(records[j].entry);
    textBytes.write(run.join(''), offsets[i], offsets[end] - offsets[i], 'latin1');
  }
  return {textBytes, offsets};
}

/** How many entry texts encodeEntryTexts joins before writing them into its buffer. */
const TEXTS_AT_ONCE = 4096;

/**
 * The cache this process last wrote (a follow's commit, under the store's
 * lock): its bytes, the identity its file had through the writer's
 * descriptor after the rename, the store file it names, and the compiled
 * account list it holds (the one of the cache it was made from: its
 * compiled sections are those bytes). A later change in this process that
 * finds the cache file with that identity (same device, inode, size,
 * modification and change times: see identityOf) and reads the store file it
 * names takes them from here instead of reading, summing and checking 5 MB
 * again, twice a commit (issue 15). Any other file at that path, or another
 * store file, is read and checked as before.
 */
let lastWritten: {file: string; cache: StoreIdentity; bytes: Buffer; store: StoreIdentity; account: EntryIndex} | null = null;

/** How many times a change took the cache as this process wrote it (see lastWritten): for tests. */
export const takenAsWritten = {count: 0};

/**
 * The cache at `file` as this process last wrote it (see lastWritten), when
 * that file is still the one written and it names the store file `store`;
 * else null.
 */
function cacheAsWritten(file: string, store: StoreIdentity): {bytes: Buffer; account: EntryIndex} | null {
  const known = lastWritten;
  if (known === null || known.file !== file || !sameIdentity(known.store, store)) return null;
  // Its status only (nothing is read from it): a link, a FIFO or another file put there is not it.
  const stat = lstatOrNull(file);
  if (stat === null || !stat.isFile() || coarseTimes(stat) || !sameIdentity(identityOf(stat), known.cache)) return null;
  takenAsWritten.count++;
  return known;
}

function lstatOrNull(file: string): Stats | null {
  try {
    return lstatSync(file);
  } catch {
    return null;
  }
}

/**
 * The cache for `data` and the store file `store`, made from the cache at
 * `file` when that cache is whole and names the store file `previous` (the
 * file the change read), and the change left the account list as it was:
 * its compiled sections are the same, only its header (the identity,
 * settings, blocking and keys) is new. Null when the old cache cannot lend
 * them; the caller then encodes the cache whole.
 */
function reencodeIndexCache(file: string, previous: Stats, data: StoreData, store: StoreIdentity): {bytes: Buffer; account: EntryIndex} | null {
  const known = cacheAsWritten(file, identityOf(previous));
  const bytes = known?.bytes ?? readCacheFile(file, maxCacheBytes(previous.size));
  const account = known?.account ?? (bytes === null ? null : (decodeIndexCache(bytes, identityOf(previous), new Date())?.account ?? null));
  if (bytes === null || account === null) return null;
  const oldLength = bytes.readUInt32LE(12);
  const old = JSON.parse(bytes.toString('utf8', PREFIX_BYTES, PREFIX_BYTES + oldLength)) as Header;
  const keys = [...data.keys].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Header = {...old, store, schema: SCHEMA_VERSION, head: {settings: data.settings, blocking: data.blocking, keys}};
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const body = bytes.subarray(PREFIX_BYTES + align8(oldLength));
  const prefix = Buffer.alloc(PREFIX_BYTES);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(CACHE_FORMAT, 8);
  prefix.writeUInt32LE(headerBytes.length, 12);
  prefix.writeUInt32LE(headChecksum(prefix, headerBytes), 20);
  const padding = align8(headerBytes.length) - headerBytes.length;
  const out = Buffer.concat([prefix, headerBytes, Buffer.alloc(padding), body]);
  out.writeUInt32LE(checksum(out), 16);
  return {bytes: out, account};
}

/**
 * The cache for `data` and the store file `store` after `record` was added
 * to the account list unread (see model.ts addToUnreadAccount), made from
 * the cache at `file` when that cache is whole and names the store file
 * `previous` (the file the change read): the entry put in its family's
 * arrays at its sorted place, its parent found as the compiler finds it
 * (see prefix-index.ts buildFamily) and the entries it contains made its
 * children, its text and effect at its place among the enabled entries,
 * every later position one further on; the header new. The very cache
 * compiling the list again would make (the tests hold the two to the
 * byte), without compiling 100,000 entries for one (issue 15). Null when
 * the old cache cannot lend it, or the record is not an enabled allow entry
 * without expiry new to the list.
 */
function cacheWithEntryAdded(file: string, previous: Stats, data: StoreData, store: StoreIdentity, record: EntryRecord): Uint8Array[] | null {
  if (record.expiresAt !== null || !isEnabled(record) || record.effect === 'deny') return null;
  const known = lastDecoded !== null && lastDecoded.file === file && sameIdentity(lastDecoded.store, identityOf(previous)) ? lastDecoded : null;
  const bytes = known?.bytes ?? readCacheFile(file, maxCacheBytes(previous.size));
  const old = known?.decoded ?? (bytes === null ? null : decodeIndexCache(bytes, identityOf(previous), new Date()));
  if (bytes === null || old === null) return null;
  const oldHeader = JSON.parse(bytes.toString('utf8', PREFIX_BYTES, PREFIX_BYTES + bytes.readUInt32LE(12))) as Header;
  if (!soundCounts(oldHeader.counts)) return null;
  const scanned = scanPrefix(record.entry, {family: 4, bits: 0, words: new Uint32Array(4)});
  maskScanned(scanned);
  const {family, bits, words} = scanned;
  const width = family === 4 ? 1 : 4;
  const {v4, v6} = old.account.compiled.arrays;
  const f = family === 4 ? v4 : v6;
  const n = f.parents.length;
  // Its place: after every entry of the family that sorts before it (by start, then wider first).
  let low = 0;
  let high = n;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((compareWords(f.starts, middle * width, words, 0, width) || f.bits[middle] - bits) <= 0) low = middle + 1;
    else high = middle;
  }
  const p = low;
  if (p > 0 && compareWords(f.starts, (p - 1) * width, words, 0, width) === 0 && f.bits[p - 1] === bits) return null;
  const end = new Uint32Array(width);
  lastOfPrefix(words, bits, width, end);
  // Its parent: the nearest earlier entry that contains it (as the compiler's stack finds it).
  let parent = p - 1;
  while (parent >= 0 && compareWords(f.ends, parent * width, words, 0, width) < 0) parent = f.parents[parent];
  const parents = new Int32Array(n + 1);
  parents.set(f.parents.subarray(0, p));
  parents[p] = parent;
  for (let i = p; i < n; i++) {
    const q = f.parents[i];
    // An entry inside the new one whose parent was the new one's is now its child.
    const inside = q === parent && compareWords(f.starts, i * width, end, 0, width) <= 0;
    parents[i + 1] = inside ? p : q >= p ? q + 1 : q;
  }
  // Its position among the enabled entries (the list is in sorted order, IPv4 first); every later one moves on by one.
  const k = family === 4 ? p : v4.parents.length + p;
  const moved = (origin: Int32Array) => origin.map((o) => (o >= k ? o + 1 : o));
  const grown = <T extends Uint8Array | Uint32Array | Int32Array | Float64Array>(a: T, per: number, value: ArrayLike<number>): T => {
    const out = new (a.constructor as new (n: number) => T)(a.length + per);
    out.set(a.subarray(0, p * per));
    out.set(value, p * per);
    out.set(a.subarray(p * per), (p + 1) * per);
    return out;
  };
  const origin = moved(f.origin);
  const added: FamilyArrays = {
    starts: grown(f.starts, width, words.subarray(0, width)),
    ends: grown(f.ends, width, end),
    bits: grown(f.bits, 1, [bits]),
    parents,
    origin: grown(origin, 1, [k]),
    expires: grown(f.expires, 1, [Number.POSITIVE_INFINITY]),
  };
  const other = family === 4 ? v6 : v4;
  const kept: FamilyArrays = {...other, origin: moved(other.origin)};
  const arrays: IndexArrays = family === 4 ? {v4: added, v6: kept} : {v4: kept, v6: added};
  // The texts and effects: the new one's at position k.
  const entries = oldHeader.entries;
  const offsets = new Uint32Array(entries + 2);
  offsets.set(old.entryOffsets.subarray(0, k + 1));
  for (let i = k; i <= entries; i++) offsets[i + 1] = old.entryOffsets[i] + record.entry.length;
  const textBytes = Buffer.concat([old.entryBytes.subarray(0, old.entryOffsets[k]), Buffer.from(record.entry, 'latin1'), old.entryBytes.subarray(old.entryOffsets[k])]);
  const deny = new Uint8Array(entries + 1);
  if (old.account.deny !== null) {
    deny.set(old.account.deny.subarray(0, k));
    deny.set(old.account.deny.subarray(k), k + 1);
  }
  const keys = [...data.keys].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const counts = oldHeader.counts!;
  const header: Header = {
    store,
    schema: SCHEMA_VERSION,
    entries: entries + 1,
    v4: arrays.v4.parents.length,
    v6: arrays.v6.parents.length,
    textBytes: textBytes.length,
    head: {settings: data.settings, blocking: data.blocking, keys},
    counts: {records: counts.records + 1, learned: counts.learned + (record.source === 'learned' ? 1 : 0), expiries: counts.expiries},
  };
  return cacheParts(header, arrays, offsets, textBytes, deny);
}

/** What a decision needs, read from the cache. */
export interface CachedPolicyData {
  /** The store's settings, blocking states and keys; its lists are empty (the account list is `account`). */
  data: StoreData;
  account: EntryIndex;
  /** The text of the enabled entry at a position of `account`. */
  entryText: (position: number) => string;
  /** The texts of the enabled entries one after another (latin1), entry i from `entryOffsets[i]` to `entryOffsets[i + 1]`. */
  entryBytes: Buffer;
  entryOffsets: Uint32Array;
}

/** At most this many entries more or fewer than the cache that lends its words holds (see wordsLentBy): a small change. */
const LEND_MOST = 4096;

/**
 * The networks of `texts` (the enabled entries of the account list after a
 * small change, in its order) as EntryWords, taken from the cache at `file`
 * where it holds the same text at the matching position, when that cache is
 * whole and names the store file `previous` (the file the change read);
 * an entry it does not hold is parsed. Its compiled arrays hold every
 * enabled entry's network and length, so a change of one entry to 100,000
 * does not parse the other 99,999 again for the new cache (issue 15). Null
 * when the old cache cannot lend them.
 */
function wordsLentBy(file: string, previous: Stats, texts: readonly string[]): EntryWords | null {
  const bytes = readCacheFile(file, maxCacheBytes(previous.size));
  const old = bytes === null ? null : decodeIndexCache(bytes, identityOf(previous), new Date());
  if (old === null) return null;
  const {v4, v6} = old.account.compiled.arrays;
  const n = v4.parents.length + v6.parents.length;
  if (Math.abs(texts.length - n) > LEND_MOST) return null;
  // The old entries' words by their list position (the arrays are in sorted order; origin says where each came from).
  const family = new Uint8Array(n);
  const bits = new Uint8Array(n);
  const words = new Uint32Array(n * 4);
  for (let i = 0; i < v4.parents.length; i++) {
    const p = v4.origin[i];
    family[p] = 4;
    bits[p] = v4.bits[i];
    words[p * 4] = v4.starts[i];
  }
  for (let i = 0; i < v6.parents.length; i++) {
    const p = v6.origin[i];
    family[p] = 6;
    bits[p] = v6.bits[i];
    for (let w = 0; w < 4; w++) words[p * 4 + w] = v6.starts[i * 4 + w];
  }
  const out = new EntryWordsBuilder(Math.max(16, texts.length));
  const scanned: ScannedPrefix = {family: 4, bits: 0, words: new Uint32Array(4)};
  const take = (i: number) => {
    const j = out.count++;
    out.family[j] = family[i];
    out.bits[j] = bits[i];
    for (let w = 0; w < 4; w++) out.words[j * 4 + w] = words[i * 4 + w];
  };
  // The lists side by side: an entry at the old list's next position (or the one after: an entry removed) is the same entry.
  // (Compared in the old texts decoded once, not cut out one by one.)
  const whole = old.entryBytes.toString('latin1');
  const offsets = old.entryOffsets;
  const holds = (i: number, text: string) => offsets[i + 1] - offsets[i] === text.length && whole.startsWith(text, offsets[i]);
  let i = 0;
  for (const text of texts) {
    if (i < n && holds(i, text)) take(i++);
    else if (i + 1 < n && holds(i + 1, text)) {
      take(i + 1);
      i += 2;
    } else {
      const p = scanPrefix(text, scanned);
      maskScanned(p);
      out.push(p.family, p.bits, p.words);
    }
  }
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A light check of the head: the checksum already vouches for the bytes; this keeps a foreign file from crashing a decision. */
function soundHead(head: unknown): head is Head {
  if (!isObject(head) || !isObject(head.settings) || !isObject(head.blocking) || !Array.isArray(head.keys)) return false;
  const {api, smtp} = head.blocking;
  if (!isObject(api) || !isObject(smtp) || typeof head.settings.learningWindowDays !== 'number') return false;
  if (typeof api.state !== 'string' || typeof smtp.state !== 'string') return false;
  return head.keys.every(
    (k) =>
      isObject(k) &&
      typeof k.name === 'string' &&
      typeof k.hash === 'string' &&
      typeof k.type === 'string' &&
      typeof k.status === 'string' &&
      Array.isArray(k.allow) &&
      k.allow.every((r) => isObject(r) && typeof r.entry === 'string' && (r.expiresAt === null || typeof r.expiresAt === 'string')),
  );
}

const sameIdentity = (a: unknown, b: StoreIdentity) =>
  isObject(a) && a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;

/**
 * Reads cache bytes; null unless they are a whole cache of this format and
 * schema, for the store file `store`, with their checksum and their index sound.
 */
export function decodeIndexCache(bytes: Buffer, store: StoreIdentity, now: Date): CachedPolicyData | null {
  if (bytes.length < PREFIX_BYTES || bytes.toString('latin1', 0, 8) !== MAGIC || bytes.readUInt32LE(8) !== CACHE_FORMAT) return null;
  const headerLength = bytes.readUInt32LE(12);
  if (PREFIX_BYTES + headerLength > bytes.length) return null;
  if (checksum(bytes) !== bytes.readUInt32LE(16)) return null;
  let header: Header;
  try {
    header = JSON.parse(bytes.toString('utf8', PREFIX_BYTES, PREFIX_BYTES + headerLength));
  } catch {
    return null;
  }
  if (!isObject(header) || !sameIdentity(header.store, store) || header.schema !== SCHEMA_VERSION || !soundHead(header.head)) return null;
  if (cacheLength(header, headerLength) !== bytes.length) return null;
  const lengths = sectionLengths(header);
  let at = PREFIX_BYTES + align8(headerLength);
  // Typed arrays need aligned offsets: a buffer from a pool may start anywhere.
  const buffer = bytes.byteOffset % 8 === 0 ? bytes : Buffer.from(new Uint8Array(bytes).buffer);
  const sections = lengths.map((length) => {
    const section = {offset: buffer.byteOffset + at, length};
    at += align8(length);
    return section;
  });
  const view = <T>(i: number, Type: {new (b: ArrayBufferLike, o: number, n: number): T; BYTES_PER_ELEMENT: number}) =>
    new Type(buffer.buffer, sections[i].offset, sections[i].length / Type.BYTES_PER_ELEMENT);
  const family = (first: number): FamilyArrays => ({
    starts: view(first, Uint32Array),
    ends: view(first + 1, Uint32Array),
    parents: view(first + 2, Int32Array),
    origin: view(first + 3, Int32Array),
    expires: view(first + 4, Float64Array),
    bits: view(first + 5, Uint8Array),
  });
  const arrays: IndexArrays = {v4: family(0), v6: family(6)};
  const offsets = view(12, Uint32Array);
  const textStart = sections[13].offset - buffer.byteOffset;
  if (offsets[0] !== 0 || offsets[header.entries] !== header.textBytes) return null;
  if (!nonDecreasing(offsets)) return null;
  if (!arraysAreSound(arrays, header.entries)) return null;
  const text = entryTexts(buffer, textStart, header.textBytes, offsets);
  const effects = view(14, Uint8Array);
  let anyDeny = false;
  for (let i = 0; i < effects.length; i++) {
    if (effects[i] > 1) return null;
    if (effects[i] === 1) anyDeny = true;
  }
  const {settings, blocking, keys} = header.head;
  return {
    data: {...emptyStore(now), settings, blocking, keys},
    account: new EntryIndex(CompiledIndex.fromArrays(arrays), text, anyDeny ? effects : null),
    entryText: text,
    entryBytes: buffer.subarray(textStart, textStart + header.textBytes),
    entryOffsets: offsets,
  };
}

/**
 * The largest cache a store of `storeBytes` can have: a cache holds less per
 * entry than the JSON does (at most about 90 bytes against at least 80 of
 * JSON), and its header is the store's head as compact JSON. Anything
 * larger is not keyward's (a link to /dev/zero, a huge file) and is not read.
 */
function maxCacheBytes(storeBytes: number): number {
  return 2 * storeBytes + (1 << 20);
}

/**
 * The bytes of the cache file, or null unless it is a regular file of at
 * most `limit` bytes. Opened without following a link and without blocking
 * (a FIFO put there must not hang `check`), then judged by its descriptor,
 * so what is judged is what is read.
 */
function readCacheFile(file: string, limit: number): Buffer | null {
  let fd: number;
  try {
    fd = openSync(file, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.size > limit) return null;
    const bytes = Buffer.allocUnsafe(stat.size);
    let filled = 0;
    while (filled < bytes.length) {
      const n = readSync(fd, bytes, filled, bytes.length - filled, filled);
      if (n === 0) return null;
      filled += n;
    }
    return bytes;
  } finally {
    closeSync(fd);
  }
}

/**
 * The file a store path stands for: a symbolic link's target (links
 * followed, as the writer writes through them), so that the cache is found
 * beside the file the writer wrote. Throws when there is no file.
 */
export function realStoreFile(store: string): string {
  return realpathSync.native(store);
}

/**
 * What a decision needs from the cache of `store`, or null when there is no
 * cache that provably belongs to the store file as it is now. Never throws.
 */
export function readIndexCache(store: string, now: Date): CachedPolicyData | null {
  try {
    const real = realStoreFile(store);
    const stat = statSync(real, {throwIfNoEntry: false});
    if (stat === undefined || !stat.isFile() || stat.size < MIN_STORE_BYTES || coarseTimes(stat)) return null;
    const bytes = readCacheFile(indexCacheFile(real), maxCacheBytes(stat.size));
    return bytes === null ? null : decodeIndexCache(bytes, identityOf(stat), now);
  } catch {
    return null;
  }
}

/**
 * Brings the cache in line with the store file just written from `data`:
 * written (atomically, 0600) for a large store, removed for a small one.
 * Called under the store's lock, with `written`: the store file's status
 * as its writer took it through its own descriptor after the rename, or
 * null when the writer could not vouch for it (see writeFileAtomic).
 *
 * Why the identity comes from the writer's descriptor: a look at the path
 * after the rename may see a file that replaced ours in the meantime (an
 * editor's save, `git checkout`), and a cache naming that file with our
 * data would be trusted until the next write. The descriptor sees only our
 * file. It is looked at after the rename, not before, because a rename sets
 * the file's change time, which readers compare; and the writer refuses to
 * vouch (null) when the size or modification time moved since it wrote,
 * which is what a write into our file in that gap does. What remains is a
 * same-size write into our file within the same clock tick as our own
 * write, the limit every comparison of times has, readers' included.
 *
 * With `previous` (the status of the store file the change read, when its
 * account list came out of the change as it was), the cache that named
 * that file lends its compiled sections: only its header is made anew.
 *
 * Never fails the write it follows: on any error the cache is removed, and
 * a cache that could not be removed does not match the new store file, so
 * no reader uses it.
 */
export async function writeIndexCache(
  store: string,
  data: StoreData,
  written: Stats | null,
  previous: Stats | null = null,
  read: Stats | null = null,
  added: EntryRecord | null = null,
): Promise<void> {
  const file = indexCacheFile(store);
  try {
    if (written === null || written.size < MIN_STORE_BYTES || coarseTimes(written)) {
      lastWritten = null;
      await fs.rm(file, {force: true});
      return;
    }
    // Loaded here: readers (check's fast path) never write.
    const {removeLeftovers, writeFileAtomic} = await import('./atomic.js');
    const lender = read === null ? null : (texts: readonly string[]) => wordsLentBy(file, read, texts);
    // A record added to the account list unread (see cacheWithEntryAdded): the list cannot be read to compile it whole.
    const withAdded = added === null ? null : previous && cacheWithEntryAdded(file, previous, data, identityOf(written), added);
    if (added !== null && withAdded === null) throw new Error('the cache of the file read could not take the record added');
    const reencoded = added === null && previous && reencodeIndexCache(file, previous, data, identityOf(written));
    const bytes = withAdded ?? (reencoded ? reencoded.bytes : encodeIndexCacheParts(data, identityOf(written), lender));
    lastWritten = null;
    await removeLeftovers(file);
    const cache = await writeFileAtomic(file, bytes, 0o600, {like: written});
    // What the next change in this process may take without reading it again (see lastWritten).
    if (reencoded && cache !== null) lastWritten = {file, cache: identityOf(cache), bytes: reencoded.bytes, store: identityOf(written), account: reencoded.account};
  } catch {
    lastWritten = null;
    await fs.rm(file, {force: true}).catch(() => undefined);
  }
}

/**
 * The compiled account list from the cache beside `real` (the store's real
 * file) when that cache is whole and names the store file of status `stat`
 * (taken through the descriptor the store was read from); else null. Never throws.
 */
export function compiledAccountFor(real: string, stat: Stats, now: Date): EntryIndex | null {
  try {
    if (!stat.isFile() || stat.size < MIN_STORE_BYTES || coarseTimes(stat)) return null;
    const known = cacheAsWritten(indexCacheFile(real), identityOf(stat));
    if (known !== null) return known.account;
    const file = indexCacheFile(real);
    const bytes = readCacheFile(file, maxCacheBytes(stat.size));
    const decoded = bytes === null ? null : decodeIndexCache(bytes, identityOf(stat), now);
    lastDecoded = decoded === null ? null : {file, store: identityOf(stat), bytes: bytes!, decoded};
    return decoded?.account ?? null;
  } catch {
    return null;
  }
}

/**
 * The cache compiledAccountFor last read and checked in this process: the
 * file, the store file it names, its bytes and what they hold. A change
 * that asked for the compiled list and adds an entry unread patches the
 * cache it decided from (see cacheWithEntryAdded), without reading and
 * checking it again.
 */
let lastDecoded: {file: string; store: StoreIdentity; bytes: Buffer; decoded: CachedPolicyData} | null = null;

/**
 * Whether the index cache beside `real` (the store's real file) names the
 * store file of status `stat` — the file the caller read, stat taken through
 * its own descriptor — as the file keyward wrote: then that file holds
 * exactly the canonical document keyward wrote and checked, and a reader may
 * skip checking it again. Only the cache's prefix and header are read (its
 * arrays and checksum are `check`'s business); the identity is the proof, as
 * for `check`: a hand edit, a copy, `git checkout` or a restore changes it.
 * A cache of another format or schema vouches for nothing. Never throws.
 */
export function cacheVouchesFor(real: string, stat: Stats): boolean {
  return vouchingHeader(real, stat) !== null;
}

/**
 * The account list's counts (see AccountCounts) from the cache beside `real`
 * when that cache vouches for the store file of status `stat` (see
 * cacheVouchesFor), holds them and is whole: unlike the identity, the
 * counts are an answer (`status` shows them), so the head's own checksum
 * must hold (a header damaged on disk must not change what `status` says)
 * and the file must be as long as its header says (a cache cut short is
 * not used), as `check` would find it. Only the head is read: the checksum
 * of the whole, over the compiled list's megabytes, is `check`'s business.
 * Else null. Never throws.
 */
export function vouchedAccountCounts(real: string, stat: Stats): AccountCounts | null {
  const head = vouchingHead(real, stat);
  if (head === null || headChecksum(head.prefix, head.bytes) !== head.prefix.readUInt32LE(20)) return null;
  const h = head.header;
  return cacheLength(h, head.bytes.length) === head.size && soundCounts(h.counts) ? h.counts : null;
}

/** Whether a cache may vouch for a store file of status `stat` at all: a regular file large enough to have one, its times finer than seconds. */
function mayVouch(stat: Stats): boolean {
  return stat.isFile() && stat.size >= MIN_STORE_BYTES && !coarseTimes(stat);
}

/** The header of the cache beside `real` when it vouches for the store file of status `stat` (see cacheVouchesFor); else null. */
function vouchingHeader(real: string, stat: Stats): Record<string, unknown> | null {
  return vouchingHead(real, stat)?.header ?? null;
}

/**
 * The head of the cache beside `real` (its prefix, its header's bytes and
 * the header, and the cache's size) when the cache vouches for the store file
 * of status `stat` (see cacheVouchesFor); else null. Never throws.
 */
function vouchingHead(real: string, stat: Stats): {prefix: Buffer; bytes: Buffer; header: Record<string, unknown>; size: number} | null {
  if (!mayVouch(stat)) return null;
  let fd: number;
  try {
    fd = openSync(indexCacheFile(real), fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const cache = fstatSync(fd);
    if (!cache.isFile() || cache.size < PREFIX_BYTES || cache.size > maxCacheBytes(stat.size)) return null;
    const prefix = Buffer.alloc(PREFIX_BYTES);
    if (readSync(fd, prefix, 0, PREFIX_BYTES, 0) !== PREFIX_BYTES) return null;
    const length = prefix.readUInt32LE(12);
    if (PREFIX_BYTES + length > cache.size) return null;
    const bytes = Buffer.alloc(length);
    if (readSync(fd, bytes, 0, length, PREFIX_BYTES) !== length) return null;
    const header = vouchingHeaderOf(prefix, bytes, stat);
    return header === null ? null : {prefix, bytes, header, size: cache.size};
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** The header (its bytes after the cache's `prefix`) when the prefix is keyward's and the header names the store file of status `stat`; else null. */
function vouchingHeaderOf(prefix: Buffer, header: Buffer, stat: Stats): Record<string, unknown> | null {
  if (prefix.toString('latin1', 0, 8) !== MAGIC || prefix.readUInt32LE(8) !== CACHE_FORMAT) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(header.toString('utf8'));
  } catch {
    return null;
  }
  return isObject(parsed) && parsed.schema === SCHEMA_VERSION && sameIdentity(parsed.store, identityOf(stat)) ? parsed : null;
}
