/**
 * bin/run.js when the build has no check bundle (dist/check-fast.cjs), as
 * after `tsc` alone: `check` must still answer, through oclif, with the
 * same output and exit code, not fail on the missing file.
 */
import {copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

import {expect} from 'chai';

import {NOW, Workspace} from './harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A copy of the installed tool whose dist/ lacks the check bundle; everything else is linked to this checkout. */
function toolWithoutBundle(): {dir: string; bin: string} {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'keyward-nobundle-'));
  for (const name of ['package.json', '.oclifrc', 'oclif.manifest.json', 'node_modules']) symlinkSync(path.join(ROOT, name), path.join(dir, name));
  mkdirSync(path.join(dir, 'dist'));
  for (const name of readdirSync(path.join(ROOT, 'dist'))) {
    if (name !== 'check-fast.cjs') symlinkSync(path.join(ROOT, 'dist', name), path.join(dir, 'dist', name));
  }
  mkdirSync(path.join(dir, 'bin'));
  copyFileSync(path.join(ROOT, 'bin', 'run.js'), path.join(dir, 'bin', 'run.js'));
  return {dir, bin: path.join(dir, 'bin', 'run.js')};
}

describe('bin/run.js without the check bundle', () => {
  it('answers check through oclif with the same output and exit codes', () => {
    const tool = toolWithoutBundle();
    try {
      const ws = Workspace.create();
      expect(ws.run(['keys', 'create', 'billing', '--type', 'api'], {now: NOW}).code).to.equal(0);
      expect(ws.run(['authorize', '203.0.113.0/24'], {now: NOW}).code).to.equal(0);
      expect(ws.run(['activate', '--api', '--force'], {now: NOW}).code).to.equal(0);
      const cases: string[][] = [
        ['check', 'billing', '203.0.113.7', '--json'],
        ['check', 'billing', '198.51.100.1'],
        ['check', 'nobody', '203.0.113.7'],
        ['check', 'billing', '203.0.113.300'],
      ];
      for (const args of cases) {
        const fast = ws.run(args, {now: NOW});
        const fallback = ws.run(args, {now: NOW, bin: tool.bin});
        expect({code: fallback.code, stdout: fallback.stdout, stderr: fallback.stderr}, args.join(' ')).to.deep.equal({
          code: fast.code,
          stdout: fast.stdout,
          stderr: fast.stderr,
        });
      }
      // The cases above cover every exit code a check has: allow, deny, bad input.
      expect(cases.map((args) => ws.run(args, {now: NOW, bin: tool.bin}).code)).to.deep.equal([0, 1, 2, 2]);
    } finally {
      rmSync(tool.dir, {recursive: true, force: true});
    }
  });
});

describe('bin/run.js: global flags before the command', () => {
  it('`keyward --store PATH CMD`, `--store=PATH`, `--json` first: read as after the command; before `--` when there is one', () => {
    const ws = Workspace.create();
    const elsewhere = path.join(ws.dir, 'other.json');
    expect(ws.run(['--store', elsewhere, 'authorize', '192.0.2.0/24'], {now: NOW}).code).to.equal(0);
    expect(ws.storeBytes(), 'the default store untouched').to.equal(null);
    const status = ws.run(['--json', `--store=${elsewhere}`, 'status'], {now: NOW});
    expect(status.code, status.stderr).to.equal(0);
    expect(status.json().store).to.equal(elsewhere);
    expect(ws.run(['--store', elsewhere, 'keys', 'list', '--json'], {now: NOW}).json()).to.deep.equal([]);
    // After `--` every word is an argument: the moved flags go before it.
    const check = ws.run(['--store', elsewhere, 'check', 'nosuch', '--', '192.0.2.1'], {now: NOW});
    expect(check.code).to.equal(2);
    expect(check.stderr).to.contain('unknown key `nosuch`');
  });
});

describe('bin/run.js through a link (npm link, npm install -g)', () => {
  it('under --preserve-symlinks-main answers every kind of command as the real file does: fast paths, oclif, --version, a failure', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'keyward-link-'));
    try {
      // The layout npm makes: PREFIX/bin/keyward -> PREFIX/lib/node_modules/keyward/bin/run.js; the link's own
      // folder has no dist/ and no package.json, so nothing may be found from the link's place.
      mkdirSync(path.join(dir, 'bin'));
      const link = path.join(dir, 'bin', 'keyward');
      symlinkSync(path.join(ROOT, 'bin', 'run.js'), link);
      const ws = Workspace.create();
      expect(ws.run(['keys', 'create', 'billing', '--type', 'api'], {now: NOW}).code).to.equal(0);
      expect(ws.run(['authorize', '203.0.113.0/24'], {now: NOW}).code).to.equal(0);
      // (A write as a case: already there, so that both runs say the same.)
      const cases: Array<{args: string[]; env?: Record<string, string>}> = [
        {args: ['--version']},
        {args: ['authorize', '203.0.113.0/24']},
        {args: ['check', 'billing', '203.0.113.7', '--json']},
        {args: ['check', 'billing', '203.0.113.7'], env: {KEYWARD_NO_FAST_PATH: '1'}},
        {args: ['status', '--json']},
        {args: ['list', '--json']},
        {args: ['keys', 'list']},
        {args: ['check', 'billing', '203.0.113.300']},
        {args: ['nosuchcommand']},
      ];
      for (const {args, env} of cases) {
        const real = ws.run(args, {now: NOW, env, bin: path.join(ROOT, 'bin', 'run.js')});
        const linked = ws.run(args, {now: NOW, env: {...env, NODE_OPTIONS: '--preserve-symlinks-main'}, bin: link});
        expect({code: linked.code, stdout: linked.stdout, stderr: linked.stderr}, args.join(' ')).to.deep.equal({
          code: real.code,
          stdout: real.stdout,
          stderr: real.stderr,
        });
      }
      expect(ws.run(['check', 'billing', '203.0.113.7'], {now: NOW, env: {NODE_OPTIONS: '--preserve-symlinks-main'}, bin: link}).code).to.equal(0);
    } finally {
      rmSync(dir, {recursive: true, force: true});
    }
  });
});
