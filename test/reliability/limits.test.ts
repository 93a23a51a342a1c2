/**
 * Resource limits: a 100 MB line, millions of lines and a stdin that never
 * ends do not exhaust memory. Lines over the limit (MAX_LINE_LENGTH) are
 * refused with their number, or skipped and counted where learn tolerates bad
 * lines; streams are processed as they come. Peak memory is read from
 * /proc/PID/status (VmHWM) while keyward runs, and compared with the peak of
 * a run on a one-line input.
 *
 * Default: 1 million lines; KEYWARD_LONG_TESTS=1: 10 million, and a longer
 * endless stream.
 */
import {ChildProcess} from 'node:child_process';

import {expect} from 'chai';

import {MAX_LINE_LENGTH} from '../../src/cli/input.js';
import {NOW, Workspace} from '../cli/harness.js';
import {currentRss, expectNoStackTrace, feed, listing, MB, runStreamed, scale, sleep} from './helpers.js';

const BIG_LINE = 100 * MB;

/** Writes `bytes` of the character `fill` to the child's stdin in 1 MB pieces; stops when it stops reading. */
async function feedLongLine(child: ChildProcess, bytes: number, fill = '1'): Promise<void> {
  const piece = Buffer.alloc(MB, fill);
  for (let sent = 0; sent < bytes; sent += piece.length) if (!(await feed(child, piece))) return;
}

/** Writes `count` lines made by `line(i)` in blocks of 10 000; stops when the child stops reading. */
async function feedLines(child: ChildProcess, count: number, line: (i: number) => string): Promise<boolean> {
  for (let start = 0; start < count; start += 10_000) {
    let block = '';
    for (let i = start; i < Math.min(count, start + 10_000); i++) block += line(i);
    if (!(await feed(child, block))) return false;
  }
  return true;
}

const address = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}\n`;

describe('reliability: resource limits', function () {
  this.timeout(0);
  const lines = scale(1_000_000, 10_000_000);
  let ws: Workspace;
  /** Peak memory of check and learn on a one-line input. */
  let baseline: number;

  before(async () => {
    ws = Workspace.create();
    expect(ws.run(['keys', 'create', 'ci', '--type', 'api'], {now: NOW}).code).to.equal(0);
    expect(ws.run(['authorize', '10.0.0.0/9'], {now: NOW}).code).to.equal(0);
    const runs = await Promise.all([
      runStreamed(ws.store, ['check', 'ci', '-'], {drive: (c) => void c.stdin!.end('10.0.0.1\n')}),
      runStreamed(ws.store, ['learn', '--dry-run', '-'], {drive: (c) => void c.stdin!.end(`ci 10.0.0.1 ${NOW}\n`)}),
    ]);
    baseline = Math.max(...runs.map((r) => r.peakRss));
    expect(baseline, 'peak memory can be read from /proc').to.be.above(10 * MB);
    console.log(`    peak memory of a one-line run: ${(baseline / MB).toFixed(0)} MB`);
  });

  describe(`a ${BIG_LINE / MB} MB line`, () => {
    for (const [name, args] of [
      ['check', ['check', 'ci', '-']],
      ['authorize', ['authorize', '-']],
      ['revoke', ['revoke', '--yes', '-']],
      ['learn --strict', ['learn', '--strict', '-']],
    ] as const) {
      it(`${name} refuses it as line 3 without reading it into memory (exit 2)`, async () => {
        const before = ws.storeBytes()!;
        const run = await runStreamed(ws.store, [...args], {
          drive: async (child) => {
            await feed(child, name.startsWith('learn') ? `ci 10.0.0.1 ${NOW}\nci 10.0.0.2 ${NOW}\n` : '10.0.0.1\n10.0.0.2\n');
            await feedLongLine(child, BIG_LINE);
            child.stdin!.end();
          },
        });
        expect(run.code, run.stderr).to.equal(2);
        expect(run.stderr).to.match(new RegExp(`line 3( is longer than ${MAX_LINE_LENGTH} characters|: longer than the limit)`));
        expectNoStackTrace(run.stderr, name);
        expect(run.stderr.length, 'the message does not repeat the line').to.be.below(500);
        expect(run.peakRss, `peak ${(run.peakRss / MB).toFixed(0)} MB`).to.be.below(baseline + 64 * MB);
        expect(ws.storeBytes()!.equals(before)).to.equal(true);
      });
    }

    it('learn skips it, counts it as a bad line with its number, and applies the lines around it', async () => {
      const run = await runStreamed(ws.store, ['learn', '--json', '--dry-run', '-'], {
        drive: async (child) => {
          await feed(child, `ci 10.0.0.1 ${NOW}\n`);
          await feedLongLine(child, BIG_LINE);
          await feed(child, `\nci 10.0.0.3 ${NOW}\n`);
          child.stdin!.end();
        },
      });
      expect(run.code, run.stderr).to.equal(0);
      expect(JSON.parse(run.stdout)).to.include({events: 2, badLines: 1});
      expect(run.stderr).to.contain('line 2: longer than the limit, skipped');
      expect(run.peakRss, `peak ${(run.peakRss / MB).toFixed(0)} MB`).to.be.below(baseline + 64 * MB);
    });

    it('a line that never ends (no newline before end of input) is refused too', async () => {
      const run = await runStreamed(ws.store, ['check', 'ci', '-'], {
        drive: async (child) => {
          await feedLongLine(child, 10 * MB, 'f');
          child.stdin!.end();
        },
      });
      expect(run.code).to.equal(2);
      expect(run.stderr).to.contain(`line 1 is longer than ${MAX_LINE_LENGTH} characters`);
    });

    it(`a line of exactly ${MAX_LINE_LENGTH} characters is read (and refused as an address); one more is over the limit`, () => {
      const at = ws.run(['check', 'ci', '-'], {input: `${'1'.repeat(MAX_LINE_LENGTH)}\n`});
      expect(at.code).to.equal(2);
      expect(at.stderr).to.contain('is not an IPv4 address');
      const over = ws.run(['check', 'ci', '-'], {input: `${'1'.repeat(MAX_LINE_LENGTH + 1)}\n`});
      expect(over.code).to.equal(2);
      expect(over.stderr).to.contain(`line 1 is longer than ${MAX_LINE_LENGTH} characters`);
    });
  });

  it('a write that would make a store larger than keyward reads back is refused: exit 3, nothing written (found by an outside tester)', () => {
    const ws = Workspace.create();
    expect(ws.run(['authorize', '192.0.2.0/24'], {now: NOW}).code).to.equal(0);
    const before = ws.storeBytes()!;
    // (A limit of 20 kB for the test, where keyward's own is V8's longest string, about 512 MiB.)
    const env = {KEYWARD_TEST_MAX_STORE_BYTES: '20000'};
    const input = Array.from({length: 400}, (_, i) => `10.${i >> 8}.${i & 255}.0/24 # customer ${i}\n`).join('');
    const run = ws.run(['authorize', '-'], {now: NOW, input, env});
    expect(run.code, run.stderr).to.equal(3);
    expect(run.stderr).to.contain(
      `the store ${ws.store} would be over 0 MiB, more than keyward can read back (a JSON text of at most 20000 bytes, less the 2500 bytes kept for revoke, deny and keys revoke); nothing was written`,
    );
    expectNoStackTrace(run.stderr, 'authorize -');
    expect(ws.storeBytes()!.equals(before), 'the store is as it was').to.equal(true);
    expect(listing(ws.dir)).to.deep.equal(['store.json']);
    expect(ws.run(['authorize', '198.51.100.0/24'], {now: NOW, env}).code, 'a smaller write still lands').to.equal(0);
    // Filled up to the room kept below the limit: a key can still be revoked and an address denied (found by an outside tester).
    ws.run(['keys', 'create', 'stolen', '--type', 'api', '--json'], {now: NOW, env});
    let i = 0;
    while (ws.run(['authorize', `10.${i >> 8}.${i & 255}.0/24`, '--label', 'filling'], {now: NOW, env}).code === 0) i++;
    expect(ws.storeBytes()!.length, 'filled to within a change of the room kept').to.be.above(20000 - 2500 - 1000);
    expect(ws.run(['keys', 'revoke', 'stolen', '--yes'], {now: NOW, env}).code, 'keys revoke in the room kept').to.equal(0);
    expect(ws.run(['deny', '203.0.113.66'], {now: NOW, env}).code, 'deny in the room kept').to.equal(0);
    expect(ws.run(['revoke', '10.0.0.0/24', '--yes'], {now: NOW, env}).code, 'revoke in the room kept').to.equal(0);
    expect(ws.storeBytes()!.length).to.be.at.most(20000);
  });

  it(`check streams ${lines.toLocaleString('en')} lines of stdin in bounded memory, one decision a line`, async () => {
    const run = await runStreamed(ws.store, ['check', 'ci', '-'], {
      countStdout: true,
      timeoutMs: scale(180_000, 1_200_000),
      drive: async (child) => {
        expect(await feedLines(child, lines, address)).to.equal(true);
        child.stdin!.end();
      },
    });
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdoutLines).to.equal(lines);
    expect(run.peakRss, `peak ${(run.peakRss / MB).toFixed(0)} MB`).to.be.below(baseline + 96 * MB);
    console.log(`      peak ${(run.peakRss / MB).toFixed(0)} MB for ${lines.toLocaleString('en')} lines`);
  });

  it(`learn holds ${lines.toLocaleString('en')} events compactly (it must sort them by time): well under 100 bytes an event`, async () => {
    const run = await runStreamed(ws.store, ['learn', '--json', '--dry-run', '-'], {
      timeoutMs: scale(180_000, 1_200_000),
      drive: async (child) => {
        // 1024 distinct callers: the memory measured is the event log's, not the seen list's.
        expect(await feedLines(child, lines, (i) => `ci 10.0.${(i >> 8) & 3}.${i & 255}\n`)).to.equal(true);
        child.stdin!.end();
      },
    });
    expect(run.code, run.stderr).to.equal(0);
    expect(JSON.parse(run.stdout)).to.include({events: lines, badLines: 0});
    const perEvent = (run.peakRss - baseline) / lines;
    console.log(`      peak ${(run.peakRss / MB).toFixed(0)} MB for ${lines.toLocaleString('en')} events: ${perEvent.toFixed(0)} bytes an event over a one-line run`);
    expect(perEvent).to.be.below(100);
  });

  it('a stdin that never ends: check answers as lines come, memory stays flat, output waits for a slow reader', async () => {
    const seconds = scale(4, 30);
    const samples: number[] = [];
    let fed = 0;
    let answeredWhileOpen = 0;
    let stdoutLines = 0;
    const run = await runStreamed(ws.store, ['check', 'ci', '-'], {
      countStdout: true,
      drive: async (child) => {
        child.stdout!.on('data', (chunk: Buffer) => {
          for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) stdoutLines++;
        });
        const end = Date.now() + seconds * 1000;
        const pauseAt = Date.now() + (seconds * 1000) / 2;
        let paused = false;
        while (Date.now() < end) {
          let block = '';
          for (let i = 0; i < 2000; i++) block += address(fed++);
          // Half way, stop reading stdout for a second: keyward must wait for it, not buffer without bound.
          if (!paused && Date.now() >= pauseAt) {
            paused = true;
            child.stdout!.pause();
            setTimeout(() => child.stdout!.resume(), 1000);
          }
          await feed(child, block);
          samples.push(currentRss(child.pid!));
          await sleep(5);
        }
        answeredWhileOpen = stdoutLines;
        child.stdin!.end();
      },
    });
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdoutLines, 'one decision for each line fed').to.equal(fed);
    expect(answeredWhileOpen, 'decisions came out while stdin was still open').to.be.above(fed / 2);
    const settled = samples.slice(Math.floor(samples.length / 4)).filter((s) => s > 0);
    const growth = Math.max(...settled) - settled[0];
    console.log(`      ${fed.toLocaleString('en')} lines in ${seconds} s; resident memory ${(settled[0] / MB).toFixed(0)} → max ${(Math.max(...settled) / MB).toFixed(0)} MB`);
    expect(growth, `memory grew by ${(growth / MB).toFixed(0)} MB`).to.be.below(48 * MB);
    expect(run.peakRss).to.be.below(baseline + 96 * MB);
  });
});
