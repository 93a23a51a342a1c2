/**
 * Running a command line through a fast path (bin/run.js → dist/COMMAND-fast.cjs,
 * without oclif) and through oclif (KEYWARD_NO_FAST_PATH=1), and holding the
 * two to the same stdout, stderr and exit code: for the fast paths' tests.
 *
 * Which path ran is seen, not assumed: a preloaded script records whether
 * @oclif/core and proper-lockfile were loaded.
 */
import {existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {expect} from 'chai';

import {inProcessShowsAll, RunOptions, RunResult, Workspace} from './harness.js';

/** Records, at exit, which heavy modules the process loaded (into the file $KEYWARD_TEST_MARK): oclif is @oclif/core's files or the bundle dist/keyward.cjs. */
const PRELOAD = `
process.on('exit', () => {
  const loaded = Object.keys(require.cache);
  const has = (name) => loaded.some((f) => f.includes(name));
  require('node:fs').writeFileSync(process.env.KEYWARD_TEST_MARK, JSON.stringify({oclif: has('@oclif/core') || has('dist/keyward.cjs'), lock: has('proper-lockfile')}));
});
`;

export interface Run extends RunResult {
  oclif: boolean;
  /** Whether the lock module was loaded; undefined for an in-process run, where nobody looked. */
  lock?: boolean;
}

let marks = 0;

export function observed(ws: Workspace, args: readonly string[], options: RunOptions = {}): Promise<Run> {
  const preload = path.join(ws.dir, 'preload.cjs');
  if (!existsSync(preload)) writeFileSync(preload, PRELOAD);
  const mark = path.join(os.tmpdir(), `keyward-mark-${process.pid}-${marks++}.json`);
  const env = {...options.env, NODE_OPTIONS: `--require ${preload}`, KEYWARD_TEST_MARK: mark};
  return ws.start(args, {...options, env}).then((result) => {
    const loaded = JSON.parse(readFileSync(mark, 'utf8'));
    rmSync(mark, {force: true});
    return {...result, ...loaded};
  });
}

/**
 * Runs a command line through oclif (KEYWARD_NO_FAST_PATH=1): in-process
 * (see harness.ts) where that shows all a subprocess would, bin/run.js in a
 * thread that has oclif loaded already, so that a comparison with the fast
 * path costs one process start, not two; else as a subprocess, seen to load oclif.
 */
export async function throughOclif(ws: Workspace, args: readonly string[], options: RunOptions = {}): Promise<Run> {
  const slowOptions = {...options, env: {...options.env, KEYWARD_NO_FAST_PATH: '1'}};
  if (inProcessShowsAll(args, slowOptions)) return {...ws.run(args, slowOptions), oclif: true};
  const slow = await observed(ws, args, slowOptions);
  expect(slow.oclif, 'KEYWARD_NO_FAST_PATH=1 runs oclif').to.equal(true);
  return slow;
}

/** Runs a command line both ways at once; returns [fast, oclif]. */
export async function bothWays(ws: Workspace, args: readonly string[], options: RunOptions = {}): Promise<[Run, Run]> {
  // The subprocess is started first: an in-process run holds this thread until it is done.
  const fast = observed(ws, args, options);
  const slow = throughOclif(ws, args, options);
  return [await fast, await slow];
}

export function expectSame(fast: Run, slow: Run, what: string): void {
  expect({code: fast.code, stdout: fast.stdout, stderr: fast.stderr}, what).to.deep.equal({code: slow.code, stdout: slow.stdout, stderr: slow.stderr});
}

export interface Case {
  args: string[];
  options?: RunOptions;
}

/** Runs every case both ways (two at a time) and checks each pair; returns the fast runs. */
export async function matrix(ws: Workspace, cases: Case[], expectFast = true): Promise<Run[]> {
  const fastRuns: Run[] = [];
  for (const {args, options} of cases) {
    const [fast, slow] = await bothWays(ws, args, options);
    const what = `keyward ${args.join(' ')} ${JSON.stringify(options?.env ?? {})} now=${options?.now ?? ''}`;
    expectSame(fast, slow, what);
    expect(fast.oclif, `${what}: fast path taken`).to.equal(!expectFast);
    if (expectFast) expect(fast.lock, `${what}: no lock module`).to.equal(false);
    fastRuns.push(fast);
  }
  return fastRuns;
}

/** Store paths in `ws` that hold no store keyward reads: missing, corrupt, a folder, a newer schema, not a store, empty. */
export function unreadableStores(ws: Workspace): string[] {
  const folder = path.join(ws.dir, 'folder.json');
  mkdirSync(folder, {recursive: true});
  return [
    path.join(ws.dir, 'missing.json'),
    ws.file('corrupt.json', '{"version": 2, "account": ['),
    folder,
    ws.file('newer.json', '{"version": 99}'),
    ws.file('other.json', '{"version": 2, "account": "no"}'),
    ws.file('empty.json', ''),
  ];
}
