/**
 * What a command loads before it answers (docs/performance.md, "Start-up" and
 * "Issue 15, round 2: start-up"): the bundle dist/keyward.cjs (oclif, the
 * commands, the hooks) and nothing of dist/commands or of oclif's own files;
 * of the bundle, only the command run is evaluated (serve's node:http stays
 * unloaded); a read leaves out what only a write (the lock, lowdb) or colour
 * (chalk) needs. Each run lists the files it loaded (CommonJS from
 * require.cache at exit, ES modules from a module hook) and Node's built-in
 * modules, all on stderr. `status` and `list --json` load their own small
 * bundles (dist/status-fast.cjs, dist/list-fast.cjs) instead. A build without the bundle (tsc alone), and a
 * bundle whose code cache is stale or damaged, still answer.
 */
import {spawn, spawnSync} from 'node:child_process';
import {cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import os from 'node:os';
import path from 'node:path';

import {expect} from 'chai';

import {BIN, environment, NOW, Workspace} from './harness.js';

const HOOKS = `import {writeSync} from 'node:fs';
export async function load(url, context, next) {
  if (url.startsWith('file:')) writeSync(2, 'LOADED ' + url + '\\n');
  return next(url, context);
}`;

const PRELOAD = `import {register, createRequire} from 'node:module';
import {writeSync} from 'node:fs';
register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOKS)}`)});
const require = createRequire(${JSON.stringify(BIN)});
process.on('exit', () => {
  for (const file of Object.keys(require.cache)) writeSync(2, 'LOADED ' + file + '\\n');
  for (const name of process.moduleLoadList) if (name.startsWith('NativeModule ')) writeSync(2, 'BUILTIN ' + name.slice(13) + '\\n');
});`;

/** The files `keyward ARGS` loads (paths and file: URLs), the built-in modules, its exit code and output. */
function loaded(ws: Workspace, args: string[], bin = BIN): {code: number | null; files: string[]; builtins: string[]; stdout: string} {
  const child = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(PRELOAD)}`, bin, ...args], {
    cwd: ws.dir,
    env: environment(ws.store, {now: NOW}),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const files = child.stderr
    .split('\n')
    .filter((line) => line.startsWith('LOADED '))
    .map((line) => decodeURIComponent(line.slice('LOADED '.length)));
  const builtins = child.stderr
    .split('\n')
    .filter((line) => line.startsWith('BUILTIN '))
    .map((line) => line.slice('BUILTIN '.length));
  return {code: child.status, files, builtins, stdout: child.stdout};
}

const ROOT = path.dirname(path.dirname(BIN));

/** The files of dist/ and bin/ among `files`, relative to the root. */
function ours(files: string[]): string[] {
  return files
    .map((file) => (file.startsWith('file:') ? new URL(file).pathname : file))
    .filter((file) => !file.includes('/node_modules/'))
    .map((file) => path.relative(ROOT, file))
    .sort();
}

function packagesIn(files: string[]): string[] {
  const names = new Set<string>();
  for (const file of files) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file);
    if (match) names.add(match[1]);
  }
  return [...names];
}

describe('start-up: what a command loads', () => {
  const ws = Workspace.create();
  before(() => {
    expect(ws.run(['authorize', '10.0.0.1', '10.0.0.2'], {now: NOW}).code).to.equal(0);
  });

  for (const args of [['list'], ['list', '--account', '--json']]) {
    it(`\`${args.join(' ')}\` (a read) loads the bundle alone: no oclif file, no command module, neither chalk without colour, lowdb nor the lock`, () => {
      const {code, files, builtins} = loaded(ws, args);
      expect(code).to.equal(0);
      // (list --json with a filter reads its command line with list's fast path, which hands it to oclif.)
      const fastPath = args.includes('--json') ? ['dist/list-fast.cjs'] : [];
      expect(ours(files)).to.deep.equal(['bin/bundle-loader.cjs', 'bin/run.js', 'dist/keyward.cjs', ...fastPath]);
      expect(packagesIn(files)).to.deep.equal([]);
      // Of the bundle, the command run and no other: serve's HTTP server and worker are not evaluated.
      expect(builtins).not.to.include('http');
    });
  }

  const ownBundles: [string[], string][] = [
    [['status'], 'status'],
    [['status', '--json'], 'status'],
    [['list', '--json'], 'list'],
  ];
  for (const [args, bundle] of ownBundles) {
    it(`\`${args.join(' ')}\` loads its own bundle alone (dist/${bundle}-fast.cjs): no oclif, no command module, no package`, () => {
      const {code, files, builtins} = loaded(ws, args);
      expect(code).to.equal(0);
      expect(ours(files)).to.deep.equal(['bin/bundle-loader.cjs', 'bin/run.js', `dist/${bundle}-fast.cjs`]);
      expect(packagesIn(files)).to.deep.equal([]);
      expect(builtins).not.to.include('http');
    });
  }

  it('a plain `authorize` (a write) loads its own bundle alone (dist/authorize-fast.cjs, the lock and lowdb in it): no oclif, no package', () => {
    const {code, files} = loaded(ws, ['authorize', '10.0.0.9']);
    expect(code).to.equal(0);
    expect(ours(files)).to.deep.equal(['bin/bundle-loader.cjs', 'bin/run.js', 'dist/authorize-fast.cjs']);
    expect(packagesIn(files)).to.deep.equal([]);
  });

  it('`authorize` through oclif (a flag the fast path leaves to it) loads the lock and lowdb, and nothing of oclif but the bundle', () => {
    const {code, files} = loaded(ws, ['authorize', '10.0.0.8', '--force']);
    expect(code).to.equal(0);
    // (The fast path's bundle is loaded to read the command line, which it hands back.)
    expect(ours(files)).to.deep.equal(['bin/bundle-loader.cjs', 'bin/run.js', 'dist/authorize-fast.cjs', 'dist/keyward.cjs']);
    expect(packagesIn(files)).to.include.members(['proper-lockfile', 'lowdb']);
    expect(packagesIn(files)).not.to.include('@oclif/core');
  });

  it("the bundle has every command of oclif's manifest and every hook of .oclifrc", () => {
    const bundle = createRequire(BIN)('../dist/keyward.cjs');
    const manifest = JSON.parse(readFileSync(path.join(ROOT, 'oclif.manifest.json'), 'utf8'));
    const oclifrc = JSON.parse(readFileSync(path.join(ROOT, '.oclifrc'), 'utf8'));
    expect(Object.keys(bundle.COMMANDS).sort()).to.deep.equal(Object.keys(manifest.commands).sort());
    expect(Object.keys(bundle.HOOKS).sort()).to.deep.equal(Object.keys(oclifrc.hooks).sort());
    for (const name of Object.values(bundle.HOOKS) as string[]) expect(bundle[name]).to.be.a('function');
  });

  describe('a copy of the build', () => {
    let copy: string;
    before(() => {
      copy = mkdtempSync(path.join(os.tmpdir(), 'keyward-build-'));
      for (const name of ['bin', 'dist', 'package.json', '.oclifrc', 'oclif.manifest.json'])
        cpSync(path.join(ROOT, name), path.join(copy, name), {recursive: true, preserveTimestamps: true});
      symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
    });
    after(() => rmSync(copy, {recursive: true, force: true}));
    const list = () => loaded(ws, ['list'], path.join(copy, 'bin', 'run.js'));

    it('answers from the bundle as it is, not from a code cache that is stale (the bundle changed since) or damaged', () => {
      const help = (bin: string) => loaded(ws, ['status', '--help'], bin).stdout;
      const expected = help(BIN);
      expect(expected).to.include('USAGE');
      const bin = path.join(copy, 'bin', 'run.js');
      expect(help(bin)).to.equal(expected);
      // oclif's help header, compiled into the cache by the build: the same length, another text. V8 would take
      // the stale cache (it checks the length); the stamp (the text's CRC-32) does not.
      const bundle = path.join(copy, 'dist', 'keyward.cjs');
      writeFileSync(bundle, readFileSync(bundle, 'utf8').replaceAll('"USAGE"', '"USAGX"'));
      const changed = expected.replace('USAGE', 'USAGX');
      expect(help(bin)).to.equal(changed);
      // A cache of the bundle as it is, then damaged (V8 would crash on it): the stamp says so.
      rmSync(`${bundle}.cache`);
      const build = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(path.join(copy, 'bin', 'bundle-loader.cjs'))}).finishBundle()`]);
      expect(build.status).to.equal(0, String(build.stderr));
      const cache = readFileSync(`${bundle}.cache`);
      expect(help(bin)).to.equal(changed);
      writeFileSync(`${bundle}.cache`, cache.fill(7, 64 + 100, 64 + 200));
      expect(help(bin)).to.equal(changed);
    });

    it("answers from a fast path's bundle as it is, not from a code cache that is stale or damaged", () => {
      const bin = path.join(copy, 'bin', 'run.js');
      const check = () => {
        const child = spawnSync(process.execPath, [bin, 'check', 'nosuch', '10.0.0.1'], {cwd: ws.dir, env: environment(ws.store, {now: NOW}), encoding: 'utf8'});
        return {code: child.status, stderr: child.stderr};
      };
      const expected = {code: 2, stderr: 'keyward: unknown key `nosuch`\n  see `keyward keys list`\n  usage error (exit 2)\n'};
      expect(check()).to.deep.equal(expected);
      // A cache that holds the unknown key's path (made as the build makes it, after running that check).
      const bundle = path.join(copy, 'dist', 'check-fast.cjs');
      const warm = () => {
        const child = spawnSync(
          process.execPath,
          ['-e', `require(${JSON.stringify(path.join(copy, 'bin', 'bundle-loader.cjs'))}).warmFastPath('check', ['nosuch', '10.0.0.1'])`],
          {
            env: environment(ws.store, {now: NOW}),
          },
        );
        expect(child.status, String(child.stderr)).to.equal(2);
        return readFileSync(`${bundle}.cache`);
      };
      warm();
      expect(check()).to.deep.equal(expected);
      // The hint changed in the bundle's text (the same length, another text), the cache left as it was: V8 would take
      // the stale cache (it checks the length) and say the old hint; the stamp (the text's CRC-32) does not.
      writeFileSync(bundle, readFileSync(bundle, 'utf8').replaceAll('see `keyward keys list`', 'see `keyward keys LIST`'));
      const changed = {code: 2, stderr: 'keyward: unknown key `nosuch`\n  see `keyward keys LIST`\n  usage error (exit 2)\n'};
      expect(check()).to.deep.equal(changed);
      // A cache of the bundle as it is now, then damaged (V8 would crash on it): the stamp says so.
      const rewarmed = warm();
      expect(check()).to.deep.equal(changed);
      writeFileSync(`${bundle}.cache`, rewarmed.fill(7, 64 + 100, 64 + 200));
      expect(check()).to.deep.equal(changed);
    });

    it("a fast path's bundle that a build left half finished (its import()s not made calls, its cache stale) answers in colour too", () => {
      const bin = path.join(copy, 'bin', 'run.js');
      const bundle = path.join(copy, 'dist', 'check-fast.cjs');
      const saved = readFileSync(bundle);
      const colour = (args: string[]) => {
        const child = spawnSync(process.execPath, [bin, ...args], {
          cwd: ws.dir,
          env: environment(ws.store, {now: NOW, env: {NO_COLOR: undefined, FORCE_COLOR: '1'}}),
          encoding: 'utf8',
        });
        return {code: child.status, stdout: child.stdout, stderr: child.stderr};
      };
      const expected = colour(['check', 'nosuch', '10.0.0.1']);
      expect(expected.stderr).to.contain('\u001b[');
      try {
        writeFileSync(bundle, saved.toString('utf8').replaceAll('await keywardImport(', 'await import('));
        expect(colour(['check', 'nosuch', '10.0.0.1'])).to.deep.equal(expected);
      } finally {
        writeFileSync(bundle, saved);
      }
    });

    it('a damaged install (a FIFO for the code cache, the bundle, the check, status or list bundle cut short, a fast path bundle that loads but does not run) answers or fails as keyward fails, says so, never hangs or prints a stack', () => {
      const bin = path.join(copy, 'bin', 'run.js');
      const run = (args: string[]) =>
        spawnSync(process.execPath, [bin, ...args], {
          cwd: ws.dir,
          env: environment(ws.store, {now: NOW}),
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
          timeout: 20_000,
        });
      const expected = ws.run(['list'], {now: NOW}).stdout;
      const dist = path.join(copy, 'dist');
      const saved = {
        bundle: readFileSync(path.join(dist, 'keyward.cjs')),
        check: readFileSync(path.join(dist, 'check-fast.cjs')),
        status: readFileSync(path.join(dist, 'status-fast.cjs')),
        list: readFileSync(path.join(dist, 'list-fast.cjs')),
      };
      rmSync(path.join(dist, 'keyward.cjs.cache'));
      expect(spawnSync('mkfifo', [path.join(dist, 'keyward.cjs.cache')]).status).to.equal(0);
      const fifo = run(['list']);
      expect({code: fifo.status, signal: fifo.signal, stdout: fifo.stdout, stderr: fifo.stderr}).to.deep.equal({code: 0, signal: null, stdout: expected, stderr: ''});
      writeFileSync(path.join(dist, 'keyward.cjs'), saved.bundle.subarray(0, saved.bundle.length >> 1));
      const cut = run(['list']);
      expect({code: cut.status, stdout: cut.stdout}).to.deep.equal({code: 0, stdout: expected});
      // (Cut in the middle of a statement, it does not parse; between two, it parses and exports nothing.)
      expect(cut.stderr)
        .to.match(
          /^keyward: dist\/keyward\.cjs cannot be loaded \((SyntaxError: .*|Error: it ends before it exports oclif: cut short)\); going on without it\n {2}reinstall keyward/,
        )
        .and.not.match(/\n\s+at /);
      // Cut between two statements: it loads, but exports nothing (a cut there once failed every command with exit 70).
      writeFileSync(path.join(dist, 'keyward.cjs'), '"use strict";var unfinished=1;\n');
      const parsed = run(['list']);
      expect({code: parsed.status, stdout: parsed.stdout}).to.deep.equal({code: 0, stdout: expected});
      expect(parsed.stderr, parsed.stderr).to.match(
        /^keyward: dist\/keyward\.cjs cannot be loaded \(Error: it ends before it exports oclif: cut short\); going on without it\n {2}reinstall keyward/,
      );
      writeFileSync(path.join(dist, 'check-fast.cjs'), `${saved.check.toString()}\nx(`);
      const denied = run(['check', 'nosuch', '10.0.0.1']);
      expect(denied.status, 'exit 2 (an unknown key), never 1 (denied)').to.equal(2);
      expect(denied.stderr)
        .to.contain('dist/check-fast.cjs cannot be loaded')
        .and.contain('unknown key')
        .and.not.match(/\n\s+at /);
      writeFileSync(path.join(dist, 'status-fast.cjs'), `${saved.status.toString()}\nx(`);
      const status = run(['status']);
      expect({code: status.status, stdout: status.stdout}).to.deep.equal({code: 0, stdout: ws.run(['status'], {now: NOW}).stdout});
      expect(status.stderr)
        .to.contain('dist/status-fast.cjs cannot be loaded')
        .and.not.match(/\n\s+at /);
      writeFileSync(path.join(dist, 'list-fast.cjs'), `${saved.list.toString()}\nx(`);
      const listed = run(['list', '--json']);
      expect({code: listed.status, stdout: listed.stdout}).to.deep.equal({code: 0, stdout: ws.run(['list', '--json'], {now: NOW}).stdout});
      expect(listed.stderr)
        .to.contain('dist/list-fast.cjs cannot be loaded')
        .and.not.match(/\n\s+at /);
      // A bundle that loads but does not run (its runFast throws): an internal error, exit 70, never a
      // stack or exit 1, "denied". (oclif is not tried: what the fast path did before it failed is not known.)
      writeFileSync(path.join(dist, 'check-fast.cjs'), 'exports.runFast = async () => notDefined;\n');
      const broken = run(['check', 'nosuch', '10.0.0.1']);
      expect({code: broken.status, stdout: broken.stdout}).to.deep.equal({code: 70, stdout: ''});
      expect(broken.stderr).to.equal('keyward: internal error: notDefined is not defined\n  internal error in keyward: please report it (exit 70)\n');
      // One cut between two statements loads and exports nothing: said as damaged, and oclif answers.
      writeFileSync(path.join(dist, 'check-fast.cjs'), '"use strict";var unfinished=1;\n');
      const unfinished = run(['check', 'nosuch', '10.0.0.1']);
      expect(unfinished.status, unfinished.stderr).to.equal(2);
      expect(unfinished.stderr).to.contain('dist/check-fast.cjs cannot be loaded (Error: it ends before it exports runFast: cut short)').and.contain('unknown key');
      rmSync(path.join(dist, 'keyward.cjs.cache'));
      writeFileSync(path.join(dist, 'keyward.cjs'), saved.bundle);
      writeFileSync(path.join(dist, 'check-fast.cjs'), saved.check);
      writeFileSync(path.join(dist, 'status-fast.cjs'), saved.status);
      writeFileSync(path.join(dist, 'list-fast.cjs'), saved.list);
    });

    it('a damaged bin/bundle-loader.cjs (empty, not JavaScript, a FIFO, throwing) is said once; every command still answers, from the bundles require()d or dist/commands', () => {
      const own = Workspace.create();
      expect(own.run(['authorize', '10.0.0.1'], {now: NOW}).code).to.equal(0);
      expect(own.run(['keys', 'create', 'ci', '--type', 'api'], {now: NOW}).code).to.equal(0);
      expect(own.run(['activate', '--api', '--force'], {now: NOW}).code).to.equal(0);
      const bin = path.join(copy, 'bin', 'run.js');
      const loader = path.join(copy, 'bin', 'bundle-loader.cjs');
      const saved = readFileSync(loader);
      const run = (args: string[]) => {
        const child = spawnSync(process.execPath, [bin, ...args], {cwd: own.dir, env: environment(own.store, {now: NOW}), encoding: 'utf8', timeout: 20_000});
        return {code: child.status, stdout: child.stdout, stderr: child.stderr};
      };
      const commands = [['check', 'ci', '10.0.0.1'], ['check', 'ci', '192.0.2.1'], ['status'], ['list', '--json'], ['list']];
      const expected = commands.map((args) => {
        const {code, stdout, stderr} = own.run(args, {now: NOW});
        return {code, stdout, stderr};
      });
      expect(expected.map((e) => e.code)).to.deep.equal([0, 1, 0, 0, 0]);
      const damages: [string, () => void, RegExp][] = [
        ['empty', () => writeFileSync(loader, ''), /\(Error: not the loader this keyward needs\)/],
        ['not JavaScript', () => writeFileSync(loader, 'this is not ('), /\(SyntaxError: /],
        ['a FIFO', () => spawnSync('mkfifo', [loader]), /\(Error: not a regular file\)/],
        ['throwing what has no text', () => writeFileSync(loader, 'throw Object.create(null);'), /\(Error: an error without a message\)/],
        ['requiring what is not there', () => writeFileSync(loader, "require('./nonexistent');"), /\(Error: Cannot find module '\.\/nonexistent'/],
      ];
      try {
        for (const [what, damage, why] of damages) {
          damage();
          for (const [i, args] of commands.entries()) {
            const got = run(args);
            expect({code: got.code, stdout: got.stdout}, `${what}: ${args.join(' ')}`).to.deep.equal({code: expected[i].code, stdout: expected[i].stdout});
            expect(got.stderr, `${what}: ${args.join(' ')}`).to.match(/^keyward: bin\/bundle-loader\.cjs cannot be loaded /);
            expect(got.stderr)
              .to.match(why)
              .and.not.match(/\n\s+at /);
            expect(got.stderr.slice(got.stderr.indexOf('\n', got.stderr.indexOf('reinstall')) + 1)).to.equal(expected[i].stderr);
          }
          rmSync(loader);
        }
      } finally {
        writeFileSync(loader, saved);
      }
    });

    it('DEBUG=* (oclif debug output) shows a key secret by its hint only', () => {
      const secret = 'c0ffee'.repeat(6) + 'abcd';
      const child = spawnSync(process.execPath, [BIN, 'list', '--acount', '--key', secret], {
        cwd: ws.dir,
        env: {...environment(ws.store, {now: NOW}), DEBUG: '*'},
        encoding: 'utf8',
      });
      expect(child.stderr).to.contain('oclif').and.contain('c0ff…abcd').and.not.contain(secret);
    });

    it('a build interrupted (SIGINT, as Ctrl-C sends it) while it runs the fast paths for their caches fails, and leaves no folder behind', async () => {
      const tmp = mkdtempSync(path.join(os.tmpdir(), 'keyward-tmp-'));
      try {
        const build = spawn(process.execPath, ['-e', `require(${JSON.stringify(path.join(copy, 'bin', 'bundle-loader.cjs'))}).finishBundle()`], {
          env: {...process.env, TMPDIR: tmp},
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        build.stderr.on('data', (chunk) => (stderr += chunk));
        const ended = new Promise<number | null>((resolve) => build.on('close', (code) => resolve(code)));
        for (const end = Date.now() + 60_000; readdirSync(tmp).length === 0; await new Promise((resolve) => setTimeout(resolve, 5))) {
          if (Date.now() > end) throw new Error('the build made no throw-away folder');
        }
        build.kill('SIGINT');
        expect(await ended, 'the build fails').to.equal(1);
        expect(stderr).to.contain('the build was interrupted (SIGINT)');
        expect(readdirSync(tmp), 'nothing left in TMPDIR').to.deep.equal([]);
      } finally {
        rmSync(tmp, {recursive: true, force: true});
      }
      // The copy still answers: a fast bundle whose cache the interrupted run had removed is require()d.
      const expected = ws.run(['status'], {now: NOW}).stdout;
      const status = spawnSync(process.execPath, [path.join(copy, 'bin', 'run.js'), 'status'], {cwd: ws.dir, env: environment(ws.store, {now: NOW}), encoding: 'utf8'});
      expect({code: status.status, stdout: status.stdout, stderr: status.stderr}).to.deep.equal({code: 0, stdout: expected, stderr: ''});
    });

    it('without the bundle (a build by tsc alone) answers through dist/commands', () => {
      const expected = ws.run(['list'], {now: NOW}).stdout;
      rmSync(path.join(copy, 'dist', 'keyward.cjs'));
      expect(existsSync(path.join(copy, 'dist', 'commands', 'list.js'))).to.equal(true);
      const {code, stdout, files} = list();
      expect({code, stdout}).to.deep.equal({code: 0, stdout: expected});
      expect(ours(files.map((file) => file.replace(copy, ROOT)))).to.include('dist/commands/list.js');
    });
  });
});
