/**
 * The store's single-change and status paths (issue 15, round 2): a change
 * of a few account records to a store keyward wrote splices the list's text
 * and takes the new cache's words from the old cache; `status` counts the
 * account list from the cache's header and cuts the rest of the file apart.
 * Each is held to the slow path: the same change to the document read and
 * checked whole writes the same bytes, and its cache is the one encoded
 * from scratch; status reads what a full read reads. And hostile files: a
 * hand edit of the same size with its modification time put back, a cut
 * file, a missing cache.
 */
import {closeSync, existsSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync, writeSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {expect} from 'chai';
import fc from 'fast-check';

import {scanDecisionAddress} from '../../src/core/address.js';
import {authorize, deny} from '../../src/core/authorize.js';
import {parseEntries} from '../../src/core/entry-parse.js';
import {newKeyRecord} from '../../src/core/keys.js';
import {appendHistory, diffStore, snapshot} from '../../src/core/history.js';
import {EventLog, learn} from '../../src/core/learning.js';
import {accountUnread, emptyStore, StoreData} from '../../src/core/model.js';
import {statusJson} from '../../src/core/reports.js';
import {newSecret} from '../../src/core/secret.js';
import {decodeIndexCache, encodeIndexCache, identityOf, indexCacheFile, MIN_STORE_BYTES, takenAsWritten} from '../../src/store/index-cache.js';
import {readStore, readStoreSummary, StoreError} from '../../src/store/read.js';
import {documentText, validate} from '../../src/store/schema.js';
import {lastChange, updateStore} from '../../src/store/store.js';
import type {EntryIndex} from '../../src/core/decision.js';
import {at, cacheHeader, cacheRows, forgeCacheHeader, ipv4, NOW, randomStore} from './random-store.js';

const DAY = 86_400_000;

/** One change of the kinds a command makes to the account list (or not), as a value fast-check can make and show. */
type Change =
  | {kind: 'authorize'; entries: string[]; label: string | null; expires: number | null; group: string | null}
  | {kind: 'deny'; entry: string}
  | {kind: 'relabel'; position: number; label: string}
  | {kind: 'replace'; position: number; expires: number}
  | {kind: 'remove'; position: number}
  | {kind: 'copy'; position: number}
  | {kind: 'learn'; first: number};

const entryText = fc.oneof(
  fc.integer({min: 0, max: 0xffffffff}).map((n) => ipv4(n >>> 0)),
  fc.tuple(fc.integer({min: 0, max: 0xffffff}), fc.integer({min: 8, max: 32})).map(([n, bits]) => {
    const mask = bits === 32 ? 0xffffffff : ~(0xffffffff >>> bits);
    return `${ipv4(((0x0a000000 | n) & mask) >>> 0)}/${bits}`;
  }),
  fc.integer({min: 0, max: 65535}).map((n) => `2001:db8:${n.toString(16)}::/48`),
);

const change: fc.Arbitrary<Change> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('authorize' as const),
      entries: fc.array(entryText, {minLength: 1, maxLength: 3}),
      label: fc.option(fc.string()),
      expires: fc.option(fc.integer({min: -5, max: 5})),
      group: fc.option(fc.constantFrom('g0', 'g1', 'new')),
    }),
  },
  fc.record({kind: fc.constant('deny' as const), entry: entryText}),
  fc.record({kind: fc.constant('relabel' as const), position: fc.nat(), label: fc.string()}),
  fc.record({kind: fc.constant('replace' as const), position: fc.nat(), expires: fc.integer({min: -5, max: 5})}),
  fc.record({kind: fc.constant('remove' as const), position: fc.nat()}),
  fc.record({kind: fc.constant('copy' as const), position: fc.nat()}),
  fc.record({kind: fc.constant('learn' as const), first: fc.nat({max: 1_000_000})}),
);

/** Applies `c` to `data` in place, as the command would (an authorize or deny a list refuses leaves it as it was). */
function apply(data: StoreData, c: Change): void {
  const batch = (texts: string[]) =>
    parseEntries(
      texts.map((text) => ({text, label: null, where: 'test', source: 'manual' as const})),
      {force: true},
    );
  const pick = (n: number) => n % data.account.length;
  switch (c.kind) {
    case 'authorize':
      try {
        authorize(data, batch(c.entries), {label: c.label, expiresAt: c.expires === null ? null : at(c.expires), group: c.group, now: NOW});
      } catch {
        // Refused (an entry the list holds as a deny entry): nothing changed.
      }
      return;
    case 'deny':
      try {
        deny(data, batch([c.entry]), {label: null, expiresAt: null, now: NOW});
      } catch {
        // Refused: nothing changed.
      }
      return;
    case 'relabel':
      data.account[pick(c.position)].label = c.label;
      return;
    case 'replace':
      data.account[pick(c.position)] = {...data.account[pick(c.position)], expiresAt: at(c.expires)};
      return;
    case 'remove':
      data.account.splice(pick(c.position), 1);
      return;
    case 'copy':
      // A second record of an entry the list holds, appended (a hand-made list can hold one): it sorts after the first.
      data.account.push({...data.account[pick(c.position)], label: 'copy'});
      return;
    case 'learn': {
      const log = new EventLog();
      const words = new Uint32Array(4);
      log.add('api', scanDecisionAddress(ipv4(0x50000000 + c.first), words), words, NOW.getTime());
      learn(data, log, {settings: {}, strict: false, now: NOW});
    }
  }
}

/**
 * A hand edit of `file` in place: the first `from` made `to` (the same
 * number of bytes), its modification time put back, as an editor that keeps
 * times (or `touch -r`) leaves it: only the change time tells. Returns
 * where (in characters) the edit is.
 */
function sameSizeEdit(file: string, from: string, to: string): number {
  const before = statSync(file);
  const text = readFileSync(file, 'utf8');
  const at = text.indexOf(from);
  expect(Buffer.byteLength(to)).to.equal(Buffer.byteLength(from));
  const fd = openSync(file, 'r+');
  writeSync(fd, to, Buffer.byteLength(text.slice(0, at)));
  closeSync(fd);
  utimesSync(file, before.atime, before.mtime);
  expect(statSync(file).size).to.equal(before.size);
  return at;
}

describe('store: single changes and status without the whole account list (issue 15)', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'keyward-single-'));
  });
  afterEach(() => rmSync(dir, {recursive: true, force: true}));

  it('writes the bytes the slow path writes, and the cache encoded from scratch, for random changes to random stores', async () => {
    let spliced = 0;
    let uncompared = 0;
    let taken = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer(), fc.array(change, {minLength: 3, maxLength: 3}), async (seed, changes) => {
        const file = path.join(dir, `store-${seed}.json`);
        rmSync(file, {force: true});
        await updateStore(file, NOW, (data) => Object.assign(data, randomStore(seed)));
        expect(statSync(file).size).to.be.at.least(MIN_STORE_BYTES);
        // A new entry, a record changed in place and a copy appended first: every run takes the spliced path for each.
        const first: Change[] = [
          {kind: 'authorize', entries: ['198.51.100.7'], label: null, expires: null, group: null},
          {kind: 'relabel', position: seed >>> 1, label: 'relabelled'},
          {kind: 'copy', position: seed >>> 2},
        ];
        for (const c of [...first, ...changes]) {
          // The slow path: the file read and checked whole, the same change, its canonical text.
          const expected = validate(JSON.parse(readFileSync(file, 'utf8')));
          apply(expected, c);
          const text = (await documentText(expected)).join('');
          let changed: StoreData | null = null;
          await updateStore(file, NOW, (data) => {
            apply(data, c);
            changed = data;
          });
          expect(lastChange.trusted, 'a file keyward wrote is trusted').to.equal(true);
          if (lastChange.reused.includes('account spliced')) spliced++;
          if (lastChange.uncompared > 0) uncompared++;
          if (lastChange.bytesTaken > statSync(file).size / 2) taken++;
          expect(readFileSync(file, 'utf8') === text, `${JSON.stringify(c)} (reused ${lastChange.reused.join(', ')})`).to.equal(true);
          // The cache names the new file and holds what encoding the data from scratch gives (no words lent, no header reused),
          // its entries perhaps at other positions (a reused cache keeps the order of the change that compiled it).
          const identity = identityOf(statSync(file));
          const written = readFileSync(indexCacheFile(file));
          expect(cacheRows(written, identity), `cache after ${JSON.stringify(c)}`).to.deep.equal(cacheRows(encodeIndexCache(changed!, identity), identity));
          expect(cacheHeader(written)).to.deep.equal(cacheHeader(encodeIndexCache(changed!, identity)));
        }
      }),
      // (No shrinking: each run writes a 1 MiB store several times; the failing change is named in the message.)
      {numRuns: 2, endOnFailure: true},
    );
    expect(spliced).to.be.at.least(6);
    // The spliced list's text before the first change is the file's own: not compared again.
    expect(uncompared).to.be.at.least(6);
    // And written as the file's own bytes, not encoded again (most of the file: the account list).
    expect(taken).to.be.at.least(6);
  });

  it('status reads what a full read reads, at any time (expiries passing), and a hand edit, a cut file or a missing cache are read whole', async () => {
    const file = path.join(dir, 'store.json');
    await updateStore(file, NOW, (data) => Object.assign(data, randomStore(7)));
    // The blocked and seen lists, and a history, so that every member after the account list is there.
    await updateStore(file, NOW, (data) => {
      apply(data, {kind: 'learn', first: 1});
      data.history = [
        {
          at: NOW.toISOString(),
          command: 'test',
          flags: [],
          user: 'u',
          changes: {counts: {added: 0, removed: 0, updated: 0}, entries: [], keys: [], blocking: [], blocked: {added: 0, removed: 0}, settings: []},
        },
      ];
    });
    const same = async (when: Date, why: string) => {
      const {data, account} = await readStoreSummary(file);
      const full = await readStore(file);
      expect(statusJson(data, file, when, account ?? undefined), why).to.deep.equal(statusJson(full, file, when));
      return account;
    };
    for (const days of [-20, 0, 1, 3, 400]) {
      expect(await same(new Date(NOW.getTime() + days * DAY), `${days} days on`), 'counted by the cache').to.not.equal(null);
    }
    const full = await readStore(file);
    expect(full.account.filter((r) => r.source === 'learned').length).to.be.greaterThan(0);

    // A hand edit of the same size, its modification time put back: the cache no longer vouches for the file, which is read whole.
    sameSizeEdit(file, '"source": "learned",', '"source": "manual" ,');
    expect(await same(NOW, 'hand edit'), 'read whole').to.equal(null);
    const edited = await readStoreSummary(file);
    expect(edited.data.account.filter((r) => r.source === 'learned').length).to.equal(full.account.filter((r) => r.source === 'learned').length - 1);

    // Written again by keyward (vouched), then the cache removed: read whole, same answer.
    await updateStore(file, NOW, (data) => {
      data.account[0].label = 'again';
    });
    expect(await same(NOW, 'vouched')).to.not.equal(null);
    rmSync(indexCacheFile(file));
    expect(await same(NOW, 'no cache'), 'read whole').to.equal(null);

    // A cut file: the error of a corrupt store (exit 3), never an answer from the cache.
    await updateStore(file, NOW, (data) => {
      data.account[0].label = 'and again';
    });
    expect(await same(NOW, 'vouched')).to.not.equal(null);
    const whole = readFileSync(file);
    writeFileSync(file, whole.subarray(0, whole.length - 100));
    const error = await readStoreSummary(file).catch((e: Error) => e);
    expect(error).to.be.instanceOf(Error);
    expect((error as Error).message).to.match(/corrupt/);
  });
  it('refuses a store too large to be one string (over 512 MiB) as a store error, not an internal one, before reading it', async function () {
    // (A sparse file: refused by its size, it is never read, so the test needs no memory for it.)
    const file = path.join(dir, 'huge.json');
    const fd = openSync(file, 'w');
    ftruncateSync(fd, 513 * 2 ** 20);
    closeSync(fd);
    // The store reader's test pause after its read (see test-pause.ts), resumed in advance: its mark says whether the file was read.
    const pause = mkdtempSync(path.join(os.tmpdir(), 'keyward-pause-'));
    writeFileSync(path.join(pause, 'resume'), '');
    process.env.KEYWARD_TEST_PAUSE_STORE_READ = pause;
    try {
      const error = await readStore(file).catch((e: Error) => e);
      expect(error).to.be.instanceOf(StoreError);
      expect((error as Error).message).to.match(/is too large to read \(537919488 bytes/);
      expect(existsSync(path.join(pause, 'read')), 'the file was read before it was refused').to.equal(false);
    } finally {
      delete process.env.KEYWARD_TEST_PAUSE_STORE_READ;
      rmSync(file);
      rmSync(pause, {recursive: true, force: true});
    }
  });

  it("status takes no counts from a cache whose head is damaged on disk (the head's checksum fails) or that is cut short or too long: the file is read whole", async () => {
    const file = path.join(dir, 'store.json');
    await updateStore(file, NOW, (data) => Object.assign(data, randomStore(7)));
    const cache = indexCacheFile(file);
    const whole = readFileSync(cache);
    expect((await readStoreSummary(file)).account, 'counted by the cache').to.not.equal(null);
    const flipped = (at: number) => {
      const bytes = Buffer.from(whole);
      bytes[at] = bytes[at] === 0x39 ? 0x38 : bytes[at] ^ 1;
      return bytes;
    };
    const records = whole.indexOf('"records":') + '"records":'.length;
    const headerLength = whole.readUInt32LE(12);
    const unread = [flipped(records), flipped(12), flipped(20), flipped(48 + headerLength - 1), whole.subarray(0, whole.length - 8), Buffer.concat([whole, Buffer.alloc(8)])];
    for (const bytes of unread) {
      writeFileSync(cache, bytes);
      const {data, account} = await readStoreSummary(file);
      expect(account, 'read whole').to.equal(null);
      expect(statusJson(data, file, NOW)).to.deep.equal(statusJson(await readStore(file), file, NOW));
    }
    // A header whose sizes do not add up (8 entries more than its families hold, 40 bytes less of text: the same length
    // in all), both checksums made anew: check refuses such a cache, and status takes no counts from it either.
    const identity = identityOf(statSync(file));
    expect(decodeIndexCache(whole, identity, NOW), 'the cache as written').to.not.equal(null);
    const header = JSON.parse(whole.toString('utf8', 48, 48 + headerLength));
    const shifts = [
      [8, -40],
      [-8, 40],
    ].map(([entries, text]) => JSON.stringify({...header, entries: header.entries + entries, textBytes: header.textBytes + text}));
    const fitting = shifts.find((text) => text.length <= headerLength && header.entries >= 8 && header.textBytes >= 40);
    expect(fitting, 'a forged header as long as the real one').to.be.a('string');
    const forged = forgeCacheHeader(whole, fitting!);
    expect(decodeIndexCache(forged, identity, NOW), 'check refuses it').to.equal(null);
    writeFileSync(cache, forged);
    expect((await readStoreSummary(file)).account, 'read whole').to.equal(null);
    // Damage past the head (the compiled list: check's part, where the checksum of the whole fails) leaves the counts sound.
    for (const at of [whole.length - 1, 48 + headerLength + 64, 16]) {
      writeFileSync(cache, flipped(at));
      const {data, account} = await readStoreSummary(file);
      expect(account, `counted by the cache's head (byte ${at} flipped)`).to.not.equal(null);
      expect(statusJson(data, file, NOW, account ?? undefined)).to.deep.equal(statusJson(await readStore(file), file, NOW));
    }
    writeFileSync(cache, whole);
    expect((await readStoreSummary(file)).account).to.not.equal(null);
  });

  it('status reads the members after the account list when they are larger than its first read of the end (1 MiB)', async () => {
    const file = path.join(dir, 'store.json');
    await updateStore(file, NOW, (data) => Object.assign(data, randomStore(7)));
    await updateStore(file, NOW, (data) => {
      data.seen = Array.from({length: 9000}, (_, i) => ({
        ip: `198.18.${i >> 8}.${i & 255}`,
        channel: 'api' as const,
        keys: [data.keys[0]?.name ?? 'k'],
        firstSeen: NOW.toISOString(),
        lastSeen: NOW.toISOString(),
        count: i + 1,
      }));
    });
    const text = readFileSync(file, 'utf8');
    expect(Buffer.byteLength(text.slice(text.indexOf('\n  "keys": ['))), 'after the account list').to.be.above(1 << 20);
    const {data, account} = await readStoreSummary(file);
    expect(account, 'counted by the cache, not read whole').to.not.equal(null);
    expect(statusJson(data, file, NOW, account ?? undefined)).to.deep.equal(statusJson(await readStore(file), file, NOW));
  });

  it("a follow's next commit takes the cache this process wrote, and reads and checks one changed under it (same size, time put back)", async () => {
    const file = path.join(dir, 'store.json');
    await updateStore(file, NOW, (data) => Object.assign(data, randomStore(5)));
    // Each commit leaves the account list as it was (as a follow commit of an address on the blocked list does).
    const commit = async (days: number) => {
      let compiled: EntryIndex | null = null;
      let changed: StoreData | null = null;
      await updateStore(file, NOW, (data, context) => {
        compiled = context.compiledAccount(NOW);
        // A member after the account list (as a follow commit changes the blocked and seen lists): the list's text is compared.
        data.history = [
          ...(data.history ?? []),
          {
            at: NOW.toISOString(),
            command: `commit ${days}`,
            flags: [],
            user: 'u',
            changes: {counts: {added: 0, removed: 0, updated: 0}, entries: [], keys: [], blocking: [], blocked: {added: 0, removed: 0}, settings: []},
          },
        ];
        changed = data;
      });
      // The account list's text (over 1 MiB) is the file's own, where the comparison stands: not compared again.
      expect(lastChange.uncompared, 'not compared').to.be.greaterThan(1 << 20);
      const identity = identityOf(statSync(file));
      const written = readFileSync(indexCacheFile(file));
      expect(cacheRows(written, identity), `cache after commit ${days}`).to.deep.equal(cacheRows(encodeIndexCache(changed!, identity), identity));
      expect(cacheHeader(written)).to.deep.equal(cacheHeader(encodeIndexCache(changed!, identity)));
      return compiled as EntryIndex | null;
    };
    const rows = (index: EntryIndex) => Array.from(index.compiled.arrays.v4.starts).join(',') + Array.from(index.compiled.arrays.v6.origin).join(',');
    await commit(3);
    const fromDisk = decodeIndexCache(readFileSync(indexCacheFile(file)), identityOf(statSync(file)), NOW)!.account;
    const taken = takenAsWritten.count;
    const second = await commit(4);
    expect(takenAsWritten.count - taken, 'taken as written: no read').to.equal(2);
    expect(second, 'the compiled list of the cache written').to.not.equal(null);
    expect(rows(second!)).to.equal(rows(fromDisk));
    // The cache changed in place (a byte of its arrays), same size, its modification time put back: read, found broken, not used.
    const cache = indexCacheFile(file);
    const before = statSync(cache);
    const bytes = readFileSync(cache);
    const fd = openSync(cache, 'r+');
    writeSync(fd, Buffer.from([bytes[bytes.length - 200] ^ 1]), 0, 1, bytes.length - 200);
    closeSync(fd);
    utimesSync(cache, before.atime, before.mtime);
    const third = takenAsWritten.count;
    expect(await commit(5), 'a cache that is not the one written is read and checked').to.equal(null);
    expect(takenAsWritten.count).to.equal(third);
    // And the cache written then is taken again by the next commit.
    expect(await commit(6)).to.not.equal(null);
    expect(takenAsWritten.count - third).to.equal(0);
  });

  it('a reader parses the account list apart from the rest (a one-byte string when it is ASCII): the data a whole parse gives', async () => {
    for (const [name, ascii] of [
      ['ascii.json', true],
      ['unicode.json', false],
    ] as const) {
      const file = path.join(dir, name);
      await updateStore(file, NOW, (data) => {
        Object.assign(data, randomStore(5));
        // Non-ASCII text elsewhere all the same: a key's hint ("a1b2…9f0e") and a history record.
        if (ascii) for (const r of data.account) if (r.label !== null) r.label = r.label.replace(/[^\x00-\x7f]/g, '?');
        appendHistory(data, [{at: NOW.toISOString(), command: 'authorize', flags: [], user: 'zoë', changes: diffStore(snapshot(emptyStore(NOW)), data)!}]);
      });
      const bytes = readFileSync(file);
      expect(bytes.length, 'over 1 MiB: its cache vouches for it').to.be.greaterThan(MIN_STORE_BYTES);
      const list = bytes.subarray(bytes.indexOf('"account": '), bytes.indexOf('\n  "keys": '));
      expect(
        list.every((b) => b < 0x80),
        `${name}: the account list ASCII`,
      ).to.equal(ascii);
      expect(
        bytes.some((b) => b >= 0x80),
        `${name}: non-ASCII elsewhere`,
      ).to.equal(true);
      expect(JSON.stringify(await readStore(file)), name).to.equal(JSON.stringify(JSON.parse(bytes.toString('utf8'))));
    }
  });

  it('a follow commit on a file its cache vouches for but not laid out as keyward writes (no reuse to write the list through) reads it whole: nothing lost', async () => {
    const file = path.join(dir, 'odd-layout.json');
    await updateStore(file, NOW, (data) => void Object.assign(data, randomStore(13)));
    // The same document with a trailing space after its last line: its account list is cut apart as keyward's is, but its
    // text offers no reuse (documentReuse wants the text to end "\n}\n"). A cache made for it vouches for it all the same.
    writeFileSync(file, `${readFileSync(file, 'utf8')} `);
    const data = JSON.parse(readFileSync(file, 'utf8')) as StoreData;
    writeFileSync(indexCacheFile(file), encodeIndexCache(data, identityOf(statSync(file))));
    const before = readFileSync(file, 'utf8');
    await updateStore(
      file,
      NOW,
      (store) => {
        expect(accountUnread(store), 'read whole, not deferred').to.equal(false);
        store.seen.push({ip: '203.0.113.77', keys: ['api'], channel: 'api', firstSeen: NOW.toISOString(), lastSeen: NOW.toISOString(), count: 1});
      },
      {deferAccount: true},
    );
    expect(lastChange.undecoded, 'no list written undecoded').to.equal(0);
    const after = validate(JSON.parse(readFileSync(file, 'utf8')));
    expect(after.account).to.deep.equal(data.account);
    expect(after.seen.map((r) => r.ip)).to.include('203.0.113.77');
    expect(readFileSync(file, 'utf8')).to.not.equal(before);
  });

  /** The length in bytes of a member's value in a store file keyward wrote (0 when it has none). */
  const memberBytes = (bytes: Buffer, name: string) => {
    const line = `\n  "${name}": `;
    if (bytes.indexOf(line) === -1) return 0;
    const start = bytes.indexOf(line) + line.length;
    const next = bytes.indexOf('\n  "', start);
    return (next === -1 ? bytes.length - 3 : next - 1) - start;
  };
  const accountBytes = (bytes: Buffer) => memberBytes(bytes, 'account');

  it('a learn commit with the account list read only when asked for writes what a whole read writes, and reads it only when learning adds to it', async () => {
    const deferred = path.join(dir, 'deferred.json');
    const whole = path.join(dir, 'whole.json');
    // A key with no list of its own: its callers are learned while learning.
    await updateStore(deferred, NOW, (data) => Object.assign(data, randomStore(9)).keys.push(newKeyRecord('open', 'api', newSecret(), NOW)));
    // The same bytes at both paths, each a file keyward wrote (a change that changes nothing writes the cache of a canonical file).
    writeFileSync(whole, readFileSync(deferred));
    await updateStore(whole, NOW, () => undefined);
    const commit = async (file: string, first: number, learning: boolean, deferAccount: boolean) => {
      let unread = false;
      await updateStore(
        file,
        NOW,
        (data, context) => {
          // As learn --follow commits: the history's snapshot and diff around the change, the compiled list from the cache.
          data.blocking.api.state = learning ? 'learning' : 'active';
          const before = snapshot(data);
          const log = new EventLog();
          const words = new Uint32Array(4);
          for (let i = 0; i < 3; i++) log.add('open', scanDecisionAddress(ipv4(0x50000000 + first + i * 256), words), words, NOW.getTime());
          learn(data, log, {settings: {}, strict: false, now: NOW, account: context.compiledAccount(NOW)});
          unread = accountUnread(data);
          const changes = diffStore(before, data);
          if (changes !== null) appendHistory(data, [{at: NOW.toISOString(), command: 'learn', flags: ['follow'], user: 'u', changes}]);
        },
        {deferAccount},
      );
      return {unread, reused: lastChange.reused, trusted: lastChange.trusted, undecoded: lastChange.undecoded, appended: lastChange.appendedUnread};
    };
    for (const [round, learning] of [false, false, true, false, true].entries()) {
      const first = 1000 * round;
      const read = readFileSync(deferred);
      const fast = await commit(deferred, first, learning, true);
      const slow = await commit(whole, first, learning, false);
      expect(fast.trusted && slow.trusted, 'files keyward wrote').to.equal(true);
      expect(readFileSync(deferred).equals(readFileSync(whole)), `round ${round} (learning: ${learning})`).to.equal(true);
      const cached = (file: string) => cacheRows(readFileSync(indexCacheFile(file)), identityOf(statSync(file)));
      expect(cached(deferred), `round ${round}: the cache`).to.deep.equal(cached(whole));
      // Blocking on: the addresses go to the blocked and seen lists; the account list is never read, nor decoded, and
      // written as the file's bytes. Learning adds to it: it is read, and spliced from its text (not written the long way).
      expect(fast.unread, `round ${round}: account list unread`).to.equal(!learning);
      if (!learning) expect(fast.reused).to.include('account');
      // The history (once there is one) is appended to unread, its text cut and added to: never decoded either.
      expect(fast.appended, `round ${round}: history appended unread`).to.equal(memberBytes(read, 'history') > 0);
      expect(fast.undecoded, `round ${round}: the lists' bytes taken undecoded`).to.equal((learning ? 0 : accountBytes(read)) + memberBytes(read, 'history'));
      if (learning) expect(fast.reused).to.include('account spliced');
    }
    const history = (await readStore(deferred)).history ?? [];
    expect(history.filter((r) => r.command === 'learn' && r.changes.counts.added > 0).length, 'learned entries in the history').to.equal(2);

    // A hand edit of the account list, same size, its modification time put back: the cache no longer vouches for the
    // file, so the commit reads and checks it whole (the list is not left unread), and the edit is kept.
    const at = sameSizeEdit(deferred, '"source": "import"', '"source": "manual"');
    const edited = await commit(deferred, 9000, false, true);
    expect(edited.trusted, 'not taken as keyward wrote it').to.equal(false);
    expect(edited.unread, 'the list read whole').to.equal(false);
    expect(readFileSync(deferred, 'utf8').slice(0, at + 40)).to.include('"source": "manual"');
  });
});
