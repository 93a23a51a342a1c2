/**
 * The harness's in-process runs (bin/run.js in a worker thread: see
 * test/cli/in-process.ts) answer as the subprocess does: the same exit code, stdout and stderr for successes,
 * keyward's errors, oclif's own errors and help, with stdin, and relative
 * paths taken from each run's own working folder.
 */
import path from 'node:path';
import {expect} from 'chai';
import {inProcessShowsAll, NOW, RunResult, runProcess, Workspace} from '../cli/harness.js';

/** A run's text with its workspace's folder named DIR and a new secret and its hint masked: two workspaces run the same commands. */
const masked = (text: string, ws: Workspace) =>
  text
    .replaceAll(ws.dir, 'DIR')
    .replace(/\b[0-9a-f]{40}\b/g, 'SECRET')
    .replace(/\b[0-9a-f]{4}…[0-9a-f]{4}\b/g, 'HINT');
const shown = (run: RunResult, ws: Workspace) => ({code: run.code, stdout: masked(run.stdout, ws), stderr: masked(run.stderr, ws)});

describe('test harness: in-process runs', () => {
  it('answer as the subprocess does', () => {
    const [a, b] = [Workspace.create(), Workspace.create()];
    const runs: Array<[string[], string?]> = [
      [['authorize', '192.0.2.0/24', '--label', 'office']],
      [['authorize', '-', '--json'], '198.51.100.7\n203.0.113.0/24 # lab\n'],
      [['list']],
      [['list', '--json']],
      [['status']],
      [['revoke', '10.9.9.9']],
      [['authorize', '192.0.2.300']],
      [['lsit']],
      [['list', 'extra']],
      [['keys', 'list', '--bogus']],
      [['authorize', '--help']],
      [['history', '--json']],
      [['--version']],
      [['check', 'nobody', '192.0.2.1']],
      [['keys', 'list', '--json']],
      [['help', 'keys']],
    ];
    // A secret is printed in-process unless this process's stdout is the null device (see harness.ts).
    if (inProcessShowsAll(['keys', 'create', 'ci'])) {
      runs.push(
        [['keys', 'create', 'ci', '--type', 'api']],
        [['check', 'ci', '192.0.2.1', '10.0.0.1']],
        [['keys', 'rotate', 'ci', '--yes', '--json']],
        [['keys', 'create', 'ci', '--type', 'api']],
        [['keys', 'create', 'mail', '--type', 'smtp', '--json']],
      );
    }
    for (const [args, input] of runs) {
      expect(inProcessShowsAll(args), args.join(' ')).to.equal(true);
      const inProcess = a.run(args, {now: NOW, input});
      const subprocess = runProcess(b.store, args, {now: NOW, input, cwd: b.dir});
      expect(shown(inProcess, a), args.join(' ')).to.deep.equal(shown(subprocess, b));
    }
  });

  it('take relative paths from their own working folder', () => {
    for (let i = 0; i < 3; i++) {
      const ws = Workspace.create();
      ws.file('entries.txt', `10.0.0.${i}\n`);
      expect(ws.run(['authorize', '--file', 'entries.txt', '--store', 'other.json', '--json'], {now: NOW}).json().added).to.deep.equal([`10.0.0.${i}`]);
      expect(ws.run(['status', '--json', '--store', 'other.json'], {now: NOW}).json().store).to.equal(path.join(ws.dir, 'other.json'));
    }
  });

  it('leave to a subprocess what only a process shows', () => {
    for (const args of [['check', 'k', '192.0.2.1', '-']]) {
      expect(inProcessShowsAll(args), args.join(' ')).to.equal(false);
    }
    expect(inProcessShowsAll(['check', 'k', '192.0.2.1'], {input: '192.0.2.2\n'})).to.equal(false);
    expect(inProcessShowsAll(['list'], {env: {FORCE_COLOR: '1'}})).to.equal(false);
    expect(inProcessShowsAll(['list'], {env: {KEYWARD_NOW: NOW}})).to.equal(true);
  });
});
