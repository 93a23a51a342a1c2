// keyward's benchmark: generates seeded data in a temporary folder, times each
// scenario as a whole process several times, prints medians and peak memory.
// Usage: npm run bench   (RUNS=N to change the repetitions; default 5)

import {execFileSync, spawnSync} from 'node:child_process';
import {closeSync, copyFileSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
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
function measureInterleaved(list) {
  const rounds = Math.max(runs, 11);
  const samples = list.map(() => []);
  for (let r = 0; r < rounds; r++) list.forEach(([, command, args, options = {}], i) => samples[i].push(once(command, args, options)));
  return list.map(([name], i) => {
    const row = {name, seconds: median(samples[i].map((s) => s.seconds)), rss: Math.max(...samples[i].map((s) => s.rss)), code: samples[i][0].code};
    log(`  ${name}: ${row.seconds.toFixed(3)} s, ${row.rss.toFixed(0)} MiB (exit ${row.code}; ${rounds} interleaved rounds)`);
    return row;
  });
}

function measure(name, command, args, options = {}) {
  const samples = [];
  for (let i = 0; i < runs; i++) {
    options.before?.();
    samples.push(once(command, args, options));
  }
  const row = {name, seconds: median(samples.map((s) => s.seconds)), rss: Math.max(...samples.map((s) => s.rss)), code: samples[0].code};
  log(`  ${name}: ${row.seconds.toFixed(3)} s, ${row.rss.toFixed(0)} MiB (exit ${row.code})`);
  return row;
}

const kw = (store, ...args) => execFileSync('node', [bin, ...args], {env: {...process.env, KEYWARD_STORE: store}, stdio: ['ignore', 'pipe', 'pipe']});

log(`data in ${dir}`);
const entries = makeEntries(100_000);
writeFileSync(path.join(dir, 'entries.txt'), `${entries.join('\n')}\n`);
writeFileSync(path.join(dir, 'probes.txt'), `${makeProbes(1_000_000, entries).join('\n')}\n`);
writeFileSync(path.join(dir, 'entries-1m.txt'), `${makeEntries(1_000_000, 7).join('\n')}\n`);
writeFileSync(path.join(dir, 'events.log'), execFileSync('node', [path.join(root, 'bench', 'gen-events.js'), '1000000'], {maxBuffer: 1 << 30}));
const eventKeys = execFileSync('node', [path.join(root, 'bench', 'gen-events.js'), '--keys']).toString().trim().split('\n');

// Stores: 100k entries with blocking active, and 10 entries.
const big = path.join(dir, 'big.json');
execFileSync('node', [bin, 'authorize', '--file', path.join(dir, 'entries.txt')], {env: {...process.env, KEYWARD_STORE: big}, stdio: 'ignore'});
kw(big, 'keys', 'create', 'bench', '--type', 'api');
kw(big, 'activate', '--api', '--force');
const small = path.join(dir, 'small.json');
execFileSync('node', [bin, 'authorize', ...entries.slice(0, 10)], {env: {...process.env, KEYWARD_STORE: small}, stdio: 'ignore'});
kw(small, 'keys', 'create', 'bench', '--type', 'api');
const eventsStore = path.join(dir, 'events.json');
for (const line of eventKeys) {
  const [name, type] = line.split(/\s+/);
  kw(eventsStore, 'keys', 'create', name, '--type', type);
}
const eventsTemplate = path.join(dir, 'events-template.json');
copyFileSync(eventsStore, eventsTemplate);

log(`timing, medians of ${runs} runs each (commands compared with each other: interleaved rounds):`);
const rows = {};
[rows.node, rows.version, rows.checkSmall, rows.checkBig] = measureInterleaved([
  ['node -e 0', 'node', ['-e', '0']],
  ['keyward --version', 'node', [bin, '--version']],
  ['check KEY ADDRESS, 10 entries', 'node', [bin, 'check', 'bench', '192.0.2.1'], {env: {KEYWARD_STORE: small}}],
  ['check KEY ADDRESS, 100k entries', 'node', [bin, 'check', 'bench', '192.0.2.1'], {env: {KEYWARD_STORE: big}}],
]);
const streamRun = ['check KEY - over 1M probes, --ndjson', 'node', [bin, 'check', 'bench', '-', '--ndjson'], {
  env: {KEYWARD_STORE: big},
  stdin: path.join(dir, 'probes.txt'),
  stdout: path.join(dir, 'decisions.ndjson'),
}];
const grepcidr = spawnSync('sh', ['-c', 'command -v grepcidr']).status === 0;
if (grepcidr) {
  // The ratio is what counts: keyward and grepcidr take turns.
  [rows.stream, rows.grepcidr] = measureInterleaved([
    streamRun,
    ['grepcidr, same probes and ranges', 'grepcidr', ['-f', path.join(dir, 'entries.txt')], {stdin: path.join(dir, 'probes.txt'), stdout: path.join(dir, 'grepcidr.txt')}],
  ]);
} else {
  rows.stream = measure(...streamRun);
  log('  grepcidr is not installed (apt-get install grepcidr): no ratio for the stream');
}
if (rows.grepcidr) {
  // The same question answered twice: every probe keyward allows is one grepcidr matched.
  const count = (file, text) => readFileSync(file, 'latin1').split(text).length - 1;
  const allowed = count(path.join(dir, 'decisions.ndjson'), '"decision":"allow"');
  const matched = count(path.join(dir, 'grepcidr.txt'), '\n');
  log(`  decisions: keyward allowed ${allowed}, grepcidr matched ${matched}: ${allowed === matched ? 'they agree' : 'THEY DISAGREE'}`);
}
const fresh = path.join(dir, 'import.json');
const clear = () => rmSync(fresh, {force: true});
rows.import100k = measure('authorize - of 100k entries', 'node', [bin, 'authorize', '-'], {env: {KEYWARD_STORE: fresh}, stdin: path.join(dir, 'entries.txt'), before: clear});
rows.import1m = measure('authorize - of 1M entries', 'node', [bin, 'authorize', '-', '--normalize'], {env: {KEYWARD_STORE: fresh}, stdin: path.join(dir, 'entries-1m.txt'), before: clear});
rows.learn = measure('learn of the 1M-event log', 'node', [bin, 'learn', path.join(dir, 'events.log')], {
  env: {KEYWARD_STORE: eventsStore, KEYWARD_NOW: '2026-03-02T00:00:00Z'},
  before: () => copyFileSync(eventsTemplate, eventsStore),
});

const verdict = (ok) => (ok ? 'met' : 'NOT met');
const summary = [
  ['check KEY - over 1M probes', rows.grepcidr ? `${(rows.stream.seconds / rows.grepcidr.seconds).toFixed(2)}x grepcidr, ${rows.stream.rss.toFixed(0)} MiB` : `${rows.stream.seconds.toFixed(2)} s (no grepcidr)`, '<= 2.0x grepcidr, <= 300 MiB', rows.grepcidr ? verdict(rows.stream.seconds <= 2 * rows.grepcidr.seconds && rows.stream.rss <= 300) : 'no ratio'],
  ['check once, 100k entries', `${(rows.checkBig.seconds / rows.version.seconds).toFixed(2)}x --version`, '<= 1.5x', verdict(rows.checkBig.seconds <= 1.5 * rows.version.seconds)],
  ['check once, 10 entries', `${(rows.checkSmall.seconds / rows.version.seconds).toFixed(2)}x --version`, '<= 1.15x', verdict(rows.checkSmall.seconds <= 1.15 * rows.version.seconds)],
  ['authorize - of 100k', `${rows.import100k.seconds.toFixed(2)} s`, '<= 3 s', verdict(rows.import100k.seconds <= 3)],
  ['authorize - of 1M', `${rows.import1m.seconds.toFixed(2)} s, ${rows.import1m.rss.toFixed(0)} MiB`, '<= 25 s, <= 1024 MiB', verdict(rows.import1m.seconds <= 25 && rows.import1m.rss <= 1024)],
  ['learn of 1M events', `${rows.learn.seconds.toFixed(2)} s`, '<= 6 s', verdict(rows.learn.seconds <= 6)],
  ['keyward --version', `${(rows.version.seconds / rows.node.seconds).toFixed(2)}x node -e 0`, '<= 2.5x', verdict(rows.version.seconds <= 2.5 * rows.node.seconds)],
];
console.log('\n| scenario | median s | peak MiB |\n| --- | --- | --- |');
for (const r of Object.values(rows)) console.log(`| ${r.name} | ${r.seconds.toFixed(3)} | ${Number.isNaN(r.rss) ? '-' : r.rss.toFixed(0)} |`);
console.log('');
for (const [name, measured, target, result] of summary) console.log(`${name}: ${measured} (target ${target}): ${result}`);
rmSync(dir, {recursive: true, force: true});
