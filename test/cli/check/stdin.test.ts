/**
 * `check KEY -` reads a stdin that is a file or a pipe straight from its
 * descriptor (src/cli/check/lines.ts, LineReader.readDescriptor); a socket, which is
 * what the harness's `input` gives, goes the stream way. Both ways must
 * print the same bytes and exit the same: here stdin is a file (also one
 * partly read already), a shell pipe, a pipe left non-blocking by its
 * writer (the descriptor way gives up and reads on as a stream), a pipe
 * fed one line at a time, where each answer must come before the next line,
 * and a terminal (asked of the descriptor, never waited on without `-`).
 */
import {expect} from 'chai';
import {spawnSync} from 'node:child_process';
import {closeSync, openSync} from 'node:fs';

import {BIN, environment, NOW, Workspace} from '../harness.js';

/** A deterministic mix of every kind of line, over several reads of the descriptor (which reads 256 KiB at a time). */
function mixedInput(lines: number): string {
  let seed = 12345;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const r = next() % 100;
    const a = next();
    if (r < 60) out.push(`${(a >>> 24) % 2 === 0 ? 10 : a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`);
    else if (r < 80) out.push(`2001:db${(a & 1) === 0 ? '8' : '9'}::${(a >>> 16).toString(16)}:${(a & 0xffff).toString(16)}`);
    else if (r < 85) out.push(`::ffff:10.0.${(a >>> 8) & 255}.${a & 255}`);
    else if (r < 90) out.push(`192.168.${(a >>> 8) & 255}.${a & 255}\r`);
    else if (r < 94) out.push('# a comment');
    else if (r < 97) out.push('');
    else out.push(`  2001:DB8:0:0:0:0:0:${(a & 0xffff).toString(16)}  `);
  }
  return `${out.join('\n')}\n`;
}

type Ran = {code: number | null; stdout: string; stderr: string};

/** Equal runs, or a failure that names the first line where stdout differs (not both outputs whole). */
function expectSame(actual: Ran, expected: Ran): void {
  expect(actual.stderr).to.equal(expected.stderr);
  expect(actual.code).to.equal(expected.code);
  if (actual.stdout === expected.stdout) return;
  const a = actual.stdout.split('\n');
  const e = expected.stdout.split('\n');
  let line = 0;
  while (a[line] === e[line]) line++;
  expect.fail(`stdout differs at line ${line + 1} of ${e.length - 1} (${a.length - 1} written): ${JSON.stringify(a[line])} for ${JSON.stringify(e[line])}`);
}

const hasPython = spawnSync('python3', ['-c', 'import select, threading'], {encoding: 'utf8'}).status === 0;

describe('keyward check: stdin as a file or a pipe', function () {
  this.timeout(120_000);
  const ws = Workspace.create();
  const input = mixedInput(60_000);
  let file = '';
  let expected: Ran;

  before(() => {
    expect(ws.run(['authorize', '10.0.0.0/8', '2001:db8::/32', '192.168.0.0/16'], {now: NOW}).code).to.equal(0);
    expect(ws.run(['keys', 'create', 'ci', '--type', 'api'], {now: NOW}).code).to.equal(0);
    expect(ws.run(['activate', '--api'], {now: NOW}).code).to.equal(0);
    file = ws.file('input.txt', input);
    expect(input.length, 'more than one read of the descriptor').to.be.above(3 * 256 * 1024);
    // The stream way: the harness gives stdin as a socket.
    expected = ws.run(['check', 'ci', '-', '--ndjson'], {input});
    expect(expected.code, expected.stderr).to.equal(1);
    expect(expected.stdout.split('\n').length).to.be.above(50_000);
  });

  /** Runs `sh -c script` with the store's environment; $1 is node, $2 bin/run.js, $3 the input file. */
  function shell(script: string, stdin: number | 'ignore' = 'ignore') {
    const run = spawnSync('sh', ['-c', script, 'sh', process.execPath, BIN, file], {
      cwd: ws.dir,
      env: environment(ws.store),
      stdio: [stdin, 'pipe', 'pipe'],
      encoding: 'utf8',
      maxBuffer: 1 << 30,
    });
    return {code: run.status, stdout: run.stdout, stderr: run.stderr};
  }

  it('prints the same bytes and exit code with stdin redirected from a file', () => {
    const fd = openSync(file, 'r');
    try {
      expectSame(shell('exec "$1" "$2" check ci - --ndjson', fd), expected);
    } finally {
      closeSync(fd);
    }
  });

  it('reads a file from where its reader left it (a script that read the first line itself)', () => {
    const rest = input.slice(input.indexOf('\n') + 1);
    const fromSecond = ws.run(['check', 'ci', '-', '--ndjson'], {input: rest});
    expectSame(shell('{ read first; "$1" "$2" check ci - --ndjson; } < "$3"'), fromSecond);
  });

  it('prints the same bytes and exit code from a shell pipe, in JSON too', () => {
    expectSame(shell('cat "$3" | "$1" "$2" check ci - --ndjson'), expected);
    const json = ws.run(['check', 'ci', '-', '--json'], {input});
    expectSame(shell('cat "$3" | "$1" "$2" check ci - --json'), json);
  });

  it('stops at a bad line the same way: the decisions before it, its line named, exit 2', () => {
    const bad = `${input}300.1.2.3\n10.0.0.1\n`;
    const badFile = ws.file('bad.txt', bad);
    const socket = ws.run(['check', 'ci', '-', '--ndjson'], {input: bad});
    expect(socket.code).to.equal(2);
    expect(socket.stderr).to.match(/line 60001/);
    const fd = openSync(badFile, 'r');
    try {
      expectSame(shell('exec "$1" "$2" check ci - --ndjson', fd), socket);
    } finally {
      closeSync(fd);
    }
    expectSame(shell(`cat "${badFile}" | "$1" "$2" check ci - --ndjson`), socket);
  });

  it('stops, exit 0 as under oclif, when its reader goes away (| head -1)', function () {
    const script = 'set -o pipefail; "$1" "$2" check ci - --ndjson < "$3" | head -n 1';
    for (const env of [{}, {KEYWARD_NO_FAST_PATH: '1'}]) {
      const run = spawnSync('bash', ['-c', script, 'bash', process.execPath, BIN, file], {cwd: ws.dir, env: {...environment(ws.store), ...env}, encoding: 'utf8'});
      expect(run.stdout.split('\n').length, JSON.stringify(env)).to.equal(2);
      expect(run.stderr, JSON.stringify(env)).to.equal('');
      expect(run.status, JSON.stringify(env)).to.equal(0);
    }
  });

  it('reads on as a stream when the pipe was left non-blocking by its writer', function () {
    if (!hasPython) this.skip();
    // The writer waits before each half, so that the first reads find the pipe empty (EAGAIN).
    const script = `
import os, subprocess, sys, threading, time
node, bin, path = sys.argv[1:4]
data = open(path, 'rb').read()
r, w = os.pipe()
os.set_blocking(r, False)
p = subprocess.Popen([node, bin, 'check', 'ci', '-', '--ndjson'], stdin=r, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
os.close(r)
def feed():
    time.sleep(1.0)
    half = len(data) // 2
    view = memoryview(data)
    at = 0
    while at < half:
        at += os.write(w, view[at:half])
    time.sleep(0.5)
    while at < len(data):
        at += os.write(w, view[at:])
    os.close(w)
threading.Thread(target=feed).start()
out, err = p.communicate()
sys.stdout.buffer.write(out)
sys.stderr.buffer.write(err)
sys.exit(p.returncode)
`;
    const run = spawnSync('python3', ['-c', script, process.execPath, BIN, file], {cwd: ws.dir, env: environment(ws.store), encoding: 'utf8', maxBuffer: 1 << 30});
    expectSame({code: run.status, stdout: run.stdout, stderr: run.stderr}, expected);
  });

  it('answers each line from a pipe before the next one comes', function () {
    if (!hasPython) this.skip();
    // The writer sends a line only once the answer to the one before has come (10 s at most each).
    const script = `
import select, subprocess, sys
node, bin = sys.argv[1:3]
p = subprocess.Popen([node, bin, 'check', 'ci', '-', '--ndjson'], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
for ip in ['10.0.0.1', '192.0.2.1', '2001:db8::1', '::ffff:10.1.2.3']:
    p.stdin.write((ip + '\\n').encode())
    p.stdin.flush()
    if not select.select([p.stdout], [], [], 10)[0]:
        print('no answer to ' + ip)
        p.kill()
        sys.exit(3)
    sys.stdout.write(p.stdout.readline().decode())
p.stdin.close()
sys.exit(p.wait())
`;
    const run = spawnSync('python3', ['-c', script, process.execPath, BIN], {cwd: ws.dir, env: environment(ws.store), encoding: 'utf8'});
    expect(run.stdout.split('\n').map((line) => (line === '' ? null : JSON.parse(line)?.ip))).to.deep.equal(['10.0.0.1', '192.0.2.1', '2001:db8::1', '::ffff:10.1.2.3', null]);
    expect(run.status, run.stderr).to.equal(1);
  });

  it('on a terminal: without addresses it says so at once (exit 2); with - it answers each typed line, and Ctrl-D ends it', function () {
    if (!hasPython) this.skip();
    // Runs the command on a pseudo-terminal, types each line once the answer to the one before has come, then Ctrl-D.
    const driver = `
import os, pty, select, sys, time
lines, args = sys.argv[1].split(',') if sys.argv[1] else [], sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(args[0], args)
out, deadline = b'', time.time() + 30
def read_until(test):
    global out
    while time.time() < deadline and not test(out):
        if select.select([fd], [], [], 0.2)[0]:
            try:
                data = os.read(fd, 4096)
            except OSError:
                return
            if not data:
                return
            out += data
time.sleep(0.5)
for line in lines:
    os.write(fd, line.encode() + b'\\n')
    read_until(lambda o: ('"ip":"' + line + '"').encode() in o)
if lines:
    os.write(fd, b'\\x04')
read_until(lambda o: False)
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors='replace'))
sys.exit(os.waitstatus_to_exitcode(status))
`;
    const run = (lines: string[], args: string[]) => {
      const started = Date.now();
      const result = spawnSync('python3', ['-c', driver, lines.join(','), process.execPath, BIN, ...args], {
        cwd: ws.dir,
        env: environment(ws.store),
        encoding: 'utf8',
        timeout: 60_000,
      });
      return {code: result.status, output: result.stdout, seconds: (Date.now() - started) / 1000};
    };
    const none = run([], ['check', 'ci']);
    expect(none.code, none.output).to.equal(2);
    expect(none.output).to.contain('no address given');
    expect(none.seconds, 'it does not wait for the terminal').to.be.below(20);
    const typed = run(['10.0.0.1', '192.0.2.1'], ['check', 'ci', '-', '--ndjson']);
    expect(typed.output).to.contain('"ip":"10.0.0.1","decision":"allow"').and.contain('"ip":"192.0.2.1","decision":"deny"');
    expect(typed.code, typed.output).to.equal(1);
  });
});
