// keyward's benchmark: generates seeded data in a temporary folder, times each
// scenario as a whole process several times, prints medians and peak memory.
// Usage: npm run bench   (RUNS=N to change the repetitions; default 5;
// BASELINE=PATH also times another built checkout, side by side;
// `node bench/run.js --only stream` runs only the stream rows, against grepcidr;
// `node bench/run.js --only bulk` only the two 1M rows (authorize - of 1M entries, learn of the wide log))

import {execFileSync, spawnSync} from 'node:child_process';
import {copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {makeEntries, makeProbes} from './data.js';
import {interleaved, median} from './measure.js';
import {benchStore} from './store.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'run.js');
const runs = Number(process.env.RUNS ?? 5);
const dir = mkdtempSync(path.join(tmpdir(), 'keyward-bench-'));
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : null;
if (only !== null && only !== 'stream' && only !== 'bulk') throw new Error(`--only takes stream or bulk, not ${only}`);
const onlyStream = only === 'stream';
const bulkOnly = only === 'bulk';

function log(message) {
  process.stderr.write(`${message}\n`);
}

/** Short commands whose times are compared with each other, in interleaved rounds (at least 11): see measure.js. */
function measureInterleaved(list, rounds = Math.max(runs, 11)) {
  return interleaved(list, rounds, log);
}

const kw = (bin, store, ...args) => execFileSync('node', [bin, ...args], {env: {...process.env, KEYWARD_STORE: store}, stdio: ['ignore', 'pipe', 'pipe']});

// BASELINE=PATH (another built checkout of keyward) runs every scenario also with that
// build, interleaved with this one, so a change is judged against its parent in the same run.
const builds = [{label: '', bin}];
if (process.env.BASELINE) builds.push({label: ' [baseline]', bin: path.join(path.resolve(process.env.BASELINE), 'bin', 'run.js')});

log(`data in ${dir}`);
// What a page of memory touched for the first time costs here: on some virtual machines far more than the
// work done in it (docs/performance.md, round 9), so the rows say how many they touched (page faults).
{
  const touch = 'const b = Buffer.alloc(64 << 20); const t = process.hrtime.bigint(); b.fill(1); process.stdout.write(String(process.hrtime.bigint() - t));';
  const costs = Array.from({length: 5}, () => Number(execFileSync('node', ['-e', touch])) / (16384 * 1000));
  log(`fresh memory: ${median(costs).toFixed(2)} us a 4 KiB page (median of 5: first write to 64 MiB in a new process)`);
}
const entries = makeEntries(100_000);
writeFileSync(path.join(dir, 'entries.txt'), `${entries.join('\n')}\n`);
if (!bulkOnly) writeFileSync(path.join(dir, 'probes.txt'), `${makeProbes(1_000_000, entries).join('\n')}\n`);
// The large import: 1M entries, IPv4 and IPv6, one in ten with a label.
if (!onlyStream) writeFileSync(path.join(dir, 'entries-1m.txt'), `${makeEntries(1_000_000, 7, 0.1).join('\n')}\n`);
const genEvents = (...args) => execFileSync('node', [path.join(root, 'bench', 'gen-events.js'), ...args], {maxBuffer: 1 << 30});
if (!onlyStream && !bulkOnly) writeFileSync(path.join(dir, 'events.log'), genEvents('1000000'));
const eventKeys = onlyStream || bulkOnly ? [] : genEvents('--keys').toString().trim().split('\n');
// A wide log: 1M events over 100 keys and 200,000 addresses (nearly all of them seen).
const WIDE = ['--key-count', '100', '--address-count', '200000'];
if (!onlyStream) writeFileSync(path.join(dir, 'events-wide.log'), genEvents('1000000', ...WIDE));
const wideKeys = onlyStream
  ? []
  : genEvents('--keys', ...WIDE)
      .toString()
      .trim()
      .split('\n');

// Each build gets its own stores (its own derived files): 100k entries with blocking active, 10 entries, and the keys of the event log.
for (const [i, build] of builds.entries()) {
  const own = path.join(dir, `build${i}`);
  mkdirSync(own);
  build.wide = path.join(own, 'wide.json');
  for (const line of wideKeys) {
    const [name, type] = line.split(/\s+/);
    kw(build.bin, build.wide, 'keys', 'create', name, '--type', type);
  }
  build.wideTemplate = path.join(own, 'wide-template.json');
  if (!onlyStream) copyFileSync(build.wide, build.wideTemplate);
  build.fresh = path.join(own, 'import.json');
  if (bulkOnly) continue;
  build.big = path.join(own, 'big.json');
  execFileSync('node', [build.bin, 'authorize', '--file', path.join(dir, 'entries.txt')], {env: {...process.env, KEYWARD_STORE: build.big}, stdio: 'ignore'});
  kw(build.bin, build.big, 'keys', 'create', 'bench', '--type', 'api');
  kw(build.bin, build.big, 'activate', '--api', '--force');
  build.small = path.join(own, 'small.json');
  execFileSync('node', [build.bin, 'authorize', ...entries.slice(0, 10)], {env: {...process.env, KEYWARD_STORE: build.small}, stdio: 'ignore'});
  kw(build.bin, build.small, 'keys', 'create', 'bench', '--type', 'api');
  build.events = path.join(own, 'events.json');
  for (const line of eventKeys) {
    const [name, type] = line.split(/\s+/);
    kw(build.bin, build.events, 'keys', 'create', name, '--type', type);
  }
  build.eventsTemplate = path.join(own, 'events-template.json');
  if (!onlyStream) copyFileSync(build.events, build.eventsTemplate);
  build.decisions = path.join(own, 'decisions.ndjson');
  build.printed = path.join(own, 'allowed.txt');
}

/** One scenario for every build: [name, command, args, options] rows, this build first. */
const each = (name, make) => builds.map((b) => [`${name}${b.label}`, ...make(b)]);

const clear = (b) => () => rmSync(b.fresh, {force: true});
/** The two 1M rows (issue 15's bulk targets), for every build. */
const import1m = () =>
  measureInterleaved(
    each('authorize - of 1M entries, 10% labelled', (b) => [
      'node',
      [b.bin, 'authorize', '-', '--normalize'],
      {env: {KEYWARD_STORE: b.fresh}, stdin: path.join(dir, 'entries-1m.txt'), before: clear(b)},
    ]),
    runs,
  );
/** `learn LOG` on each build's copy of `store`'s template (every run starts from the same store): a row of interleaved rounds. */
const learnRow = (name, log, store) =>
  measureInterleaved(
    each(name, (b) => [
      'node',
      [b.bin, 'learn', path.join(dir, log)],
      {
        env: {KEYWARD_STORE: b[store], KEYWARD_NOW: '2026-03-02T00:00:00Z'},
        before: () => copyFileSync(b[`${store}Template`], b[store]),
      },
    ]),
    runs,
  );
const learnWide = () => learnRow('learn of 1M events, 100 keys, 200k addresses', 'events-wide.log', 'wide');
if (bulkOnly) {
  log(`timing the 1M rows, medians of ${runs} interleaved rounds:`);
  const bulk = [...import1m(), ...learnWide()];
  console.log('\n| scenario | median s | median CPU s | peak MiB |\n| --- | --- | --- | --- |');
  for (const r of bulk)
    console.log(`| ${r.name} | ${r.seconds.toFixed(3)} | ${Number.isNaN(r.cpu) ? '-' : r.cpu.toFixed(3)} | ${Number.isNaN(r.rss) ? '-' : r.rss.toFixed(0)} |`);
  const [imp, wide] = [bulk[0], bulk[builds.length]];
  const cpuOf = (row) => (Number.isNaN(row.cpu) ? row.seconds : row.cpu);
  console.log('');
  console.log(
    `authorize - of 1M (10% labelled): ${cpuOf(imp).toFixed(2)} s CPU, ${imp.rss.toFixed(0)} MiB (target <= 7 s, <= 600 MiB): ${cpuOf(imp) <= 7 && imp.rss <= 600 ? 'met' : 'NOT met'}`,
  );
  console.log(
    `learn of 1M events, 100 keys, 200k addresses: ${cpuOf(wide).toFixed(2)} s CPU, ${wide.rss.toFixed(0)} MiB (target <= 4 s, <= 300 MiB): ${cpuOf(wide) <= 4 && wide.rss <= 300 ? 'met' : 'NOT met'}`,
  );
  rmSync(dir, {recursive: true, force: true});
  process.exit(0);
}

log(`timing, medians of ${runs} runs each (commands compared with each other: interleaved rounds):`);
const rows = {};
const base = {};
const n = builds.length;
if (!onlyStream) {
  const [node, ...quick] = measureInterleaved([
    ['node -e 0', 'node', ['-e', '0']],
    ...each('keyward --version', (b) => ['node', [b.bin, '--version']]),
    ...each('check KEY ADDRESS, 10 entries', (b) => ['node', [b.bin, 'check', 'bench', '192.0.2.1'], {env: {KEYWARD_STORE: b.small}}]),
    ...each('check KEY ADDRESS, 100k entries', (b) => ['node', [b.bin, 'check', 'bench', '192.0.2.1'], {env: {KEYWARD_STORE: b.big}}]),
  ]);
  rows.node = node;
  [rows.version, rows.checkSmall, rows.checkBig] = [0, 1, 2].map((k) => quick[k * n]);
  if (n > 1) [base.version, base.checkSmall, base.checkBig] = [0, 1, 2].map((k) => quick[k * n + 1]);
}
const streamRuns = each('check KEY - over 1M probes, --ndjson', (b) => [
  'node',
  [b.bin, 'check', 'bench', '-', '--ndjson'],
  {
    env: {KEYWARD_STORE: b.big},
    stdin: path.join(dir, 'probes.txt'),
    stdout: b.decisions,
  },
]);
// The filter, for this build only (a baseline may be older than --print), but for both under --only stream.
const printRuns = (onlyStream ? builds : [builds[0]]).map((b) => [
  `check KEY - over 1M probes, --print allowed${b.label}`,
  'node',
  [b.bin, 'check', 'bench', '-', '--print', 'allowed'],
  {
    env: {KEYWARD_STORE: b.big},
    stdin: path.join(dir, 'probes.txt'),
    stdout: b.printed,
  },
]);
const grepcidr = spawnSync('sh', ['-c', 'command -v grepcidr']).status === 0;
// The ratio is what counts: keyward (both output modes) and grepcidr take turns.
const streamRows = measureInterleaved([
  ...streamRuns,
  ...printRuns,
  ...(grepcidr
    ? [['grepcidr, same probes and ranges', 'grepcidr', ['-f', path.join(dir, 'entries.txt')], {stdin: path.join(dir, 'probes.txt'), stdout: path.join(dir, 'grepcidr.txt')}]]
    : []),
]);
rows.stream = streamRows[0];
if (n > 1) base.stream = streamRows[1];
rows.print = streamRows[n];
if (onlyStream && n > 1) base.print = streamRows[n + 1];
if (grepcidr) rows.grepcidr = streamRows[streamRows.length - 1];
else log('  grepcidr is not installed (apt-get install grepcidr): no ratio for the stream');
/** Whether every build's decisions agree with grepcidr's matches (both output modes), when grepcidr ran. */
let agree = true;
if (rows.grepcidr) {
  // The same question answered twice: every probe keyward allows is one grepcidr matched,
  // and the filter prints the very lines grepcidr prints.
  const count = (file, text) => readFileSync(file, 'latin1').split(text).length - 1;
  const grepped = readFileSync(path.join(dir, 'grepcidr.txt'));
  const matched = count(path.join(dir, 'grepcidr.txt'), '\n');
  for (const b of builds) {
    const allowed = count(b.decisions, '"decision":"allow"');
    agree &&= allowed === matched;
    log(`  decisions${b.label}: keyward allowed ${allowed} (--ndjson), grepcidr matched ${matched}: ${allowed === matched ? 'they agree' : 'THEY DISAGREE'}`);
  }
  const printed = existsSync(builds[0].printed) ? readFileSync(builds[0].printed) : Buffer.alloc(0);
  const printedCount = printed.toString('latin1').split('\n').length - 1;
  const same = printed.equals(grepped);
  agree &&= printedCount === matched && same;
  log(
    `  keyward printed ${printedCount} (--print allowed), grepcidr matched ${matched}: ${printedCount === matched ? 'they agree' : 'THEY DISAGREE'}; the printed lines ${same ? 'are' : 'are NOT'} grepcidr's, byte for byte`,
  );
}
if (n > 1) log(`  outputs of the two builds: ${readFileSync(builds[0].decisions).equals(readFileSync(builds[1].decisions)) ? 'byte for byte the same' : 'DIFFERENT'}`);
if (onlyStream) {
  const line = (r) => `${r.name}: ${r.seconds.toFixed(3)} s, ${r.cpu.toFixed(3)} s CPU, ${r.rss.toFixed(0)} MiB`;
  for (const r of streamRows) console.log(line(r));
  if (rows.grepcidr) {
    const ratio = (r) => `${(r.seconds / rows.grepcidr.seconds).toFixed(2)}x wall, ${(r.cpu / rows.grepcidr.cpu).toFixed(2)}x CPU`;
    console.log(`--ndjson: ${ratio(rows.stream)} grepcidr (target <= 1.4x); --print allowed: ${ratio(rows.print)} grepcidr -f (target <= 1.15x)`);
    if (n > 1) console.log(`[baseline] --ndjson: ${ratio(base.stream)} grepcidr; --print allowed: ${ratio(base.print)} grepcidr -f`);
    console.log(`decisions agree with grepcidr, both modes: ${agree ? 'yes' : 'NO'}`);
  }
  rmSync(dir, {recursive: true, force: true});
  if (!agree) process.exitCode = 1;
  process.exit();
}
[rows.import100k, base.import100k] = measureInterleaved(
  each('authorize - of 100k entries', (b) => ['node', [b.bin, 'authorize', '-'], {env: {KEYWARD_STORE: b.fresh}, stdin: path.join(dir, 'entries.txt'), before: clear(b)}]),
  runs,
);
[rows.import1m, base.import1m] = import1m();
[rows.learn, base.learn] = learnRow('learn of the 1M-event log', 'events.log', 'events');
[rows.learnWide, base.learnWide] = learnWide();

const verdict = (ok) => (ok ? 'met' : 'NOT met');
// A time target in seconds is judged by CPU time (user + system) when /usr/bin/time gave it: on a machine
// shared with other work the wall time also counts the waits for a core. Both are printed.
const timeOf = (row) => (Number.isNaN(row.cpu) ? row.seconds : row.cpu);
const timeText = (row) => `${row.seconds.toFixed(2)} s${Number.isNaN(row.cpu) ? '' : ` (${row.cpu.toFixed(2)} s CPU)`}`;
const summary = [
  [
    'check KEY - over 1M probes, --ndjson',
    rows.grepcidr
      ? `${(rows.stream.seconds / rows.grepcidr.seconds).toFixed(2)}x grepcidr (CPU ${(rows.stream.cpu / rows.grepcidr.cpu).toFixed(2)}x), ${rows.stream.rss.toFixed(0)} MiB`
      : `${rows.stream.seconds.toFixed(2)} s (no grepcidr)`,
    '<= 1.4x grepcidr, <= 300 MiB',
    rows.grepcidr ? verdict(rows.stream.seconds <= 1.4 * rows.grepcidr.seconds && rows.stream.rss <= 300) : 'no ratio',
  ],
  [
    'check KEY - over 1M probes, --print allowed',
    rows.grepcidr
      ? `${(rows.print.seconds / rows.grepcidr.seconds).toFixed(2)}x grepcidr -f (CPU ${(rows.print.cpu / rows.grepcidr.cpu).toFixed(2)}x)`
      : `${rows.print.seconds.toFixed(2)} s (no grepcidr)`,
    '<= 1.15x grepcidr -f',
    rows.grepcidr ? verdict(rows.print.seconds <= 1.15 * rows.grepcidr.seconds) : 'no ratio',
  ],
  ['decisions agree with grepcidr (both output modes)', rows.grepcidr ? (agree ? 'yes' : 'NO') : 'no grepcidr', 'always', rows.grepcidr ? verdict(agree) : 'not checked'],
  [
    'check once, 100k entries',
    `${(rows.checkBig.seconds / rows.version.seconds).toFixed(2)}x --version`,
    '<= 1.5x',
    verdict(rows.checkBig.seconds <= 1.5 * rows.version.seconds),
  ],
  [
    'check once, 10 entries',
    `${(rows.checkSmall.seconds / rows.version.seconds).toFixed(2)}x --version`,
    '<= 1.15x',
    verdict(rows.checkSmall.seconds <= 1.15 * rows.version.seconds),
  ],
  ['authorize - of 100k', timeText(rows.import100k), '<= 3 s', verdict(timeOf(rows.import100k) <= 3)],
  [
    'authorize - of 1M (10% labelled)',
    `${timeText(rows.import1m)}, ${rows.import1m.rss.toFixed(0)} MiB`,
    '<= 7 s, <= 600 MiB',
    verdict(timeOf(rows.import1m) <= 7 && rows.import1m.rss <= 600),
  ],
  ['learn of 1M events', timeText(rows.learn), '<= 6 s', verdict(timeOf(rows.learn) <= 6)],
  [
    'learn of 1M events, 100 keys, 200k addresses',
    `${timeText(rows.learnWide)}, ${rows.learnWide.rss.toFixed(0)} MiB`,
    '<= 4 s, <= 300 MiB',
    verdict(timeOf(rows.learnWide) <= 4 && rows.learnWide.rss <= 300),
  ],
  ['keyward --version', `${(rows.version.seconds / rows.node.seconds).toFixed(2)}x node -e 0`, '<= 2.5x', verdict(rows.version.seconds <= 2.5 * rows.node.seconds)],
];
console.log('\n| scenario | median s | median CPU s | peak MiB |\n| --- | --- | --- | --- |');
for (const r of [...Object.values(rows), ...Object.values(base).filter(Boolean)])
  console.log(`| ${r.name} | ${r.seconds.toFixed(3)} | ${Number.isNaN(r.cpu) ? '-' : r.cpu.toFixed(3)} | ${Number.isNaN(r.rss) ? '-' : r.rss.toFixed(0)} |`);
console.log('');
for (const [name, measured, target, result] of summary) console.log(`${name}: ${measured} (target ${target}): ${result}`);
if (n > 1) {
  console.log('\nthis build against the baseline, same run:');
  for (const [name, row] of Object.entries(base))
    console.log(
      `${rows[name].name}: ${rows[name].seconds.toFixed(3)} s, ${rows[name].cpu.toFixed(3)} s CPU, ${rows[name].rss.toFixed(0)} MiB; baseline ${row.seconds.toFixed(3)} s, ${row.cpu.toFixed(3)} s CPU, ${row.rss.toFixed(0)} MiB (${(rows[name].seconds / row.seconds).toFixed(2)}x wall, ${(rows[name].cpu / row.cpu).toFixed(2)}x CPU)`,
    );
}
// The store scenarios of issue 15 (single writes, a follow commit, plain reads): bench/store.js.
console.log('\nstore scenarios (bench/store.js; ratios to node -e 0 in the same rounds):');
for (const [name, measured, target, result] of benchStore({bin, baseline: builds[1]?.bin ?? null, runs, log}))
  console.log(`${name}: ${measured} (target ${target}): ${result}`);
// keyward serve under load, against nginx with keyward's static export (bench/serve.js).
await (await import('./serve.js')).printServeBench(log);
rmSync(dir, {recursive: true, force: true});
// A disagreement with grepcidr is a wrong answer, not a slow one: the run fails.
if (!agree) process.exitCode = 1;
