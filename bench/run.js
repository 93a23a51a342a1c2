// keyward's benchmark: generates seeded data in a temporary folder, times each
// scenario as a whole process several times, prints medians and peak memory.
// Usage: npm run bench   (RUNS=N to change the repetitions; default 5;
// BASELINE=PATH also times another built checkout, side by side)

import {execFileSync, spawnSync} from 'node:child_process';
import {closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {makeEntries, makeProbes} from './data.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'run.js');
const runs = Number(process.env.RUNS ?? 5);
const dir = mkdtempSync(path.join(tmpdir(), 'keyward-bench-'));
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

function log(message) {
  process.stderr.write(`${message}\n`);
}

/**
 * Runs a command once; returns wall seconds and peak RSS in MiB (when /usr/bin/time is there).
 * stdin and stdout, when given, are files opened for the command itself (a shell's `< in > out`),
 * so no pipe through this process is timed; otherwise stdout goes to /dev/null.
 */
function once(command, args, {env = {}, stdin, stdout} = {}) {
  const full = TIME ? [TIME, ['-f', '%M', command, ...args]] : [command, args];
  const input = stdin ? openSync(stdin, 'r') : 'ignore';
  const output = openSync(stdout ?? '/dev/null', 'w');
  const start = process.hrtime.bigint();
  const result = spawnSync(full[0], full[1], {
    env: {...process.env, NO_COLOR: '1', ...env},
    stdio: [input, output, 'pipe'],
    maxBuffer: 1 << 30,
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (typeof input === 'number') closeSync(input);
  closeSync(output);
  const lines = result.stderr.toString().trim().split('\n');
  const rss = TIME ? Number(lines[lines.length - 1]) / 1024 : Number.NaN;
  return {seconds, rss, code: result.status};
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/**
 * Short commands whose times are compared with each other: run in rounds, one
 * of each per round (at least 11 rounds), so that a slow spell of the machine
 * falls on all of them rather than on one.
 */
function measureInterleaved(list, rounds = Math.max(runs, 11)) {
  const samples = list.map(() => []);
  for (let r = 0; r < rounds; r++) {
    list.forEach(([, command, args, options = {}], i) => {
      options.before?.();
      samples[i].push(once(command, args, options));
    });
  }
  return list.map(([name], i) => {
    const row = {name, seconds: median(samples[i].map((s) => s.seconds)), rss: Math.max(...samples[i].map((s) => s.rss)), code: samples[i][0].code};
    log(`  ${name}: ${row.seconds.toFixed(3)} s, ${row.rss.toFixed(0)} MiB (exit ${row.code}; ${rounds} interleaved rounds)`);
    return row;
  });
}

const kw = (bin, store, ...args) => execFileSync('node', [bin, ...args], {env: {...process.env, KEYWARD_STORE: store}, stdio: ['ignore', 'pipe', 'pipe']});

// BASELINE=PATH (another built checkout of keyward) runs every scenario also with that
// build, interleaved with this one, so a change is judged against its parent in the same run.
const builds = [{label: '', bin}];
if (process.env.BASELINE) builds.push({label: ' [baseline]', bin: path.join(path.resolve(process.env.BASELINE), 'bin', 'run.js')});

log(`data in ${dir}`);
const entries = makeEntries(100_000);
writeFileSync(path.join(dir, 'entries.txt'), `${entries.join('\n')}\n`);
writeFileSync(path.join(dir, 'probes.txt'), `${makeProbes(1_000_000, entries).join('\n')}\n`);
writeFileSync(path.join(dir, 'entries-1m.txt'), `${makeEntries(1_000_000, 7).join('\n')}\n`);
writeFileSync(path.join(dir, 'events.log'), execFileSync('node', [path.join(root, 'bench', 'gen-events.js'), '1000000'], {maxBuffer: 1 << 30}));
const eventKeys = execFileSync('node', [path.join(root, 'bench', 'gen-events.js'), '--keys'])
  .toString()
  .trim()
  .split('\n');

// Each build gets its own stores (its own derived files): 100k entries with blocking active, 10 entries, and the keys of the event log.
for (const [i, build] of builds.entries()) {
  const own = path.join(dir, `build${i}`);
  mkdirSync(own);
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
  copyFileSync(build.events, build.eventsTemplate);
  build.fresh = path.join(own, 'import.json');
  build.decisions = path.join(own, 'decisions.ndjson');
}

/** One scenario for every build: [name, command, args, options] rows, this build first. */
const each = (name, make) => builds.map((b) => [`${name}${b.label}`, ...make(b)]);

log(`timing, medians of ${runs} runs each (commands compared with each other: interleaved rounds):`);
const rows = {};
const base = {};
const [node, ...quick] = measureInterleaved([
  ['node -e 0', 'node', ['-e', '0']],
  ...each('keyward --version', (b) => ['node', [b.bin, '--version']]),
  ...each('check KEY ADDRESS, 10 entries', (b) => ['node', [b.bin, 'check', 'bench', '192.0.2.1'], {env: {KEYWARD_STORE: b.small}}]),
  ...each('check KEY ADDRESS, 100k entries', (b) => ['node', [b.bin, 'check', 'bench', '192.0.2.1'], {env: {KEYWARD_STORE: b.big}}]),
]);
rows.node = node;
const n = builds.length;
[rows.version, rows.checkSmall, rows.checkBig] = [0, 1, 2].map((k) => quick[k * n]);
if (n > 1) [base.version, base.checkSmall, base.checkBig] = [0, 1, 2].map((k) => quick[k * n + 1]);
const streamRuns = each('check KEY - over 1M probes, --ndjson', (b) => [
  'node',
  [b.bin, 'check', 'bench', '-', '--ndjson'],
  {
    env: {KEYWARD_STORE: b.big},
    stdin: path.join(dir, 'probes.txt'),
    stdout: b.decisions,
  },
]);
const grepcidr = spawnSync('sh', ['-c', 'command -v grepcidr']).status === 0;
// The ratio is what counts: keyward and grepcidr take turns.
const streamRows = measureInterleaved([
  ...streamRuns,
  ...(grepcidr
    ? [['grepcidr, same probes and ranges', 'grepcidr', ['-f', path.join(dir, 'entries.txt')], {stdin: path.join(dir, 'probes.txt'), stdout: path.join(dir, 'grepcidr.txt')}]]
    : []),
]);
rows.stream = streamRows[0];
if (n > 1) base.stream = streamRows[1];
if (grepcidr) rows.grepcidr = streamRows[n];
else log('  grepcidr is not installed (apt-get install grepcidr): no ratio for the stream');
if (rows.grepcidr) {
  // The same question answered twice: every probe keyward allows is one grepcidr matched.
  const count = (file, text) => readFileSync(file, 'latin1').split(text).length - 1;
  const matched = count(path.join(dir, 'grepcidr.txt'), '\n');
  for (const b of builds) {
    const allowed = count(b.decisions, '"decision":"allow"');
    log(`  decisions${b.label}: keyward allowed ${allowed}, grepcidr matched ${matched}: ${allowed === matched ? 'they agree' : 'THEY DISAGREE'}`);
  }
}
if (n > 1) log(`  outputs of the two builds: ${readFileSync(builds[0].decisions).equals(readFileSync(builds[1].decisions)) ? 'byte for byte the same' : 'DIFFERENT'}`);
const clear = (b) => () => rmSync(b.fresh, {force: true});
[rows.import100k, base.import100k] = measureInterleaved(
  each('authorize - of 100k entries', (b) => ['node', [b.bin, 'authorize', '-'], {env: {KEYWARD_STORE: b.fresh}, stdin: path.join(dir, 'entries.txt'), before: clear(b)}]),
  runs,
);
[rows.import1m, base.import1m] = measureInterleaved(
  each('authorize - of 1M entries', (b) => [
    'node',
    [b.bin, 'authorize', '-', '--normalize'],
    {env: {KEYWARD_STORE: b.fresh}, stdin: path.join(dir, 'entries-1m.txt'), before: clear(b)},
  ]),
  runs,
);
[rows.learn, base.learn] = measureInterleaved(
  each('learn of the 1M-event log', (b) => [
    'node',
    [b.bin, 'learn', path.join(dir, 'events.log')],
    {
      env: {KEYWARD_STORE: b.events, KEYWARD_NOW: '2026-03-02T00:00:00Z'},
      before: () => copyFileSync(b.eventsTemplate, b.events),
    },
  ]),
  runs,
);

const verdict = (ok) => (ok ? 'met' : 'NOT met');
const summary = [
  [
    'check KEY - over 1M probes',
    rows.grepcidr
      ? `${(rows.stream.seconds / rows.grepcidr.seconds).toFixed(2)}x grepcidr, ${rows.stream.rss.toFixed(0)} MiB`
      : `${rows.stream.seconds.toFixed(2)} s (no grepcidr)`,
    '<= 2.0x grepcidr, <= 300 MiB',
    rows.grepcidr ? verdict(rows.stream.seconds <= 2 * rows.grepcidr.seconds && rows.stream.rss <= 300) : 'no ratio',
  ],
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
  ['authorize - of 100k', `${rows.import100k.seconds.toFixed(2)} s`, '<= 3 s', verdict(rows.import100k.seconds <= 3)],
  [
    'authorize - of 1M',
    `${rows.import1m.seconds.toFixed(2)} s, ${rows.import1m.rss.toFixed(0)} MiB`,
    '<= 25 s, <= 1024 MiB',
    verdict(rows.import1m.seconds <= 25 && rows.import1m.rss <= 1024),
  ],
  ['learn of 1M events', `${rows.learn.seconds.toFixed(2)} s`, '<= 6 s', verdict(rows.learn.seconds <= 6)],
  ['keyward --version', `${(rows.version.seconds / rows.node.seconds).toFixed(2)}x node -e 0`, '<= 2.5x', verdict(rows.version.seconds <= 2.5 * rows.node.seconds)],
];
console.log('\n| scenario | median s | peak MiB |\n| --- | --- | --- |');
for (const r of [...Object.values(rows), ...Object.values(base).filter(Boolean)])
  console.log(`| ${r.name} | ${r.seconds.toFixed(3)} | ${Number.isNaN(r.rss) ? '-' : r.rss.toFixed(0)} |`);
console.log('');
for (const [name, measured, target, result] of summary) console.log(`${name}: ${measured} (target ${target}): ${result}`);
if (n > 1) {
  console.log('\nthis build against the baseline, same run:');
  for (const [name, row] of Object.entries(base))
    console.log(
      `${rows[name].name}: ${rows[name].seconds.toFixed(3)} s, ${rows[name].rss.toFixed(0)} MiB; baseline ${row.seconds.toFixed(3)} s, ${row.rss.toFixed(0)} MiB (${(rows[name].seconds / row.seconds).toFixed(2)}x)`,
    );
}
// keyward serve under load, against nginx with keyward's static export (bench/serve.js).
await (await import('./serve.js')).printServeBench(log);
rmSync(dir, {recursive: true, force: true});
