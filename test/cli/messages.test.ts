/**
 * Issue 14, items 1, 2 and 7, as a user meets them: messages that name the
 * mistake (and the nearest key, flag or command), one failure style on every
 * path with the exit code's meaning, the --json error object on stdout, every
 * bad line of an input, and the ways out for the refusal a blocked address
 * met. Exact texts asserted: they are the contract of docs/errors.md.
 */
import {readFileSync} from 'node:fs';
import {expect} from 'chai';
import {NOW, RunResult, Workspace} from './harness.js';
import {hintOf} from '../../src/core/secret.js';

const SECRET = '5f38a9c0d1e2f3a4b5c6d7e8f90a1b2c3d4e5f22';

function ok(run: RunResult): RunResult {
  expect(run.code, run.stderr).to.equal(0);
  return run;
}

/** A store with keys web-api (no list) and billing (its own list), made in one go. */
function prepared(): Workspace {
  const ws = Workspace.create();
  ok(ws.run(['keys', 'create', 'web-api', '--type', 'api'], {now: NOW}));
  ok(ws.run(['keys', 'create', 'billing', '--type', 'api', '--allow', '10.9.0.0/16'], {now: NOW}));
  ok(ws.run(['authorize', '10.0.0.0/16'], {now: NOW}));
  return ws;
}

/** stderr as keyward says a failure: `keyward: MESSAGE`, the lines under it, the meaning last. */
function said(message: string, details: string[], exit: number): string {
  const meaning = {2: 'usage error', 3: 'store error', 4: 'refused for safety'}[exit];
  return [`keyward: ${message}`, ...details.map((d) => `  ${d}`), `  ${meaning} (exit ${exit})`, ''].join('\n');
}

describe('issue 14 item 1: messages that name the mistake', () => {
  const ws = prepared();

  const cases: Array<[string[], string, string[]]> = [
    [
      ['authorize', 'example.com'],
      'argument 1: `example.com` is a host name: host names are not accepted, give its addresses',
      ['look them up (dig +short example.com) and give each address'],
    ],
    [['authorize', '10.20.30.1:443'], 'argument 1: `10.20.30.1:443` has a port (:443): an entry is an address or range, without a port', ['drop the port: 10.20.30.1']],
    [
      ['authorize', '[2001:db8::1]:443'],
      'argument 1: `[2001:db8::1]:443` has a port (:443): an entry is an address or range, without a port or brackets',
      ['drop the port and the brackets: 2001:db8::1'],
    ],
    [
      ['authorize', '10.0.0.0/8,10.1.0.0/16'],
      'argument 1: `10.0.0.0/8,10.1.0.0/16` is a comma-separated list: give one entry per argument or line',
      ['give them apart: 10.0.0.0/8 10.1.0.0/16'],
    ],
    [['authorize', '10.3.0.1 office'], 'argument 1: `10.3.0.1 office` has text after the entry: labels go after "#"', ['write `10.3.0.1 # office`, or pass --label']],
    [
      ['authorize', 'fe80::1%eth0'],
      'argument 1: `fe80::1%eth0` is not an IPv6 address: has a zone index (%eth0); zones are not accepted',
      ['zones name a local interface; drop it: fe80::1'],
    ],
    [
      ['deny', '10.0.0.1-10.0.0.9'],
      'argument 1: `10.0.0.1-10.0.0.9` is a range written a-b: entries are addresses or CIDR ranges',
      ['the same addresses as CIDR: 10.0.0.1, 10.0.0.2/31, 10.0.0.4/30, 10.0.0.8/31 (4 ranges)'],
    ],
    [['revoke', 'web-api'], 'argument 1: `web-api` is a key, not an entry', ['did you mean `keyward keys revoke web-api`? (revoke removes entries from a list)']],
    [
      ['authorize', '10.0.0.1', '--expires', '30'],
      '--expires "30" is neither a duration (30d, 12h, 2w) nor an ISO 8601 time with Z or an offset (2026-01-31T12:00:00Z)',
      ['did you mean --expires 30d? a duration needs its unit (s, m, h, d or w)'],
    ],
    [['keys', 'rotate', 'biling', '--yes'], 'unknown key `biling`; did you mean billing?', ['see `keyward keys list`']],
    [['list', '--key', 'web_api'], 'unknown key `web_api`; did you mean web-api?', ['see `keyward keys list`']],
    [['list', '--acount'], 'unknown flag --acount; did you mean --account?', ['see `keyward list --help`']],
    // oclif's parser's sentences, in keyward's words.
    [['list', '--scope', 'x'], 'unknown flag --scope', ['see `keyward list --help`']],
    [['keys', 'create', 'billing'], 'missing --type', ['see `keyward keys create --help`']],
    [['history', '--limit', 'x'], '--limit "x" is not an integer', ['see `keyward history --help`']],
    [['list', '--key'], '--key needs a value', ['see `keyward list --help`']],
    [['keys', '-q'], 'keys needs a command: create, list, rotate or revoke', ['see `keyward keys --help`']],
    [['check', 'billing', '10.0.0.1', '--expect'], '--expect needs a value: allow or deny', ['see `keyward check --help`']],
    // A word that should have been an address: never help and exit 0 ("every address allowed") in a CI gate.
    [['check', 'billing', '10.0.0.1', '-h'], '-h/--help given with KEY and addresses: no address was checked', ['for help, give keyward check --help alone']],
    [['history', '--limit', '0'], '--limit "0" is not an integer >= 1', ['see `keyward history --help`']],
    [['learn', '--commit-every', '5s', 'x.log'], '--commit-every needs --follow', ['see `keyward learn --help`']],
    [['export', '--format', 'plain', '--format', 'csv'], '--format given more than once: give it once', ['see `keyward export --help`']],
    [
      ['export', '--format', 'nginz'],
      '--format "nginz" is not one of: plain, csv, json, nginx, haproxy, nftables, ipset, crowdsec; did you mean nginx?',
      ['see `keyward export --help`'],
    ],
    // check takes bare addresses: no hint points to a label, which only entries take.
    [
      ['check', 'web-api', 'office'],
      'argument 2: `office` is a name, not an IP address: host names are not accepted, give its addresses',
      ["give an IP address (a host's: dig +short office)"],
    ],
    [
      ['check', 'web-api', '10.0.0.1 # office'],
      'argument 2: `10.0.0.1 # office` has text after the address: give one address an argument or line, nothing after it',
      ['give the address alone: 10.0.0.1'],
    ],
    [
      ['authorize', 'office'],
      'argument 1: `office` is a name, not an IP address: host names are not accepted, give its addresses',
      ['a label goes after "#": `ADDRESS # office`'],
    ],
    [['help', 'chek'], 'chek is not a keyward command. Did you mean check?', ['see `keyward check --help`, or `keyward --help` for every command']],
    [['chek'], 'chek is not a keyward command. Did you mean check?', ['see `keyward check --help`, or `keyward --help` for every command']],
  ];
  for (const [args, message, details] of cases) {
    it(`keyward ${args.join(' ')}`, () => {
      const before = ws.storeBytes();
      const run = ws.run(args, {now: NOW});
      expect(run.stderr).to.equal(said(message, details, 2));
      expect(run.code).to.equal(2);
      expect(run.stdout).to.equal('');
      expect(ws.storeBytes(), 'nothing written').to.deep.equal(before);
    });
  }

  for (const fast of [true, false]) {
    const env = fast ? {} : {KEYWARD_NO_FAST_PATH: '1'};
    const path = fast ? 'the fast path' : 'oclif';
    it(`check with its arguments swapped says KEY comes first (${path})`, () => {
      const run = ws.run(['check', '10.20.30.1', 'web-api'], {now: NOW, env});
      expect(run.stderr).to.equal(said('unknown key `10.20.30.1`: it is an address, and KEY comes first', ['did you mean `keyward check web-api 10.20.30.1`?'], 2));
      expect(run.code).to.equal(2);
    });

    it(`check suggests the nearest key, and never echoes a secret or guesses from one (${path})`, () => {
      const near = ws.run(['check', 'biling', '10.9.0.1'], {now: NOW, env});
      expect(near.stderr).to.equal(said('unknown key `biling`; did you mean billing?', ['see `keyward keys list`'], 2));
      const secret = ws.run(['check', `Bearer ${SECRET}`, '10.9.0.1', '--json'], {now: NOW, env});
      expect(secret.code).to.equal(2);
      expect(secret.stdout + secret.stderr)
        .not.to.contain(SECRET)
        .and.not.contain(SECRET.slice(0, 16));
      expect(secret.stderr).to.contain(hintOf(SECRET)).and.not.contain('did you mean');
    });
  }

  it('-h is --help on every command', () => {
    const manifest = JSON.parse(readFileSync(new URL('../../oclif.manifest.json', import.meta.url), 'utf8')) as {commands: Record<string, unknown>};
    const ids = Object.keys(manifest.commands).map((id) => id.split(':'));
    for (const id of ids) {
      const [short, long] = [ws.run([...id, '-h']), ws.run([...id, '--help'])];
      expect(short.code, `${id.join(' ')} -h: ${short.stderr}`).to.equal(0);
      expect(short.stdout, id.join(' ')).to.equal(long.stdout).and.contain('USAGE');
    }
  });

  it('a file with many bad lines names every one (up to 20, then how many more), with its line, and writes nothing', () => {
    const lines = ['10.0.0.1', ...Array.from({length: 24}, (_, i) => `host${i + 1}.example.com`), '10.3.0.1 office', '10.0.0.2'];
    const file = ws.file('many-bad.txt', `${lines.join('\n')}\n`);
    const before = ws.storeBytes();
    const run = ws.run(['authorize', '--file', file, '--json'], {now: NOW});
    expect(run.code).to.equal(2);
    const err = run.stderr.split('\n');
    expect(err[0]).to.equal('keyward: 25 bad entries; nothing was written');
    expect(err[1]).to.equal(`  line 2 of ${file}: \`host1.example.com\` is a host name: host names are not accepted, give its addresses`);
    expect(err[2]).to.equal('    look them up (dig +short host1.example.com) and give each address');
    expect(err[39]).to.equal(`  line 21 of ${file}: \`host20.example.com\` is a host name: host names are not accepted, give its addresses`);
    expect(err.slice(41)).to.deep.equal(['  and 5 more', '  usage error (exit 2)', '']);
    const {error} = run.json();
    expect(error).to.include({exit: 2, message: '25 bad entries; nothing was written', input: 'host1.example.com', line: 2});
    expect(error.errors).to.have.length(20);
    expect(error.errors[19]).to.deep.equal({
      message: `line 21 of ${file}: \`host20.example.com\` is a host name: host names are not accepted, give its addresses`,
      input: 'host20.example.com',
      line: 21,
    });
    expect(ws.storeBytes()).to.deep.equal(before);
  });

  it('stdin with two bad lines names both, on revoke, sync and deny too', async () => {
    const input = '10.0.0.0/16\nexample.com\n10.20.30.1:443\n';
    const runs = await ws.runAll(
      [
        ['revoke', '-'],
        ['deny', '-'],
        ['sync', '-', '--yes'],
        ['disable', '-'],
      ],
      {now: NOW, input},
    );
    for (const run of runs) {
      expect(run.code, run.stderr).to.equal(2);
      expect(run.stderr).to.contain('keyward: 2 bad entries; nothing was written\n  line 2: `example.com` is a host name');
      expect(run.stderr).to.contain('\n  line 3: `10.20.30.1:443` has a port (:443)');
    }
  });
});

describe('issue 14 item 1: learn --strict names every bad line of the log', () => {
  it('each bad line with its number, then nothing written (exit 2)', () => {
    const ws = prepared();
    const before = ws.storeBytes();
    const log = [`billing 10.9.0.1 ${NOW}`, `billing 10.0.0.300 ${NOW}`, 'billing 10.9.0.2', `billing example.com ${NOW}`].join('\n');
    const run = ws.run(['learn', '-', '--strict', '--json'], {now: NOW, input: `${log}\n`});
    expect(run.code).to.equal(2);
    expect(run.stderr).to.equal(
      said(
        '3 bad lines; nothing was written',
        [
          'line 2: `10.0.0.300` is not an IPv4 address: octet 300 > 255',
          'line 3: the event has no time (--strict refuses events without one: a replayed log without times would count as traffic now)',
          'line 4: `example.com` is a host name: host names are not accepted, give its addresses',
          '  look them up (dig +short example.com) and give each address',
        ],
        2,
      ),
    );
    expect(run.json().error).to.include({exit: 2, message: '3 bad lines; nothing was written', line: 2});
    expect(run.json().error.errors.map((e: {line: number}) => e.line)).to.deep.equal([2, 3, 4]);
    expect(ws.storeBytes()).to.deep.equal(before);
  });
});

describe('issue 14 item 2: one failure style, and the --json error object', () => {
  const ws = prepared();

  // Each: the command line, its exit code, and the error object's message.
  const failures: Array<[string[], number, string, Record<string, unknown>?]> = [
    [['list', '--acount', '--json'], 2, 'unknown flag --acount; did you mean --account?'],
    [['keys', '--json'], 2, 'keys needs a command: create, list, rotate or revoke'],
    [['check', '--json'], 2, 'missing KEY'],
    [['keys', 'create', '--json'], 2, 'missing NAME'],
    [['export', '--format', 'foo', '--json'], 2, '--format "foo" is not one of: plain, csv, json, nginx, haproxy, nftables, ipset, crowdsec'],
    // A carriage return or a line break in the value: the same words, the character escaped (found by an outside tester).
    [['export', '--format', 'x\ry', '--json'], 2, '--format "x\\ry" is not one of: plain, csv, json, nginx, haproxy, nftables, ipset, crowdsec'],
    [['export', '--format', 'x\ny', '--json'], 2, '--format "x\\ny" is not one of: plain, csv, json, nginx, haproxy, nftables, ipset, crowdsec'],
    [['check', 'billing', '10.0.0.1', '--expect', 'al\rlow', '--json'], 2, '--expect "al\\rlow" is not one of: allow, deny; did you mean allow?'],
    // An escape sequence in a choice, and a carriage return or line break in an integer: escaped, never dropped.
    [['export', '--format', '\u001b[31mred', '--json'], 2, '--format "\\u001b[31mred" is not one of: plain, csv, json, nginx, haproxy, nftables, ipset, crowdsec'],
    [['history', '--limit', '5\r', '--json'], 2, '--limit "5\\r" is not an integer'],
    [['history', '--limit', '5\n', '--json'], 2, '--limit "5\\n" is not an integer'],
    [['list', '--account', '--key', 'billing', '--json'], 2, '--key cannot be used with --account'],
    [['list', 'extra', '--json'], 2, 'unexpected argument: extra'],
    [['chek', '--json'], 2, 'chek is not a keyward command. Did you mean check?'],
    [['authorize', 'example.com', '--json'], 2, 'argument 1: `example.com` is a host name: host names are not accepted, give its addresses', {input: 'example.com'}],
    [
      ['authorize', '0.0.0.0/0', '--json'],
      4,
      'argument 1: `0.0.0.0/0` opens 4,294,967,296 addresses (all of IPv4): an entry broader than /8 needs --force; nothing was written',
      {input: '0.0.0.0/0'},
    ],
    [['check', 'biling', '10.0.0.1', '--json'], 2, 'unknown key `biling`; did you mean billing?', {input: 'biling'}],
    [
      ['check', 'web-api', '10.0.0.1', 'nope', '--json'],
      2,
      'argument 3: `nope` is a name, not an IP address: host names are not accepted, give its addresses',
      {input: 'nope'},
    ],
    [['status', '--store', '/nonexistent/keyward/store.json', '--json'], 3, 'no store at /nonexistent/keyward/store.json'],
  ];
  for (const [args, exit, message, extra] of failures) {
    it(`keyward ${args.join(' ')}: exit ${exit}, keyward's style on stderr, one error object on stdout`, () => {
      const run = ws.run(args, {now: NOW});
      expect(run.code, run.stderr).to.equal(exit);
      expect(JSON.parse(run.stdout), 'stdout is the error object alone').to.deep.equal({error: {exit, message, ...extra}});
      expect(run.stdout.trim().split('\n')).to.have.length(1);
      const lines = run.stderr.trimEnd().split('\n');
      expect(lines[0]).to.equal(`keyward: ${message}`);
      expect(lines[lines.length - 1]).to.equal(`  ${{2: 'usage error', 3: 'store error', 4: 'refused for safety'}[exit]} (exit ${exit})`);
      expect(run.stderr).not.to.contain('›').and.not.contain('Error:').and.not.contain('USAGE');
    });
  }

  it('the same failures without --json: the same stderr, nothing on stdout', () => {
    const run = ws.run(['list', '--acount'], {now: NOW});
    expect(run.stdout).to.equal('');
    expect(run.stderr).to.equal(said('unknown flag --acount; did you mean --account?', ['see `keyward list --help`'], 2));
  });

  it('the error object masks a secret and escapes control characters, on both paths', async () => {
    const runs = await ws.runAll([
      ['list', `--${SECRET}`, '--json'],
      ['authorize', `10.0.0.1,${SECRET}`, '--json'],
      ['authorize', '\u001b[31mred', '--json'],
      ['check', 'web-api', `\u001b]0;x\u0007`, '--json'],
    ]);
    for (const run of runs) {
      expect(run.code, run.stderr).to.equal(2);
      const {error} = run.json();
      const text = JSON.stringify(error);
      expect(text).not.to.contain(SECRET).and.not.contain('\\u001b[31m"');
      expect(run.stdout).not.to.match(/[\u0000-\u0008\u000e-\u001f]/);
      expect(run.stderr).not.to.match(/[\u0000-\u0008\u000e-\u001f]/);
    }
    expect(runs[0].json().error.message).to.equal(`unknown flag --${hintOf(SECRET)}`);
    expect(runs[2].json().error.input).to.equal('\\u001b[31mred');
  });
});

describe('the --json error object names the input and its line wherever one is at fault (found by an outside tester)', () => {
  it('revoke, deny, disable, sync and check from stdin: the entry as given and its line; an argument: the entry', () => {
    const ws = prepared();
    ok(ws.run(['deny', '6.6.6.6'], {now: NOW}));
    const cases: Array<[string[], string, Record<string, unknown>]> = [
      [
        ['revoke', '-', '--yes', '--json'],
        '8.8.8.8\n9.9.9.9 # old\n',
        {message: 'line 1: 8.8.8.8 is not in the account list; nothing was removed', input: '8.8.8.8', line: 1},
      ],
      [['revoke', '-', '--deny', '--yes', '--json'], '6.6.6.6\n10.0.0.0/16\n', {input: '10.0.0.0/16', line: 2}],
      [['deny', '-', '--json'], '10.0.0.0/16\n', {message: 'line 1: 10.0.0.0/16 is already an allow entry of this list; nothing was changed', input: '10.0.0.0/16', line: 1}],
      [['disable', '-', '--yes', '--json'], '\n10.1.0.0/16\n', {input: '10.1.0.0/16', line: 2}],
      [['sync', '-', '--group', 'h', '--yes', '--json'], '6.6.6.6\n', {input: '6.6.6.6', line: 1}],
      [['sync', '-', '--yes', '--json'], '1.1.1.1\n!1.1.1.1\n', {input: '1.1.1.1', line: 2}],
      [['check', 'billing', '-', '--json'], `10.9.0.1\n${'1'.repeat(5000)}\n`, {message: 'line 2 is longer than 4096 characters', line: 2}],
      // A message that names its line has it in the object (sync's columns and values), and revoke --group its entry.
      [['sync', '-', '--yes', '--json'], 'entry,expires\n10.0.0.1,x\n', {message: 'line 1: sync reads no column `expires`', line: 1}],
      [['sync', '-', '--yes', '--json'], 'entry,effect\n10.0.0.1,DENY\n', {line: 2}],
      [['revoke', '-', '--group', 'g', '--yes', '--json'], '10.0.0.0/16\n', {input: '10.0.0.0/16', line: 1}],
    ];
    ok(ws.run(['authorize', '10.99.0.0/16', '--group', 'g'], {now: NOW}));
    for (const [args, input, error] of cases) {
      const r = ws.run(args, {now: NOW, input});
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).to.equal(2);
      expect(r.json().error, args.join(' ')).to.include(error);
    }
    expect(ws.run(['revoke', '9.9.9.9', '--json'], {now: NOW}).json().error, 'an argument has no line').to.deep.equal({
      exit: 2,
      message: '9.9.9.9 is not in the account list; nothing was removed',
      input: '9.9.9.9',
    });
  });
});

describe('issue 14 item 7: the ways out for the refusal, and the blocked record keeps it', () => {
  it('the ways out name the store given with --store, so that pasting one changes that store', () => {
    const ws = prepared();
    ok(ws.run(['activate', '--api', '--force'], {now: NOW}));
    const learn = ok(ws.run(['learn', '-', '--store', ws.store], {now: NOW, input: `web-api 192.0.2.1 ${NOW}\n`}));
    expect(learn.stderr).to.contain(
      `  keyward authorize 192.0.2.1 --store ${ws.store}\n  keyward keys rotate web-api --store ${ws.store}\n  keyward deactivate --api --store ${ws.store}`,
    );
    // Pasted as printed, it lets the address in.
    ok(ws.run(['authorize', '192.0.2.1', '--store', ws.store], {now: NOW}));
    expect(ok(ws.run(['check', 'web-api', '192.0.2.1'], {now: NOW})).code).to.equal(0);
  });

  it('learn names the command that lets each address in, and blocked shows the reason', () => {
    const ws = prepared();
    ok(ws.run(['deny', '10.0.66.0/24'], {now: NOW}));
    ok(ws.run(['deny', '10.9.9.0/24', '--key', 'billing'], {now: NOW}));
    ok(ws.run(['activate', '--api', '--force'], {now: NOW}));
    const events = ['billing 10.0.0.5', 'web-api 10.0.66.1', 'web-api 192.0.2.1', 'billing 10.9.9.9'].map((l) => `${l} ${NOW}`).join('\n');
    const learn = ok(ws.run(['learn', '-'], {now: NOW, input: `${events}\n`}));
    expect(learn.stderr).to.contain(
      [
        'blocked 10.0.0.5: key billing (api) was refused (not-in-key-allowlist). Ways out:',
        '  keyward authorize 10.0.0.5 --key billing',
        '  keyward keys rotate billing',
        'blocked 10.0.66.1: key web-api (api) was refused (denied). Ways out:',
        '  keyward revoke --deny 10.0.66.0/24',
        '  keyward keys rotate web-api',
        'blocked 192.0.2.1: key web-api (api) was refused (not-authorized). Ways out:',
        '  keyward authorize 192.0.2.1',
        '  keyward keys rotate web-api',
        '  keyward deactivate --api',
        'blocked 10.9.9.9: key billing (api) was refused (denied). Ways out:',
        '  keyward revoke --deny 10.9.9.0/24 --key billing',
        '  keyward keys rotate billing',
      ].join('\n'),
    );
    const rows = ok(ws.run(['blocked', '--json'], {now: NOW})).json() as {ip: string; reason: string; deniedBy?: unknown}[];
    expect(Object.fromEntries(rows.map((r) => [r.ip, [r.reason, r.deniedBy]]))).to.deep.equal({
      '10.0.0.5': ['not-in-key-allowlist', null],
      '10.0.66.1': ['denied', {entry: '10.0.66.0/24', scope: 'account'}],
      '192.0.2.1': ['not-authorized', null],
      '10.9.9.9': ['denied', {entry: '10.9.9.0/24', scope: 'key'}],
    });
    expect(ok(ws.run(['blocked'], {now: NOW})).stdout)
      .to.contain('reason')
      .and.contain('not-in-key-allowlist');

    // The way out printed works: the key-list refusal leaves the blocked list by its own command.
    ok(ws.run(['authorize', '10.0.0.5', '--key', 'billing'], {now: NOW}));
    expect((ws.run(['blocked', '--json'], {now: NOW}).json() as {ip: string}[]).map((r) => r.ip)).not.to.include('10.0.0.5');
  });

  it('learn --follow names the way out for the refusal as it commits', () => {
    const ws = prepared();
    ok(ws.run(['activate', '--api', '--force'], {now: NOW}));
    const run = ok(ws.run(['learn', '-', '--follow', '--commit-every', '1s'], {now: NOW, input: `billing 10.0.0.77 ${NOW}\nweb-api 198.51.100.3 ${NOW}\n`}));
    expect(run.stderr).to.contain(
      [
        'blocked 10.0.0.77: key billing (api) was refused (not-in-key-allowlist); let it in: keyward authorize 10.0.0.77 --key billing',
        'blocked 198.51.100.3: key web-api (api) was refused (not-authorized); let it in: keyward authorize 198.51.100.3',
      ].join('\n'),
    );
  });

  it('a store written before reasons were kept still loads, its rows with a null reason', () => {
    const ws = prepared();
    const store = ws.storeJson();
    store.blocked = [{ip: '192.0.2.7', key: 'web-api', channel: 'api', firstSeen: NOW, lastSeen: NOW, count: 2}];
    ws.file('store.json', `${JSON.stringify(store, null, 2)}\n`);
    const rows = ok(ws.run(['blocked', '--json'], {now: NOW})).json();
    expect(rows).to.deep.equal([{ip: '192.0.2.7', key: 'web-api', channel: 'api', firstSeen: NOW, lastSeen: NOW, count: 2, reason: null, deniedBy: null}]);
    // A reason the schema does not know is a store error, as any bad field.
    store.blocked[0].reason = 'bogus';
    ws.file('store.json', `${JSON.stringify(store, null, 2)}\n`);
    const bad = ws.run(['blocked', '--json'], {now: NOW});
    expect(bad.code).to.equal(3);
    expect(bad.json().error.message).to.contain('blocked[0].reason');
  });
});
