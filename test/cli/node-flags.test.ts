/**
 * keyward started with Node flags that forbid what some code does:
 * `--disallow-code-generation-from-strings` (ejs, which oclif renders help
 * with, calls `new Function`) and Node's permission model without an
 * `--allow-…` a command needs. Every command either answers as without the
 * flag or is a usage error naming the flag: never an internal error, a stack
 * trace or exit 1 (`check`'s "denied").
 */
import {existsSync} from 'node:fs';
import path from 'node:path';

import {expect} from 'chai';

import {BIN, NOW, RunResult, Workspace} from './harness.js';

const NO_CODEGEN = {NODE_OPTIONS: '--disallow-code-generation-from-strings'};
/** Node's permission model with every file allowed (Node 20 calls it --experimental-permission). */
const PERMISSION = `${process.allowedNodeEnvironmentFlags.has('--permission') ? '--permission' : '--experimental-permission'} --allow-fs-read=* --allow-fs-write=*`;

function ok(run: RunResult): RunResult {
  expect(run.code, `${run.stderr}\n${run.stdout}`).to.equal(0);
  return run;
}

/** A store with an API key `billing`, an account range, a deny entry and blocking on. */
function keyed(): Workspace {
  const ws = Workspace.create();
  ok(ws.run(['keys', 'create', 'billing', '--type', 'api'], {now: NOW, env: {KEYWARD_TEST_SUBPROCESS: '1'}}));
  ok(ws.run(['authorize', '203.0.113.0/24', '--label', 'office'], {now: NOW}));
  ok(ws.run(['deny', '203.0.113.66'], {now: NOW}));
  ok(ws.run(['activate', '--api', '--force'], {now: NOW}));
  return ws;
}

describe('Node flags that forbid code generation or a permission', function () {
  this.timeout(120_000);

  it('--disallow-code-generation-from-strings: every read, help and failure says what it says without the flag', () => {
    const ws = keyed();
    // The fast paths' command lines twice, the second time through oclif; the rest go through oclif anyway.
    const fastToo = [['status'], ['status', '--json'], ['list', '--json'], ['check', 'billing', '203.0.113.7', '198.51.100.1'], ['check', 'billing', '203.0.113.300']];
    const cases: Array<[string[], Record<string, string>]> = [
      ...fastToo.flatMap((args): Array<[string[], Record<string, string>]> => [
        [args, {}],
        [args, {KEYWARD_NO_FAST_PATH: '1'}],
      ]),
      ...[
        ['list'],
        ['list', '--label', 'off'],
        ['keys', 'list'],
        ['history'],
        ['blocked'],
        ['export', '--format', 'nginx', '--no-timestamp'],
        ['check', 'billing', '203.0.113.7', '--expect', 'allow', '--json', '--store', ws.store],
        ['--help'],
        ['authorize', '--help'],
        ['keys', '--help'],
        ['help', 'export'],
        ['autocomplete', '--help'],
        ['nosuchcommand'],
        ['list', '--bogus'],
      ].map((args): [string[], Record<string, string>] => [args, {}]),
    ];
    for (const [args, env] of cases) {
      const plain = ws.run(args, {now: NOW, env});
      const flagged = ws.run(args, {now: NOW, env: {...env, ...NO_CODEGEN}});
      expect({code: flagged.code, stdout: flagged.stdout, stderr: flagged.stderr}, `${args.join(' ')} ${JSON.stringify(env)}`).to.deep.equal({
        code: plain.code,
        stdout: plain.stdout,
        stderr: plain.stderr,
      });
    }
  });

  it('--disallow-code-generation-from-strings: writes through oclif commit as without it', () => {
    const ws = keyed();
    const env = NO_CODEGEN;
    ok(ws.run(['keys', 'create', 'relay', '--type', 'smtp', '--allow', '198.51.100.0/24'], {now: NOW, env}));
    ok(ws.run(['authorize', '192.0.2.0/24', '--label', 'lab', '--group', 'g'], {now: NOW, env}));
    ok(ws.run(['revoke', '203.0.113.66', '--deny'], {now: NOW, env}));
    ok(ws.run(['learn', '-'], {now: NOW, env, input: `billing 198.51.100.9 ${NOW}\n`}));
    const store = ws.storeJson();
    expect(store.keys.map((k: {name: string}) => k.name)).to.have.members(['billing', 'relay']);
    expect(store.account.map((e: {entry: string}) => e.entry))
      .to.include('192.0.2.0/24')
      .and.not.include('203.0.113.66');
    expect(
      ok(ws.run(['blocked', '--json'], {now: NOW}))
        .json()
        .map((b: {ip: string}) => b.ip),
    ).to.include('198.51.100.9');
  });

  it('--disallow-code-generation-from-strings: `autocomplete` (its templates need it) is one usage error naming the flag', () => {
    const ws = Workspace.create();
    for (const json of [false, true]) {
      const run = ws.run(['autocomplete', 'bash', ...(json ? ['--json'] : [])], {now: NOW, env: NO_CODEGEN});
      expect(run.code, run.stderr).to.equal(2);
      expect(run.stderr).to.contain('--disallow-code-generation-from-strings').and.contain('usage error (exit 2)').and.not.contain('internal error');
      expect(run.stderr.match(/^keyward:/gm), 'said once').to.have.length(1);
      expect(run.stderr).not.to.match(/^\s+at /m);
      if (json) expect(run.json().error.exit).to.equal(2);
    }
  });

  it("Node's permission model: serve without --allow-worker is a usage error naming it; nothing written", () => {
    const ws = keyed();
    const before = ws.storeBytes();
    const run = ws.run(['serve', '--listen', '127.0.0.1:0'], {now: NOW, env: {NODE_OPTIONS: PERMISSION}, timeoutMs: 60_000});
    expect(run.code, run.stderr).to.equal(2);
    expect(run.stderr).to.contain('--allow-worker').and.contain('usage error (exit 2)').and.not.contain('internal error');
    expect(ws.storeBytes()).to.deep.equal(before);
  });

  it("Node's permission model: a file it may not write (export --output) or read (authorize --file, learn FILE, sync FILE) is a usage error naming the flag; nothing written", () => {
    const ws = keyed();
    const elsewhere = Workspace.create();
    const input = elsewhere.file('entries.txt', '192.0.2.1\n');
    const model = PERMISSION.split(' ')[0];
    // Reads of keyward's own files and the store's folder (and what oclif looks at to detect WSL); writes of the store's folder.
    const allowed = [
      `--allow-fs-read=${path.dirname(path.dirname(BIN))}/*`,
      `--allow-fs-read=${ws.dir}/*`,
      '--allow-fs-read=/proc/sys/fs/binfmt_misc/WSLInterop',
      '--allow-fs-read=/run/WSL',
      `--allow-fs-write=${ws.dir}/*`,
    ];
    const env = {NODE_OPTIONS: [model, ...allowed].join(' ')};
    const before = ws.storeBytes();
    const cases: [string[], string, string][] = [
      // (The output's place is looked at first, as a read: Node names that.)
      [['export', '--format', 'plain', '--output', path.join(elsewhere.dir, 'out.txt')], 'FileSystemRead', '--allow-fs-read'],
      [['authorize', '--file', input], 'FileSystemRead', '--allow-fs-read'],
      [['learn', input], 'FileSystemRead', '--allow-fs-read'],
      [['sync', input, '--dry-run'], 'FileSystemRead', '--allow-fs-read'],
    ];
    for (const [args, permission, flag] of cases) {
      const run = ws.run(args, {now: NOW, env});
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).to.equal(2);
      expect(run.stderr).to.contain(`Node's permission model refused ${permission}`).and.contain(`start node with ${flag}=PATH`).and.not.contain('internal error');
    }
    expect(existsSync(path.join(elsewhere.dir, 'out.txt'))).to.equal(false);
    expect(ws.storeBytes()).to.deep.equal(before);
  });

  it("Node's permission model: learn --notify-command without --allow-child-process commits the block and reports the notification's failure", () => {
    const ws = keyed();
    const run = ws.run(['learn', '-', '--notify-command', 'cat'], {now: NOW, env: {NODE_OPTIONS: PERMISSION}, input: `billing 198.51.100.9 ${NOW}\n`});
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stderr).to.contain('198.51.100.9').and.contain('--allow-child-process').and.not.contain('internal error');
    expect(
      ok(ws.run(['blocked', '--json'], {now: NOW}))
        .json()
        .map((b: {ip: string}) => b.ip),
    ).to.include('198.51.100.9');
  });
});
