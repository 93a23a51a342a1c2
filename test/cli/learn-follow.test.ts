/**
 * `keyward learn --follow` end to end, as subprocesses that run while the
 * test writes to their input: a file appended to, rotated (rename + create)
 * and truncated; a pipe that stays open; commits seen in the store while the
 * follower runs, --notify-command run within an interval of the blocking,
 * the learning phase's own switch to blocking happening live, another
 * process's `authorize` between commits kept, and SIGTERM/SIGINT committing
 * what was read and exiting 0. Every wait is on a condition, with generous
 * time limits (the machine is shared).
 */
import {ChildProcess, spawn} from 'node:child_process';
import {appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, truncateSync, utimesSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {expect} from 'chai';

import {BIN, daysAfter, environment, RunResult, Workspace} from './harness.js';

const DAY0 = '2026-01-01T00:00:00.000Z';
const day = (n: number) => daysAfter(DAY0, n);
const RECORDER = fileURLToPath(new URL('../fixtures/notify-recorder.sh', import.meta.url));
const WAIT_MS = 20_000;

function ok(result: RunResult): RunResult {
  expect(result.code, `exit ${result.code}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`).to.equal(0);
  return result;
}

interface Follower {
  child: ChildProcess;
  stderr(): string;
  /** Resolves when the process has exited. */
  exited: Promise<{code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string}>;
}

/** Starts `keyward learn ARGS --follow` on the workspace's store; stdin a pipe when `pipe`. */
function follow(ws: Workspace, args: string[], options: {now: string; pipe?: boolean; env?: Record<string, string>}): Follower {
  const child = spawn(process.execPath, [BIN, 'learn', ...args, '--follow'], {
    cwd: ws.dir,
    env: environment(ws.store, {now: options.now, env: options.env}),
    stdio: [options.pipe ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (t: string) => (stdout += t));
  child.stderr!.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  const exited = new Promise<{code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string}>((resolve) =>
    child.on('close', (code, signal) => resolve({code, signal, stdout, stderr})),
  );
  const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  void exited.then(() => clearTimeout(killer));
  return {child, stderr: () => stderr, exited};
}

/** Waits until `condition` holds (polled), or fails naming `what`. */
async function waitFor<T>(what: string, condition: () => T | null | undefined | false, timeoutMs = WAIT_MS, follower?: Follower): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    let value: T | null | undefined | false = null;
    try {
      value = condition();
    } catch {
      // The store is replaced by rename: a read never sees half a file, but it may not exist yet.
    }
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${follower ? `\n--- follower stderr ---\n${follower.stderr()}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const entries = (ws: Workspace): string[] => (ws.storeJson().account as {entry: string}[]).map((e) => e.entry);
const hasEntry = (ws: Workspace, entry: string) => existsSync(ws.store) && entries(ws).includes(entry);

/** A workspace with API key `billing` made at day 0. */
function workspace(): Workspace {
  const ws = Workspace.create();
  ok(ws.run(['keys', 'create', 'billing', '--type', 'api', '--json'], {now: day(0)}));
  return ws;
}

async function stopWith(f: Follower, signal: NodeJS.Signals) {
  f.child.kill(signal);
  const done = await f.exited;
  expect(done.code, `exit ${done.code} (${done.signal})\n--- stderr ---\n${done.stderr}`).to.equal(0);
  return done;
}

describe('keyward learn FILE --follow', function () {
  this.timeout(90_000);

  it('reads a file truncated and written again past what was read, between two looks, from its start: no line lost, none read from the middle (found by an outside tester)', async () => {
    const ws = workspace();
    const log = path.join(ws.dir, 'access.log');
    writeFileSync(log, `billing 10.1.0.1 ${day(1)}\n`);
    const f = follow(ws, [log, '--commit-every', '200ms', '--json'], {now: day(1)});
    await waitFor('10.1.0.0/24 committed', () => hasEntry(ws, '10.1.0.0/24'), WAIT_MS, f);
    // copytruncate, and the writer at once writes more than was read before (in one tick: the follower cannot look between).
    writeFileSync(`${log}.1`, readFileSync(log));
    truncateSync(log, 0);
    appendFileSync(log, `billing 10.22.0.1 ${day(1)}\nbilling 10.3.0.1 ${day(1)}\nbilling 10.4.0.1 ${day(1)}\n`);
    await waitFor('the last line of the new content', () => hasEntry(ws, '10.4.0.0/24'), WAIT_MS, f);
    const done = await stopWith(f, 'SIGTERM');
    const summary = JSON.parse(done.stdout);
    expect(summary).to.deep.include({events: 4, unknownKeys: 0, badLines: 0});
    expect(summary.learned).to.have.members(['10.1.0.0/24', '10.22.0.0/24', '10.3.0.0/24', '10.4.0.0/24']);
    expect(done.stderr).to.contain('truncated');
  });

  it('waits for a file that does not exist yet, then applies appended lines, a rotation (rename + create) and a truncation, committing as it goes', async () => {
    const ws = workspace();
    const log = path.join(ws.dir, 'access.log');
    const f = follow(ws, [log, '--commit-every', '200ms', '--json'], {now: day(1)});
    await waitFor('the waiting message', () => f.stderr().includes('waiting for'), WAIT_MS, f);

    writeFileSync(log, `billing 10.1.0.1 ${day(1)}\n`);
    await waitFor('10.1.0.0/24 committed', () => hasEntry(ws, '10.1.0.0/24'), WAIT_MS, f);
    appendFileSync(log, `billing 10.2.0.1 ${day(1)}\n`);
    await waitFor('10.2.0.0/24 committed', () => hasEntry(ws, '10.2.0.0/24'), WAIT_MS, f);

    // Rotation: the old file renamed, a new file under the name, and a line still written to the old file
    // (a writer that reopens its log only after the rename, as nginx does on logrotate's USR1).
    // The follower looks every 50 ms here: the late line comes after it has seen the new file.
    renameSync(log, `${log}.1`);
    writeFileSync(log, `billing 10.4.0.1 ${day(1)}\n`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    appendFileSync(`${log}.1`, `billing 10.3.0.1 ${day(1)}\n`);
    await waitFor('the new file read', () => hasEntry(ws, '10.4.0.0/24'), WAIT_MS, f);
    expect(entries(ws), 'the line written to the old file after the rename').to.include('10.3.0.0/24');
    expect(f.stderr()).to.contain('rotated');
    appendFileSync(log, `billing 10.5.0.1 ${day(1)}\n`);
    await waitFor('a line appended to the new file', () => hasEntry(ws, '10.5.0.0/24'), WAIT_MS, f);
    // A bad line is named by its number in the new file (its third), not by the count since the follow began (the summary says it).
    appendFileSync(log, 'billing 10.9.9.9 yesterday\n');
    // (Read before the truncation below takes it away: the follower looks every 50 ms.)
    await new Promise((resolve) => setTimeout(resolve, 1000));

    // Truncation (logrotate's copytruncate), then a line shorter than what was read before.
    truncateSync(log, 0);
    appendFileSync(log, `billing 10.6.0.1 ${day(1)}\n`);
    await waitFor('the line after the truncation', () => hasEntry(ws, '10.6.0.0/24'), WAIT_MS, f);
    // Truncated and written again to exactly the length read before: the size alone cannot show it.
    const again = `billing 10.7.0.1 ${day(1)}\n`;
    expect(again.length).to.equal(`billing 10.6.0.1 ${day(1)}\n`.length);
    writeFileSync(log, again);
    await waitFor('a rewrite of the same length', () => hasEntry(ws, '10.7.0.0/24'), WAIT_MS, f);
    expect(f.stderr()).to.contain('truncated');

    const done = await stopWith(f, 'SIGTERM');
    // --json: the final summary alone on stdout, over the whole run.
    const summary = JSON.parse(done.stdout);
    expect(summary).to.deep.include({events: 7, blocked: [], unknownKeys: 0, badLines: 1, dryRun: false});
    expect(done.stderr).to.match(/line 3 of \S*access\.log: `yesterday` is not/);
    expect(summary.learned).to.have.members(['10.1.0.0/24', '10.2.0.0/24', '10.3.0.0/24', '10.4.0.0/24', '10.5.0.0/24', '10.6.0.0/24', '10.7.0.0/24']);
    // Each 10.x line was applied once: learned entries plus seen counts say so.
    const seen = ws.storeJson().seen as {ip: string; count: number}[];
    expect(seen.map((s) => s.count)).to.deep.equal([1, 1, 1, 1, 1, 1, 1]);
  });

  it('blocks live and runs --notify-command within a commit interval; the learning phase turns blocking on at the commit where it is due', async () => {
    const ws = workspace();
    const log = ws.file('access.log', '');
    const out = path.join(ws.dir, 'notified.ndjson');
    const every = 1000;
    const f = follow(ws, [log, '--commit-every', `${every}ms`, '--notify-command', `sh '${RECORDER}' '${out}'`], {now: day(31)});

    // Day 0: a caller learned, so the quiet window ends at day 30. Its event at day 31 shows the window over.
    appendFileSync(log, `billing 192.0.2.10 ${day(0)}\n`);
    await waitFor('192.0.2.0/24 learned', () => hasEntry(ws, '192.0.2.0/24'), WAIT_MS, f);
    expect(ws.storeJson().blocking.api.state).to.equal('learning');
    appendFileSync(log, `billing 192.0.2.11 ${day(31)}\n`);
    await waitFor('API blocking active', () => ws.storeJson().blocking.api.state === 'active', WAIT_MS, f);
    await waitFor('the activation said on stderr', () => f.stderr().includes('API blocking turned itself on'), WAIT_MS, f);

    // Now a stranger is blocked, and the notification comes within an interval (plus the machine's slack).
    const before = Date.now();
    appendFileSync(log, `billing 203.0.113.5 ${day(31)}\n`);
    const payload = await waitFor(
      'the notification',
      () => existsSync(out) && readFileSync(out, 'utf8').includes('\n') && JSON.parse(readFileSync(out, 'utf8').split('\n')[0]),
      WAIT_MS,
      f,
    );
    const latency = Date.now() - before;
    expect(payload).to.include({event: 'blocked', ip: '203.0.113.5', key: 'billing', channel: 'api'});
    expect(latency, 'ms from the append to the notification').to.be.below(every + 3000);
    expect((ws.storeJson().blocked as {ip: string}[]).map((b) => b.ip)).to.deep.equal(['203.0.113.5']);
    expect(f.child.exitCode, 'still following').to.equal(null);

    // Each time: a second stranger later is notified too, the first is not notified again.
    appendFileSync(log, `billing 203.0.113.5 ${day(31)}\nbilling 198.51.100.9 ${day(31)}\n`);
    await waitFor('the second notification', () => readFileSync(out, 'utf8').trim().split('\n').length === 2, WAIT_MS, f);

    const done = await stopWith(f, 'SIGTERM');
    expect(
      readFileSync(out, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).ip),
    ).to.deep.equal(['203.0.113.5', '198.51.100.9']);
    expect(done.stderr).to.match(/5 events applied, 1 entry learned, 2 addresses newly blocked/);
  });

  it("keeps another process's authorize and sync made between commits (each commit reads the store afresh under the lock)", async () => {
    const ws = workspace();
    const log = ws.file('access.log', '');
    const f = follow(ws, [log, '--commit-every', '200ms'], {now: day(1)});
    appendFileSync(log, `billing 10.1.0.1 ${day(1)}\n`);
    await waitFor('the first commit', () => hasEntry(ws, '10.1.0.0/24'), WAIT_MS, f);

    ok(ws.run(['authorize', '198.51.100.0/24', '--label', 'by hand'], {now: day(1)}));
    ok(ws.run(['sync', ws.file('list.txt', '198.51.100.0/24 # by hand\n192.0.2.0/24 # synced\n'), '--yes'], {now: day(1)}));
    ok(ws.run(['keys', 'create', 'mailer', '--type', 'smtp', '--json'], {now: day(1)}));
    appendFileSync(log, `billing 10.2.0.1 ${day(1)}\nmailer 10.9.0.1 ${day(1)}\n`);
    await waitFor('the next commit', () => hasEntry(ws, '10.2.0.0/24'), WAIT_MS, f);
    // Several more commits after the authorize: none writes back the store as it was before it.
    for (let i = 3; i <= 5; i++) {
      appendFileSync(log, `billing 10.${i}.0.1 ${day(1)}\n`);
      await waitFor(`commit ${i}`, () => hasEntry(ws, `10.${i}.0.0/24`), WAIT_MS, f);
    }
    const done = await stopWith(f, 'SIGINT');
    const store = ws.storeJson();
    expect(store.account.find((e: any) => e.entry === '198.51.100.0/24')).to.include({source: 'manual', label: 'by hand'});
    expect(store.account.find((e: any) => e.entry === '192.0.2.0/24')).to.include({label: 'synced'});
    // The key made after the follower started was found by a later commit: its event is no unknown key.
    expect(store.keys.map((k: any) => k.name)).to.deep.equal(['billing', 'mailer']);
    expect(done.stderr).not.to.contain('unknown keys');
    expect(store.seen.map((s: any) => s.ip)).to.include('10.9.0.1');
  });

  it('SIGINT and SIGTERM commit what was read since the last commit and exit 0', async () => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const ws = workspace();
      const log = ws.file('access.log', '');
      // An interval far longer than the test: only the signal can commit these lines.
      const f = follow(ws, [log, '--commit-every', '60m'], {now: day(1)});
      await waitFor('the follower started', () => f.stderr().includes('following'), WAIT_MS, f);
      appendFileSync(log, `billing 10.1.0.1 ${day(1)}\nbilling 10.2.0.1 ${day(1)}\n`);
      // Give the follower time to read the lines (it polls an idle file every 250 ms at most).
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(hasEntry(ws, '10.1.0.0/24'), 'nothing committed before the signal').to.equal(false);
      const done = await stopWith(f, signal);
      expect(entries(ws), signal).to.include.members(['10.1.0.0/24', '10.2.0.0/24']);
      expect(done.stderr, signal).to.contain('2 events applied, 2 entries learned');
    }
  });
});

describe('keyward learn --follow: what an outside tester found (round 15)', function () {
  this.timeout(90_000);

  it('a signal leaves a last line without its end of line unread (its address may be cut), says so, and a restart reads it whole', async () => {
    const ws = workspace();
    const log = ws.file('access.log', `billing 10.13.0.1 ${day(1)}\n`);
    const f = follow(ws, [log, '--commit-every', '200ms', '--json'], {now: day(1)});
    await waitFor('10.13.0.0/24 committed', () => hasEntry(ws, '10.13.0.0/24'), WAIT_MS, f);
    // The writer is half way through a line: `2001:db8::5` of `2001:db8::5:6:7:8:9` (another /64).
    appendFileSync(log, 'billing 2001:db8::5');
    await new Promise((resolve) => setTimeout(resolve, 800));
    const done = await stopWith(f, 'SIGTERM');
    expect(entries(ws)).to.not.include('2001:db8::/64');
    expect(done.stderr).to.contain('line 2 of').and.contain('was not read: the stop came before its end of line (a restart reads the file whole again)');
    // Not a bad line: the writer had not finished it (found by an outside tester: a cut in keyward's own read counted too).
    expect(JSON.parse(done.stdout)).to.deep.include({events: 1, badLines: 0});
    // The writer ends its line; the next run reads it whole.
    appendFileSync(log, `:6:7:8:9 ${day(1)}\n`);
    const again = ok(ws.run(['learn', log, '--json'], {now: day(1)}));
    expect(again.json().learned).to.deep.equal(['2001:db8:0:5::/64']);
  });

  it('one SIGTERM just after stdin ended is the first signal, not a second: the last commit is made, exit 0', async () => {
    for (let round = 0; round < 4; round++) {
      const ws = workspace();
      const f = follow(ws, ['-', '--commit-every', '60m'], {now: day(1), pipe: true});
      await waitFor('the follower started', () => f.stderr().includes('following'), WAIT_MS, f);
      f.child.stdin!.end(`billing 10.${round}.0.1 ${day(1)}\n`);
      // (The end of stdin stops the follower; the service manager's SIGTERM comes on its heels.)
      await new Promise((resolve) => setTimeout(resolve, round * 3));
      const done = await stopWith(f, 'SIGTERM');
      expect(entries(ws), `round ${round}: ${done.stderr}`).to.include(`10.${round}.0.0/24`);
    }
  });

  it('without a signal a last line without its end of line is read when the input ends (stdin closed)', () => {
    const ws = workspace();
    const done = ok(ws.run(['learn', '-', '--follow', '--json'], {now: day(1), input: `billing 10.13.0.1 ${day(1)}\nbilling 10.14.0.1 ${day(1)}`}));
    expect(done.json().learned).to.deep.equal(['10.13.0.0/24', '10.14.0.0/24']);
  });
});

describe('keyward learn --follow: what an outside tester found (round 17)', function () {
  this.timeout(90_000);

  it('rotations less than a second apart: every file that was under the name is read whole, in turn (a middle one was skipped)', async () => {
    const ws = workspace();
    const log = ws.file('rr.log', `billing 10.21.0.1 ${day(1)}\n`);
    const f = follow(ws, [log, '--commit-every', '100ms', '--json'], {now: day(1)});
    await waitFor('the first file committed', () => hasEntry(ws, '10.21.0.0/24'), WAIT_MS, f);
    for (const n of [2, 3, 4]) {
      renameSync(log, `${log}.${n - 1}`);
      writeFileSync(log, `billing 10.2${n}.0.1 ${day(1)}\n`);
      // Seen by a look (every 25 ms here), but moved away again well within the old file's quiet second.
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    await waitFor('every file committed', () => ['10.22.0.0/24', '10.23.0.0/24', '10.24.0.0/24'].every((e) => hasEntry(ws, e)), WAIT_MS, f);
    const done = await stopWith(f, 'SIGTERM');
    expect(JSON.parse(done.stdout)).to.deep.include({events: 4});
  });

  it('a second signal while a --notify-command runs exits at once (143) and ends the command with all it started, never leaves it running', async () => {
    const ws = workspace();
    ok(ws.run(['activate', '--api', '--force'], {now: day(1)}));
    const log = ws.file('access.log', `billing 203.0.113.1 ${day(1)}\n`);
    const pidFile = path.join(ws.dir, 'notify.pid');
    // The command's shell writes its process id, then waits long past the test.
    const f = follow(ws, [log, '--commit-every', '100ms', '--notify-command', `echo $$ > ${pidFile}; sleep 60`], {now: day(1)});
    const pid = await waitFor('the command running', () => existsSync(pidFile) && Number(readFileSync(pidFile, 'utf8')), WAIT_MS, f);
    f.child.kill('SIGTERM');
    // (The first signal gives the command 5 s; the second comes within them.)
    await new Promise((resolve) => setTimeout(resolve, 300));
    f.child.kill('SIGTERM');
    const done = await f.exited;
    expect(done.code, done.stderr).to.equal(143);
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    await waitFor('the command ended', () => !alive(), 5000).catch(() => undefined);
    expect(alive(), 'the --notify-command left running').to.equal(false);
  });

  it('rotations faster than its looks (every 100 ms, looks every 250 ms): a watch on the folder wakes a look, and every file is read', async () => {
    const ws = workspace();
    const log = ws.file('fast.log', '');
    const f = follow(ws, [log, '--commit-every', '1s', '--json'], {now: day(1)});
    await waitFor('the follower started', () => f.stderr().includes('following'), WAIT_MS, f);
    const FILES = 8;
    const LINES = 20;
    for (let n = 1; n <= FILES; n++) {
      writeFileSync(log, Array.from({length: LINES}, (_, i) => `billing 10.${n}.${i}.1 ${day(1)}\n`).join(''));
      await new Promise((resolve) => setTimeout(resolve, 100));
      renameSync(log, `${log}.${n}`);
    }
    writeFileSync(log, '');
    await waitFor('every file read', () => f.stderr().split('was replaced (rotated)').length - 1 >= FILES, WAIT_MS, f);
    const done = await stopWith(f, 'SIGTERM');
    expect(JSON.parse(done.stdout).events, done.stderr).to.equal(FILES * LINES);
  });

  it('SIGTERM while a large file is still being read stops at once: what was read is committed, not the rest of the file (exit 0)', async () => {
    const ws = workspace();
    const LINES = 1_000_000;
    const line = `billing 10.13.0.1 ${day(1)}\n`;
    const log = path.join(ws.dir, 'backlog.log');
    writeFileSync(log, line.repeat(LINES));
    const f = follow(ws, [log, '--commit-every', '50ms', '--json'], {now: day(1)});
    await waitFor('a first commit with events', () => hasEntry(ws, '10.13.0.0/24'), WAIT_MS, f);
    const done = await stopWith(f, 'SIGTERM');
    const summary = JSON.parse(done.stdout);
    // Before the fix the follower read all of the file first (some seconds here, minutes for a real backlog).
    expect(summary.events, 'stopped before the end of the file').to.be.above(0).and.below(LINES);
    // The line the stop's own read cut is no bad line: every line of the file is good.
    expect(summary.badLines).to.equal(0);
    const seen = (ws.storeJson().seen as {ip: string; count: number}[]).find((s) => s.ip === '10.13.0.1');
    expect(seen?.count, 'what the summary counts is what was committed').to.equal(summary.events);
  });
});

/** Holds the store's lock folder as another keyward would (kept fresh, so it is never taken as stale) until released. */
async function holdLock(ws: Workspace): Promise<() => void> {
  const lock = `${ws.store}.lock`;
  // The follower takes the lock for each commit: wait for a moment it does not hold it.
  await waitFor('the lock free', () => {
    try {
      mkdirSync(lock);
      return true;
    } catch {
      return false;
    }
  });
  const fresh = setInterval(() => utimesSync(lock, new Date(), new Date()), 1000);
  return () => {
    clearInterval(fresh);
    rmSync(lock, {recursive: true, force: true});
  };
}

describe('keyward learn --follow: when a commit cannot be made', function () {
  this.timeout(90_000);

  it('a commit that cannot take the lock stops the run with exit 3, saying how many events were not committed', async () => {
    const ws = workspace();
    const log = ws.file('access.log', '');
    const f = follow(ws, [log, '--commit-every', '200ms'], {now: day(1), env: {KEYWARD_LOCK_TIMEOUT_MS: '1000'}});
    appendFileSync(log, `billing 10.1.0.1 ${day(1)}\n`);
    await waitFor('the first commit', () => hasEntry(ws, '10.1.0.0/24'), WAIT_MS, f);
    const release = await holdLock(ws);
    try {
      appendFileSync(log, `billing 10.2.0.1 ${day(1)}\n`);
      const done = await f.exited;
      expect(done.code, done.stderr).to.equal(3);
      expect(done.stderr).to.match(/lock/i).and.contain('1 event read since the last commit was not committed');
      expect(entries(ws)).not.to.include('10.2.0.0/24');
    } finally {
      release();
    }
  });

  it('a store moved away between commits is a failed commit (exit 3, the events counted), never a new empty store that swallows them', async () => {
    const ws = workspace();
    const log = ws.file('access.log', '');
    const f = follow(ws, [log, '--commit-every', '200ms'], {now: day(1)});
    appendFileSync(log, `billing 10.1.0.1 ${day(1)}\n`);
    await waitFor('the first commit', () => hasEntry(ws, '10.1.0.0/24'), WAIT_MS, f);
    renameSync(ws.store, `${ws.store}.moved`);
    appendFileSync(log, `billing 10.2.0.1 ${day(1)}\n`);
    const done = await f.exited;
    expect(done.code, done.stderr).to.equal(3);
    expect(done.stderr).to.contain('no store at').and.contain('1 event read since the last commit was not committed');
    expect(existsSync(ws.store), 'no new store made').to.equal(false);
  });

  it('SIGTERM lets queued --notify-command runs go on for 5 s, then skips the rest (counted) and exits 0', async () => {
    const ws = workspace();
    ok(ws.run(['activate', '--api', '--force'], {now: day(1)}));
    const log = ws.file('access.log', Array.from({length: 20}, (_, i) => `billing 203.0.113.${i + 1} ${day(1)}`).join('\n') + '\n');
    const f = follow(ws, [log, '--commit-every', '100ms', '--notify-command', 'sleep 2'], {now: day(1)});
    await waitFor('20 addresses blocked', () => existsSync(ws.store) && (ws.storeJson().blocked as unknown[]).length === 20, WAIT_MS, f);
    const started = Date.now();
    const done = await stopWith(f, 'SIGTERM');
    // 20 notifications of 2 s would take 40 s; the grace time is 5 s, and the one running finishes.
    expect(Date.now() - started, 'ms from SIGTERM to exit').to.be.below(12_000);
    expect(done.stderr).to.match(/--notify-command skipped for \d+ blocked addresses: stopping/);
  });

  it('a second signal while the last commit waits for the lock exits at once (143), without that commit', async () => {
    const ws = workspace();
    const log = ws.file('access.log', '');
    const f = follow(ws, [log, '--commit-every', '60m'], {now: day(1)});
    await waitFor('the follower started', () => f.stderr().includes('following'), WAIT_MS, f);
    const release = await holdLock(ws);
    try {
      appendFileSync(log, `billing 10.1.0.1 ${day(1)}\n`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      f.child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 1000));
      f.child.kill('SIGTERM');
      const done = await f.exited;
      expect(done.code, done.stderr).to.equal(143);
      expect(done.stderr).to.contain('second SIGTERM: exiting without committing 1 event');
    } finally {
      release();
    }
    expect(existsSync(ws.store) && entries(ws)).not.to.include('10.1.0.0/24');
  });
});

describe('keyward learn --follow: hostile input', function () {
  this.timeout(90_000);

  it('shows a secret in a followed line only by its hint, and a file name with control characters escaped', async () => {
    const ws = workspace();
    const secret = 'f00d' + '1234567890abcdef1234567890abcdef' + 'beef';
    const log = path.join(ws.dir, 'acc\u001b[31mess.log');
    const f = follow(ws, [log, '--commit-every', '200ms'], {now: day(1)});
    await waitFor('the waiting message', () => f.stderr().includes('waiting for'), WAIT_MS, f);
    writeFileSync(log, `${secret} 10.1.0.1 ${day(1)}\nBearer\t${secret.toUpperCase()} 10.1.0.2 ${day(1)}\n${'x'.repeat(10_000)}\nbilling 10.3.0.1 ${day(1)}\n`);
    await waitFor('the last line committed', () => hasEntry(ws, '10.3.0.0/24'), WAIT_MS, f);
    const done = await stopWith(f, 'SIGTERM');
    expect(done.stderr).to.contain('f00d…beef').and.not.contain(secret).and.not.contain(secret.toUpperCase());
    expect(done.stderr).not.to.contain('\u001b[31m');
    expect(done.stderr).to.match(/bad lines? skipped/);
    expect(ws.storeBytes()!.toString()).not.to.contain(secret);
  });
});

describe('keyward learn - --follow', function () {
  this.timeout(90_000);

  it('applies a pipe that stays open as lines arrive, and ends with the pipe', async () => {
    const ws = workspace();
    const f = follow(ws, ['-', '--commit-every', '200ms', '--json'], {now: day(1), pipe: true});
    f.child.stdin!.write(`billing 10.1.0.1 ${day(1)}\n`);
    await waitFor('the first line committed while stdin is open', () => hasEntry(ws, '10.1.0.0/24'), WAIT_MS, f);
    // A line in two writes, and a line without a time (it happens "now").
    f.child.stdin!.write(`billing 10.2`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    f.child.stdin!.write(`.0.1 ${day(1)}\nbilling 10.3.0.1\nnot an event line at all\n`);
    await waitFor('the later lines committed', () => hasEntry(ws, '10.2.0.0/24') && hasEntry(ws, '10.3.0.0/24'), WAIT_MS, f);
    expect(f.child.exitCode, 'still reading').to.equal(null);
    f.child.stdin!.end();
    const done = await f.exited;
    expect(done.code, done.stderr).to.equal(0);
    expect(JSON.parse(done.stdout)).to.deep.include({events: 3, learned: ['10.1.0.0/24', '10.2.0.0/24', '10.3.0.0/24'], badLines: 1, untimed: 1});
    // (Each untimed line happened when it was read, not at the run's end.)
    expect(done.stderr).to.contain('1 event had no time and was taken as happening when read');
  });

  it('reads a real log format while following: nginx combined lines with the key appended, auto-detected, and ndjson with --field', async () => {
    const ws = workspace();
    const f = follow(ws, ['-', '--commit-every', '200ms', '--json'], {now: day(1), pipe: true});
    f.child.stdin!.write(`10.1.0.7 - - [01/Jan/2026:10:00:00 +0000] "GET /v1/orders HTTP/1.1" 200 512 "-" "curl/8.5.0" "billing"\n`);
    await waitFor('the combined line committed', () => hasEntry(ws, '10.1.0.0/24'), WAIT_MS, f);
    f.child.stdin!.write(`2001:db8:7::1 - - [01/Jan/2026:10:00:01 +0000] "GET / HTTP/2.0" 200 1 "-" "-" "Bearer billing"\n`);
    await waitFor('the IPv6 caller committed', () => hasEntry(ws, '2001:db8:7::/64'), WAIT_MS, f);
    f.child.stdin!.end();
    const done = await f.exited;
    expect(done.code, done.stderr).to.equal(0);
    expect(JSON.parse(done.stdout)).to.deep.include({events: 2, format: 'combined'});

    const g = follow(ws, ['-', '--commit-every', '200ms', '--format', 'ndjson', '--field', 'key=http_x_api_key', '--field', 'ip=remote_addr', '--field', 'at=time_iso8601'], {
      now: day(1),
      pipe: true,
    });
    g.child.stdin!.write(`${JSON.stringify({remote_addr: '10.9.0.1', http_x_api_key: 'billing', time_iso8601: '2026-01-01T11:00:00+00:00'})}\n`);
    await waitFor('the ndjson line committed', () => hasEntry(ws, '10.9.0.0/24'), WAIT_MS, g);
    g.child.stdin!.end();
    expect((await g.exited).code).to.equal(0);
  });

  it('SIGTERM with the pipe still open commits what was read', async () => {
    const ws = workspace();
    const f = follow(ws, ['-', '--commit-every', '60m'], {now: day(1), pipe: true});
    await waitFor('the follower started', () => f.stderr().includes('following stdin'), WAIT_MS, f);
    f.child.stdin!.write(`billing 10.1.0.1 ${day(1)}\n`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(hasEntry(ws, '10.1.0.0/24')).to.equal(false);
    await stopWith(f, 'SIGTERM');
    expect(entries(ws)).to.include('10.1.0.0/24');
  });
});

describe('keyward learn - --follow on a large store (its index cache beside it)', function () {
  this.timeout(120_000);

  it('commits what the same follow commits on a copy that has no cache (every commit a whole read): the same store, history and answers', async () => {
    // Over 1 MiB, so that keyward keeps an index cache beside the store and trusts the file it wrote: with blocking on,
    // a commit then leaves the account list unparsed and writes its text back as the file's bytes (docs/performance.md).
    const cached = workspace();
    const label = `customer "é ü 日本" \\ ${'x'.repeat(120)}`;
    const lines = Array.from({length: 7000}, (_, i) => `10.${i >> 8}.${i & 255}.0/24 # ${label} ${i}`);
    ok(cached.run(['authorize', '-'], {input: `${lines.join('\n')}\n`, now: day(0)}));
    expect(readFileSync(cached.store).length).to.be.greaterThan(1 << 20);
    expect(existsSync(`${cached.store}.cache`), 'the cache of a large store').to.equal(true);
    // The same bytes in a second workspace, with a folder where its cache would be: it never has one, every read is whole.
    const whole = Workspace.create();
    writeFileSync(whole.store, readFileSync(cached.store), {mode: 0o600});
    mkdirSync(`${whole.store}.cache`);
    const run = async (ws: Workspace) => {
      const f = follow(ws, ['-', '--commit-every', '50ms'], {now: day(1), pipe: true});
      let commits = 0;
      const feed = async (line: string) => {
        f.child.stdin!.write(`${line}\n`);
        commits++;
        await waitFor(`commit ${commits}`, () => (f.stderr().match(/committed 1 event\b/g) ?? []).length >= commits, WAIT_MS, f);
      };
      // Learning: each new address's /24 is learned (the account list is read and spliced).
      await feed(`billing 192.0.2.1 ${day(1)}`);
      await feed(`billing 198.51.100.1 ${day(1)}`);
      // Blocking on (another process, between commits): new addresses go to the blocked list, the account list is left as it was.
      ok(ws.run(['activate', '--api', '--yes'], {now: day(1)}));
      await feed(`billing 203.0.113.1 ${day(1)}`);
      await feed(`billing 203.0.113.2 ${day(1)}`);
      await feed(`billing 2001:db8::1 ${day(1)}`);
      f.child.stdin!.end();
      const done = await f.exited;
      expect(done.code, done.stderr).to.equal(0);
    };
    await run(cached);
    await run(whole);
    expect(readFileSync(cached.store).equals(readFileSync(whole.store)), 'the store, byte for byte').to.equal(true);
    for (const args of [
      ['history', '--json'],
      ['blocked', '--json'],
      ['status', '--json'],
      ['check', 'billing', '203.0.113.1', '192.0.2.77', '10.1.2.3', '--json'],
    ]) {
      const [a, b] = [cached, whole].map((ws) => ws.run(args, {now: day(1)}));
      expect(a.code, args.join(' ')).to.equal(b.code);
      expect(a.stdout.replaceAll(cached.store, 'STORE'), args.join(' ')).to.equal(b.stdout.replaceAll(whole.store, 'STORE'));
    }
    const history = JSON.parse(cached.run(['history', '--json'], {now: day(1)}).stdout) as {command: string; changes: {counts: {added: number}; blocked: {added: number}}}[];
    const commits = history.filter((r) => r.command === 'learn');
    expect(commits.map((r) => [r.changes.counts.added, r.changes.blocked.added])).to.deep.equal([
      [1, 0],
      [1, 0],
      [0, 1],
      [0, 1],
      [0, 1],
    ]);
  });
});

describe('keyward learn --follow: usage', () => {
  it('refuses --dry-run, --strict, two inputs, no input, a bad --commit-every, and --commit-every without --follow (exit 2)', () => {
    const ws = workspace();
    const log = ws.file('access.log', '');
    for (const args of [
      ['learn', log, '--follow', '--dry-run'],
      ['learn', log, '--follow', '--strict'],
      ['learn', log, log, '--follow'],
      ['learn', '--follow'],
      ['learn', log, '--follow', '--commit-every', '10ms'],
      ['learn', log, '--follow', '--commit-every', '5'],
      ['learn', log, '--follow', '--commit-every', '2h'],
      ['learn', log, '--commit-every', '5s'],
    ]) {
      const result = ws.run(args, {now: day(1)});
      expect(result.code, `${args.join(' ')}\n${result.stderr}`).to.equal(2);
    }
  });

  it('a file it cannot read when it starts is exit 2', () => {
    const ws = workspace();
    const result = ws.run(['learn', ws.dir, '--follow'], {now: day(1)});
    expect(result.code, result.stderr).to.equal(2);
    expect(result.stderr).to.contain('cannot read');
  });
});
