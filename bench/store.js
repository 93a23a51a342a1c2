// keyward's store benchmark (issue 15, "15A store speed"): single writes, a
// `learn --follow` commit and plain reads on realistic 10k and 100k stores,
// timed as whole processes in interleaved rounds against `node -e 0` in the
// same run. bench/run.js calls `benchStore`; `node bench/store.js` runs it alone
// (RUNS=N rounds, at least 11; BASELINE=PATH, another built checkout, runs
// every row with that build too, in the same rounds, on stores of its own).
//
// A realistic store: the account list (10% labelled, 5% in groups, a few deny
// and disabled entries), 20 keys with lists of their own, a seen list and a
// blocked list as learning leaves them, and a full history (500 records).

import {execFileSync} from 'node:child_process';
import {mkdtempSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {makeEntries, prng} from './data.js';
import {interleaved} from './measure.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const NOW = '2026-03-02T00:00:00.000Z';

const ipv4 = (n) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

/** An entry of bench/data.js in canonical form: its IPv6 groups as RFC 5952 writes them (the longest run of zeros compressed). */
function canonical(entry) {
  if (!entry.includes(':')) return entry;
  const [address, bits] = entry.split('/');
  const groups = address.split(':').map((g) => parseInt(g, 16).toString(16));
  let best = [-1, 0];
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best[1]) best = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const text = best[1] >= 2 ? `${groups.slice(0, best[0]).join(':')}::${groups.slice(best[0] + best[1]).join(':')}` : groups.join(':');
  return bits === undefined ? text : `${text}/${bits}`;
}

/** The time `days` before NOW, ISO. */
const daysAgo = (days) => new Date(Date.parse(NOW) - days * 86_400_000).toISOString();

/** One history record as keyward writes them (an authorize of a few entries). */
function historyRecord(i, entries) {
  const added = entries.slice(0, 3);
  return {
    at: daysAgo(60 - i / 10),
    command: 'authorize',
    flags: ['label'],
    user: 'bench',
    changes: {
      counts: {added: added.length, removed: 0, updated: 0},
      entries: [{scope: 'account', added, removed: [], updated: [], counts: {added: added.length, removed: 0, updated: 0}}],
      keys: [],
      blocking: [],
      blocked: {added: 0, removed: 0},
      settings: [],
    },
  };
}

/**
 * A store document of `n` account entries (not yet in canonical order: the
 * first keyward write puts it so). `seen` and `blocked` records, 500 history records.
 */
export function makeStoreDocument(n, {seen = 2_000, blocked = 500, seed = 11} = {}) {
  const random = prng(seed);
  const texts = [...new Set(makeEntries(n + n / 20 + 100, seed).map(canonical))].slice(0, n);
  const account = texts.map((entry, i) => {
    const record = {entry, source: i % 3 === 0 ? 'manual' : 'import', label: i % 10 === 0 ? `customer ${i}` : null};
    if (i % 20 === 1) record.group = `group-${i % 7}`;
    record.addedAt = daysAgo(60 - (i % 60));
    record.expiresAt = i % 50 === 2 ? daysAgo(-30) : null;
    if (i % 500 === 3) record.effect = 'deny';
    if (i % 700 === 4) record.enabled = false;
    return record;
  });
  const keyEntries = makeEntries(400, seed + 1).map(canonical);
  const keys = Array.from({length: 20}, (_, k) => ({
    name: `key-${String(k + 1).padStart(2, '0')}`,
    type: k < 16 ? 'api' : 'smtp',
    hash: (k + 1).toString(16).padStart(64, 'a'),
    hint: `aaaa…${String(k).padStart(4, '0')}`,
    status: 'active',
    createdAt: daysAgo(90),
    rotatedAt: null,
    revokedAt: null,
    allow: [...new Set(keyEntries.slice(k * 20, k * 20 + 20))].map((entry) => ({entry, source: 'manual', label: null, addedAt: daysAgo(80), expiresAt: null})),
  }));
  const address = () => ipv4(Math.floor(random() * 2 ** 32));
  const seenRecords = Array.from({length: seen}, (_, i) => ({
    ip: address(),
    channel: i % 5 === 0 ? 'smtp' : 'api',
    keys: [keys[i % 20].name],
    firstSeen: daysAgo(50),
    lastSeen: daysAgo(i % 40),
    count: 1 + (i % 97),
  }));
  const blockedRecords = Array.from({length: blocked}, (_, i) => ({
    ip: address(),
    key: keys[i % 20].name,
    channel: 'api',
    firstSeen: daysAgo(10),
    lastSeen: daysAgo(i % 10),
    count: 1 + (i % 13),
  }));
  return {
    version: 2,
    settings: {learningWindowDays: 30, learnPrefixV4: 24, learnPrefixV6: 64, seenRetentionDays: 90},
    blocking: {
      api: {state: 'active', changedAt: daysAgo(20), learningSince: daysAgo(60), lastNewAddressAt: daysAgo(50), lastEventAt: daysAgo(0)},
      smtp: {state: 'inactive', changedAt: daysAgo(90)},
    },
    account,
    keys,
    blocked: blockedRecords,
    seen: seenRecords,
    history: Array.from({length: 500}, (_, i) => historyRecord(i, texts.slice(i * 3, i * 3 + 3))),
  };
}

/** Writes a store of `n` entries at `file`, in the canonical form keyward writes (with its cache). */
export function writeStore(bin, file, n, options) {
  writeFileSync(file, JSON.stringify(makeStoreDocument(n, options), null, 2));
  // One real change puts it in canonical form and writes its cache, as a store keyward keeps is.
  execFileSync('node', [bin, 'authorize', '198.51.100.1'], {env: {...process.env, KEYWARD_STORE: file, KEYWARD_NOW: NOW}, stdio: 'ignore'});
}

/**
 * One `learn --follow` commit's CPU on a 100k store: a follow run that
 * commits two events one after the other less a run that commits the first
 * only, so that what remains is one commit of one event in the steady state
 * of a follow (process start, the first commit and the end cancel out). The
 * driver (this file with --follow-driver, timed with its child) feeds an
 * event and waits for the line that says it was committed before it feeds
 * the next or closes the input, so a slow machine cannot merge two commits.
 * Each event comes from an address never seen before, with API blocking
 * active: the commit puts it on the blocked list and records it as seen.
 */
function followRows(builds, rounds, log) {
  let n = 0;
  const event = () => `key-01 203.0.${113 + Math.floor(n / 250)}.${(n++ % 250) + 1} ${NOW}`;
  const driver = fileURLToPath(import.meta.url);
  const row = (build, events) => {
    const args = [driver, '--follow-driver', build.bin];
    const env = {KEYWARD_STORE: build.stores[100_000], KEYWARD_NOW: NOW};
    return ['node', args, {env, before: () => args.splice(3, args.length, ...Array.from({length: events}, event))}];
  };
  return interleaved(
    builds.flatMap((build) => [
      [`learn --follow, one commit of an event (100k)${build.label}`, ...row(build, 1)],
      [`learn --follow, two commits of an event (100k)${build.label}`, ...row(build, 2)],
    ]),
    rounds,
    log,
  );
}

/** The driver of followRows: runs `learn --follow -` and feeds it each event once the one before was committed. */
async function followDriver(bin, events) {
  const {spawn} = await import('node:child_process');
  const child = spawn('node', [bin, 'learn', '--follow', '--commit-every', '50ms', '-'], {stdio: ['pipe', 'ignore', 'pipe']});
  let said = '';
  let waiting = null;
  child.stderr.on('data', (chunk) => {
    said += chunk;
    if (waiting && waiting.test()) waiting.done();
  });
  const committed = (count) =>
    new Promise((done) => {
      const test = () => (said.match(/committed 1 event\b/g) ?? []).length >= count;
      if (test()) done();
      else waiting = {test, done};
    });
  for (const [i, line] of events.entries()) {
    child.stdin.write(`${line}\n`);
    await committed(i + 1);
  }
  child.stdin.end();
  const code = await new Promise((done) => child.on('close', done));
  process.exitCode = code;
}

/**
 * The store scenarios of issue 15 for the build at `bin`; returns the summary
 * lines (scenario, measured, target, met or not). `log` prints progress.
 */
export function benchStore({bin = path.join(root, 'bin', 'run.js'), baseline = null, runs = 5, log = (m) => process.stderr.write(`${m}\n`)} = {}) {
  const rounds = Math.max(runs, 11);
  const dir = mkdtempSync(path.join(tmpdir(), 'keyward-bench-store-'));
  try {
    // Each build on stores of its own (its own derived files), made by itself; with a baseline its rows run in the same rounds.
    const builds = [{bin, label: '', stores: {}}, ...(baseline ? [{bin: baseline, label: ' [baseline]', stores: {}}] : [])];
    for (const [b, build] of builds.entries()) {
      for (const n of [10_000, 100_000]) {
        const file = path.join(dir, `store-${n}-${b}.json`);
        writeStore(build.bin, file, n);
        build.stores[n] = file;
        if (b === 0) log(`  store of ${n} entries: ${(statSync(file).size / 1e6).toFixed(1)} MB`);
      }
    }
    const env = (build, n) => ({KEYWARD_STORE: build.stores[n], KEYWARD_NOW: NOW});
    // Each authorize adds an address no list holds yet (the store gains one entry a run): every run is the same one-entry change
    // to a store keyward wrote, as an operator's is (a copy put back before each run would be a file keyward did not write).
    const oneEntry = (build, n) => {
      let next = 0;
      const args = [build.bin, 'authorize', ''];
      return ['node', args, {env: env(build, n), before: () => (args[2] = `192.0.${2 + Math.floor(next / 250)}.${(next++ % 250) + 1}`)}];
    };
    const scenarios = (build) => [
      [`authorize ONE-ADDRESS, 10k${build.label}`, ...oneEntry(build, 10_000)],
      [`authorize ONE-ADDRESS, 100k${build.label}`, ...oneEntry(build, 100_000)],
      [`status, 100k${build.label}`, 'node', [build.bin, 'status'], {env: env(build, 100_000)}],
      [`list --json, 100k${build.label}`, 'node', [build.bin, 'list', '--json'], {env: env(build, 100_000)}],
      [`export --format plain --aggregate, 100k${build.label}`, 'node', [build.bin, 'export', '--format', 'plain', '--aggregate'], {env: env(build, 100_000)}],
      // Tab-separated, as `list` writes into a pipe: the pipe is the command's stdout (a shell's), read to the end.
      [`list into a pipe (TSV), 100k${build.label}`, 'sh', ['-c', 'node "$0" list | cat > /dev/null', build.bin], {env: env(build, 100_000)}],
    ];
    const measured = interleaved([['node -e 0', 'node', ['-e', '0']], ...builds.flatMap(scenarios)], rounds, log);
    const [node, a10, a100, status, list, exp, tsv] = measured;
    const follows = followRows(builds, Math.max(5, Math.min(runs, 11)), log);
    const [followOne, followTwo] = follows;
    if (baseline) {
      const count = scenarios(builds[0]).length;
      log('  this build against the baseline (same rounds):');
      for (let i = 1; i <= count; i++) {
        const [row, base] = [measured[i], measured[i + count]];
        log(
          `    ${row.name}: ${row.seconds.toFixed(3)} s, ${row.cpu.toFixed(2)} s CPU, ${row.rss.toFixed(0)} MiB; baseline ${base.seconds.toFixed(3)} s, ${base.cpu.toFixed(2)} s CPU, ${base.rss.toFixed(0)} MiB (${(row.seconds / base.seconds).toFixed(2)}x wall)`,
        );
      }
      const commit = (one, two) => two.cpu - one.cpu;
      log(
        `    one learn --follow commit (CPU): ${commit(follows[0], follows[1]).toFixed(2)} s; baseline ${commit(follows[2], follows[3]).toFixed(2)} s; peak ${follows[1].rss.toFixed(0)} MiB, baseline ${follows[3].rss.toFixed(0)} MiB`,
      );
    }
    const commitCpu = followTwo.cpu - followOne.cpu;
    const verdict = (ok) => (ok ? 'met' : 'NOT met');
    // The targets are wall-time ratios (medians); on a loaded machine the CPU ratio says more, so both are shown.
    const ratio = (row, max) => [
      row.name,
      `${row.seconds.toFixed(3)} s, ${(row.seconds / node.seconds).toFixed(2)}x node -e 0 (${node.seconds.toFixed(3)} s); CPU ${row.cpu.toFixed(2)} s, ${(row.cpu / node.cpu).toFixed(1)}x (${node.cpu.toFixed(2)} s); ${row.faults} page faults (${node.faults})`,
      `<= ${max.toFixed(1)}x`,
      verdict(row.seconds <= max * node.seconds),
    ];
    return [
      ratio(a10, 2),
      ratio(a100, 4),
      [
        'one learn --follow commit, 100k (CPU)',
        `${commitCpu.toFixed(2)} s CPU (${followTwo.cpu.toFixed(2)} - ${followOne.cpu.toFixed(2)}, medians)`,
        '<= 0.3 s CPU',
        verdict(commitCpu <= 0.3),
      ],
      ratio(status, 2),
      ratio(list, 4),
      ratio(exp, 4),
      [tsv.name, `${tsv.seconds.toFixed(3)} s (CPU ${tsv.cpu.toFixed(2)} s, with sh and cat)`, '<= 1.5 s', verdict(tsv.seconds <= 1.5)],
    ];
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
}

if (import.meta.url === `file://${process.argv[1]}` && process.argv[2] === '--follow-driver') {
  await followDriver(process.argv[3], process.argv.slice(4));
} else if (import.meta.url === `file://${process.argv[1]}`) {
  const baseline = process.env.BASELINE ? path.join(path.resolve(process.env.BASELINE), 'bin', 'run.js') : null;
  const summary = benchStore({runs: Number(process.env.RUNS ?? 5), baseline});
  console.log('');
  for (const [name, measured, target, result] of summary) console.log(`${name}: ${measured} (target ${target}): ${result}`);
}
