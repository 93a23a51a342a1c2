/**
 * Issue 14 items 5 and 6, as an operator meets them: flags that agree
 * (--yes and --force on activate, both channels at once, --no-timestamp,
 * advice that names flags that exist, completion of values and key names) and
 * words that count (plurals, one rounding of days, grouped thousands, the
 * list named, --quiet).
 */
import {spawnSync} from 'node:child_process';
import {chmodSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {expect} from 'chai';
import {BIN, daysAfter, RunResult, Workspace} from './harness.js';

const DAY0 = '2026-01-01T00:00:00.000Z';
const day = (n: number) => daysAfter(DAY0, n);

function ok(result: RunResult): RunResult {
  expect(result.code, `exit ${result.code}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`).to.equal(0);
  return result;
}

let preparedBytes: Buffer | null = null;

/** A store with API key billing (its list 203.0.113.0/24) and SMTP key relay, the account list 198.51.100.0/24: made once, copied for each test. */
function prepared(): Workspace {
  const ws = Workspace.create();
  if (preparedBytes === null) {
    ok(ws.run(['keys', 'create', 'billing', '--type', 'api', '--allow', '203.0.113.0/24'], {now: day(0)}));
    ok(ws.run(['keys', 'create', 'relay', '--type', 'smtp'], {now: day(0)}));
    ok(ws.run(['authorize', '198.51.100.0/24'], {now: day(0)}));
    preparedBytes = ws.storeBytes()!;
  } else ws.file('store.json', preparedBytes);
  return ws;
}

describe('flags that agree (issue 14 item 5)', () => {
  it('activate --api --smtp --yes turns both on at once; deactivate --api --smtp --yes both off', () => {
    const ws = prepared();
    const on = ok(ws.run(['activate', '--api', '--smtp', '--yes', '--json'], {now: day(1)}));
    expect(on.json()).to.deep.equal({channel: 'both', state: 'active', changed: true, refused: []});
    const status = ok(ws.run(['status', '--json'], {now: day(1)})).json();
    expect([status.api.state, status.smtp.state]).to.deep.equal(['active', 'active']);
    const again = ok(ws.run(['activate', '--smtp', '--api'], {now: day(1)}));
    expect(again.stdout).to.equal('api blocking was already active\nsmtp blocking was already active\n');

    const refused = ws.run(['deactivate', '--api', '--smtp'], {now: day(2)});
    expect(refused.code).to.equal(4);
    expect(refused.stderr).to.contain('Deactivate api and smtp blocking?').and.contain('pass --yes');
    const off = ok(ws.run(['deactivate', '--api', '--smtp', '--yes'], {now: day(2)}));
    expect(off.stdout).to.equal('api blocking is now inactive\nsmtp blocking is now inactive\n');
  });

  it('neither --api nor --smtp is a usage error that says what to give', () => {
    const ws = prepared();
    const none = ws.run(['activate', '--yes'], {now: day(1)});
    expect(none.code).to.equal(2);
    expect(none.stderr).to.contain('give --api, --smtp or both');
  });

  it('activate --smtp --yes answers the question of seen traffic, never the empty account list, which needs --force', () => {
    const ws = Workspace.create();
    ok(ws.run(['keys', 'create', 'relay', '--type', 'smtp'], {now: day(0)}));
    const before = ws.storeBytes();
    const yes = ws.run(['activate', '--smtp', '--yes'], {now: day(1)});
    expect(yes.code).to.equal(4);
    expect(yes.stderr).to.equal(
      'keyward: not activating smtp blocking: the account list is empty, so every SMTP connection would be refused\n' +
        '  authorize the addresses your SMTP clients use first (keyward authorize ADDRESS), or pass --force to refuse every SMTP connection\n' +
        '  refused for safety (exit 4)\n',
    );
    expect(ws.storeBytes()).to.deep.equal(before);
    const forced = ok(ws.run(['activate', '--smtp', '--force'], {now: day(1)}));
    expect(forced.stderr).to.contain('the account list is empty: every SMTP connection will be refused');
    expect(forced.stdout).to.equal('smtp blocking is now active\n');
  });

  it('export takes --no-timestamp, the flag its text names; --timestamp is no flag', () => {
    const ws = prepared();
    const plain = ok(ws.run(['export', '--format', 'nginx', '--no-timestamp'], {now: day(1)}));
    expect(plain.stdout).not.to.contain(day(1).slice(0, 10));
    expect(ok(ws.run(['export', '--format', 'nginx'], {now: day(1)})).stdout).to.contain(day(1));
    const old = ws.run(['export', '--timestamp'], {now: day(1)});
    expect(old.code).to.equal(2);
    expect(old.stderr).to.contain('--timestamp');
  });

  it('sync of a file without entries says what sync takes, never a --file flag it does not have', () => {
    const ws = prepared();
    ws.file('empty.txt', '# nothing yet\n');
    // (Named relative to the workspace, keyward's working folder: a message shows no more than 80 characters of a path, and
    // an absolute one under a long TMPDIR is longer.)
    const run = ws.run(['sync', 'empty.txt', '--yes'], {now: day(1)});
    expect(run.code).to.equal(2);
    expect(run.stderr).to.equal(
      'keyward: no entries in `empty.txt`: sync refuses to empty a list\n' +
        '  give a file of entries (one a line, or - for stdin); to remove entries use keyward revoke ENTRY..., a whole group keyward revoke --group NAME --all\n' +
        '  usage error (exit 2)\n',
    );
    const stdin = ws.run(['sync', '-', '--yes'], {now: day(1), input: ''});
    expect(stdin.stderr).to.contain('keyward: no entries in stdin: sync refuses to empty a list').and.not.contain('--file');
  });

  it("check's usage shows one KEY and many addresses; authorize's has no tangle of relationships", () => {
    const ws = Workspace.create();
    const oneLine = (text: string) => text.replaceAll(/\s+/g, ' ');
    const check = oneLine(ok(ws.run(['check', '--help'])).stdout);
    expect(check).to.contain('$ keyward check KEY ADDRESS... [--expect allow|deny] [--json | --ndjson | --print allowed|denied] [--store PATH]');
    expect(check).not.to.contain('KEY...');
    const authorize = oneLine(ok(ws.run(['authorize', '--help'])).stdout);
    expect(authorize).to.contain('$ keyward authorize --from-blocked [ENTRY... | --all]');
    expect(authorize).not.to.contain('[--all [--from-blocked');
    expect(authorize).to.contain('$ cat ranges.txt | keyward authorize - --key billing --expires 30d');
  });

  describe('completion in bash: flag values and key names', () => {
    /** The bash function `keyward autocomplete` writes, with keyward on PATH and the store given. */
    function completion(): {complete: (...words: string[]) => string[]} {
      const ws = prepared();
      const cache = path.join(ws.dir, 'cache');
      const bin = path.join(ws.dir, 'bin');
      mkdirSync(bin);
      writeFileSync(path.join(bin, 'keyward'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"\n`);
      chmodSync(path.join(bin, 'keyward'), 0o755);
      ok(ws.run(['autocomplete', '--refresh-cache'], {env: {XDG_CACHE_HOME: cache}}));
      const script = path.join(cache, 'keyward', 'autocomplete', 'functions', 'bash', 'keyward.bash');
      expect(readFileSync(script, 'utf8'))
        .to.contain('--no-timestamp')
        .and.not.match(/--timestamp\b(?<!no-timestamp)/);
      return {
        complete: (...words: string[]) => {
          const run = spawnSync(
            'bash',
            [
              '-c',
              'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _keyward_complete; printf "%s\\n" "${COMPREPLY[@]}"',
              '_',
              script,
              'keyward',
              ...words,
            ],
            {encoding: 'utf8', env: {...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}`, KEYWARD_STORE: ws.store, NO_COLOR: '1'}},
          );
          expect(run.status, run.stderr).to.equal(0);
          return run.stdout.split('\n').filter(Boolean);
        },
      };
    }

    it('offers the options of --format and --channel, key names after --key and for keys rotate and check, and still commands and flags', function () {
      this.timeout(60_000);
      const {complete} = completion();
      expect(complete('export', '--format', '')).to.deep.equal(['plain', 'csv', 'json', 'nginx', 'haproxy', 'nftables', 'ipset', 'crowdsec']);
      expect(complete('export', '--format', 'n')).to.deep.equal(['nginx', 'nftables']);
      expect(complete('blocked', '--channel', '')).to.deep.equal(['api', 'smtp']);
      expect(complete('learn', '--format', 'p')).to.deep.equal(['postfix']);
      expect(complete('keys', 'rotate', '')).to.deep.equal(['billing', 'relay']);
      expect(complete('check', 'b')).to.deep.equal(['billing']);
      expect(complete('list', '--key', '')).to.deep.equal(['billing', 'relay']);
      expect(complete('authorize', '-k', 'r')).to.deep.equal(['relay']);
      expect(complete('ch')).to.deep.equal(['check']);
      expect(complete('export', '--no')).to.deep.equal(['--no-timestamp']);
    });
  });
});

describe('words that count (issue 14 item 6)', () => {
  it('learn: one event, one entry, one unknown key, in the singular', () => {
    const ws = prepared();
    const run = ok(ws.run(['learn', '-'], {now: day(1), input: `billing 203.0.113.9 ${day(1)}\nghost 192.0.2.1 ${day(1)}\n`}));
    const lines = run.stderr.split('\n');
    expect(lines).to.include('1 event applied, 1 entry learned, 0 addresses newly blocked');
    expect(lines).to.include('1 event of unknown keys skipped: ghost (1 event)');
    expect(run.stderr).not.to.match(/\b1 (events|entries|keys|addresses)\b|\(es\)|\(s\)/);
  });

  it('authorize --from-blocked: "1 address left the blocked list"', () => {
    const ws = prepared();
    ok(ws.run(['activate', '--api', '--yes'], {now: day(1)}));
    ok(ws.run(['learn', '-'], {now: day(1), input: `billing 203.0.113.66 ${day(1)}\n`}));
    const run = ok(ws.run(['authorize', '--from-blocked', '--all'], {now: day(1)}));
    expect(run.stderr).to.equal('1 address left the blocked list\n');
  });

  it('days: learn and status say the same span by one rule (one decimal below 10 days, rounded down; whole days from 10)', () => {
    const ws = Workspace.create();
    ok(ws.run(['keys', 'create', 'billing', '--type', 'api'], {now: day(0)}));
    ok(ws.run(['learn', '-'], {now: day(0), input: `billing 192.0.2.1 ${day(0)}\n`}));
    ok(ws.run(['learn', '-'], {now: day(3), input: `billing 192.0.2.2 ${day(3)}\n`}));
    const early = ok(ws.run(['status'], {now: day(3)})).stdout;
    expect(early)
      .to.contain('3.0 of 30 quiet days observed')
      .and.contain(`at or after ${day(30)} (27 days from now)`);
    // 25.4 days into a 30-day window, and a minute: 4.59 days left, said as 4.5 (rounded down) by learn and status alike.
    const now = new Date(Date.parse(day(25)) + 0.4 * 86_400_000 + 60_000).toISOString();
    const learned = ok(ws.run(['learn', '-'], {now, input: `billing 192.0.2.3 ${now}\n`})).stderr;
    const status = ok(ws.run(['status'], {now})).stdout;
    const left = `at or after ${day(30)} (4.5 days from now)`;
    expect(learned).to.contain(left).and.contain('25 of 30 quiet days observed');
    expect(status).to.contain(left).and.contain('25 of 30 quiet days observed');
  });

  it('counts in human text are grouped by thousands; in JSON they are plain numbers', () => {
    const ws = prepared();
    const entries = Array.from({length: 1200}, (_, i) => `10.${i >> 8}.${i & 255}.1`).join('\n');
    const run = ok(ws.run(['authorize', '-'], {now: day(1), input: entries}));
    expect(run.stdout.split('\n')[0]).to.equal('1,200 entries added');
    const status = ok(ws.run(['status'], {now: day(1)})).stdout;
    expect(status).to.contain('entries: 1,201 in the account list');
    expect(ok(ws.run(['status', '--json'], {now: day(1)})).json().counts.accountEntries).to.equal(1201);
  });

  it('revoke, enable and disable name the list an entry is not in', () => {
    const ws = prepared();
    const key = ws.run(['revoke', '--key', 'billing', '10.9.9.9'], {now: day(1)});
    expect(key.code).to.equal(2);
    expect(key.stderr.split('\n')[0]).to.equal("keyward: 10.9.9.9 is not in key billing's list; nothing was removed");
    const account = ws.run(['revoke', '10.9.9.9'], {now: day(1)});
    expect(account.stderr.split('\n')[0]).to.equal('keyward: 10.9.9.9 is not in the account list; nothing was removed');
    const deny = ws.run(['revoke', '--deny', '10.9.9.9'], {now: day(1)});
    expect(deny.stderr.split('\n')[0]).to.equal('keyward: 10.9.9.9 is not in the account list of deny entries; nothing was removed');
    const disable = ws.run(['disable', '--key', 'billing', '10.9.9.9'], {now: day(1)});
    expect(disable.stderr.split('\n')[0]).to.equal("keyward: 10.9.9.9 is not in key billing's list; nothing was changed");
    const inside = ws.run(['revoke', '--key', 'billing', '203.0.113.7'], {now: day(1)});
    expect(inside.stderr).to.equal(
      "keyward: 203.0.113.7 is not in key billing's list; nothing was removed\n  it is covered by 203.0.113.0/24; revoke takes exact entries\n  usage error (exit 2)\n",
    );
  });

  describe('--quiet', () => {
    it('authorize, revoke, sync and export -q print no summary; errors and warnings still show', () => {
      const ws = prepared();
      const added = ok(ws.run(['authorize', '192.0.2.0/24', '-q'], {now: day(1)}));
      expect([added.stdout, added.stderr]).to.deep.equal(['', '']);
      const file = ws.file('list.txt', '192.0.2.0/24\n198.51.100.0/24\n203.0.113.0/24\n');
      const synced = ok(ws.run(['sync', file, '--yes', '--quiet'], {now: day(1)}));
      expect([synced.stdout, synced.stderr]).to.deep.equal(['', '']);
      const exported = ok(ws.run(['export', '-o', path.join(ws.dir, 'out.txt'), '-q'], {now: day(1)}));
      // Its warning stays (blocking is not active: the file is not what keyward decides); the "wrote …" line goes.
      expect(exported.stdout).to.equal('');
      expect(exported.stderr)
        .to.match(/^note: blocking is not active/)
        .and.not.contain('wrote');
      const removed = ok(ws.run(['revoke', '192.0.2.0/24', '--quiet'], {now: day(1)}));
      expect([removed.stdout, removed.stderr]).to.deep.equal(['', '']);

      const error = ws.run(['revoke', '192.0.2.0/24', '-q'], {now: day(1)});
      expect(error.code).to.equal(2);
      expect(error.stderr).to.contain('is not in the account list');
      ok(ws.run(['disable', '203.0.113.0/24', '-q'], {now: day(1)}));
      const warned = ok(ws.run(['authorize', '203.0.113.0/24', '-q'], {now: day(1)}));
      expect(warned.stdout).to.equal('');
      expect(warned.stderr).to.contain('this entry is disabled and stays off');
    });

    it('learn -q keeps the ways out of a newly blocked address and drops the summary', () => {
      const ws = prepared();
      ok(ws.run(['activate', '--api', '--yes'], {now: day(1)}));
      const run = ok(ws.run(['learn', '-', '-q'], {now: day(1), input: `billing 192.0.2.66 ${day(1)}\n`}));
      expect(run.stderr).to.contain('blocked 192.0.2.66').and.contain('keyward authorize 192.0.2.66');
      expect(run.stderr).not.to.contain('applied').and.not.contain('api: ');
    });

    it('keys create -q still prints the secret, and nothing else', () => {
      const ws = Workspace.create();
      const run = ok(ws.run(['keys', 'create', 'ci', '--type', 'api', '-q'], {now: day(0)}));
      expect(run.stdout).to.match(/^[0-9a-f]{40}\n$/);
      expect(run.stderr).to.equal('');
    });

    it('is a flag of every command that prints a summary, and of none that only reads', () => {
      const ws = Workspace.create();
      const summary = [
        'authorize',
        'deny',
        'revoke',
        'enable',
        'disable',
        'learn',
        'sync',
        'prune',
        'activate',
        'deactivate',
        'export',
        'keys create',
        'keys rotate',
        'keys revoke',
      ];
      for (const command of summary) {
        const help = ok(ws.run([...command.split(' '), '--help'])).stdout;
        expect(help, command).to.match(/-q, --quiet\s+print no summary and no progress/);
      }
      for (const command of ['list', 'status', 'check', 'history', 'keys list']) {
        expect(ok(ws.run([...command.split(' '), '--help'])).stdout, command).not.to.contain('--quiet');
      }
    });
  });
});
