/**
 * Deny entries and disabled entries end to end (SPEC "Deny entries",
 * "Disabled entries", "Decisions" step 2a): `deny`, `revoke --deny`,
 * `disable`, `enable`, and what `check` (argument, stream, oclif path,
 * index cache), `learn`, `list`, `export` (loaded by the real tools where
 * installed) and `sync` make of them.
 */
import {existsSync, readFileSync, statSync} from 'node:fs';
import path from 'node:path';

import {expect} from 'chai';

import {daysAfter, NOW, RunResult, Workspace} from './harness.js';
import {findTool, inPrivateNetns, runTool, skipBecause} from './real-tools.js';

const ok = (r: RunResult, code = 0): RunResult => {
  expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(code);
  return r;
};

/** The decisions of `check KEY ADDRESS... --json`, as [ip, decision, reason, matched]. */
function decisions(r: RunResult): [string, string, string, string[]][] {
  const json = r.json();
  return (Array.isArray(json) ? json : [json]).map((d) => [d.ip, d.decision, d.reason, d.matched]);
}

/** An account list of 10.0.0.0/8 with 10.66.0.0/16 denied, an API key and an SMTP key, blocking as given. */
function store(state: 'learning' | 'active' | 'inactive'): Workspace {
  const ws = Workspace.create();
  ok(ws.run(['authorize', '10.0.0.0/8', '--label', 'corp'], {now: NOW}));
  ok(ws.run(['deny', '10.66.0.0/16', '--label', 'lab'], {now: NOW}));
  ok(ws.run(['keys', 'create', 'billing', '--type', 'api'], {now: NOW}));
  if (state === 'active') ok(ws.run(['activate', '--api', '--force'], {now: NOW}));
  if (state === 'inactive') ok(ws.run(['deactivate', '--api', '--yes'], {now: NOW}));
  return ws;
}

/** `nginx -t` of a configuration in `ws` (named `name`) that includes `include` in a location: its exit code and output. */
function nginxTest(nginx: string, ws: Workspace, name: string, include: string): {code: number | null; out: string} {
  const d = ws.dir;
  const conf = ws.file(
    name,
    `pid ${d}/nginx.pid;\nerror_log ${d}/nginx-error.log;\nevents {}\nhttp {\n  access_log off;\n` +
      ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${d}/nginx-${t};\n`).join('') +
      `  server {\n    listen 127.0.0.1:18091;\n    location / {\n      include ${include};\n      return 204;\n    }\n  }\n}\n`,
  );
  return runTool(nginx, ['-t', '-q', '-c', conf, '-p', d]);
}

describe('keyward deny', () => {
  for (const state of ['learning', 'active', 'inactive'] as const) {
    it(`wins over an allow entry while API blocking is ${state}: argument, stream, oclif path`, async () => {
      const ws = store(state);
      const probes = ['10.66.3.4', '::ffff:10.66.0.1', '10.1.2.3'];
      const expected = [
        ['10.66.3.4', 'deny', 'denied', ['10.66.0.0/16']],
        ['::ffff:10.66.0.1', 'deny', 'denied', ['10.66.0.0/16']],
        ['10.1.2.3', 'allow', 'authorized', ['10.0.0.0/8']],
      ];
      const [fast, oclif, stream] = await Promise.all([
        ws.start(['check', 'billing', ...probes, '--json'], {now: NOW}),
        ws.start(['check', 'billing', ...probes, '--json'], {now: NOW, env: {KEYWARD_NO_FAST_PATH: '1'}}),
        ws.start(['check', 'billing', '-', '--json'], {now: NOW, input: `${probes.join('\n')}\n`}),
      ]);
      for (const r of [fast, oclif, stream]) {
        expect(r.code, r.stderr).to.equal(1);
        expect(decisions(r)).to.deep.equal(expected);
      }
      expect(fast.stdout).to.equal(oclif.stdout);
      expect(fast.stdout).to.equal(stream.stdout);
    });
  }

  it("denies in a key's own list without restricting the key otherwise, and names both lists' deny entries", () => {
    const ws = store('inactive');
    ok(ws.run(['deny', '203.0.113.7', '10.66.1.0/24', '--key', 'billing'], {now: NOW}));
    const r = ok(ws.run(['check', 'billing', '203.0.113.7', '203.0.113.8', '10.66.1.1', '--json'], {now: NOW}), 1);
    expect(decisions(r)).to.deep.equal([
      ['203.0.113.7', 'deny', 'denied', ['203.0.113.7']],
      // A key list of deny entries only is no key list: other addresses follow the blocking state.
      ['203.0.113.8', 'allow', 'blocking-inactive', []],
      ['10.66.1.1', 'deny', 'denied', ['10.66.1.0/24', '10.66.0.0/16']],
    ]);
    // `allow` holds entries only (the contract's type): the deny entries are in `deny` (found by an outside tester).
    expect(ok(ws.run(['keys', 'list', '--json'], {now: NOW})).json<any[]>()[0]).to.deep.include({allow: [], deny: ['10.66.1.0/24', '203.0.113.7']});
    ok(ws.run(['authorize', '198.51.100.0/24', '--key', 'billing'], {now: NOW}));
    const listed = ok(ws.run(['keys', 'list', '--json'], {now: NOW})).json<any[]>()[0];
    expect(listed).to.deep.include({allow: ['198.51.100.0/24'], deny: ['10.66.1.0/24', '203.0.113.7']});
    // Each is an entry: piped back, it is read as one.
    ok(ws.run(['check', 'billing', '-'], {now: NOW, input: `${[...listed.allow, ...listed.deny].map((e: string) => e.replace(/\/\d+$/, '')).join('\n')}\n`}), 1);
  });

  it('prints the JSON of authorize, updates labels, and keeps deny and allow entries of one range apart', () => {
    const ws = store('learning');
    const added = ok(ws.run(['deny', '192.0.2.0/24', '192.0.2.9', '--json'], {now: NOW})).json();
    expect(added).to.deep.equal({
      added: ['192.0.2.0/24', '192.0.2.9'],
      covered: [{entry: '192.0.2.9', coveredBy: ['192.0.2.0/24']}],
      updated: [],
      unchanged: [],
      elsewhere: [],
      dryRun: false,
    });
    const updated = ok(ws.run(['deny', '10.66.0.0/16', '--label', 'lab 2', '--json'], {now: NOW})).json();
    expect(updated.updated).to.deep.equal([{entry: '10.66.0.0/16', label: 'lab 2', group: null, expiresAt: null}]);
    // Deny entries are no cover of an allow entry, nor the reverse.
    expect(ok(ws.run(['authorize', '10.66.5.0/24', '--json'], {now: NOW})).json().covered).to.deep.equal([{entry: '10.66.5.0/24', coveredBy: ['10.0.0.0/8']}]);
    const before = ws.storeBytes();
    const both = ws.run(['deny', '10.0.0.0/8'], {now: NOW});
    expect(both.code).to.equal(2);
    expect(both.stderr).to.contain('10.0.0.0/8 is already an allow entry');
    expect(both.stderr).to.contain('keyward revoke 10.0.0.0/8');
    const other = ws.run(['authorize', '10.66.0.0/16'], {now: NOW});
    expect(other.code).to.equal(2);
    expect(other.stderr).to.contain('revoke it first: keyward revoke --deny 10.66.0.0/16');
    expect(ws.storeBytes()!.equals(before!), 'nothing written').to.equal(true);
  });

  it('takes the inputs of authorize: stdin with -, all or nothing, the broad-entry rule, --dry-run', () => {
    const ws = store('active');
    const before = ws.storeBytes()!;
    const bad = ws.run(['deny', '-'], {now: NOW, input: '198.51.100.1 # ok\n198.51.100.300\n'});
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.contain('line 2');
    const broad = ws.run(['deny', '0.0.0.0/0'], {now: NOW});
    expect(broad.code).to.equal(4);
    const none = ws.run(['deny'], {now: NOW});
    expect(none.code).to.equal(2);
    const dry = ok(ws.run(['deny', '-', '--dry-run', '--json'], {now: NOW, input: '198.51.100.1 # from stdin\n'})).json();
    expect(dry).to.deep.include({added: ['198.51.100.1'], dryRun: true});
    expect(ws.storeBytes()!.equals(before), 'nothing written').to.equal(true);
    ok(ws.run(['deny', '-'], {now: NOW, input: '198.51.100.1 # from stdin\n'}));
    const record = ws.storeJson().account.find((r: any) => r.entry === '198.51.100.1');
    expect(record).to.deep.include({label: 'from stdin', effect: 'deny'});
    expect(record).to.not.have.property('enabled');
    // An allow entry is stored as before: no effect member at all (old stores stay valid as they are).
    expect(ws.storeJson().account.find((r: any) => r.entry === '10.0.0.0/8')).to.not.have.property('effect');
  });

  it('is never learned, and its events go on the blocked list in every state (learning, active, inactive)', () => {
    const ws = store('learning');
    const learned = ok(ws.run(['learn', '-', '--json'], {now: NOW, input: `billing 10.66.9.9 ${NOW}\nbilling 198.51.100.7 ${NOW}\n`})).json();
    expect(learned.learned).to.deep.equal(['198.51.100.0/24']);
    expect(learned.blocked).to.deep.equal([{ip: '10.66.9.9', key: 'billing'}]);
    ok(ws.run(['activate', '--api', '--force'], {now: NOW}));
    const active = ok(ws.run(['learn', '-', '--json'], {now: NOW, input: `billing 10.66.9.8 ${NOW}\nbilling 203.0.113.1 ${NOW}\n`})).json();
    expect(active.blocked).to.deep.equal([
      {ip: '10.66.9.8', key: 'billing'},
      {ip: '203.0.113.1', key: 'billing'},
    ]);
    ok(ws.run(['deactivate', '--api', '--yes'], {now: NOW}));
    const inactive = ok(ws.run(['learn', '-', '--json'], {now: NOW, input: `billing 10.66.9.7 ${NOW}\nbilling 203.0.113.2 ${NOW}\n`})).json();
    expect(inactive.blocked).to.deep.equal([{ip: '10.66.9.7', key: 'billing'}]);
  });
});

describe('learning and disabled entries', () => {
  it('never learns again a range the operator disabled', () => {
    const ws = store('learning');
    ok(ws.run(['learn', '-'], {now: NOW, input: `billing 198.51.100.7 ${NOW}\n`}));
    ok(ws.run(['disable', '198.51.100.0/24'], {now: NOW}));
    const again = ok(ws.run(['learn', '-', '--json'], {now: NOW, input: `billing 198.51.100.8 ${NOW}\nbilling 203.0.113.9 ${NOW}\n`})).json();
    expect(again.learned).to.deep.equal(['203.0.113.0/24']);
    expect(ws.storeJson().account.filter((r: any) => r.entry === '198.51.100.0/24')).to.have.length(1);
  });
});

describe('keyward revoke --deny', () => {
  it('removes deny entries; plain revoke removes allow entries only', () => {
    const ws = store('active');
    const wrong = ws.run(['revoke', '10.66.0.0/16', '--yes'], {now: NOW});
    expect(wrong.code).to.equal(2);
    expect(wrong.stderr).to.contain('10.66.0.0/16 is a deny entry').and.contain('keyward revoke --deny 10.66.0.0/16');
    const other = ws.run(['revoke', '--deny', '10.0.0.0/8'], {now: NOW});
    expect(other.code).to.equal(2);
    expect(other.stderr).to.contain('10.0.0.0/8 is an allow entry');
    const inside = ws.run(['revoke', '--deny', '10.66.1.0/24'], {now: NOW});
    expect(inside.code).to.equal(2);
    expect(inside.stderr).to.contain('covered by 10.66.0.0/16');
    // Removing a deny entry lets addresses in: nothing to confirm, even while blocking is active.
    expect(ok(ws.run(['revoke', '--deny', '10.66.0.0/16', '--json'], {now: NOW})).json()).to.deep.equal({removed: ['10.66.0.0/16'], dryRun: false});
    expect(decisions(ok(ws.run(['check', 'billing', '10.66.3.4', '--json'], {now: NOW})))).to.deep.equal([['10.66.3.4', 'allow', 'authorized', ['10.0.0.0/8']]]);
  });
});

describe('keyward disable / enable', () => {
  it('switch an entry off and on, keeping its label and dates; a disabled entry never matches', () => {
    const ws = store('active');
    const before = ws.storeJson().account.map((r: any) => ({...r}));
    const off = ok(ws.run(['disable', '10.66.0.0/16', '10.0.0.0/8', '--json'], {now: '2026-01-02T00:00:00.000Z'})).json();
    expect(off).to.deep.equal({disabled: ['10.66.0.0/16', '10.0.0.0/8'], unchanged: [], dryRun: false});
    const after = ws.storeJson().account;
    expect(after.map((r: any) => ({...r, enabled: undefined}))).to.deep.equal(before.map((r: any) => ({...r, enabled: undefined})));
    expect(after.every((r: any) => r.enabled === false)).to.equal(true);
    expect(decisions(ok(ws.run(['check', 'billing', '10.66.3.4', '10.1.1.1', '--json'], {now: NOW}), 1))).to.deep.equal([
      ['10.66.3.4', 'deny', 'not-authorized', []],
      ['10.1.1.1', 'deny', 'not-authorized', []],
    ]);
    expect(ok(ws.run(['disable', '10.0.0.0/8', '--json'], {now: NOW})).json()).to.deep.equal({disabled: [], unchanged: ['10.0.0.0/8'], dryRun: false});
    ok(ws.run(['enable', '10.0.0.0/8'], {now: NOW}));
    expect(decisions(ok(ws.run(['check', 'billing', '10.66.3.4', '10.1.1.1', '--json'], {now: NOW})))).to.deep.equal([
      ['10.66.3.4', 'allow', 'authorized', ['10.0.0.0/8']],
      ['10.1.1.1', 'allow', 'authorized', ['10.0.0.0/8']],
    ]);
    ok(ws.run(['enable', '10.66.0.0/16'], {now: NOW}));
    expect(ws.storeJson().account).to.deep.equal(before);
    // History records each switch as an update, and names a deny entry !ENTRY.
    const history = ok(ws.run(['history', '--json'], {now: NOW})).json<any[]>();
    expect(history.map((r) => [r.command, r.changes.entries[0]?.added, r.changes.entries[0]?.updated])).to.deep.include.members([
      ['deny', ['!10.66.0.0/16'], []],
      ['disable', [], ['10.0.0.0/8', '!10.66.0.0/16']],
      ['enable', [], ['!10.66.0.0/16']],
    ]);
  });

  it('deny (or authorize) of an entry the list holds disabled warns that it stays off', () => {
    const ws = store('learning');
    ok(ws.run(['disable', '10.66.0.0/16'], {now: NOW}));
    const again = ok(ws.run(['deny', '10.66.0.0/16', '--json'], {now: NOW}));
    expect(again.json()).to.deep.include({unchanged: ['10.66.0.0/16']});
    expect(again.stderr).to.contain('is disabled and stays off').and.contain('keyward enable 10.66.0.0/16');
    expect(ok(ws.run(['authorize', '10.1.0.0/16'], {now: NOW})).stderr).not.to.contain('disabled');
  });

  it('refuses an entry that is not in the list, naming the entries that cover it, and changes nothing', () => {
    const ws = store('learning');
    const before = ws.storeBytes()!;
    const r = ws.run(['disable', '10.0.0.0/8', '10.66.1.0/24'], {now: NOW});
    expect(r.code).to.equal(2);
    expect(r.stderr).to.contain('10.66.1.0/24 is not in the account list');
    expect(r.stderr).to.contain('covered by 10.0.0.0/8, 10.66.0.0/16');
    expect(ws.run(['enable', '--key', 'billing', '10.0.0.0/8'], {now: NOW}).code).to.equal(2);
    expect(ws.storeBytes()!.equals(before)).to.equal(true);
  });

  it('works on a key list, and a key whose only allow entry is disabled allows nothing', () => {
    const ws = store('inactive');
    ok(ws.run(['authorize', '--key', 'billing', '192.0.2.0/24'], {now: NOW}));
    ok(ws.run(['disable', '--key', 'billing', '192.0.2.0/24'], {now: NOW}));
    expect(decisions(ok(ws.run(['check', 'billing', '192.0.2.1', '--json'], {now: NOW}), 1))).to.deep.equal([['192.0.2.1', 'deny', 'not-in-key-allowlist', []]]);
  });
});

describe('deny and disabled entries through the index cache (a store over 1 MiB)', () => {
  it('check answers from the cache as from the JSON, on both paths and the stream', async () => {
    const ws = store('active');
    const padding = Array.from({length: 9000}, (_, i) => `100.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255} # padding so that the store gets its index cache`).join('\n');
    ok(ws.run(['authorize', '-'], {now: NOW, input: `${padding}\n`}));
    ok(ws.run(['deny', '100.64.0.0/24', '10.1.0.0/16'], {now: NOW}));
    ok(ws.run(['disable', '10.1.0.0/16'], {now: NOW}));
    expect(statSync(ws.store).size).to.be.greaterThan(1 << 20);
    expect(existsSync(`${ws.store}.cache`)).to.equal(true);
    const probes = ['100.64.0.7', '100.64.1.7', '10.66.0.1', '10.1.0.1'];
    const expected = [
      ['100.64.0.7', 'deny', 'denied', ['100.64.0.0/24']],
      ['100.64.1.7', 'allow', 'authorized', ['100.64.1.7']],
      ['10.66.0.1', 'deny', 'denied', ['10.66.0.0/16']],
      ['10.1.0.1', 'allow', 'authorized', ['10.0.0.0/8']],
    ];
    const runs = await Promise.all([
      ws.start(['check', 'billing', ...probes, '--json'], {now: NOW}),
      ws.start(['check', 'billing', ...probes, '--json'], {now: NOW, env: {KEYWARD_NO_FAST_PATH: '1'}}),
      ws.start(['check', 'billing', '-', '--json'], {now: NOW, input: probes.join('\n')}),
    ]);
    for (const r of runs) expect(decisions(ok(r, 1))).to.deep.equal(expected);
  });
});

describe('keyward list with deny and disabled entries', () => {
  it('marks them in the table and gives every row effect and enabled under --json', () => {
    const ws = store('learning');
    ok(ws.run(['disable', '10.0.0.0/8'], {now: NOW}));
    const human = ok(ws.run(['list'], {now: NOW})).stdout;
    expect(human).to.contain('10.0.0.0/8\taccount\tallow\tfalse\t');
    expect(human).to.contain('10.66.0.0/16\taccount\tdeny\ttrue\t');
    const rows = ok(ws.run(['list', '--json'], {now: NOW})).json<any[]>();
    expect(rows.map((r) => [r.entry, r.effect, r.enabled, r.label])).to.deep.equal([
      ['10.0.0.0/8', 'allow', false, 'corp'],
      ['10.66.0.0/16', 'deny', true, 'lab'],
    ]);
    for (const row of rows) expect(row).to.have.all.keys('entry', 'scope', 'source', 'label', 'addedAt', 'expiresAt', 'group', 'effect', 'enabled');
  });

  it('--disabled keeps only the disabled entries, with the other filters', () => {
    const ws = store('learning');
    ok(ws.run(['authorize', '192.0.2.0/24', '--label', 'partner'], {now: NOW}));
    ok(ws.run(['disable', '10.0.0.0/8', '192.0.2.0/24'], {now: NOW}));
    const only = (extra: string[]) =>
      ok(ws.run(['list', '--disabled', '--json', ...extra], {now: NOW}))
        .json<any[]>()
        .map((r) => r.entry);
    expect(only([])).to.deep.equal(['10.0.0.0/8', '192.0.2.0/24']);
    expect(only(['--label', 'PART'])).to.deep.equal(['192.0.2.0/24']);
    ok(ws.run(['enable', '10.0.0.0/8'], {now: NOW}));
    expect(only([])).to.deep.equal(['192.0.2.0/24']);
  });
});

// ---- export, and the real tools --------------------------------------------------------------

/** 10.0.0.0/8 less 10.66.0.0/16: what the formats without a deny rule write. */
const DIFFERENCE = ['10.0.0.0/10', '10.64.0.0/15', '10.67.0.0/16', '10.68.0.0/14', '10.72.0.0/13', '10.80.0.0/12', '10.96.0.0/11', '10.128.0.0/9'];

describe('keyward export with deny and disabled entries', () => {
  const ws = store('active');
  before(() => {
    ok(ws.run(['authorize', '192.0.2.0/24', '2001:db8::/32'], {now: NOW}));
    ok(ws.run(['deny', '2001:db8:1::/48'], {now: NOW}));
    ok(ws.run(['disable', '192.0.2.0/24'], {now: NOW}));
  });
  const exportText = (format: string) => ok(ws.run(['export', '--format', format, '--no-timestamp'], {now: NOW})).stdout;
  const body = (text: string) => text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));

  it('plain and csv write deny entries first as !ENTRY; json rows carry effect, deny rows first; disabled entries are left out', () => {
    expect(exportText('plain')).to.equal('!10.66.0.0/16 # lab\n!2001:db8:1::/48\n10.0.0.0/8 # corp\n2001:db8::/32\n');
    expect(body(exportText('csv')).map((l) => l.split(',')[0])).to.deep.equal(['entry', '!10.66.0.0/16', '!2001:db8:1::/48', '10.0.0.0/8', '2001:db8::/32']);
    const rows = JSON.parse(exportText('json'));
    expect(rows.map((r: any) => [r.entry, r.effect, r.enabled])).to.deep.equal([
      ['10.66.0.0/16', 'deny', true],
      ['2001:db8:1::/48', 'deny', true],
      ['10.0.0.0/8', 'allow', true],
      ['2001:db8::/32', 'allow', true],
    ]);
  });

  it('nginx puts deny rules before the allow rules; the others write the set difference', () => {
    expect(body(exportText('nginx'))).to.deep.equal(['deny 10.66.0.0/16;  # lab', 'deny 2001:db8:1::/48;', 'allow 10.0.0.0/8;  # corp', 'allow 2001:db8::/32;', 'deny all;']);
    const haproxy = body(exportText('haproxy'));
    // (HAProxy's IPv4 ranges as IPv4-mapped IPv6: export.test.ts runs haproxy with them.)
    const mapped = (e: string) => `::ffff:${e.replace(/\/(\d+)$/, (_, bits) => `/${96 + Number(bits)}`)}`;
    expect(haproxy.slice(0, DIFFERENCE.length)).to.deep.equal(DIFFERENCE.map(mapped));
    expect(haproxy).to.include('2001:db8::/48').and.include('2001:db8:2::/47').and.not.include('2001:db8:1::/48');
    expect(exportText('haproxy')).to.contain(`# ${haproxy.length} entries`);
    expect(body(exportText('crowdsec')).slice(1, 1 + DIFFERENCE.length)).to.deep.equal(DIFFERENCE.map((e) => `${e},,corp`));
    const ipset = exportText('ipset');
    expect(ipset).to.contain('add keyward_allow_v4_tmp 10.67.0.0/16 -exist\n').and.not.contain('10.66.0.0').and.not.contain('192.0.2.0');
  });

  it('nginx -t accepts the include file with deny rules', function () {
    const nginx = findTool('nginx');
    if (nginx === null) skipBecause(this, 'nginx is not installed');
    const include = path.join(ws.dir, 'deny.nginx.conf');
    ok(ws.run(['export', '--format', 'nginx', '--output', include], {now: NOW}));
    const good = nginxTest(nginx!, ws, 'nginx-deny.conf', include);
    expect(good.code, good.out).to.equal(0);
    expect(readFileSync(include, 'utf8')).to.contain('deny 10.66.0.0/16;');
  });

  it('crowdsec, which subtracts deny entries and writes expiries, says when an expiring deny entry will want a new export (found by an outside tester)', () => {
    const own = Workspace.create();
    ok(own.run(['authorize', '10.0.0.0/8'], {now: NOW}));
    ok(own.run(['deny', '10.66.0.0/16', '--expires', '1d'], {now: NOW}));
    const at = daysAfter(NOW, 1);
    const warning = `a deny entry expires at ${at}; the crowdsec output leaves its addresses out until you export again`;
    for (const aggregate of [[], ['--aggregate']]) {
      const run = own.run(['export', '--format', 'crowdsec', ...aggregate], {now: NOW});
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stderr, aggregate.join(' ')).to.contain(warning);
      expect(run.stdout).not.to.contain('10.66.');
    }
    expect(own.run(['export', '--format', 'csv'], {now: NOW}).stderr, 'csv writes the deny entry with its expiry').not.to.contain('a deny entry expires');
    // The formats that write no expiry keep its addresses out after it expires: said so, not "keeps it" (found by an outside tester).
    for (const format of ['haproxy', 'nftables', 'ipset', 'nginx']) {
      const run = own.run(['export', '--format', format], {now: NOW});
      expect(run.stderr, format).to.contain(`a deny entry expires at ${at}; the ${format} output leaves its addresses out until you export again`);
      expect(run.stderr, format).not.to.contain('an exported entry expires');
    }
  });

  it('nginx -t accepts the include file when 255.255.255.255 is an entry (nginx cannot read that address: it is left out, said in a comment; found by an outside tester)', function () {
    const nginx = findTool('nginx');
    if (nginx === null) skipBecause(this, 'nginx is not installed');
    for (const verb of ['deny', 'authorize']) {
      const own = Workspace.create();
      ok(own.run(['authorize', '10.0.0.0/8'], {now: NOW}));
      ok(own.run([verb, '255.255.255.255'], {now: NOW}));
      const include = path.join(own.dir, 'kw.conf');
      ok(own.run(['export', '--format', 'nginx', '--output', include], {now: NOW}));
      const checked = nginxTest(nginx!, own, 'nginx.conf', include);
      expect(checked.code, `${verb}: ${checked.out}`).to.equal(0);
      const text = readFileSync(include, 'utf8');
      expect(text).to.contain(`# ${verb === 'deny' ? 'deny' : 'allow'} 255.255.255.255; left out: nginx cannot read it, and no client has it`);
      expect(text).to.contain('allow 10.0.0.0/8;');
    }
  });

  it('haproxy -c accepts the pattern file of the set difference', function () {
    const haproxy = findTool('haproxy');
    if (haproxy === null) skipBecause(this, 'haproxy is not installed');
    const acl = path.join(ws.dir, 'deny.acl');
    ok(ws.run(['export', '--format', 'haproxy', '--output', acl], {now: NOW}));
    const cfg = ws.file(
      'haproxy-deny.cfg',
      [
        'defaults',
        '  mode http',
        '  timeout connect 1s',
        '  timeout client 1s',
        '  timeout server 1s',
        'frontend api',
        '  bind 127.0.0.1:18092',
        `  acl ok src -f ${acl}`,
        '  http-request deny unless ok',
        '  http-request return status 204',
        '',
      ].join('\n'),
    );
    const good = runTool(haproxy!, ['-c', '-f', cfg]);
    expect(good.code, good.out).to.equal(0);
  });

  it('nft -f loads the set difference (in a private network namespace)', function () {
    const nft = findTool('nft');
    if (nft === null) skipBecause(this, 'nft is not installed');
    const file = path.join(ws.dir, 'deny.nft');
    ok(ws.run(['export', '--format', 'nftables', '--output', file], {now: NOW}));
    const loaded = inPrivateNetns(`"${nft}" -f "$1" && "${nft}" -j list set inet keyward keyward_allow_v4`, file);
    if (loaded === null) {
      const check = runTool(nft!, ['-c', '-f', file]);
      if (/Operation not permitted|Permission denied/i.test(check.out)) skipBecause(this, 'nft -c needs CAP_NET_ADMIN');
      expect(check.code, check.out).to.equal(0);
      return;
    }
    expect(loaded.code, loaded.out).to.equal(0);
    const elements = loaded.out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .flatMap((l) => JSON.parse(l).nftables.flatMap((o: any) => o.set?.elem ?? []))
      .map((e: any) => (typeof e === 'string' ? e : e.prefix ? `${e.prefix.addr}/${e.prefix.len}` : JSON.stringify(e)));
    expect(elements).to.deep.equal(DIFFERENCE);
  });

  it('ipset restore loads the set difference (in a private network namespace)', function () {
    const ipset = findTool('ipset');
    if (ipset === null) skipBecause(this, 'ipset is not installed');
    const file = path.join(ws.dir, 'deny.ipset');
    ok(ws.run(['export', '--format', 'ipset', '--output', file], {now: NOW}));
    const loaded = inPrivateNetns(`"${ipset}" restore < "$1" && "${ipset}" list keyward_allow_v4`, file);
    if (loaded === null) skipBecause(this, 'ipset restore runs only in a private network namespace, which is not permitted here');
    expect(loaded!.code, loaded!.out).to.equal(0);
    const members = loaded!.out
      .split('Members:\n')[1]
      .split('\n')
      .filter((l) => /^[0-9.]+\/\d+$/.test(l))
      .sort();
    expect(members).to.deep.equal([...DIFFERENCE].sort());
  });
});

describe('keyward sync with !ENTRY lines', () => {
  it('reads deny entries back from its own plain export, adds and removes them like allow entries', () => {
    const ws = store('learning');
    const exported = ok(ws.run(['export'], {now: NOW})).stdout;
    expect(exported).to.equal('!10.66.0.0/16 # lab\n10.0.0.0/8 # corp\n');
    // Each of keyward's own exports reads back as nothing to do.
    for (const format of ['plain', 'csv', 'json']) {
      const text = ok(ws.run(['export', '--format', format], {now: NOW})).stdout;
      const same = ok(ws.run(['sync', '-', '--dry-run', '--json'], {now: NOW, input: text})).json();
      expect(same, format).to.deep.include({added: [], removed: [], relabeled: [], unchanged: ['10.0.0.0/8', '!10.66.0.0/16']});
    }
    const plan = ws.run(['sync', '-', '--dry-run', '--json'], {now: NOW, input: '10.0.0.0/8\n!10.67.0.0/16 # lab b\n'});
    expect(plan.code).to.equal(1);
    expect(plan.json()).to.deep.include({added: ['!10.67.0.0/16'], removed: ['!10.66.0.0/16']});
    ok(ws.run(['sync', '-', '--yes'], {now: NOW, input: '10.0.0.0/8\n!10.67.0.0/16 # lab b\n'}));
    expect(
      ok(ws.run(['list', '--json'], {now: NOW}))
        .json<any[]>()
        .map((r) => [r.entry, r.effect, r.label]),
    ).to.deep.equal([
      // A line without a label clears the label, as for any synced entry.
      ['10.0.0.0/8', 'allow', null],
      ['10.67.0.0/16', 'deny', 'lab b'],
    ]);
    expect(decisions(ok(ws.run(['check', 'billing', '10.67.0.1', '10.66.0.1', '--json'], {now: NOW}), 1))).to.deep.equal([
      ['10.67.0.1', 'deny', 'denied', ['10.67.0.0/16']],
      ['10.66.0.1', 'allow', 'authorized', ['10.0.0.0/8']],
    ]);
  });

  it('refuses a file that both allows and denies one range', () => {
    const ws = store('learning');
    const r = ws.run(['sync', '-', '--yes'], {now: NOW, input: '10.0.0.0/8\n!10.0.0.0/8\n'});
    expect(r.code).to.equal(2);
    expect(r.stderr).to.contain('both allowed');
  });
});
