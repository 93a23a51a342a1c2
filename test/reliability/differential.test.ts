/**
 * Differential test of decisions end to end: random stores (expiring
 * entries, some expired at KEYWARD_NOW or exactly at it, learned entries,
 * key lists, deny entries and disabled entries in both kinds of list, revoked
 * keys, SMTP keys, IPv6, 4-in-6 probes) written by hand
 * in random formatting or by keyward itself, with random replacements of
 * the store file between commands (a new file renamed over the path, a
 * rewrite in place of the same size, removal and a fresh file as `git
 * checkout` does). After every change, `check` through bin/run.js's fast
 * path and through oclif (KEYWARD_NO_FAST_PATH=1) must both give, for every
 * probe, what an oracle written here from SPEC "Decisions" gives, with
 * ipaddr.js for addresses (nothing of src/ is imported). Large stores
 * (over 1 MiB, padded with entries no probe touches) get keyward's index
 * cache when keyward writes them, so decisions go through the cache too,
 * and through a cache gone stale by a replacement.
 *
 * The oracle's blocking state is the stored state; learning stores are
 * well inside their window. Bounded: 2 rounds of 3 steps by default, 20
 * rounds with KEYWARD_LONG_TESTS=1; KEYWARD_TEST_SEED repeats a run.
 */
import {existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync} from 'node:fs';

import {expect} from 'chai';
import ipaddr from 'ipaddr.js';

import {NOW, RunResult, Workspace} from '../cli/harness.js';
import {runSeed, scale, seeded} from './helpers.js';

const DAY = 86_400_000;
const MIB = 1 << 20;

type Random = () => number;
const int = (random: Random, n: number) => Math.floor(random() * n);
const pick = <T>(random: Random, items: readonly T[]): T => items[int(random, items.length)];
function shuffle<T>(random: Random, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = int(random, i + 1);
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

// ---- addresses, with ipaddr.js -------------------------------------------

type Parsed = ipaddr.IPv4 | ipaddr.IPv6;

/** The network of `address`/`bits`, in the canonical entry text SPEC "Machine output" gives (no prefix for a single address). */
function entryText(address: Parsed, bits: number): string {
  const bytes = address.toByteArray();
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    bytes[i] &= (0xff << (8 - keep)) & 0xff;
  }
  const network = ipaddr.fromByteArray(bytes);
  const text = network.kind() === 'ipv6' ? (network as ipaddr.IPv6).toRFC5952String() : network.toString();
  return bits === bytes.length * 8 ? text : `${text}/${bits}`;
}

/** A random address in the small spaces entries and probes share, so that they nest and meet. */
function randomAddress(random: Random): Parsed {
  if (random() < 0.7) return ipaddr.parse(`10.${int(random, 2)}.${int(random, 4)}.${int(random, 256)}`);
  return ipaddr.parse(`2001:db8:0:${int(random, 2).toString(16)}::${int(random, 3).toString(16)}:${int(random, 65536).toString(16)}`);
}

function randomEntry(random: Random): string {
  const address = randomAddress(random);
  const bits = address.kind() === 'ipv4' ? 18 + int(random, 15) : 60 + int(random, 69);
  return entryText(address, bits);
}

/** The oracle's membership: an IPv4-mapped IPv6 address is its IPv4 address (SPEC "Addresses"). */
function contains(entry: string, probe: string): boolean {
  const address = ipaddr.process(probe);
  const [network, bits] = entry.includes('/') ? ipaddr.parseCIDR(entry) : [ipaddr.parse(entry), entry.includes(':') ? 128 : 32];
  return address.kind() === network.kind() && address.match(network, bits);
}

const bitsOf = (entry: string) => (entry.includes('/') ? Number(entry.split('/')[1]) : entry.includes(':') ? 128 : 32);

// ---- stores --------------------------------------------------------------

interface Entry {
  entry: string;
  source: string;
  label: string | null;
  addedAt: string;
  expiresAt: string | null;
  effect?: 'deny';
  enabled?: false;
}

/** An expiry around `now`: none, long past, long ahead, a millisecond either side, or exactly now. */
function randomExpiry(random: Random, now: number): string | null {
  const r = random();
  if (r < 0.45) return null;
  const offsets = [-30 * DAY, -DAY, -1, 0, 1, DAY, 30 * DAY, -int(random, 40) * DAY - 1000, int(random, 40) * DAY + 1000];
  return new Date(now + pick(random, offsets)).toISOString();
}

function randomEntries(random: Random, count: number, now: number): Entry[] {
  const seen = new Set<string>();
  const entries: Entry[] = [];
  while (entries.length < count) {
    const text = randomEntry(random);
    if (seen.has(text)) continue;
    seen.add(text);
    const learned = random() < 0.2;
    entries.push({
      entry: learned && !text.includes(':') ? entryText(ipaddr.parse(text.split('/')[0]), 24) : text,
      source: learned ? 'learned' : pick(random, ['manual', 'import', 'blocked']),
      label: random() < 0.5 ? `label ${int(random, 1000)}` : null,
      addedAt: new Date(now - 3 * DAY).toISOString(),
      expiresAt: randomExpiry(random, now),
      ...(random() < 0.2 ? {effect: 'deny' as const} : {}),
      ...(random() < 0.15 ? {enabled: false as const} : {}),
    });
    if (learned) seen.add(entries[entries.length - 1].entry);
  }
  // A learned /24 may repeat a random entry: keep the first of each text.
  return entries.filter((e, i) => entries.findIndex((f) => f.entry === e.entry) === i);
}

/** Entries in 100.64.0.0/10, which no probe is in: they make a store large without changing a decision. */
function paddingEntries(count: number, now: number): Entry[] {
  return Array.from({length: count}, (_, i) => ({
    entry: `100.${64 + ((i >> 16) & 63)}.${(i >> 8) & 255}.${i & 255}`,
    source: 'import',
    label: `padding, so that the store gets an index cache: ${i}`,
    addedAt: new Date(now - 3 * DAY).toISOString(),
    expiresAt: null,
  }));
}

/**
 * `entries` with one enabled deny entry that never expires at least (one made so when there is none): every store then
 * decides some probe "denied" (see probesFor), in place edits of its expiries included. (Without it, no store of a run had a
 * live deny entry in about 1 run in 40: KEYWARD_TEST_SEED=46 and 62 failed.)
 */
function withLiveDeny(random: Random, entries: Entry[]): Entry[] {
  if (entries.some((e) => e.effect === 'deny' && e.enabled !== false && e.expiresAt === null)) return entries;
  const chosen = entries[int(random, entries.length)];
  const made: Entry = {...chosen, source: 'manual', expiresAt: null, effect: 'deny'};
  delete made.enabled;
  entries[entries.indexOf(chosen)] = made;
  return entries;
}

const KEY_NAMES = ['alpha', 'bravo', 'relay', 'mail', 'old', 'x-1'];

function randomStore(random: Random, now: number, large: boolean): any {
  const api = pick(random, ['learning', 'active', 'active', 'inactive']);
  const keys = shuffle(random, [...KEY_NAMES])
    .slice(0, 4 + int(random, 3))
    .map((name, i) => ({
      name,
      type: random() < 0.65 ? 'api' : 'smtp',
      // Each key its own hash (a random number of 2^20 times 8, plus the key's place): two keys with one hash are a store keyward
      // refuses (exit 3). (i + 1 + a random number gave two keys one hash about once in 100,000 stores: seed 105436.)
      hash: (int(random, 1 << 20) * 8 + i + 1).toString(16).padStart(64, '0'),
      hint: 'aaaa…aaaa',
      status: random() < 0.15 ? 'revoked' : 'active',
      createdAt: new Date(now - 5 * DAY).toISOString(),
      rotatedAt: null,
      revokedAt: null,
      allow: random() < 0.5 ? randomEntries(random, 1 + int(random, 6), now) : [],
    }));
  return {
    version: 1,
    settings: {learningWindowDays: 30, learnPrefixV4: 24, learnPrefixV6: 64, seenRetentionDays: 90},
    blocking: {
      // Learning well inside its window: the stored state is the state at every KEYWARD_NOW used.
      api: {
        state: api,
        changedAt: new Date(now - 2 * DAY).toISOString(),
        learningSince: api === 'learning' ? new Date(now - 2 * DAY).toISOString() : null,
        firstEventAt: null,
        lastNewAddressAt: api === 'learning' && random() < 0.5 ? new Date(now - DAY).toISOString() : null,
      },
      smtp: {state: pick(random, ['active', 'inactive']), changedAt: new Date(now - 2 * DAY).toISOString()},
    },
    account: [...withLiveDeny(random, randomEntries(random, 4 + int(random, 20), now)), ...(large ? paddingEntries(6000, now) : [])],
    keys,
    blocked: [],
    seen: [],
  };
}

/** The document as a person or another tool might write it: members and lists in any order, any indentation. */
function handWritten(random: Random, document: any): string {
  const reorder = (value: any): any => {
    if (Array.isArray(value)) return value.map(reorder);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(shuffle(random, Object.entries(value)).map(([k, v]) => [k, reorder(v)]));
  };
  const copy = reorder(document);
  shuffle(random, copy.account);
  for (const key of copy.keys) shuffle(random, key.allow);
  return JSON.stringify(copy, null, pick(random, [0, 1, 2, 4, '\t'])) + pick(random, ['', '\n', '\n\n', ' \n']);
}

// ---- the oracle: SPEC "Decisions" ----------------------------------------

interface Expected {
  decision: 'allow' | 'deny';
  reason: string;
  matched: string[];
}

/**
 * SPEC "Decisions" for a known key: revoked → deny; a live, enabled deny
 * entry of the key's list or the account list holding the address → deny,
 * denied (naming the key's deny matches, then the account's, outermost
 * first); a key list (one with any allow entries, expired and disabled ones
 * included: they never match) that has no live enabled allow entry holding
 * the address → deny; an address in a live
 * account entry → allow, authorized (naming the key's and the account's
 * matches, outermost first); else by the stored state of the key's channel.
 * An entry that expires at T no longer matches at T.
 */
function oracle(document: any, keyName: string, probe: string, now: number): Expected {
  const key = document.keys.find((k: any) => k.name === keyName);
  if (key.status === 'revoked') return {decision: 'deny', reason: 'key-revoked', matched: []};
  const live = (e: Entry) => (e.expiresAt === null || Date.parse(e.expiresAt) > now) && e.enabled !== false;
  const matches = (list: Entry[], effect: 'allow' | 'deny') =>
    list
      .filter((e) => live(e) && (e.effect === 'deny') === (effect === 'deny') && contains(e.entry, probe))
      .map((e) => e.entry)
      .sort((a, b) => bitsOf(a) - bitsOf(b));
  const denied = [...matches(key.allow, 'deny'), ...matches(document.account, 'deny')];
  if (denied.length > 0) return {decision: 'deny', reason: 'denied', matched: denied};
  const own = matches(key.allow, 'allow');
  if (key.allow.some((e: Entry) => e.effect !== 'deny') && own.length === 0) return {decision: 'deny', reason: 'not-in-key-allowlist', matched: []};
  const account = matches(document.account, 'allow');
  if (account.length > 0) return {decision: 'allow', reason: 'authorized', matched: [...own, ...account]};
  const state = key.type === 'api' ? document.blocking.api.state : document.blocking.smtp.state;
  if (state === 'active') return {decision: 'deny', reason: 'not-authorized', matched: own};
  return {decision: 'allow', reason: state === 'learning' ? 'learning' : 'blocking-inactive', matched: own};
}

/** Probes: inside random entries of the store, beside them, anywhere in the shared spaces, and IPv4 ones also as 4-in-6. */
function probesFor(random: Random, document: any, count: number, now: number): string[] {
  const entries: Entry[] = [...document.account.filter((e: Entry) => !e.entry.startsWith('100.')), ...document.keys.flatMap((k: any) => k.allow)];
  // One probe is drawn from a live account deny entry when there is one, so that every run decides some probe
  // "denied" (the run's last check), not only most runs: a store of 4 entries often has none, and two rounds may meet none.
  const denying: Entry[] = document.account.filter(
    (e: Entry) => e.effect === 'deny' && e.enabled !== false && (e.expiresAt === null || Date.parse(e.expiresAt) > now) && !e.entry.startsWith('100.'),
  );
  // Distinct: the order of duplicates has its own test (issue 11 item 13); here each line is matched to its probe by position.
  const probes = new Set<string>();
  while (probes.size < count) {
    let address: Parsed;
    const first = probes.size === 0 && denying.length > 0;
    if (first || (entries.length > 0 && random() < 0.6)) {
      const entry = pick(random, first ? denying : entries).entry;
      const [network, bits] = entry.includes('/') ? ipaddr.parseCIDR(entry) : [ipaddr.parse(entry), entry.includes(':') ? 128 : 32];
      const bytes = network.toByteArray();
      // Random host bits, and sometimes one bit of the network flipped (just outside).
      for (let i = 0; i < bytes.length; i++) {
        const hostBits = Math.max(0, Math.min(8, (i + 1) * 8 - bits));
        bytes[i] |= int(random, 256) & ((1 << hostBits) - 1);
      }
      if (!first && random() < 0.25 && bits > 0) {
        const bit = int(random, bits);
        bytes[bit >> 3] ^= 0x80 >> (bit & 7);
      }
      address = ipaddr.fromByteArray(bytes);
    } else {
      address = randomAddress(random);
    }
    const text = address.kind() === 'ipv6' ? (address as ipaddr.IPv6).toRFC5952String() : address.toString();
    probes.add(address.kind() === 'ipv4' && random() < 0.15 ? `::ffff:${text}` : text);
  }
  return [...probes];
}

// ---- replacements of the store file --------------------------------------

/** An in-place rewrite of the same size: expiry years moved by two (live ↔ expired), the inode kept. */
function sameSizeEdit(random: Random, text: string): string {
  const edited = text.replace(/("expiresAt":\s*")(\d{4})/g, (whole, head: string, year: string) => {
    if (random() < 0.5) return whole;
    const y = Number(year);
    return `${head}${y <= 2025 ? y + 2 : y - 2}`;
  });
  expect(edited.length).to.equal(text.length);
  return edited;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('differential: check through both paths and the index cache against an oracle from SPEC "Decisions"', function () {
  this.timeout(scale(120_000, 1_200_000));

  it('agrees on every decision over random stores, hand-written and keyward-written, with the store replaced between commands', async () => {
    const seed = runSeed();
    const random = seeded(seed);
    const ws = Workspace.create();
    const rounds = scale(2, 20);
    const texts: string[] = [];
    let decisions = 0;
    let throughCache = 0;
    let paddingNext = 100_000;
    const reasons = new Set<string>();

    /** A write by keyward (one padding entry authorized): its canonical store, and its cache when the store is large. */
    const keywardWrite = (now: string) => {
      paddingNext++;
      const run = ws.run(['authorize', `100.127.${(paddingNext >> 8) & 255}.${paddingNext & 255}`], {now});
      expect(run.code, run.stderr).to.equal(0);
      const large = statSync(ws.store).size >= MIB;
      expect(existsSync(`${ws.store}.cache`), 'keyward writes a cache beside a large store, and only there').to.equal(large);
      return large;
    };

    for (let round = 0; round < rounds; round++) {
      const nowMs = Date.parse(NOW) + int(random, 10) * 3_600_000 + int(random, 1000);
      const now = new Date(nowMs).toISOString();
      const large = round % 2 === 0;
      writeFileSync(ws.store, handWritten(random, randomStore(random, nowMs, large)));
      // The cache is fresh only right after keyward's own write, until the file is replaced.
      let cacheFresh = random() < 0.8 || round === 0 ? keywardWrite(now) : false;

      for (let step = 0; step < 3; step++) {
        if (step > 0) {
          const kind = pick(random, ['rename', 'in place', 'checkout', 'keyward']);
          const current = readFileSync(ws.store, 'utf8');
          texts.push(current);
          if (kind === 'rename') {
            writeFileSync(`${ws.store}.new`, handWritten(random, randomStore(random, nowMs, random() < 0.5)));
            renameSync(`${ws.store}.new`, ws.store);
          } else if (kind === 'in place') {
            // After the tick of keyward's write: within one tick no time stamp tells two writes apart (see index-cache.ts).
            await sleep(15);
            writeFileSync(ws.store, sameSizeEdit(random, current));
          } else if (kind === 'checkout') {
            rmSync(ws.store);
            writeFileSync(ws.store, pick(random, texts));
          }
          cacheFresh = kind === 'keyward' ? keywardWrite(now) : false;
        }
        const document = JSON.parse(readFileSync(ws.store, 'utf8'));
        const probes = probesFor(random, document, 30, nowMs);
        const keys = shuffle(
          random,
          document.keys.map((k: any) => k.name),
        ).slice(0, 2) as string[];
        const runs: Array<[string, Record<string, string>]> = keys.flatMap((key) => [
          [key, {}],
          [key, {KEYWARD_NO_FAST_PATH: '1'}],
        ]);
        // The fast path as subprocesses, started first; oclif's runs in-process meanwhile, where that shows all a subprocess would (harness.ts).
        const started = runs.map(([key, env]) => (env.KEYWARD_NO_FAST_PATH ? null : ws.start(['check', key, ...probes, '--json'], {now, env})));
        const results: RunResult[] = await Promise.all(runs.map(([key, env], i) => started[i] ?? ws.run(['check', key, ...probes, '--json'], {now, env})));
        for (const [i, [key, env]] of runs.entries()) {
          const where = `seed ${seed}, round ${round}, step ${step}, key ${key}, ${env.KEYWARD_NO_FAST_PATH ? 'oclif' : 'fast path'}${cacheFresh ? ', cache' : ''}, store ${ws.store} (kept with KEYWARD_TEST_KEEP=1)`;
          const result = results[i];
          expect(result.code, `${where}\n${result.stderr}`).to.be.oneOf([0, 1]);
          const got = result.json<any[]>();
          expect(got, where).to.have.length(probes.length);
          let denied = false;
          for (const [p, probe] of probes.entries()) {
            const expected = oracle(document, key, probe, nowMs);
            denied ||= expected.decision === 'deny';
            reasons.add(expected.reason);
            expect({decision: got[p].decision, reason: got[p].reason, matched: got[p].matched, key: got[p].key}, `${where}, probe ${probe}`).to.deep.equal({...expected, key});
            decisions++;
          }
          expect(result.code, where).to.equal(denied ? 1 : 0);
        }
        if (cacheFresh) throughCache += results.length;
      }
    }
    expect(throughCache, `seed ${seed}: some checks were answered with a fresh cache beside the store`).to.be.greaterThan(0);
    expect(reasons.has('denied'), `seed ${seed}: some probes were denied by a deny entry`).to.equal(true);
    expect(decisions).to.equal(rounds * 3 * 4 * 30);
  });
});
