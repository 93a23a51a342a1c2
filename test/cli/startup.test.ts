/**
 * What a command loads before it answers (docs/performance.md, "Start-up"):
 * oclif from the entry points it uses, not all of @oclif/core; and a read
 * leaves out what only a write (the lock, lowdb) or colour (chalk) needs.
 * Each run lists the files it loaded: CommonJS from require.cache at exit,
 * ES modules from a module hook, both on stderr.
 */
import {spawnSync} from 'node:child_process';

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
});`;

/** The files `keyward ARGS` loads (paths and file: URLs), and its exit code. */
function loaded(ws: Workspace, args: string[]): {code: number | null; files: string[]} {
  const child = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(PRELOAD)}`, BIN, ...args], {
    cwd: ws.dir,
    env: environment(ws.store, {now: NOW}),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const files = child.stderr
    .split('\n')
    .filter((line) => line.startsWith('LOADED '))
    .map((line) => decodeURIComponent(line.slice('LOADED '.length)));
  return {code: child.status, files};
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

  for (const args of [['status'], ['list', '--json']]) {
    it(`\`${args.join(' ')}\` (a read) loads neither all of @oclif/core, chalk without colour, lowdb nor the lock`, () => {
      const {code, files} = loaded(ws, args);
      expect(code).to.equal(0);
      expect(files.some((file) => file.includes('/dist/commands/'))).to.equal(true, 'the listing works');
      expect(files.filter((file) => file.endsWith('@oclif/core/lib/index.js'))).to.deep.equal([]);
      expect(packagesIn(files)).to.include('@oclif/core');
      for (const name of ['chalk', 'lowdb', 'proper-lockfile', 'graceful-fs', 'semver']) expect(packagesIn(files)).not.to.include(name);
    });
  }

  it('`authorize` (a write) loads the lock and lowdb, and not all of @oclif/core', () => {
    const {code, files} = loaded(ws, ['authorize', '10.0.0.9']);
    expect(code).to.equal(0);
    expect(packagesIn(files)).to.include.members(['proper-lockfile', 'lowdb']);
    expect(files.filter((file) => file.endsWith('@oclif/core/lib/index.js'))).to.deep.equal([]);
  });
});
