#!/usr/bin/env node
/**
 * Memory of `keyward learn FILE --follow` over a long run: a generator
 * appends events to a followed log for a few minutes (rotating it by rename
 * and create every minute) while the follower commits every second; the
 * follower's resident memory (VmRSS, Linux) is sampled every 10 s and
 * printed, then the follower is stopped with SIGTERM and its summary checked
 * against what was written.
 *
 *   node bench/follow-rss.js [SECONDS] [EVENTS_PER_SECOND]    # default 180 s, 3000 events/s
 *
 * The events come from a fixed pool of addresses (12,000 IPv4 callers of an
 * API key in ~1,200 /24s, learned, and 2,000 strangers of an SMTP key whose
 * blocking is active, so they fill the blocked list), so the store reaches a
 * steady size and what is measured is the follower, not the store's growth.
 * Needs a build (npm run build). Not part of `npm test`.
 */
import {spawn, spawnSync} from 'node:child_process';
import {appendFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {prng} from './data.js';

const BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url));
const seconds = Number(process.argv[2] ?? 180);
const rate = Number(process.argv[3] ?? 3000);
const dir = mkdtempSync(path.join(os.tmpdir(), 'keyward-follow-rss-'));
const env = {...process.env, KEYWARD_STORE: path.join(dir, 'store.json'), NO_COLOR: '1'};
delete env.KEYWARD_NOW;
const log = path.join(dir, 'access.log');

const keyward = (args) => {
  const r = spawnSync(process.execPath, [BIN, ...args], {env, encoding: 'utf8'});
  if (r.status !== 0) throw new Error(`keyward ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return r.stdout;
};
keyward(['keys', 'create', 'billing', '--type', 'api', '--json']);
keyward(['keys', 'create', 'mailer', '--type', 'smtp', '--json']);
keyward(['activate', '--smtp', '--force']);

const random = prng(13);
const api = Array.from({length: 12_000}, (_, i) => `198.${18 + (i % 2)}.${Math.floor(i / 20) % 256}.${1 + (i % 200)}`);
const smtp = Array.from({length: 2_000}, (_, i) => `203.0.${Math.floor(i / 250)}.${1 + (i % 250)}`);

writeFileSync(log, '');
const follower = spawn(process.execPath, [BIN, 'learn', log, '--follow', '--commit-every', '1s', '--json'], {env, stdio: ['ignore', 'pipe', 'pipe']});
let stdout = '';
let stderr = '';
follower.stdout.setEncoding('utf8').on('data', (t) => (stdout += t));
follower.stderr.setEncoding('utf8').on('data', (t) => (stderr += t));
const exited = new Promise((resolve) => follower.on('close', (code) => resolve(code)));

const rssMiB = () => {
  const status = readFileSync(`/proc/${follower.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

await sleep(1500);
const samples = [];
const started = Date.now();
let written = 0;
let nextSample = 0;
let nextRotation = 60_000;
let rotations = 0;
const TICK_MS = 100;
process.stdout.write(`follower pid ${follower.pid}; ${seconds} s at ${rate} events/s; store in ${dir}\n  time   RSS MiB   events written\n`);
for (;;) {
  const elapsed = Date.now() - started;
  if (elapsed >= nextSample) {
    const rss = rssMiB();
    samples.push({s: Math.round(elapsed / 1000), rss});
    process.stdout.write(`${String(Math.round(elapsed / 1000)).padStart(5)} s ${rss.toFixed(1).padStart(9)} ${String(written).padStart(16)}\n`);
    nextSample += 10_000;
  }
  if (elapsed >= seconds * 1000) break;
  if (elapsed >= nextRotation) {
    renameSync(log, `${log}.1`);
    writeFileSync(log, '');
    rotations++;
    nextRotation += 60_000;
  }
  // Behind schedule (a loaded machine) the generator catches up, so the rate is kept on average.
  const due = Math.floor(((elapsed + TICK_MS) / 1000) * rate) - written;
  if (due > 0) {
    const at = new Date().toISOString();
    let text = '';
    for (let i = 0; i < due; i++) {
      text += random() < 0.9 ? `billing ${api[Math.floor(random() * api.length)]} ${at}\n` : `mailer ${smtp[Math.floor(random() * smtp.length)]} ${at}\n`;
    }
    appendFileSync(log, text);
    written += due;
  }
  await sleep(TICK_MS);
}
await sleep(3000);
const beforeStop = rssMiB();
follower.kill('SIGTERM');
const code = await exited;
const summary = JSON.parse(stdout);
const at = (s) => samples.reduce((best, x) => (Math.abs(x.s - s) < Math.abs(best.s - s) ? x : best)).rss.toFixed(1);
const minutes = Array.from({length: Math.floor(seconds / 60)}, (_, i) => `${i + 1} min ${at((i + 1) * 60)}`);
process.stdout.write(
  `exit ${code}; ${written} events written, ${summary.events} applied (${summary.learned.length} learned, ${summary.blocked.length} blocked), ${rotations} rotations\n` +
    `RSS MiB: start ${samples[0].rss.toFixed(1)}, ${minutes.join(', ')}, end ${beforeStop.toFixed(1)}, max ${Math.max(...samples.map((x) => x.rss)).toFixed(1)}\n`,
);
if (code !== 0 || summary.events !== written) {
  process.stderr.write(`follower:\n${stderr.slice(-2000)}\n`);
  process.exitCode = 1;
}
rmSync(dir, {recursive: true, force: true});
