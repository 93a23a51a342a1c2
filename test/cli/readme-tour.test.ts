/**
 * The README's tour is meant to be pasted: this runs its ```sh block as
 * written, with `sh -e`, in an empty folder, the way a newcomer would —
 * `keyward` on PATH (a wrapper around this checkout's built bin/run.js),
 * the store in that folder, no terminal — so a tour line that stops working
 * fails here instead of in a reader's shell.
 */
import {spawnSync} from 'node:child_process';
import {chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

import {expect} from 'chai';

import {BIN, environment} from './harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const README = path.join(ROOT, 'README.md');
const TOUR_HEADING = '## A short tour';

/** The first ```sh block under the tour's heading, exactly as the README shows it. */
export function tourScript(readme: string): string {
  const at = readme.indexOf(`\n${TOUR_HEADING}\n`);
  if (at < 0) throw new Error(`README.md has no "${TOUR_HEADING}" section`);
  const block = /\n```sh\n([\s\S]*?)\n```\n/.exec(readme.slice(at));
  if (block === null) throw new Error(`README.md's "${TOUR_HEADING}" section has no \`\`\`sh block`);
  return `${block[1]}\n`;
}

interface Tour {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The folder the tour ran in. */
  dir: string;
}

/** Runs a tour script with `sh -e` in a fresh folder; the folder is left for the caller to read and remove. */
function runTour(script: string): Tour {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'keyward-tour-'));
  const bin = path.join(dir, '.bin');
  mkdirSync(bin);
  const wrapper = path.join(bin, 'keyward');
  writeFileSync(wrapper, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"\n`);
  chmodSync(wrapper, 0o755);
  const env = environment(path.join(dir, 'store.json'));
  env.PATH = `${bin}${path.delimiter}${env.PATH ?? ''}`;
  // stdin is /dev/null: no terminal, so nothing in the tour may wait for an answer.
  const run = spawnSync('sh', ['-e', '-c', script], {cwd: dir, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000});
  return {code: run.status, stdout: run.stdout, stderr: run.stderr, dir};
}

describe("README's tour", () => {
  const readme = readFileSync(README, 'utf8');

  it('README.md stays at most 12 KB', () => {
    expect(Buffer.byteLength(readme), 'README.md is for a first read: details belong in docs/').to.be.at.most(12 * 1024);
  });

  describe('run as written with sh -e in an empty folder', function () {
    this.timeout(200_000);
    let tour: Tour;

    before(() => {
      tour = runTour(tourScript(readme));
    });

    after(() => {
      if (tour !== undefined) rmSync(tour.dir, {recursive: true, force: true});
    });

    const shown = () => `--- stdout ---\n${tour.stdout}\n--- stderr ---\n${tour.stderr}`;

    it('runs to the end (exit 0), every keyward line found on PATH', () => {
      expect(tour.code, shown()).to.equal(0);
      expect(tour.stderr, shown()).not.to.match(/not found|No such file|Error:/);
    });

    it('shows the decisions a reader is told to expect', () => {
      expect(tour.stdout, shown())
        .to.contain('allow  203.0.113.7  authorized  203.0.113.0/24')
        .and.contain('deny   192.0.2.10  not-in-key-allowlist')
        .and.contain('deny   192.0.2.1  not-authorized');
      expect(tour.stdout, 'the commands expected to exit 1 said so').to.contain('exit 1: the store and the file differ').and.contain('exit 1: one address was denied');
      const decisions = readFileSync(path.join(tour.dir, 'decisions.ndjson'), 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(decisions.map((d) => [d.ip, d.decision])).to.deep.equal([
        ['203.0.113.7', 'allow'],
        ['192.0.2.1', 'deny'],
      ]);
    });

    it('blocks the refused caller, then trusts it from the blocked list', () => {
      expect(tour.stderr, shown()).to.contain('blocked 192.0.2.66: key billing (api) was refused');
      expect(tour.stdout, shown())
        .to.match(/^192\.0\.2\.66\tbilling\t/m)
        .and.to.contain('api   active');
      expect(readFileSync(path.join(tour.dir, 'keyward.conf'), 'utf8'), 'the nginx export')
        .to.contain('allow 192.0.2.66;')
        .and.contain('allow 192.0.2.10;  # partner')
        .and.contain('deny all;');
    });

    it('keeps the rotated secret in its file and out of the store and both streams', () => {
      const secret = readFileSync(path.join(tour.dir, 'billing.secret'), 'utf8').trim();
      expect(secret).to.match(/^[0-9a-f]{40}$/);
      const store = path.join(tour.dir, 'store.json');
      expect(existsSync(store) && statSync(store).isFile(), 'the store is in the tour folder').to.equal(true);
      const stored = JSON.parse(readFileSync(store, 'utf8'));
      expect(stored.keys.map((k: {name: string}) => k.name)).to.deep.equal(['billing', 'relay']);
      for (const text of [readFileSync(store, 'utf8'), tour.stdout, tour.stderr]) expect(text).not.to.contain(secret);
    });
  });

  it('stops at the first line that fails, with its exit code (so a broken tour cannot pass)', function () {
    this.timeout(60_000);
    // No store in the fresh folder: a reading command exits 3, and sh -e stops there.
    const broken = runTour('keyward check billing 192.0.2.1\necho unreachable\n');
    try {
      expect(broken.code, broken.stderr).to.equal(3);
      expect(broken.stderr).to.contain('no store at');
      expect(broken.stdout).not.to.contain('unreachable');
    } finally {
      rmSync(broken.dir, {recursive: true, force: true});
    }
  });
});
