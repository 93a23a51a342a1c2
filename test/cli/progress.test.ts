/**
 * The progress line: its text fits the width and keeps its layout, it is
 * redrawn at most ten times a second and erased at the end, it appears only on
 * a terminal, and readers report to it; end to end, a stderr that is not a
 * terminal gets the normal messages and nothing else.
 */
import {spawnSync} from 'node:child_process';
import {readFileSync} from 'node:fs';
import path from 'node:path';
import {Readable} from 'node:stream';
import {fileURLToPath} from 'node:url';
import {expect} from 'chai';
import fc from 'fast-check';
import {eachLine} from '../../src/cli/input.js';
import {formatBytes, NO_PROGRESS, ProgressBar, ProgressSink, ProgressState, renderProgress, startProgress} from '../../src/cli/progress.js';
import {Workspace} from './harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'run.js');

/** A terminal stream that records what is written to it. */
function fakeTerminal(columns = 80) {
  const writes: string[] = [];
  return {isTTY: true, columns, writes, write: (text: string) => writes.push(text)};
}

const state = (over: Partial<ProgressState> = {}): ProgressState => ({
  label: 'reading allowlist.txt',
  bytes: 512 * 1024,
  lines: 40_000,
  total: 1024 * 1024,
  elapsedMs: 1000,
  width: 80,
  ...over,
});

describe('progress line', () => {
  describe('renderProgress', () => {
    it('shows bar, percentage, bytes of total, rate and lines when the size is known', () => {
      const line = renderProgress(state({width: 120}));
      expect(line).to.match(/^reading allowlist\.txt {2}\[#{15}-{15}\] {3}50% {3}512\.0 KiB \/ 1\.0 MiB {3}512\.0 KiB\/s {2}40,000 lines$/);
    });

    it('shows bytes, rate and lines, and no percentage, when the size is not known', () => {
      expect(renderProgress(state({total: null, label: 'reading stdin'}))).to.equal('reading stdin  512.0 KiB  512.0 KiB/s  40,000 lines');
    });

    it('drops lines, then the rate, then the sizes on a narrow terminal, keeping a bar of 10 or more', () => {
      const at = (width: number) => renderProgress(state({width}));
      expect(at(80)).not.to.contain('lines');
      expect(at(80)).to.contain('KiB/s');
      expect(at(70)).not.to.contain('/s');
      expect(at(70)).to.contain('512.0 KiB / 1.0 MiB');
      expect(at(45)).to.match(/\[[#-]{10,}\] +50%$/);
      for (const width of [120, 80, 70, 45]) expect(at(width).match(/\[([#-]+)\]/)![1].length).to.be.within(10, 30);
    });

    it('never reaches the last column, at any width', () => {
      fc.assert(
        fc.property(
          fc.integer({min: 0, max: 300}),
          fc.string({maxLength: 80}),
          fc.nat(),
          fc.option(fc.integer({min: 1, max: 2 ** 40})),
          fc.nat(),
          (width, label, bytes, total, lines) => {
            const line = renderProgress(state({width, label, bytes, total, lines, elapsedMs: 1234}));
            return line.length <= Math.max(0, width - 1);
          },
        ),
      );
    });

    it('keeps the bar the same size from start to end, so the line does not jump', () => {
      const widths = new Set<number>();
      for (let bytes = 0; bytes <= 10 * 1024 ** 3; bytes += 1024 ** 3 / 3) {
        const line = renderProgress(state({bytes, total: 10 * 1024 ** 3, lines: Math.round(bytes / 12), width: 100}));
        widths.add(line.indexOf(']'));
      }
      expect([...widths]).to.have.length(1);
    });

    it('formats sizes in binary units', () => {
      expect([0, 1023, 1024, 1536, 5 * 1024 ** 2, 3 * 1024 ** 4].map(formatBytes)).to.deep.equal(['0 B', '1023 B', '1.0 KiB', '1.5 KiB', '5.0 MiB', '3.0 TiB']);
    });
  });

  describe('ProgressBar', () => {
    it('draws nothing before the delay, then at most once per 100 ms, and erases its line at the end', () => {
      const tty = fakeTerminal();
      let now = 0;
      const bar = new ProgressBar('reading x', {total: 10_000, stream: tty, clock: () => now, delayMs: 300, intervalMs: 100});
      for (now = 0; now < 300; now++) bar.update(now, now);
      expect(tty.writes, 'nothing in the first 300 ms').to.deep.equal([]);
      for (; now < 1300; now++) bar.update(now * 5, now);
      expect(tty.writes.length, 'one second of updates every millisecond').to.be.within(10, 11);
      for (const w of tty.writes) expect(w).to.match(/^\r.*\u001b\[K$/);
      expect(tty.writes.at(-1)).to.match(/ 6[0-4]%/);
      bar.done();
      expect(tty.writes.at(-1)).to.equal('\r\u001b[2K');
      bar.done();
      expect(
        tty.writes.filter((w) => w === '\r\u001b[2K'),
        'erased once',
      ).to.have.length(1);
    });

    it('writes nothing at all when the reading ends before the delay', () => {
      const tty = fakeTerminal();
      let now = 0;
      const bar = new ProgressBar('reading x', {stream: tty, clock: () => now});
      for (now = 0; now < 250; now += 10) bar.update(now, now);
      bar.done();
      expect(tty.writes).to.deep.equal([]);
    });

    it('uses 80 columns on a terminal that reports none (a pseudo-terminal without a size)', () => {
      const tty = fakeTerminal(0);
      let now = 0;
      const bar = new ProgressBar('reading x', {total: 100, stream: tty, clock: () => now, delayMs: 0});
      now = 1000;
      bar.update(50, 5);
      expect(tty.writes[0]).to.contain('50%').and.to.contain('[');
    });
  });

  describe('startProgress', () => {
    it('draws only on a terminal, and not on TERM=dumb', () => {
      expect(startProgress('x', undefined, {stream: {isTTY: false, write: () => true}})).to.equal(NO_PROGRESS);
      expect(startProgress('x', undefined, {stream: {write: () => true}})).to.equal(NO_PROGRESS);
      expect(startProgress('x', undefined, {stream: fakeTerminal()})).to.be.instanceOf(ProgressBar);
      const term = process.env.TERM;
      process.env.TERM = 'dumb';
      try {
        expect(startProgress('x', undefined, {stream: fakeTerminal()})).to.equal(NO_PROGRESS);
      } finally {
        if (term === undefined) delete process.env.TERM;
        else process.env.TERM = term;
      }
    });

    it('knows the size of a file given by path', () => {
      const ws = Workspace.create();
      const file = ws.file('entries.txt', '10.0.0.1\n'.repeat(1000));
      const tty = fakeTerminal(120);
      let now = 0;
      const bar = startProgress('reading entries.txt', file, {stream: tty, clock: () => now, delayMs: 0});
      now = 500;
      bar.update(4500, 500);
      expect(tty.writes[0]).to.contain('50%').and.to.contain('8.8 KiB');
    });
  });

  describe('eachLine reporting progress', () => {
    it('tells the bytes and lines read after each chunk, and done once at the end', async () => {
      const reports: [number, number][] = [];
      let done = 0;
      const sink: ProgressSink = {update: (bytes, lines) => reports.push([bytes, lines]), done: () => done++};
      const chunks = ['10.0.0.1\n10.0', '.0.2\n10.0.0.3\n', '10.0.0.4'];
      const seen: string[] = [];
      await eachLine(Readable.from(chunks.map((c) => Buffer.from(c))), (text) => void seen.push(text), {progress: sink});
      expect(seen).to.deep.equal(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4']);
      expect(reports).to.deep.equal([
        [13, 1],
        [27, 3],
        [35, 3],
      ]);
      expect(done).to.equal(1);
    });

    it('erases the line when reading fails, before the error is reported', async () => {
      let done = 0;
      const sink: ProgressSink = {update: () => {}, done: () => done++};
      const failing = Readable.from([Buffer.from('10.0.0.1\n'), Buffer.from('x'.repeat(5000) + '\n')]);
      let error: unknown;
      await eachLine(failing, () => {}, {progress: sink}).catch((e) => (error = e));
      expect(String(error)).to.contain('longer than');
      expect(done).to.equal(1);
    });
  });

  describe('end to end', function () {
    this.timeout(120_000);
    const hasScript = spawnSync('script', ['--version']).status === 0;
    const ws = Workspace.create();
    const events = ws.file('events.log', Array.from({length: 20_000}, (_, i) => `nokey 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}\n`).join(''));
    // v2: a dry run reads an existing store (a missing one is exit 3).
    before(() => expect(ws.run(['authorize', '192.0.2.1']).code).to.equal(0));

    /**
     * Runs `keyward learn -` under script(1) (a pseudo-terminal for stdin,
     * stdout and stderr unless `redirect` says otherwise), its stdin a pipe
     * that pauses for a second half way, so that reading lasts longer than the
     * delay before a progress line is drawn however fast the machine.
     */
    function learnUnderTerminal(redirect: string): {code: number | null; terminal: string} {
      const keyward = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} learn - --dry-run --json ${redirect}`;
      const feed = `{ head -n 10000 ${JSON.stringify(events)}; sleep 1; tail -n +10001 ${JSON.stringify(events)}; }`;
      const env: NodeJS.ProcessEnv = {...process.env, NO_COLOR: '1', KEYWARD_STORE: ws.store, KEYWARD_NOW: '2026-01-01T00:00:00Z'};
      delete env.NODE_OPTIONS;
      delete env.FORCE_COLOR;
      delete env.TERM;
      const run = spawnSync('script', ['-qec', `${feed} | ${keyward}`, '/dev/null'], {env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 100_000});
      return {code: run.status, terminal: run.stdout};
    }

    before(function () {
      if (!hasScript) {
        console.log('      (skipped: script(1) from util-linux is not installed)');
        this.skip();
      }
    });

    it('draws the line on a terminal stderr, never on stdout', () => {
      const out = path.join(ws.dir, 'out.json');
      const run = learnUnderTerminal(`> ${JSON.stringify(out)}`);
      expect(run.code, run.terminal).to.equal(0);
      expect(run.terminal).to.match(/\rreading stdin {2}[\d.]+ (B|KiB|MiB) {2}[\d.]+ (B|KiB|MiB)\/s {2}[\d,]+ lines\u001b\[K/);
      expect(run.terminal, 'erased at the end').to.contain('\r\u001b[2K');
      const stdout = readFileSync(out, 'utf8');
      expect(stdout).not.to.match(/[\r\u001b]/);
      expect(JSON.parse(stdout).unknownKeys).to.equal(20_000);
    });

    it('draws nothing when stderr is not a terminal, even with stdin and stdout on one', () => {
      const err = path.join(ws.dir, 'err.txt');
      const run = learnUnderTerminal(`2> ${JSON.stringify(err)}`);
      expect(run.code, run.terminal).to.equal(0);
      expect(run.terminal).not.to.contain('reading');
      const stderr = readFileSync(err, 'utf8');
      expect(stderr).not.to.match(/[\r\u001b]/);
      expect(stderr).not.to.contain('reading');
      expect(stderr).to.contain('0 events applied');
    });

    it('draws nothing in a pipe (authorize - and learn -)', async () => {
      const entries = Array.from({length: 100_000}, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`).join('\n');
      // learn reads events (a log of bare addresses is one it cannot read: exit 2 after 20 lines).
      const [authorize] = await ws.runAll([['authorize', '-', '--dry-run']], {input: entries});
      const [learn] = await ws.runAll([['learn', '-', '--dry-run']], {input: entries.replace(/^/gm, 'ci ')});
      expect(authorize.code, authorize.stderr).to.equal(0);
      expect(authorize.stderr).not.to.match(/[\r\u001b]|reading/);
      expect(learn.code, learn.stderr).to.equal(0);
      expect(learn.stderr).not.to.match(/[\r\u001b]|reading/);
    });
  });
});
