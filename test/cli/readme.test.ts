/**
 * The command reference (docs/commands.md) is generated from the commands (`npm run
 * readme`, i.e. `oclif readme`): this regenerates it into a copy of it
 * with the same flags and fails, saying what to run, when the two differ.
 */
import {spawnSync} from 'node:child_process';
import {copyFileSync, mkdtempSync, readFileSync, rmSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {expect} from 'chai';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OCLIF = path.join(ROOT, 'node_modules', 'oclif', 'bin', 'run.js');

/** The environment assignments, flags and target file of the `oclif readme` step of package.json's `readme` script. */
function readmeScript(): {env: Record<string, string>; flags: string[]; target: string} {
  const script: string = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts.readme;
  const step = script
    .split('&&')
    .map((s) => s.trim())
    .find((s) => /(^|\s)oclif readme(\s|$)/.test(s));
  if (step === undefined) throw new Error(`package.json scripts.readme does not run \`oclif readme\`: ${script}`);
  const words = step.split(/\s+/);
  const env: Record<string, string> = {};
  while (/^[A-Z_]+=/.test(words[0])) {
    const [name, value] = words.shift()!.split('=');
    env[name] = value;
  }
  expect(words.slice(0, 2), 'the readme step').to.deep.equal(['oclif', 'readme']);
  const flags = words.slice(2);
  const at = flags.indexOf('--readme-path');
  expect(at, 'the reference is written to a file of docs/ (--readme-path)').to.be.greaterThan(-1);
  const [, target] = flags.splice(at, 2);
  return {env, flags, target};
}

/** The first line where two texts differ, for a message a person can act on. */
function firstDifference(expected: string, actual: string): string {
  const a = expected.split('\n');
  const b = actual.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `line ${i + 1}:\n  generated: ${JSON.stringify(a[i] ?? '(end)')}\n  committed: ${JSON.stringify(b[i] ?? '(end)')}`;
  }
  return 'no line differs';
}

describe('command reference', () => {
  it('matches the commands (run `npm run readme` when it does not)', function () {
    this.timeout(60_000);
    const {env, flags, target} = readmeScript();
    expect(flags, 'no source links: they would name a version and a repository path').to.include('--no-source-links');
    expect(env.COLUMNS, 'a fixed width, so the text does not depend on the terminal').to.match(/^\d+$/);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'keyward-readme-'));
    try {
      const copy = path.join(dir, path.basename(target));
      copyFileSync(path.join(ROOT, target), copy);
      const run = spawnSync(process.execPath, [OCLIF, 'readme', ...flags, '--readme-path', copy], {
        cwd: ROOT,
        env: {...process.env, NODE_OPTIONS: '', ...env},
        encoding: 'utf8',
        timeout: 50_000,
      });
      expect(run.status, `oclif readme failed\n${run.stdout}\n${run.stderr}`).to.equal(0);
      const generated = readFileSync(copy, 'utf8');
      const current = readFileSync(path.join(ROOT, target), 'utf8');
      expect(current, `${target} has the <!-- commands --> markers`).to.contain('<!-- commands -->').and.to.contain('<!-- commandsstop -->');
      if (generated !== current) {
        expect.fail(`${target} is out of date: run \`npm run readme\` and commit it\nfirst difference at ${firstDifference(generated, current)}`);
      }
      // Nothing that differs between machines: no paths, platform or Node version.
      const reference = current.slice(current.indexOf('<!-- commands -->'), current.indexOf('<!-- commandsstop -->'));
      expect(reference).to.contain('## `keyward check KEY ADDRESS... [--expect allow|deny] [--json | --ndjson | --print allowed|denied] [--store PATH]`');
      for (const local of [ROOT, os.homedir(), `${process.platform}-${process.arch}`, process.version]) {
        expect(reference, `the reference names ${local}`).not.to.contain(local);
      }
    } finally {
      rmSync(dir, {recursive: true, force: true});
    }
  });
});
