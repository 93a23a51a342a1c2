/**
 * `keyward sync FILE` end to end: the plan, dry runs a CI job can gate on
 * (exit 1 when the list differs), applying with --yes, the safety refusal
 * without a terminal, learned entries, key lists, seen traffic cut off, and
 * all-or-nothing input.
 */
import {spawnSync} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {expect} from 'chai';

import {daysAfter, NOW, RunResult, Workspace} from './harness.js';

const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url));

const day = (n: number) => daysAfter(NOW, n);

function ok(result: RunResult): RunResult {
  expect(result.code, `exit ${result.code}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`).to.equal(0);
  return result;
}

function exits(result: RunResult, code: number): RunResult {
  expect(result.code, `expected exit ${code}, got ${result.code}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`).to.equal(code);
  return result;
}

/** entry → label of a list, as `list --json` shows it. */
function labels(ws: Workspace, args: string[], now = NOW): Record<string, string | null> {
  return Object.fromEntries(
    ok(ws.run(['list', '--json', ...args], {now}))
      .json<any[]>()
      .map((r) => [r.entry, r.label]),
  );
}

const FILE = ['# allowlist kept in git', '10.0.0.0/8        # vpn', '203.0.113.0/24    # office', '10.1.0.0/16', '2001:DB8::/32     # v6 office', ''].join('\n');

/** A store with an account list that differs from FILE: one entry to remove, one to relabel. */
function storeToSync(): Workspace {
  const ws = Workspace.create();
  ok(ws.run(['authorize', '10.0.0.0/8', '198.51.100.7', '--label', 'old'], {now: NOW}));
  ok(ws.run(['authorize', '2001:db8::/32', '--label', 'v6 office'], {now: NOW}));
  return ws;
}

describe('keyward sync', () => {
  it('--dry-run prints the plan, writes nothing (byte for byte) and exits 1 while the list differs', () => {
    const ws = storeToSync();
    const file = ws.file('allowlist.txt', FILE);
    const before = ws.storeBytes()!;

    const dry = exits(ws.run(['sync', file, '--dry-run'], {now: day(1)}), 1);
    expect(dry.stdout).to.contain('2 to add, 1 to remove, 1 to relabel, 1 unchanged');
    expect(dry.stdout).to.contain('+ 10.1.0.0/16').and.contain('+ 203.0.113.0/24  # office');
    expect(dry.stdout).to.contain('- 198.51.100.7');
    expect(dry.stdout).to.contain('~ 10.0.0.0/8  label "old" → "vpn"');
    expect(dry.stdout).to.contain('nothing was written');
    expect(dry.stdout).not.to.contain('2001:db8::/32', 'unchanged entries are only counted');

    const json = exits(ws.run(['sync', file, '--dry-run', '--json'], {now: day(1)}), 1).json();
    expect(json).to.deep.equal({
      scope: 'account',
      added: ['10.1.0.0/16', '203.0.113.0/24'],
      removed: ['198.51.100.7'],
      unchanged: ['2001:db8::/32'],
      relabeled: [{entry: '10.0.0.0/8', label: 'vpn', previousLabel: 'old'}],
      updated: [],
      group: null,
      elsewhere: [],
      inAccount: [],
      keptLearned: [],
      keptDisabled: [],
      keptExpired: [],
      cutOff: [],
      applied: false,
      dryRun: true,
    });
    expect(ws.storeBytes()!.equals(before), 'store byte for byte').to.equal(true);
  });

  it('keeps disabled entries (exports leave them out): export | sync is nothing to do, in every format, and a file giving the range the other effect replaces it', () => {
    const ws = storeToSync();
    exits(ws.run(['authorize', '192.0.2.0/24', '--label', 'off for now'], {now: day(1)}), 0);
    exits(ws.run(['deny', '10.66.0.0/16'], {now: day(1)}), 0);
    exits(ws.run(['disable', '192.0.2.0/24', '10.66.0.0/16', '--yes'], {now: day(1)}), 0);
    for (const format of ['plain', 'csv', 'json']) {
      const exported = ws.file(`export.${format}`, exits(ws.run(['export', '--format', format, '--no-timestamp'], {now: day(1)}), 0).stdout);
      const dry = exits(ws.run(['sync', exported, '--dry-run', '--json'], {now: day(1)}), 0).json();
      expect(dry, format).to.deep.include({added: [], removed: [], keptDisabled: ['!10.66.0.0/16', '192.0.2.0/24']});
    }
    const plain = ws.file('plain.txt', exits(ws.run(['export', '--format', 'plain', '--no-timestamp'], {now: day(1)}), 0).stdout);
    const human = exits(ws.run(['sync', plain, '--yes'], {now: day(1)}), 0);
    expect(human.stdout).to.contain('2 disabled entries not in the file kept');
    expect(
      ws
        .run(['list', '--disabled', '--json'], {now: day(1)})
        .json()
        .map((r: {entry: string; label: string | null}) => [r.entry, r.label]),
    ).to.deep.equal([
      ['10.66.0.0/16', null],
      ['192.0.2.0/24', 'off for now'],
    ]);
    // The file denies the disabled allow entry's range: one range is never both, so the disabled allow entry goes.
    const denying = ws.file('denying.txt', `${readFileSync(plain, 'utf8')}!192.0.2.0/24\n`);
    const swap = exits(ws.run(['sync', denying, '--dry-run', '--json'], {now: day(1)}), 1).json();
    expect(swap).to.deep.include({added: ['!192.0.2.0/24'], removed: ['192.0.2.0/24'], keptDisabled: ['!10.66.0.0/16']});
  });

  it('without --yes and without a terminal prints the plan, writes nothing and exits 4', () => {
    const ws = storeToSync();
    const file = ws.file('allowlist.txt', FILE);
    const before = ws.storeBytes()!;

    const refused = exits(ws.run(['sync', file], {now: day(1)}), 4);
    expect(refused.stdout).to.contain('- 198.51.100.7');
    expect(refused.stderr).to.contain('no terminal').and.contain('--yes');

    // Under --json stdout is one value: the refusal's error object, carrying the plan.
    const refusedJson = exits(ws.run(['sync', file, '--json'], {now: day(1)}), 4);
    expect(refusedJson.json().error).to.include({exit: 4});
    expect(refusedJson.json().error.plan).to.include({applied: false, dryRun: false});
    expect(refusedJson.json().error.plan.removed).to.deep.equal(['198.51.100.7']);
    expect(ws.storeBytes()!.equals(before)).to.equal(true);
  });

  it('--yes makes the list equal to the file; a second sync has nothing to do (exit 0, nothing written)', () => {
    const ws = storeToSync();
    const file = ws.file('allowlist.txt', FILE);

    const applied = ok(ws.run(['sync', file, '--yes', '--json'], {now: day(1)})).json();
    expect(applied).to.include({applied: true, dryRun: false});
    expect(applied.added).to.deep.equal(['10.1.0.0/16', '203.0.113.0/24']);
    expect(applied.removed).to.deep.equal(['198.51.100.7']);

    expect(labels(ws, ['--account'])).to.deep.equal({
      '10.0.0.0/8': 'vpn',
      '10.1.0.0/16': null,
      '203.0.113.0/24': 'office',
      '2001:db8::/32': 'v6 office',
    });
    const rows = ok(ws.run(['list', '--json'], {now: day(1)})).json<any[]>();
    expect(rows.find((r) => r.entry === '203.0.113.0/24')).to.deep.include({source: 'import', addedAt: day(1), expiresAt: null});
    expect(
      rows.find((r) => r.entry === '10.0.0.0/8'),
      'a relabeled entry keeps its history',
    ).to.deep.include({source: 'manual', addedAt: NOW});

    const written = ws.storeBytes()!;
    for (const args of [[], ['--dry-run'], ['--yes']]) {
      const again = ok(ws.run(['sync', file, ...args], {now: day(2)}));
      expect(again.stdout).to.contain('nothing to do');
    }
    const againJson = ok(ws.run(['sync', file, '--dry-run', '--json'], {now: day(2)})).json();
    expect(againJson).to.include({applied: false, dryRun: true});
    expect(againJson.added).to.deep.equal([]);
    expect(againJson.removed).to.deep.equal([]);
    expect(againJson.unchanged).to.have.length(4);
    expect(ws.storeBytes()!.equals(written), 'nothing to do writes nothing').to.equal(true);
  });

  it('reads stdin with `-`, naming lines without a file name', () => {
    const ws = Workspace.create();
    const out = ok(ws.run(['sync', '-', '--yes', '--json'], {now: NOW, input: '192.0.2.1 # runner\n192.0.2.0/24\n'}));
    expect(out.json().added).to.deep.equal(['192.0.2.0/24', '192.0.2.1']);
    expect(labels(ws, [])).to.deep.equal({'192.0.2.0/24': null, '192.0.2.1': 'runner'});

    const bad = exits(ws.run(['sync', '-', '--yes'], {now: NOW, input: '192.0.2.1\n192.0.2.300\n'}), 2);
    expect(bad.stderr).to.contain('line 2:').and.contain('192.0.2.300');
  });

  it('is all or nothing: a bad line 2 of 4 writes nothing and names the line; an empty file and a missing one are refused', async () => {
    const ws = storeToSync();
    const before = ws.storeBytes()!;
    const bad = ws.file('bad.txt', '10.0.0.0/8\n10.300.0.0/16 # typo\n192.0.2.0/24\n198.51.100.7\n');
    const hostBits = ws.file('hostbits.txt', '192.168.1.25/24\n');
    const everything = ws.file('everything.txt', '0.0.0.0/0\n');
    const empty = ws.file('empty.txt', '# nothing here yet\n\n');
    const [badLine, hostBitsRun, everythingRun, emptyRun, missing] = await ws.runAll(
      [
        ['sync', bad, '--yes'],
        ['sync', hostBits, '--yes'],
        ['sync', everything, '--yes'],
        ['sync', empty, '--yes'],
        ['sync', `${ws.dir}/nope.txt`, '--yes'],
      ],
      {now: day(1)},
    );
    exits(badLine, 2);
    expect(badLine.stderr).to.contain('line 2 of').and.contain('10.300.0.0/16');
    exits(hostBitsRun, 2);
    expect(hostBitsRun.stderr).to.contain('192.168.1.0/24').and.contain('--normalize');
    // v2: a broad entry is a safety refusal (exit 4), no longer a bad line.
    exits(everythingRun, 4);
    expect(everythingRun.stderr).to.contain('line 1 of').and.contain('--force');
    exits(emptyRun, 2);
    expect(emptyRun.stderr).to.contain('no entries');
    exits(missing, 2);
    expect(missing.stderr).to.contain('ENOENT');
    expect(ws.storeBytes()!.equals(before), 'nothing written').to.equal(true);

    const normalized = ok(ws.run(['sync', hostBits, '--normalize', '--yes', '--json'], {now: day(1)})).json();
    expect(normalized.added).to.deep.equal(['192.168.1.0/24']);
    expect(ok(ws.run(['sync', everything, '--force', '--yes', '--json'], {now: day(1)})).json().added).to.deep.equal(['0.0.0.0/0']);
  });

  it('exits 3 on a corrupt store and leaves it as it was', () => {
    const ws = Workspace.create();
    ws.file('store.json', '{"version": 1, "account": [');
    const file = ws.file('allowlist.txt', FILE);
    const before = ws.storeBytes()!;
    for (const args of [['--dry-run'], ['--yes']]) {
      const out = exits(ws.run(['sync', file, ...args], {now: NOW}), 3);
      expect(out.stderr).to.contain('corrupt');
    }
    expect(ws.storeBytes()!.equals(before)).to.equal(true);
  });

  it('--key syncs one key list and touches neither the account list nor other keys', () => {
    const ws = Workspace.create();
    ok(ws.run(['keys', 'create', 'billing', '--type', 'api', '--allow', '192.0.2.0/24', '--allow', '198.51.100.7'], {now: NOW}));
    ok(ws.run(['keys', 'create', 'relay', '--type', 'smtp', '--allow', '192.0.2.0/24'], {now: NOW}));
    ok(ws.run(['authorize', '203.0.113.0/24'], {now: NOW}));
    const file = ws.file('billing.txt', '192.0.2.0/24\n2001:db8::/48 # v6\n');

    const out = ok(ws.run(['sync', file, '--key', 'billing', '--yes', '--json'], {now: day(1)})).json();
    expect(out).to.deep.include({scope: 'billing', added: ['2001:db8::/48'], removed: ['198.51.100.7'], unchanged: ['192.0.2.0/24']});
    expect(labels(ws, ['--key', 'billing'])).to.deep.equal({'192.0.2.0/24': null, '2001:db8::/48': 'v6'});
    expect(labels(ws, ['--key', 'relay'])).to.deep.equal({'192.0.2.0/24': null});
    expect(labels(ws, ['--account'])).to.deep.equal({'203.0.113.0/24': null});

    exits(ws.run(['sync', file, '--key', 'nobody', '--yes'], {now: day(1)}), 2);
  });

  it('a key list narrows its key in every blocking state: sync --key names the seen traffic it cuts off', () => {
    const ws = Workspace.create();
    ok(ws.run(['keys', 'create', 'relay', '--type', 'smtp', '--allow', '10.0.0.0/8'], {now: NOW}));
    ok(ws.run(['learn', '-'], {now: day(1), input: `relay 10.1.2.3 ${day(1)}\nrelay 10.9.9.9 ${day(1)}\n`}));
    const file = ws.file('relay.txt', '10.9.0.0/16\n');

    const dry = exits(ws.run(['sync', file, '--key', 'relay', '--dry-run', '--json'], {now: day(2)}), 1).json();
    expect(dry.cutOff).to.deep.equal([{ip: '10.1.2.3', key: 'relay', channel: 'smtp', lastSeen: day(1)}]);
  });
});

describe('keyward sync under blocking, with learned entries', () => {
  /**
   * billing learned 192.0.2.0/24 on day 1; 198.51.100.0/24 authorized by hand;
   * the window ended at day 31 and a day-41 event turned API blocking on by
   * itself, then was blocked: 203.0.113.5.
   */
  function learnedAndBlocking(): Workspace {
    const ws = Workspace.create();
    ok(ws.run(['keys', 'create', 'billing', '--type', 'api'], {now: NOW}));
    ok(ws.run(['learn', '-'], {now: day(1), input: `billing 192.0.2.10 ${day(1)}\n`}));
    ok(ws.run(['authorize', '198.51.100.0/24'], {now: day(1)}));
    // A known caller's event past the window turns blocking on; the new address after it is blocked.
    ok(ws.run(['learn', '-'], {now: day(41), input: `billing 192.0.2.10 ${day(41)}\nbilling 203.0.113.5 ${day(41)}\n`}));
    expect(
      ok(ws.run(['blocked', '--json'], {now: day(41)}))
        .json()
        .map((b: any) => b.ip),
    ).to.deep.equal(['203.0.113.5']);
    return ws;
  }
  const FILE_TEXT = '198.51.100.0/24 # partners\n203.0.113.0/24\n';

  it('keeps learned entries the file does not name, and lists them', () => {
    const ws = learnedAndBlocking();
    const file = ws.file('allowlist.txt', FILE_TEXT);
    const dry = exits(ws.run(['sync', file, '--dry-run', '--json'], {now: day(42)}), 1).json();
    expect(dry).to.deep.include({
      added: ['203.0.113.0/24'],
      removed: [],
      unchanged: [],
      relabeled: [{entry: '198.51.100.0/24', label: 'partners', previousLabel: null}],
      keptLearned: ['192.0.2.0/24'],
      keptDisabled: [],
      keptExpired: [],
      cutOff: [],
    });
    const human = exits(ws.run(['sync', file, '--dry-run'], {now: day(42)}), 1);
    expect(human.stdout).to.contain('1 learned entry not in the file kept').and.contain('--prune-learned');
    expect(human.stdout).to.contain('~ 198.51.100.0/24  label (none) → "partners"');

    ok(ws.run(['sync', file, '--yes'], {now: day(42)}));
    expect(Object.keys(labels(ws, ['--account'], day(42)))).to.deep.equal(['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24']);
  });

  it('--prune-learned names the seen addresses it would cut off, needs --yes (exit 4), then applies and unblocks what it authorizes', () => {
    const ws = learnedAndBlocking();
    const file = ws.file('allowlist.txt', FILE_TEXT);
    const before = ws.storeBytes()!;

    const dry = exits(ws.run(['sync', file, '--prune-learned', '--dry-run', '--json'], {now: day(42)}), 1).json();
    expect(dry.removed).to.deep.equal(['192.0.2.0/24']);
    expect(dry.keptLearned).to.deep.equal([]);
    expect(dry.cutOff).to.deep.equal([{ip: '192.0.2.10', key: 'billing', channel: 'api', lastSeen: day(41)}]);

    const refused = exits(ws.run(['sync', file, '--prune-learned'], {now: day(42)}), 4);
    expect(refused.stdout).to.contain('1 recently seen address would be cut off (listed on stderr)');
    expect(refused.stderr).to.contain('would be cut off').and.contain('192.0.2.10').and.contain('billing').and.contain('--yes');
    expect(ws.storeBytes()!.equals(before)).to.equal(true);
    ok(ws.run(['check', 'billing', '192.0.2.10'], {now: day(42)}));

    const applied = ok(ws.run(['sync', file, '--prune-learned', '--yes'], {now: day(42)}));
    expect(applied.stdout).to.contain('applied: 1 added, 1 removed, 1 relabeled');
    expect(applied.stderr).to.contain('are now cut off').and.contain('192.0.2.10');
    expect(applied.stderr).to.contain('1 address left the blocked list');
    expect(labels(ws, ['--account'], day(42))).to.deep.equal({'198.51.100.0/24': 'partners', '203.0.113.0/24': null});
    exits(ws.run(['check', 'billing', '192.0.2.10'], {now: day(42)}), 1);
    ok(ws.run(['check', 'billing', '203.0.113.5'], {now: day(42)}));
    expect(ok(ws.run(['blocked', '--json'], {now: day(42)})).json()).to.deep.equal([]);
  });
});

describe('keyward sync at scale', () => {
  it('syncs 100,000 entries against a store of 100,000 in a few seconds', function () {
    this.timeout(120_000);
    const ws = Workspace.create();
    const n = 100_000;
    const v4 = (i: number) => `${10 + (i >>> 16)}.${(i >>> 8) & 255}.${i & 255}.0/24`;
    const lines = (from: number) => Array.from({length: n}, (_, i) => v4(from + i)).join('\n');
    ok(ws.run(['authorize', '-'], {now: NOW, input: lines(0), timeoutMs: 60_000}));
    const file = ws.file('big.txt', lines(n / 2));
    const started = Date.now();
    const out = ok(ws.run(['sync', file, '--yes', '--json'], {now: day(1), timeoutMs: 60_000})).json();
    const seconds = (Date.now() - started) / 1000;
    expect(out.added).to.have.length(n / 2);
    expect(out.removed).to.have.length(n / 2);
    expect(out.unchanged).to.have.length(n / 2);
    // Generous for a loaded 2-core machine; a quadratic plan (10^10 steps) would take minutes.
    expect(seconds, 'seconds').to.be.below(30);
  });
});

/**
 * Runs keyward on a pseudo-terminal (Python's pty module) and answers the
 * confirmation with `answer`; `meanwhile` runs first, while the prompt waits.
 */
const PTY_DRIVER = `
import os, pty, select, subprocess, sys, time
answer, meanwhile, args = sys.argv[1], sys.argv[2], sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(args[0], args)
out, sent, deadline = b'', False, time.time() + 60
while time.time() < deadline:
    ready, _, _ = select.select([fd], [], [], 0.2)
    if not ready:
        continue
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    out += data
    if not sent and b'Apply the sync' in out:
        if meanwhile:
            subprocess.run(meanwhile, shell=True, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        os.write(fd, answer.encode() + b'\\r')
        sent = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors='replace'))
sys.exit(os.waitstatus_to_exitcode(status))
`;

function onTerminal(ws: Workspace, args: string[], answer: 'y' | 'n', meanwhile = ''): {code: number | null; output: string} {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('KEYWARD_') && name !== 'NODE_OPTIONS' && name !== 'FORCE_COLOR') env[name] = value;
  Object.assign(env, {KEYWARD_STORE: ws.store, KEYWARD_NOW: day(1), NO_COLOR: '1'});
  const driver = ws.file('pty-driver.py', PTY_DRIVER);
  const run = spawnSync('python3', [driver, answer, meanwhile, process.execPath, BIN, ...args], {cwd: ws.dir, env, encoding: 'utf8', timeout: 90_000});
  if (run.error) throw run.error;
  return {code: run.status, output: run.stdout + run.stderr};
}

const hasPython = spawnSync('python3', ['-c', 'import pty'], {stdio: 'ignore'}).status === 0;

describe('keyward sync on a terminal', function () {
  before(function () {
    if (!hasPython) {
      console.log('    (skipped: python3 with the pty module is not installed, so no terminal can be simulated)');
      this.skip();
    }
  });

  it('shows the plan and asks; "no" writes nothing (exit 4), "yes" applies', () => {
    const ws = storeToSync();
    const file = ws.file('allowlist.txt', FILE);
    const before = ws.storeBytes()!;

    const no = onTerminal(ws, ['sync', file], 'n');
    expect(no.code, no.output).to.equal(4);
    expect(no.output).to.contain('- 198.51.100.7').and.contain('Apply the sync (2 to add, 1 to remove, 1 to relabel)?').and.contain('nothing was changed');
    expect(ws.storeBytes()!.equals(before)).to.equal(true);

    const yes = onTerminal(ws, ['sync', file], 'y');
    expect(yes.code, yes.output).to.equal(0);
    expect(yes.output).to.contain('applied: 2 added, 1 removed, 1 relabeled');
    expect(Object.keys(labels(ws, ['--account'], day(1)))).to.deep.equal(['10.0.0.0/8', '10.1.0.0/16', '203.0.113.0/24', '2001:db8::/32']);
  });

  it('refuses (exit 4, nothing written) when the store changed while the question waited', () => {
    const ws = storeToSync();
    const file = ws.file('allowlist.txt', FILE);
    const meanwhile = `KEYWARD_NOW=${day(1)} '${process.execPath}' '${BIN}' authorize 192.0.2.99`;
    const changed = onTerminal(ws, ['sync', file], 'y', meanwhile);
    expect(changed.code, changed.output).to.equal(4);
    expect(changed.output).to.contain('the store changed while the plan was being confirmed');
    expect(Object.keys(labels(ws, ['--account'], day(1)))).to.deep.equal(['10.0.0.0/8', '192.0.2.99', '198.51.100.7', '2001:db8::/32']);
  });
});

describe('keyward sync: what an outside tester found', () => {
  it('an export taken while a temporary entry was live, synced after it expired, keeps it expired: never brought back permanent (plain), never re-added forever (csv, json)', () => {
    for (const format of ['plain', 'csv', 'json']) {
      const ws = Workspace.create();
      ok(ws.run(['authorize', '192.0.2.0/24'], {now: NOW}));
      ok(ws.run(['authorize', '10.0.0.0/8', '--expires', '1d', '--group', 'vendor'], {now: NOW}));
      const file = ws.file(`allow.${format}`, ok(ws.run(['export', '--format', format], {now: NOW})).stdout);
      const before = ws.storeBytes()!;
      for (let i = 0; i < 2; i++) {
        const run = ok(ws.run(['sync', file, '--yes', '--json'], {now: day(2)}));
        expect(run.json(), format).to.deep.include({added: [], removed: [], keptExpired: ['10.0.0.0/8'], applied: false});
        expect(run.json().unchanged, format).to.include('10.0.0.0/8');
      }
      expect(ok(ws.run(['sync', file, '--dry-run'], {now: day(2)})).stdout, format).to.contain('kept expired');
      expect(ws.storeBytes()!.equals(before), `${format}: nothing written`).to.equal(true);
      expect(ws.run(['check', 'x', '10.1.2.3'], {now: day(2)}).stdout, format).not.to.contain('allow');
      const row = ok(ws.run(['list', '--json', '--expired'], {now: day(2)})).json()[0];
      expect(row, format).to.include({entry: '10.0.0.0/8', group: 'vendor', expiresAt: day(1)});
    }
  });

  it('a row whose effect column or member says deny is a deny entry, with or without its "!"; a "!" with effect allow is refused (exit 2)', () => {
    const ws = Workspace.create();
    ok(ws.run(['authorize', '192.0.2.0/24'], {now: NOW}));
    const csv = 'entry,label,effect\n10.0.0.0/8,,deny\n192.0.2.0/24,,allow\n';
    expect(exits(ws.run(['sync', '-', '--dry-run', '--json'], {now: NOW, input: csv}), 1).json()).to.deep.include({added: ['!10.0.0.0/8'], removed: []});
    const json = JSON.stringify([{entry: '!10.0.0.0/8', effect: 'deny'}, {entry: '192.0.2.0/24'}]);
    expect(exits(ws.run(['sync', '-', '--dry-run', '--json'], {now: NOW, input: json}), 1).json()).to.deep.include({added: ['!10.0.0.0/8'], removed: []});
    const before = ws.storeBytes()!;
    for (const input of [JSON.stringify([{entry: '!10.0.0.0/8', effect: 'allow'}]), 'entry,effect\n!10.0.0.0/8,allow\n']) {
      const refused = exits(ws.run(['sync', '-', '--yes'], {now: NOW, input}), 2);
      expect(refused.stderr).to.contain('`!10.0.0.0/8` is a deny entry ("!") but its effect says "allow"');
      expect(exits(ws.run(['sync', '-', '--yes', '--json'], {now: NOW, input}), 2).json().error, 'the input and its line').to.include({input: '!10.0.0.0/8'});
    }
    const twice = exits(ws.run(['sync', '-', '--yes'], {now: NOW, input: 'entry,effect,effect\n10.2.0.0/16,allow,deny\n'}), 2);
    expect(twice.stderr).to.contain('line 1: the column `effect` is named twice');
    expect(ws.storeBytes()!.equals(before)).to.equal(true);
  });

  it('a csv column or json member that export does not write (a misspelled `expires`, `Label`) is refused, exit 2, nothing written: its value would go unsaid', () => {
    const ws = Workspace.create();
    ok(ws.run(['authorize', '10.0.0.0/8', '--label', 'vpn'], {now: NOW}));
    const before = ws.storeBytes()!;
    const cases: [string, string][] = [
      ['entry,expires\n10.0.0.0/8,2026-03-03T00:00:00Z\n', 'line 1: sync reads no column `expires`'],
      ['entry,Label\n10.0.0.0/8,office\n', 'line 1: sync reads no column `Label`'],
      [JSON.stringify([{entry: '10.0.0.0/8', expires: '2026-03-03T00:00:00Z'}]), 'item 1: sync reads no member `expires`'],
    ];
    for (const [input, said] of cases) {
      const refused = exits(ws.run(['sync', '-', '--yes'], {now: NOW, input}), 2);
      expect(refused.stderr, input)
        .to.contain(said)
        .and.contain('sync reads the fields export writes: entry, scope, source, label, addedAt, expiresAt, group, effect, enabled');
    }
    expect(ws.storeBytes()!.equals(before)).to.equal(true);
    // Every field export writes is read (scope, source and addedAt ignored): its own files still round-trip.
    for (const format of ['csv', 'json']) {
      const exported = ok(ws.run(['export', '--format', format], {now: NOW})).stdout;
      expect(ok(ws.run(['sync', '-', '--dry-run', '--json'], {now: NOW, input: exported})).json(), format).to.deep.include({added: [], removed: []});
    }
  });

  it("sync --key of a file exported while an account deny entry was live, after it expired, does not copy it into the key's list (found by an outside tester)", () => {
    for (const format of ['plain', 'csv', 'json']) {
      const ws = Workspace.create();
      ok(ws.run(['keys', 'create', 'k1', '--type', 'api', '--allow', '10.0.0.0/8', '--json'], {now: NOW}));
      ok(ws.run(['deny', '10.5.0.0/16', '--expires', '10d'], {now: NOW}));
      const file = ws.file(`k1.${format}`, ok(ws.run(['export', '--key', 'k1', '--format', format], {now: NOW})).stdout);
      const run = ok(ws.run(['sync', file, '--key', 'k1', '--dry-run', '--json'], {now: day(20)}));
      expect(run.json(), format).to.deep.include({added: [], inAccount: ['!10.5.0.0/16']});
      expect(ws.run(['check', 'k1', '10.5.1.1', '--json'], {now: day(20)}).json()[0].decision, format).to.equal('allow');
    }
  });

  it('a csv or json file that gives an expired entry a time to come or none renews it, as the file says', () => {
    const ws = Workspace.create();
    ok(ws.run(['authorize', '10.0.0.0/8', '--expires', '1d'], {now: NOW}));
    const json = (expiresAt: string | null) => ws.file('renew.json', JSON.stringify([{entry: '10.0.0.0/8', label: null, expiresAt}]));
    expect(ok(ws.run(['sync', json(day(5)), '--yes', '--json'], {now: day(2)})).json()).to.deep.include({added: ['10.0.0.0/8'], keptExpired: []});
    expect(ok(ws.run(['list', '--json'], {now: day(2)})).json()[0]).to.include({expiresAt: day(5)});
  });

  it('--group refuses a line whose range the list holds outside the group with the other effect (exit 2, nothing written): one range is never both', () => {
    const ws = Workspace.create();
    ok(ws.run(['deny', '10.5.0.0/16'], {now: NOW}));
    ok(ws.run(['authorize', '10.3.0.0/24', '--label', 'hand'], {now: NOW}));
    const before = ws.storeBytes();
    const allow = exits(ws.run(['sync', '-', '--group', 'gh', '--yes'], {now: NOW, input: '10.5.0.0/16\n'}), 2);
    expect(allow.stderr).to.contain('line 1: 10.5.0.0/16 is held outside the group as a deny entry of no group');
    const deny = exits(ws.run(['sync', '-', '--group', 'gh', '--yes', '--json'], {now: NOW, input: '!10.3.0.0/24\n'}), 2);
    expect(deny.json().error.message).to.contain('!10.3.0.0/24 is held outside the group as an allow entry of no group');
    expect(ws.storeBytes()!.equals(before!)).to.equal(true);
  });

  it("--key that would leave a key's list with no allow entry is refused for safety (exit 4) unless --force, as revoke is", () => {
    const ws = Workspace.create();
    ok(ws.run(['keys', 'create', 'billing', '--type', 'api', '--allow', '10.0.0.0/24'], {now: NOW, env: {KEYWARD_TEST_SUBPROCESS: '1'}}));
    const before = ws.storeBytes();
    for (const extra of [['--yes'], ['--dry-run']]) {
      const refused = exits(ws.run(['sync', '-', '--key', 'billing', ...extra], {now: NOW, input: '!10.0.0.66\n'}), 4);
      expect(refused.stderr).to.contain("removing the last entry of key billing's list would leave the key restricted by nothing");
    }
    expect(ws.storeBytes()!.equals(before!)).to.equal(true);
    ok(ws.run(['sync', '-', '--key', 'billing', '--yes', '--force'], {now: NOW, input: '!10.0.0.66\n'}));
    expect(exits(ws.run(['check', 'billing', '203.0.113.9'], {now: NOW}), 0).stdout).to.contain('allow');
  });

  it('export --key | sync --key is nothing to do in every format: the account deny entries export writes for the key are not copied into its list', () => {
    const ws = Workspace.create();
    ok(ws.run(['deny', '10.66.0.0/16', '--label', 'lab'], {now: NOW}));
    ok(ws.run(['keys', 'create', 'billing', '--type', 'api', '--allow', '10.0.0.0/24'], {now: NOW, env: {KEYWARD_TEST_SUBPROCESS: '1'}}));
    for (const format of ['plain', 'csv', 'json']) {
      const file = ok(ws.run(['export', '--key', 'billing', '--format', format], {now: NOW})).stdout;
      expect(file, format).to.contain('10.66.0.0/16');
      const planned = exits(ws.run(['sync', '-', '--key', 'billing', '--dry-run', '--json'], {now: NOW, input: file}), 0).json();
      expect(planned, format).to.deep.include({added: [], removed: [], inAccount: ['!10.66.0.0/16']});
    }
    // The account's deny lifted: the key's list never held a copy that would go on denying.
    ok(ws.run(['revoke', '--deny', '10.66.0.0/16'], {now: NOW}));
    expect(ws.storeJson().keys[0].allow.map((r: {entry: string}) => r.entry)).to.deep.equal(['10.0.0.0/24']);
  });

  it('a csv without a label column, or json objects without `label`, keep the stored labels (as they keep group and expiry)', () => {
    const ws = Workspace.create();
    ok(ws.run(['authorize', '10.3.0.0/24', '--label', 'hand', '--group', 'office', '--expires', '30d'], {now: NOW}));
    for (const file of ['[{"entry":"10.3.0.0/24"}]\n', 'entry,group\n10.3.0.0/24,office\n']) {
      const planned = exits(ws.run(['sync', '-', '--dry-run', '--json'], {now: NOW, input: file}), 0).json();
      expect(planned, file).to.deep.include({relabeled: [], unchanged: ['10.3.0.0/24']});
    }
    // A label column that is empty clears it, as it always did.
    const cleared = exits(ws.run(['sync', '-', '--dry-run', '--json'], {now: NOW, input: 'entry,label\n10.3.0.0/24,\n'}), 1).json();
    expect(cleared.relabeled).to.deep.equal([{entry: '10.3.0.0/24', label: null, previousLabel: 'hand'}]);
  });
});
