// How the bench times a command: whole processes, in interleaved rounds, medians (bench/run.js, bench/store.js).

import {spawnSync} from 'node:child_process';
import {closeSync, existsSync, openSync} from 'node:fs';

const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

/**
 * Runs a command once; returns wall seconds, and CPU seconds (user + system), peak RSS in MiB and
 * minor page faults (pages touched for the first time) when /usr/bin/time is there (on a machine
 * shared with other work, CPU time is the steadier figure), its exit code and its stderr.
 * stdin and stdout, when given, are files opened for the command itself (a shell's `< in > out`),
 * so no pipe through this process is timed; otherwise stdout goes to /dev/null.
 */
export function once(command, args, {env = {}, stdin, stdout} = {}) {
  const full = TIME ? [TIME, ['-f', '%M %U %S %R', command, ...args]] : [command, args];
  const input = stdin ? openSync(stdin, 'r') : 'ignore';
  const output = openSync(stdout ?? '/dev/null', 'w');
  const start = process.hrtime.bigint();
  const result = spawnSync(full[0], full[1], {env: {...process.env, NO_COLOR: '1', ...env}, stdio: [input, output, 'pipe'], maxBuffer: 1 << 30});
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (typeof input === 'number') closeSync(input);
  closeSync(output);
  const stderr = result.stderr.toString();
  const lines = stderr.trim().split('\n');
  const [kib, user, system, faults] = TIME ? lines[lines.length - 1].split(' ').map(Number) : [Number.NaN, Number.NaN, Number.NaN, Number.NaN];
  return {seconds, cpu: user + system, rss: kib / 1024, faults, code: result.status, stderr};
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/**
 * Rows [name, command, args, options] whose times are compared with each other, run in `rounds`
 * rounds, one of each per round, so that a slow spell of the machine falls on all of them rather
 * than on one; each row's medians (peak memory: the largest). `options.before` runs before each run.
 * `log` is told each row, and the end of a failing row's stderr.
 */
export function interleaved(list, rounds, log) {
  const samples = list.map(() => []);
  for (let r = 0; r < rounds; r++) {
    // Every other round in the reverse order: on some machines a process that follows a memory-heavy one runs faster (it
    // finds memory the one before freed), so a fixed order favours whatever comes second (docs/performance.md, round 9).
    const order = list.map((_, i) => (r % 2 === 0 ? i : list.length - 1 - i));
    for (const i of order) {
      const [, command, args, options = {}] = list[i];
      options.before?.();
      samples[i].push(once(command, args, options));
    }
  }
  return list.map(([name], i) => {
    const s = samples[i];
    const row = {
      name,
      seconds: median(s.map((x) => x.seconds)),
      cpu: median(s.map((x) => x.cpu)),
      rss: Math.max(...s.map((x) => x.rss)),
      faults: median(s.map((x) => x.faults)),
      code: s[0].code,
    };
    if (row.code !== 0) log(`  ${name}: exit ${row.code}: ${s[0].stderr.trim().split('\n').slice(-3).join(' / ')}`);
    log(`  ${name}: ${row.seconds.toFixed(3)} s, ${row.cpu.toFixed(3)} s CPU, ${row.rss.toFixed(0)} MiB, ${row.faults} page faults (${rounds} interleaved rounds)`);
    return row;
  });
}
