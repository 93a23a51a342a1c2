/**
 * The environment a stranger runs keyward in: an empty HOME, a relative
 * XDG_DATA_HOME, a user id the system has no entry for (a container's
 * `--user 1000`), a store whose mode and owner the operator chose, a store
 * made read-only, a store path with control characters in it.
 */
import {spawnSync} from 'node:child_process';
import {chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, utimesSync, writeFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {expect} from 'chai';

import {BIN, environment, NOW, runProcess, Workspace} from './harness.js';

const isRoot = process.getuid?.() === 0;
const hasSetpriv = spawnSync('setpriv', ['--version']).status === 0;
/** A user id with no entry in the user database, and `nobody`'s ids. */
const STRANGER = 4242;
const NOBODY = 65534;

/** Runs keyward as user `uid` (root only, through setpriv) with exactly `env` (and PATH). */
function runAs(uid: number, args: string[], env: Record<string, string>, cwd: string): {code: number | null; stdout: string; stderr: string} {
  const run = spawnSync('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', process.execPath, BIN, ...args], {
    cwd,
    env: {PATH: process.env.PATH ?? '/usr/bin:/bin', NO_COLOR: '1', ...env},
    encoding: 'utf8',
    timeout: 30_000,
  });
  return {code: run.status, stdout: run.stdout, stderr: run.stderr};
}

describe('the environment', () => {
  describe('where the default store is', () => {
    it('takes an empty HOME as no HOME: the store is never put under the working folder or /tmp', () => {
      const ws = Workspace.create();
      const home = os.userInfo().homedir;
      // (status names the store it read, or says there is none: on its fast path and through oclif. The user's own home is
      // only read.)
      for (const noFastPath of [undefined, '1']) {
        const env = {KEYWARD_STORE: undefined, HOME: '', XDG_DATA_HOME: undefined, KEYWARD_DATA_DIR: undefined, KEYWARD_NO_FAST_PATH: noFastPath};
        const run = runProcess('', ['status'], {cwd: ws.dir, env});
        const said = run.stdout + run.stderr;
        expect(said, `KEYWARD_NO_FAST_PATH=${noFastPath}`).to.contain(path.join(home, '.local/share/keyward/store.json'));
        expect(said).not.to.contain(os.tmpdir() + '/.local');
        expect(existsSync(path.join(ws.dir, '.local')), 'nothing made in the working folder').to.equal(false);
      }
    });

    it('takes a relative HOME (`HOME=.`) as no HOME too', () => {
      const ws = Workspace.create();
      const home = os.userInfo().homedir;
      const run = runProcess('', ['status'], {cwd: ws.dir, env: {KEYWARD_STORE: undefined, HOME: '.', XDG_DATA_HOME: undefined, KEYWARD_DATA_DIR: undefined}});
      expect(run.stdout + run.stderr).to.contain(path.join(home, '.local/share/keyward/store.json'));
      expect(existsSync(path.join(ws.dir, '.local'))).to.equal(false);
    });

    it('ignores a relative XDG_DATA_HOME, as the XDG specification says: one store, whatever the working folder', () => {
      const ws = Workspace.create();
      const home = path.join(ws.dir, 'home');
      mkdirSync(home);
      for (const args of [['status'], ['list']]) {
        const run = runProcess('', args, {cwd: ws.dir, env: {KEYWARD_STORE: undefined, HOME: home, XDG_DATA_HOME: 'relative-data', KEYWARD_DATA_DIR: undefined}});
        expect(run.code, args.join(' ')).to.equal(3);
        expect(run.stderr).to.contain(`no store at ${path.join(home, '.local/share/keyward/store.json')}`);
      }
    });

    it('with an empty HOME and a user id the system has no entry for: exit 3 asking for HOME, nothing written (root only)', function () {
      if (!isRoot || !hasSetpriv) this.skip();
      const ws = Workspace.create();
      chmodSync(ws.dir, 0o777);
      const run = runAs(STRANGER, ['authorize', '192.0.2.1'], {HOME: ''}, ws.dir);
      expect(run.code, run.stderr).to.equal(3);
      expect(run.stderr).to.contain('cannot find the data directory: $HOME is not set (or is empty)');
      expect(existsSync(path.join(ws.dir, '.local'))).to.equal(false);
    });
  });

  it('runs every command for a user id the system has no entry for, SHELL unset (a container): not exit 70 (root only)', function () {
    if (!isRoot || !hasSetpriv) this.skip();
    const ws = Workspace.create();
    chmodSync(ws.dir, 0o777);
    const env = {HOME: ws.dir, KEYWARD_STORE: ws.store};
    // (env -i: no SHELL, as `docker run --user 1000` gives none.)
    const created = runAs(STRANGER, ['keys', 'create', 'app', '--type', 'api'], env, ws.dir);
    expect(created.code, created.stderr).to.equal(0);
    for (const args of [['list'], ['keys', 'list'], ['history'], ['authorize', '10.0.0.0/24', '--label', 'office'], ['export', '--format', 'nginx'], ['--help']]) {
      const run = runAs(STRANGER, args, env, ws.dir);
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).to.equal(0);
      expect(run.stderr).not.to.contain('internal error');
    }
  });

  describe('the store file a write replaces', () => {
    it('keeps the mode the operator gave it, and the index cache of a large store takes the same', () => {
      const ws = Workspace.create();
      expect(ws.run(['authorize', '192.0.2.1'], {now: NOW}).code).to.equal(0);
      expect(statSync(ws.store).mode & 0o777, 'a new store').to.equal(0o600);
      chmodSync(ws.store, 0o640);
      expect(ws.run(['authorize', '192.0.2.2'], {now: NOW}).code).to.equal(0);
      expect(statSync(ws.store).mode & 0o777, 'after a write').to.equal(0o640);
      // Large enough for an index cache (a megabyte of JSON).
      const entries = Array.from({length: 12_000}, (_, i) => `10.${i >> 8}.${i & 255}.0/24`).join('\n');
      expect(ws.run(['authorize', '-'], {now: NOW, input: `${entries}\n`}).code).to.equal(0);
      expect(statSync(ws.store).mode & 0o777).to.equal(0o640);
      expect(statSync(`${ws.store}.cache`).mode & 0o777, 'the cache is as readable as the store, no more').to.equal(0o640);
    });

    it('export --output over an existing file keeps its mode (an include file a proxy reads as its group)', () => {
      const ws = Workspace.create();
      expect(ws.run(['authorize', '192.0.2.1'], {now: NOW}).code).to.equal(0);
      const out = path.join(ws.dir, 'allow.conf');
      expect(ws.run(['export', '--format', 'nginx', '--output', out], {now: NOW}).code).to.equal(0);
      // A new file is 0644 less what the umask takes away (0644 under the usual 022, 0600 under 077).
      const probe = path.join(ws.dir, 'probe');
      writeFileSync(probe, '', {mode: 0o644});
      expect(statSync(out).mode & 0o777, 'a new file').to.equal(statSync(probe).mode & 0o777);
      chmodSync(out, 0o640);
      expect(ws.run(['authorize', '192.0.2.2'], {now: NOW}).code).to.equal(0);
      expect(ws.run(['export', '--format', 'nginx', '--output', out], {now: NOW}).code).to.equal(0);
      expect(statSync(out).mode & 0o777, 'replaced, its mode kept').to.equal(0o640);
      expect(readFileSync(out, 'utf8')).to.contain('192.0.2.2');
    });

    it("keeps its owner and group when root writes it: a service user's store stays the service user's (root only)", function () {
      if (!isRoot) this.skip();
      const ws = Workspace.create();
      expect(ws.run(['authorize', '192.0.2.1'], {now: NOW}).code).to.equal(0);
      chownSync(ws.store, NOBODY, NOBODY);
      expect(ws.run(['authorize', '192.0.2.2'], {now: NOW}).code).to.equal(0);
      const after = statSync(ws.store);
      expect([after.uid, after.gid]).to.deep.equal([NOBODY, NOBODY]);
    });

    it('is refused when this user may not write it (chmod 400): exit 3, the file as it was', function () {
      const ws = Workspace.create();
      expect(ws.run(['authorize', '192.0.2.1'], {now: NOW}).code).to.equal(0);
      chmodSync(ws.store, 0o400);
      const before = readFileSync(ws.store);
      let run;
      if (isRoot) {
        // (root may write any file: the refusal is seen by another user, who owns the store and its folder.)
        if (!hasSetpriv) this.skip();
        chownSync(ws.store, NOBODY, NOBODY);
        chownSync(ws.dir, NOBODY, NOBODY);
        run = runAs(NOBODY, ['authorize', '192.0.2.9'], {HOME: ws.dir, KEYWARD_STORE: ws.store, KEYWARD_NOW: NOW}, ws.dir);
      } else run = ws.run(['authorize', '192.0.2.9'], {now: NOW});
      expect(run.code, run.stderr).to.equal(3);
      expect(run.stderr).to.contain(`cannot write the store ${ws.store}`).and.to.contain('read-only for this user (mode 0400)');
      expect(readFileSync(ws.store).equals(before)).to.equal(true);
      expect(statSync(ws.store).mode & 0o777).to.equal(0o400);
    });
  });

  it('KEYWARD_LOCK_TIMEOUT_MS that is not whole milliseconds is a usage error naming it, nothing written (not 30 s of waiting unsaid)', () => {
    const ws = Workspace.create();
    for (const given of ['abc', '1.5', '-1', '30s']) {
      const run = ws.run(['authorize', '192.0.2.1'], {now: NOW, env: {KEYWARD_LOCK_TIMEOUT_MS: given}});
      expect(run.code, run.stderr).to.equal(2);
      expect(run.stderr).to.contain(`KEYWARD_LOCK_TIMEOUT_MS is \`${given}\`: give a whole number of milliseconds`);
    }
    expect(ws.storeBytes()).to.equal(null);
  });

  it('a lock left behind dated far ahead (the clock set back since) is stale, not a wait until the clock catches up', () => {
    const ws = Workspace.create();
    expect(ws.run(['authorize', '192.0.2.1'], {now: NOW}).code).to.equal(0);
    const lock = `${ws.store}.lock`;
    mkdirSync(lock);
    utimesSync(lock, new Date('2030-01-01T00:00:00Z'), new Date('2030-01-01T00:00:00Z'));
    const run = ws.run(['authorize', '192.0.2.2'], {now: NOW, env: {KEYWARD_LOCK_TIMEOUT_MS: '5000'}});
    expect(run.code, run.stderr).to.equal(0);
    expect(existsSync(lock), 'taken over, then released').to.equal(false);
    // A takeover guard left dated ahead, beside an old lock: stale too.
    mkdirSync(lock);
    mkdirSync(`${lock}.takeover`);
    utimesSync(lock, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
    utimesSync(`${lock}.takeover`, new Date(Date.now() + 86_400_000), new Date(Date.now() + 86_400_000));
    expect(ws.run(['authorize', '192.0.2.4'], {now: NOW, env: {KEYWARD_LOCK_TIMEOUT_MS: '5000'}}).code).to.equal(0);
    expect(existsSync(lock)).to.equal(false);
    // A lock refreshed now (a live writer's) is still waited for.
    mkdirSync(lock);
    const waited = ws.run(['authorize', '192.0.2.3'], {now: NOW, env: {KEYWARD_LOCK_TIMEOUT_MS: '300'}});
    expect(waited.code).to.equal(3);
    expect(waited.stderr).to.contain('is locked by another keyward process');
  });

  it('stdin that is a folder (`< /var/log`) is a usage error saying so, never read as empty ("0 events applied", exit 0)', () => {
    const ws = Workspace.create();
    expect(ws.run(['keys', 'create', 'app', '--type', 'api'], {now: NOW, env: {KEYWARD_TEST_SUBPROCESS: '1'}}).code).to.equal(0);
    const folder = openSync(ws.dir, 'r');
    try {
      for (const args of [
        ['check', 'app', '-'],
        ['check', 'app', '-', '--ndjson'],
        ['authorize', '-'],
        ['revoke', '-'],
        ['learn', '-'],
        ['sync', '-', '--dry-run'],
      ]) {
        const run = spawnSync(process.execPath, [BIN, ...args], {env: environment(ws.store, {now: NOW}), stdio: [folder, 'pipe', 'pipe'], encoding: 'utf8'});
        expect(run.status, `${args.join(' ')}: ${run.stderr}`).to.equal(2);
        expect(run.stderr).to.contain('stdin is a folder, not a file or a pipe');
      }
    } finally {
      closeSync(folder);
    }
  });

  it('shows a store path with control characters escaped: status names its store on a line of its own, a message stays one line', () => {
    const ws = Workspace.create();
    const folder = path.join(ws.dir, 'cr\rfolder');
    mkdirSync(folder);
    const store = path.join(folder, 'store.json');
    expect(runProcess(store, ['authorize', '192.0.2.1'], {now: NOW}).code).to.equal(0);
    for (const fast of [true, false]) {
      const run = runProcess(store, ['status'], {now: NOW, env: fast ? {} : {KEYWARD_NO_FAST_PATH: '1'}});
      expect(run.code).to.equal(0);
      expect(run.stdout.split('\n')[0]).to.equal(`store ${path.join(ws.dir, 'cr\\rfolder', 'store.json')}`);
    }
    const missing = path.join(ws.dir, 'new\nline', 'store.json');
    const run = runProcess(missing, ['status'], {now: NOW});
    expect(run.code).to.equal(3);
    expect(run.stderr.split('\n')[0]).to.equal(`keyward: no store at ${path.join(ws.dir, 'new\\nline', 'store.json')}`);
  });
});
