import {spawn, spawnSync} from 'node:child_process';
import {existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';

import {expect} from 'chai';

import {Prefix} from '../../src/core/prefix.js';
import {daysAfter, NOW, Workspace} from './harness.js';
import {findTool, inPrivateNetns, runTool, skipBecause} from './real-tools.js';

/** The account list every test starts from: IPv4 and IPv6, nested ranges, a learned-looking label, an expiring entry. */
function setUp(ws: Workspace): void {
  const steps: string[][] = [
    ['authorize', '10.0.0.0/8', '--label', 'office "HQ", main'],
    ['authorize', '2001:db8::/32', '--label', 'evil\nallow all; }\u2028# x'],
    ['authorize', '192.0.2.1', '198.51.100.0/24'],
    ['authorize', '203.0.113.0/24', '--expires', '2d', '--label', 'contractor'],
    ['keys', 'create', 'billing', '--type', 'api', '--allow', '10.1.0.0/16', '--allow', '2001:db8:1::/48', '--allow', '198.18.0.0/15'],
    ['keys', 'create', 'open', '--type', 'api'],
    ['keys', 'create', 'relay', '--type', 'smtp', '--allow', '198.51.100.0/25'],
  ];
  for (const args of steps) {
    const out = ws.run(args, {now: NOW});
    expect(out.code, `${args.join(' ')}\n${out.stderr}`).to.equal(0);
  }
}

const ACCOUNT = ['10.0.0.0/8', '192.0.2.1', '198.51.100.0/24', '203.0.113.0/24', '2001:db8::/32'];
/** The plain export's lines: `ENTRY # label` where the entry has one (the import line format, read back by sync). */
const PLAIN: Record<string, string> = {
  '10.0.0.0/8': '10.0.0.0/8 # office "HQ", main',
  '203.0.113.0/24': '203.0.113.0/24 # contractor',
  '2001:db8::/32': '2001:db8::/32 # evil allow all; } # x',
};
const plainLine = (e: string) => `${PLAIN[e] ?? e}\n`;

describe('keyward export', () => {
  const ws = Workspace.create();
  before(() => setUp(ws));

  it('writes the account list, one canonical entry a line with its label as a comment, sorted, by default', () => {
    const out = ws.run(['export'], {now: NOW});
    expect(out.code, out.stderr).to.equal(0);
    expect(out.stdout).to.equal(ACCOUNT.map(plainLine).join(''));
    // API keys are learning and SMTP blocking is off: the operator is told what the file does not say.
    expect(out.stderr).to.contain('blocking is not active');
  });

  it('writes every format, each starting as that format does, with labels only in comments or quoted fields', async () => {
    const formats = ['csv', 'json', 'nginx', 'haproxy', 'nftables', 'ipset', 'crowdsec'];
    const results = await ws.runAll(
      formats.map((f) => ['export', '--format', f, '--no-timestamp']),
      {now: NOW},
    );
    const by = Object.fromEntries(formats.map((f, i) => [f, results[i]]));
    for (const f of formats) expect(by[f].code, `${f}: ${by[f].stderr}`).to.equal(0);
    expect(by.csv.stdout.split('\n').slice(0, 3)).to.deep.equal([
      'entry,scope,source,label,addedAt,expiresAt,group',
      `10.0.0.0/8,account,manual,"office ""HQ"", main",${NOW},,`,
      `192.0.2.1,account,manual,,${NOW},,`,
    ]);
    expect(by.json.json()).to.deep.equal(
      JSON.parse(ws.run(['list', '--account', '--json'], {now: NOW}).stdout).sort((a: any, b: any) => ACCOUNT.indexOf(a.entry) - ACCOUNT.indexOf(b.entry)),
    );
    expect(by.nginx.stdout).to.equal(
      [
        '# keyward export (nginx): the account list',
        '# 5 entries',
        `# an entry expires at ${daysAfter(NOW, 2)}: this file does not expire entries, export again before then`,
        '# do not edit: change the keyward store and export again',
        'allow 10.0.0.0/8;  # office "HQ", main',
        'allow 192.0.2.1;',
        'allow 198.51.100.0/24;',
        'allow 203.0.113.0/24;  # contractor',
        'allow 2001:db8::/32;  # evil allow all; } # x',
        'deny all;',
        '',
      ].join('\n'),
    );
    // (IPv4 as IPv4-mapped IPv6: HAProxy matches IPv4 patterns against 6to4 clients too.)
    const mapped = (entry: string) => (entry.includes(':') ? entry : `::ffff:${entry.replace(/\/(\d+)$/, (_, bits) => `/${96 + Number(bits)}`)}`);
    expect(by.haproxy.stdout.split('\n').filter((l) => !l.startsWith('#'))).to.deep.equal([...ACCOUNT.map(mapped), '']);
    expect(by.nftables.stdout).to.contain('\t\t\t10.0.0.0/8, # office "HQ", main\n');
    expect(by.ipset.stdout).to.contain('add keyward_allow_v6_tmp 2001:db8::/32 -exist\n');
    expect(by.crowdsec.stdout).to.equal(
      [
        'value,expiration,comment',
        '10.0.0.0/8,,"office ""HQ"", main"',
        '192.0.2.1,,',
        '198.51.100.0/24,,',
        '203.0.113.0/24,2d,contractor',
        '2001:db8::/32,,evil allow all; } # x',
        '',
      ].join('\n'),
    );
    // The formats without expiry say so on stderr too.
    expect(by.nginx.stderr).to.contain(`expires at ${daysAfter(NOW, 2)}`);
    expect(by.crowdsec.stderr).not.to.contain('expires at');
  });

  it('is byte for byte the same from one run to the next with --no-timestamp, and names the time without it', async () => {
    const [a, b, c] = await ws.runAll(
      [
        ['export', '--format', 'nginx', '--no-timestamp'],
        ['export', '--format', 'nginx', '--no-timestamp'],
        ['export', '--format', 'nginx'],
      ],
      {now: NOW},
    );
    expect(a.stdout).to.equal(b.stdout);
    expect(c.stdout).to.contain(`# 5 entries; generated ${NOW}\n`);
  });

  it('leaves expired entries out once their time has passed (KEYWARD_NOW)', () => {
    const later = ws.run(['export'], {now: daysAfter(NOW, 3)});
    expect(later.code, later.stderr).to.equal(0);
    expect(later.stdout).to.equal(
      ACCOUNT.filter((e) => e !== '203.0.113.0/24')
        .map(plainLine)
        .join(''),
    );
    const crowdsec = ws.run(['export', '--format', 'crowdsec'], {now: daysAfter(NOW, 1.5)});
    expect(crowdsec.stdout).to.contain('203.0.113.0/24,12h,contractor\n');
  });

  it('--aggregate writes the fewest CIDR ranges', () => {
    const other = Workspace.create();
    expect(other.run(['authorize', '10.0.0.0/25', '10.0.0.128/25', '10.0.1.0/24', '10.0.1.7', '2001:db8::/33', '2001:db8:8000::/33'], {now: NOW}).code).to.equal(0);
    const out = other.run(['export', '--aggregate'], {now: NOW});
    expect(out.code, out.stderr).to.equal(0);
    expect(out.stdout).to.equal('10.0.0.0/23\n2001:db8::/32\n');
    const json = other.run(['export', '--aggregate', '--json'], {now: NOW});
    expect(json.json()).to.deep.equal([
      {entry: '10.0.0.0/23', scope: 'account', source: null, label: null, addedAt: null, expiresAt: null, group: null, effect: 'allow', enabled: true},
      {entry: '2001:db8::/32', scope: 'account', source: null, label: null, addedAt: null, expiresAt: null, group: null, effect: 'allow', enabled: true},
    ]);
  });

  it('--aggregate in a format that writes expiries never merges entries that expire at different times: each address keeps the latest (found by an outside tester)', () => {
    // A permanent /9 beside a /9 for a day and a /10 for two hours inside the permanent one: never one /8 gone in two hours.
    const ws = Workspace.create();
    for (const args of [
      ['10.0.0.0/9', '--expires', '1d'],
      ['10.128.0.0/9'],
      ['10.128.0.0/10', '--expires', '2h'],
      ['192.0.2.0/25', '--expires', '2h'],
      ['192.0.2.128/25', '--expires', '2h'],
    ]) {
      expect(ws.run(['authorize', ...args, '-q'], {now: NOW}).code).to.equal(0);
    }
    expect(ws.run(['deny', '10.1.0.0/17', '-q'], {now: NOW}).code).to.equal(0);
    expect(ws.run(['deny', '10.1.128.0/17', '--expires', '1h', '-q'], {now: NOW}).code).to.equal(0);
    const hours = (n: number) => new Date(Date.parse(NOW) + n * 3_600_000).toISOString();
    const crowdsec = ws.run(['export', '--format', 'crowdsec', '--aggregate', '--no-timestamp'], {now: NOW});
    expect(crowdsec.code, crowdsec.stderr).to.equal(0);
    // (crowdsec writes the allowed ranges less the denied addresses.)
    expect(crowdsec.stdout).to.include('10.128.0.0/9,,').and.include('10.0.0.0/16,1d,').and.include('192.0.2.0/24,2h,').and.not.include('10.0.0.0/8');
    const json = ws.run(['export', '--format', 'json', '--aggregate'], {now: NOW}).json() as {entry: string; effect: string; expiresAt: string | null}[];
    expect(json.map((r) => [r.effect, r.entry, r.expiresAt])).to.deep.equal([
      ['deny', '10.1.0.0/17', null],
      ['deny', '10.1.128.0/17', hours(1)],
      ['allow', '10.0.0.0/9', hours(24)],
      ['allow', '10.128.0.0/9', null],
      ['allow', '192.0.2.0/24', hours(2)],
    ]);
    const csv = ws.run(['export', '--format', 'csv', '--aggregate'], {now: NOW}).stdout;
    expect(csv)
      .to.include(`10.0.0.0/9,account,,,,${hours(24)},`)
      .and.include('10.128.0.0/9,account,,,,,');
    // A format without expiries writes the union, as before.
    expect(ws.run(['export', '--aggregate', '--no-timestamp'], {now: NOW}).stdout).to.equal('!10.1.0.0/16\n10.0.0.0/8\n192.0.2.0/24\n');
  });

  describe('--key: the effective list under each blocking state', () => {
    const keyed = Workspace.create();
    before(() => setUp(keyed));

    it('api learning: a key with a list exports its own list; a key without one is refused with exit 4', () => {
      const billing = keyed.run(['export', '--key', 'billing'], {now: NOW});
      expect(billing.code, billing.stderr).to.equal(0);
      expect(billing.stdout).to.equal('10.1.0.0/16\n198.18.0.0/15\n2001:db8:1::/48\n');
      const open = keyed.run(['export', '--key', 'open', '--format', 'nginx'], {now: NOW});
      expect(open.code).to.equal(4);
      expect(open.stdout).to.equal('');
      expect(open.stderr).to.contain('key open (api) is not restricted');
      expect(open.stderr).to.contain('api blocking is learning');
    });

    it('smtp inactive: the key list alone', () => {
      const relay = keyed.run(['export', '--key', 'relay'], {now: NOW});
      expect(relay.code, relay.stderr).to.equal(0);
      expect(relay.stdout).to.equal('198.51.100.0/25\n');
    });

    it('blocking active: the key list intersected with the account list; a key without a list gets the account list', () => {
      expect(keyed.run(['activate', '--api', '--force'], {now: NOW}).code).to.equal(0);
      const billing = keyed.run(['export', '--key', 'billing', '--json'], {now: NOW});
      expect(billing.code, billing.stderr).to.equal(0);
      expect(billing.json()).to.deep.equal([
        {entry: '10.1.0.0/16', scope: 'billing', source: 'manual', label: null, addedAt: NOW, expiresAt: null, group: null, effect: 'allow', enabled: true},
        {entry: '2001:db8:1::/48', scope: 'billing', source: 'manual', label: null, addedAt: NOW, expiresAt: null, group: null, effect: 'allow', enabled: true},
      ]);
      const open = keyed.run(['export', '--key', 'open'], {now: NOW});
      expect(open.code, open.stderr).to.equal(0);
      expect(open.stdout).to.equal(ACCOUNT.map(plainLine).join(''));
      const header = keyed.run(['export', '--key', 'billing', '--format', 'haproxy', '--no-timestamp'], {now: NOW});
      expect(header.stdout.split('\n')[0]).to.equal('# keyward export (haproxy): key billing (api): its own list intersected with the account list (api blocking active)');
    });

    it('check agrees with the export: every exported address is allowed, and the key-list entries left out are denied', () => {
      const allowed = keyed.run(['check', 'billing', '10.1.0.1', '2001:db8:1::1', '--json'], {now: NOW});
      expect(allowed.json<any[]>().map((d) => d.decision)).to.deep.equal(['allow', 'allow']);
      const denied = keyed.run(['check', 'billing', '198.18.0.1', '--json'], {now: NOW});
      expect(denied.json<any[]>().map((d) => d.decision)).to.deep.equal(['deny']);
    });

    it('smtp active: the relay list within the account list; a key whose list lies outside it exports an empty list and says so', () => {
      expect(keyed.run(['activate', '--smtp', '--force'], {now: NOW}).code).to.equal(0);
      const relay = keyed.run(['export', '--key', 'relay', '--format', 'csv'], {now: NOW});
      expect(relay.code, relay.stderr).to.equal(0);
      expect(relay.stdout).to.equal(`entry,scope,source,label,addedAt,expiresAt,group\n198.51.100.0/25,relay,manual,,${NOW},,\n`);
      expect(keyed.run(['authorize', '--key', 'relay', '192.0.2.128/25'], {now: NOW}).code).to.equal(0);
      expect(keyed.run(['revoke', '--key', 'relay', '198.51.100.0/25', '--yes'], {now: NOW}).code).to.equal(0);
      const empty = keyed.run(['export', '--key', 'relay', '--format', 'nginx', '--no-timestamp'], {now: NOW});
      expect(empty.code, empty.stderr).to.equal(0);
      expect(empty.stdout.split('\n').filter((l) => !l.startsWith('#'))).to.deep.equal(['deny all;', '']);
      expect(empty.stderr).to.contain('is empty: a gateway loading this allowlist refuses every address');
    });

    it('blocking deactivated again: the key list alone', () => {
      expect(keyed.run(['deactivate', '--api', '--yes'], {now: NOW}).code).to.equal(0);
      const billing = keyed.run(['export', '--key', 'billing'], {now: NOW});
      expect(billing.stdout).to.equal('10.1.0.0/16\n198.18.0.0/15\n2001:db8:1::/48\n');
      const open = keyed.run(['export', '--key', 'open'], {now: NOW});
      expect(open.code).to.equal(4);
      expect(open.stderr).to.contain('api blocking is inactive');
    });

    it('a revoked key is refused with exit 2, an unknown one too', () => {
      expect(keyed.run(['keys', 'revoke', 'billing', '--yes'], {now: NOW}).code).to.equal(0);
      const revoked = keyed.run(['export', '--key', 'billing'], {now: NOW});
      expect(revoked.code).to.equal(2);
      expect(revoked.stdout).to.equal('');
      expect(revoked.stderr).to.contain('key billing (api) is revoked');
      const unknown = keyed.run(['export', '--key', 'nosuch'], {now: NOW});
      expect(unknown.code).to.equal(2);
      expect(unknown.stderr).to.contain('unknown key');
    });
  });

  describe('--output', () => {
    it('replaces the file atomically (a new inode, no temporary left), its mode kept, stdout empty', () => {
      const file = ws.file('out/allow.conf', 'old contents\n');
      const before = statSync(file).ino;
      // (The file's mode is what the umask made it: 0644 under 022, but 0664 under 002 and 0666 under 000. A new file's mode,
      // 0644 less the umask, is the environment tests'.)
      const mode = statSync(file).mode & 0o777;
      const out = ws.run(['export', '--format', 'nginx', '--no-timestamp', '--output', file], {now: NOW});
      expect(out.code, out.stderr).to.equal(0);
      expect(out.stdout).to.equal('');
      expect(out.stderr).to.contain(`wrote 5 entries (nginx) to ${file}`);
      expect(readFileSync(file, 'utf8')).to.equal(ws.run(['export', '--format', 'nginx', '--no-timestamp'], {now: NOW}).stdout);
      expect(statSync(file).ino, 'renamed over, not rewritten in place').not.to.equal(before);
      expect(statSync(file).mode & 0o777, 'the mode of the file replaced').to.equal(mode);
      expect(readdirSync(path.dirname(file))).to.deep.equal(['allow.conf']);
    });

    it('with --json prints a summary; without --output, --json is the JSON array', () => {
      mkdirSync(path.join(ws.dir, 'summary'), {recursive: true});
      const file = path.join(ws.dir, 'summary', 'allow.json');
      const out = ws.run(['export', '--format', 'crowdsec', '--output', file, '--json'], {now: NOW});
      expect(out.code, out.stderr).to.equal(0);
      expect(out.json()).to.deep.equal({file, format: 'crowdsec', scope: 'account', entries: 5, aggregated: false});
      expect(readFileSync(file, 'utf8').split('\n')[0]).to.equal('value,expiration,comment');
      const array = ws.run(['export', '--json'], {now: NOW});
      expect(array.json<any[]>().map((r) => r.entry)).to.deep.equal(ACCOUNT);
      // With --output, --json changes stdout only: the file is the default format, plain, as without --json (found by an outside tester).
      const plain = path.join(ws.dir, 'summary', 'allow.txt');
      const summary = ws.run(['export', '--output', plain, '--json', '--no-timestamp'], {now: NOW});
      expect(summary.json()).to.include({format: 'plain', entries: 5});
      expect(readFileSync(plain, 'utf8')).to.equal(ws.run(['export', '--no-timestamp'], {now: NOW}).stdout);
      const conflict = ws.run(['export', '--json', '--format', 'nginx'], {now: NOW});
      expect(conflict.code).to.equal(2);
      expect(conflict.json().error, 'the error object alone on stdout').to.include({exit: 2});
    });

    it('an output folder that does not exist is a usage error (exit 2), and an old file is left as it was on failure', () => {
      const missing = path.join(ws.dir, 'nope', 'allow.conf');
      const out = ws.run(['export', '--output', missing], {now: NOW});
      expect(out.code).to.equal(2);
      expect(out.stderr).to.contain('cannot write --output');
      expect(existsSync(missing)).to.equal(false);
      // A refused export (a key nothing restricts) leaves the previous file untouched.
      const file = ws.file('out/open.conf', 'previous\n');
      const refused = ws.run(['export', '--key', 'open', '--output', file], {now: NOW});
      expect(refused.code).to.equal(4);
      expect(readFileSync(file, 'utf8')).to.equal('previous\n');
      // The store is never the output.
      const store = readFileSync(ws.store);
      const onStore = ws.run(['export', '--output', ws.store], {now: NOW});
      expect(onStore.code).to.equal(2);
      expect(readFileSync(ws.store)).to.deep.equal(store);
    });

    it('refuses names that would not load, and firewall flags with other formats (exit 2)', async () => {
      const cases = [
        ['--format', 'ipset', '--set', 'a b'],
        ['--format', 'ipset', '--set', 'x'.repeat(25)],
        ['--format', 'nftables', '--table', 'bad;name'],
        ['--format', 'nginx', '--set', 'ok'],
        ['--format', 'ipset', '--table', 'ok'],
        ['--format', 'xml'],
      ];
      const results = await ws.runAll(
        cases.map((args) => ['export', ...args]),
        {now: NOW},
      );
      results.forEach((out, i) => {
        expect(out.code, cases[i].join(' ')).to.equal(2);
        expect(out.stdout).to.equal('');
      });
    });

    it('refuses a secret-shaped --table or --set (exit 2, by its hint): it would be written into the file (found by an outside tester)', async () => {
      const secret = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
      const cases = [
        ['--format', 'nftables', '--table', secret],
        ['--format', 'nftables', '--table', `t_${secret.toUpperCase()}`],
        ['--format', 'ipset', '--set', secret.slice(0, 32)],
      ];
      const results = await ws.runAll(
        cases.map((args) => ['export', ...args]),
        {now: NOW},
      );
      results.forEach((out, i) => {
        expect(out.code, cases[i].join(' ')).to.equal(2);
        expect(out.stderr, cases[i].join(' ')).to.contain('looks like a key secret and cannot be a name');
        expect(`${out.stdout}${out.stderr}`.toLowerCase()).not.to.contain(secret.slice(0, 16));
      });
    });
  });

  it('has a description and at least two examples in --help', () => {
    const help = ws.run(['export', '--help']);
    expect(help.code).to.equal(0);
    expect(help.stdout).to.contain('DESCRIPTION');
    expect((help.stdout.split('EXAMPLES')[1] ?? '').match(/\$ keyward export/g) ?? []).to.have.length.greaterThanOrEqual(2);
  });
});

// ---- The real tools: each file is loaded by the program it is for ---------------------------

/** A TCP port nothing listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** An nginx configuration in the workspace that includes `include` in a location (for `nginx -t`). */
function nginxConf(ws: Workspace, include: string): string {
  const d = ws.dir;
  return ws.file(
    `nginx-${path.basename(include)}.conf`,
    `pid ${d}/nginx.pid;\nerror_log ${d}/nginx-error.log;\nevents {}\nhttp {\n  access_log off;\n` +
      ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${d}/nginx-${t};\n`).join('') +
      `  server {\n    listen 127.0.0.1:18089;\n    location / {\n      include ${include};\n      return 204;\n    }\n  }\n}\n`,
  );
}

describe('keyward export, loaded by the real tools', () => {
  const ws = Workspace.create();
  before(() => {
    // Nested ranges, which interval sets refuse as elements: the narrower one first, or authorize reports it covered.
    expect(ws.run(['authorize', '10.1.0.0/16'], {now: NOW}).code).to.equal(0);
    setUp(ws);
  });

  const exportTo = (name: string, args: string[]) => {
    const file = path.join(ws.dir, name);
    const out = ws.run(['export', ...args, '--output', file], {now: NOW});
    expect(out.code, out.stderr).to.equal(0);
    return file;
  };

  it('nginx -t accepts the include file in a location, and refuses a broken one', function () {
    const nginx = findTool('nginx');
    if (nginx === null) skipBecause(this, 'nginx is not installed');
    const include = exportTo('allow.nginx.conf', ['--format', 'nginx']);
    const conf = (file: string) => nginxConf(ws, file);
    const good = runTool(nginx!, ['-t', '-q', '-c', conf(include), '-p', ws.dir]);
    expect(good.code, good.out).to.equal(0);
    const broken = ws.file('broken.nginx.conf', readFileSync(include, 'utf8').replace('allow 10.0.0.0/8;', 'allow 10.0.0.0/33;'));
    expect(runTool(nginx!, ['-t', '-q', '-c', conf(broken), '-p', ws.dir]).code, 'the check can fail').to.not.equal(0);
  });

  it('haproxy -c accepts the pattern file in `acl ok src -f FILE`, and refuses a broken one', function () {
    const haproxy = findTool('haproxy');
    if (haproxy === null) skipBecause(this, 'haproxy is not installed');
    const acl = exportTo('allow.acl', ['--format', 'haproxy']);
    const cfg = (file: string) =>
      ws.file(
        `haproxy-${path.basename(file)}.cfg`,
        [
          'defaults',
          '  mode http',
          '  timeout connect 1s',
          '  timeout client 1s',
          '  timeout server 1s',
          'frontend api',
          '  bind 127.0.0.1:18090',
          `  acl ok src -f ${file}`,
          '  http-request deny unless ok',
          '  http-request return status 204',
          '',
        ].join('\n'),
      );
    const good = runTool(haproxy!, ['-c', '-f', cfg(acl)]);
    expect(good.code, good.out).to.equal(0);
    const broken = ws.file('broken.acl', readFileSync(acl, 'utf8').replace('::ffff:10.0.0.0/104\n', '::ffff:10.0.0.0/129\n'));
    expect(runTool(haproxy!, ['-c', '-f', cfg(broken)]).code, 'the check can fail').to.not.equal(0);
  });

  it('haproxy, running with the pattern file, lets in exactly whom check allows: an IPv4 client never through an IPv6 range such as ::/64, a 6to4 client never through the IPv4 address it embeds', async function () {
    const haproxy = findTool('haproxy');
    if (haproxy === null) skipBecause(this, 'haproxy is not installed');
    const own = Workspace.create();
    for (const args of [
      ['keys', 'create', 'billing', '--type', 'api'],
      ['authorize', '10.0.0.0/8', '::/64', '2001:db8::/32', '192.0.2.7'],
      ['deny', '10.66.0.0/16'],
      ['activate', '--api', '--force'],
    ]) {
      expect(own.run(args, {now: NOW, env: {KEYWARD_TEST_SUBPROCESS: '1'}}).code).to.equal(0);
    }
    const acl = path.join(own.dir, 'allow.acl');
    expect(own.run(['export', '--format', 'haproxy', '--output', acl], {now: NOW}).code).to.equal(0);
    const port = await freePort();
    const cfg = own.file(
      'haproxy.cfg',
      [
        'defaults',
        '  mode http',
        '  timeout connect 1s',
        '  timeout client 5s',
        '  timeout server 5s',
        'frontend api',
        `  bind 127.0.0.1:${port}`,
        '  http-request set-src hdr(X-Real-IP)',
        `  http-request return status 204 if { src -f ${acl} }`,
        '  http-request return status 403',
        '',
      ].join('\n'),
    );
    const running = spawn(haproxy!, ['-db', '-f', cfg], {stdio: ['ignore', 'ignore', 'pipe']});
    let said = '';
    running.stderr!.setEncoding('utf8').on('data', (t: string) => (said += t));
    const status = (ip: string) =>
      new Promise<number>((resolve, reject) => {
        const req = http.request({host: '127.0.0.1', port, path: '/', headers: {'X-Real-IP': ip}, agent: false}, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      for (let tries = 0; ; tries++) {
        try {
          await status('192.0.2.7');
          break;
        } catch {
          if (tries > 100) throw new Error(`haproxy did not answer: ${said}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
      // IPv4 inside and outside, a deny hole, 6to4 clients embedding allowed and denied IPv4 addresses, mapped forms, IPv6.
      const probes = [
        '10.1.2.3',
        '10.66.0.5',
        '8.8.8.8',
        '192.0.2.7',
        '2002:a01:203::1',
        '2002:c000:207::1',
        '2002:808:808::1',
        '::ffff:10.9.9.9',
        '::ffff:8.8.8.8',
        '::5',
        '::1:0:0:1',
        '2001:db8::5',
        '2001:db9::1',
      ];
      const decided = own.run(['check', 'billing', ...probes, '--json'], {now: NOW}).json();
      const seen: [string, string][] = [];
      for (const ip of probes) seen.push([ip, (await status(ip)) === 204 ? 'allow' : 'deny']);
      expect(seen, said).to.deep.equal(probes.map((ip, i) => [ip, decided[i].decision]));
      expect(seen.filter(([, d]) => d === 'allow').length, 'some allowed, some not').to.be.within(1, probes.length - 1);
    } finally {
      running.kill('SIGKILL');
    }
  });

  it('nft -f loads the sets (in a private network namespace), twice, with exactly the outermost entries', function () {
    const nft = findTool('nft');
    if (nft === null) skipBecause(this, 'nft is not installed');
    const file = exportTo('allow.nft', ['--format', 'nftables', '--table', 'gw', '--set', 'api']);
    const loaded = inPrivateNetns(`"${nft}" -f "$1" && "${nft}" -f "$1" && "${nft}" -j list set inet gw api_v4 && "${nft}" -j list set inet gw api_v6`, file);
    if (loaded === null) {
      // No private namespace: a check-only run, which changes nothing.
      const check = runTool(nft!, ['-c', '-f', file]);
      if (/Operation not permitted|Permission denied/i.test(check.out)) skipBecause(this, 'nft -c needs CAP_NET_ADMIN, which this test does not have');
      expect(check.code, check.out).to.equal(0);
      return;
    }
    expect(loaded.code, loaded.out).to.equal(0);
    const elements = loaded.out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .flatMap((l) => JSON.parse(l).nftables.flatMap((o: any) => o.set?.elem ?? []))
      .map((e: any) => (typeof e === 'string' ? e : `${e.prefix.addr}/${e.prefix.len}`));
    // 10.1.0.0/16 lies inside 10.0.0.0/8: left out, the addresses are the same.
    expect(elements).to.deep.equal(['10.0.0.0/8', '192.0.2.1', '198.51.100.0/24', '203.0.113.0/24', '2001:db8::/32']);
    const broken = ws.file('broken.nft', readFileSync(file, 'utf8').replace('10.0.0.0/8,', '10.0.0.0/33,'));
    expect(inPrivateNetns(`"${nft}" -f "$1"`, broken)!.code, 'the load can fail').to.not.equal(0);
  });

  it('ipset restore loads the sets (in a private network namespace), twice, swapping in the new contents', function () {
    const ipset = findTool('ipset');
    if (ipset === null) skipBecause(this, 'ipset is not installed');
    const file = exportTo('allow.ipset', ['--format', 'ipset']);
    const whole = Workspace.create();
    expect(whole.run(['authorize', '0.0.0.0/0', '::/0', '--force'], {now: NOW}).code).to.equal(0);
    const wholeFile = path.join(ws.dir, 'whole.ipset');
    expect(whole.run(['export', '--format', 'ipset', '--output', wholeFile], {now: NOW}).code).to.equal(0);
    const script = `"${ipset}" restore < "$1" && "${ipset}" restore < "$1" && "${ipset}" list keyward_allow_v4 && "${ipset}" list keyward_allow_v6 && ("${ipset}" list keyward_allow_v4_tmp && exit 9 || true) && "${ipset}" restore < "$2" && "${ipset}" list keyward_allow_v4`;
    const loaded = inPrivateNetns(script, file, wholeFile);
    if (loaded === null) {
      skipBecause(
        this,
        "ipset restore changes the kernel's sets and has no check-only mode; it runs only in a private network namespace, which is not permitted here (the exact-output tests cover the syntax)",
      );
    }
    expect(loaded!.code, loaded!.out).to.equal(0);
    // Each listing ends its members at a blank line or at the next set's "Name:" line.
    const members = (text: string) =>
      text
        .split('Members:\n')
        .slice(1)
        .map((block) =>
          block
            .split(/\n(?:\n|Name: )/)[0]
            .split('\n')
            .filter((l) => /^[0-9a-f.:]+(\/\d+)?$/.test(l))
            .sort(),
        );
    const [v4, v6, afterWhole] = members(loaded!.out);
    expect(v4).to.deep.equal(['10.0.0.0/8', '10.1.0.0/16', '192.0.2.1', '198.51.100.0/24', '203.0.113.0/24']);
    expect(v6).to.deep.equal(['2001:db8::/32']);
    // The swap replaced the old contents: only the two halves of 0.0.0.0/0 are left.
    expect(afterWhole).to.deep.equal(['0.0.0.0/1', '128.0.0.0/1']);
    writeFileSync(path.join(ws.dir, 'broken.ipset'), readFileSync(file, 'utf8').replace('10.0.0.0/8 ', '10.0.0.0/33 '));
    expect(inPrivateNetns(`"${ipset}" restore < "$1"`, path.join(ws.dir, 'broken.ipset'))!.code, 'the load can fail').to.not.equal(0);
  });

  it('ipset restore: a temporary set left by a failed load is made anew, and a live set made with another maxelem is re-made by the recipe the docs give (found by an outside tester)', function () {
    const ipset = findTool('ipset');
    if (ipset === null) skipBecause(this, 'ipset is not installed');
    const file = exportTo('remake.ipset', ['--format', 'ipset']);
    const i = `"${ipset}"`;
    const params = 'hash:net family inet hashsize 1024 maxelem';
    const script = [
      // A tmp set left by an earlier load with other parameters: the file replaces it.
      `${i} create keyward_allow_v4_tmp ${params} 4096`,
      `${i} restore < "$1"`,
      `${i} list keyward_allow_v4 | grep -q 10.0.0.0/8`,
      // A live set made with another maxelem (its list once crossed 2^20 entries): refused, then re-made, then loaded.
      `${i} destroy keyward_allow_v4`,
      `${i} create keyward_allow_v4 ${params} 2097152`,
      `(${i} restore < "$1" && exit 9 || true)`,
      `${i} create keyward_allow_v4_new ${params} 1048576 && ${i} swap keyward_allow_v4_new keyward_allow_v4 && ${i} destroy keyward_allow_v4_new`,
      `${i} restore < "$1"`,
      `${i} list keyward_allow_v4 | grep -q 'maxelem 1048576'`,
      `${i} list keyward_allow_v4 | grep -q 10.0.0.0/8`,
    ].join(' && ');
    const loaded = inPrivateNetns(script, file);
    if (loaded === null) skipBecause(this, 'ipset restore runs only in a private network namespace, which is not permitted here');
    expect(loaded!.code, loaded!.out).to.equal(0);
  });

  it("csv and crowdsec read back field for field with Python's csv module (an independent RFC 4180 reader)", function () {
    const python = findTool('python3');
    if (python === null) skipBecause(this, 'python3 is not installed');
    const read = (file: string) => {
      const r = spawnSync(python!, ['-c', 'import csv, json, sys; print(json.dumps(list(csv.DictReader(open(sys.argv[1], newline="")))))', file], {encoding: 'utf8'});
      expect(r.status, r.stderr).to.equal(0);
      return JSON.parse(r.stdout);
    };
    const csv = read(exportTo('allow.csv', ['--format', 'csv']));
    expect(csv.find((r: any) => r.entry === '10.0.0.0/8')).to.deep.equal({
      entry: '10.0.0.0/8',
      scope: 'account',
      source: 'manual',
      label: 'office "HQ", main',
      addedAt: NOW,
      expiresAt: '',
      group: '',
    });
    expect(csv.map((r: any) => r.label)).to.include('evil allow all; } # x');
    const crowdsec = read(exportTo('allow.crowdsec.csv', ['--format', 'crowdsec']));
    expect(crowdsec.map((r: any) => Object.keys(r).join(','))).to.satisfy((keys: string[]) => keys.every((k) => k === 'value,expiration,comment'));
    expect(crowdsec.find((r: any) => r.value === '203.0.113.0/24')).to.deep.equal({value: '203.0.113.0/24', expiration: '2d', comment: 'contractor'});
    expect(crowdsec.find((r: any) => r.value === '10.0.0.0/8')).to.deep.equal({value: '10.0.0.0/8', expiration: '', comment: 'office "HQ", main'});
  });

  it('crowdsec: cscli is not run (exact-output tests only)', function () {
    const cscli = findTool('cscli');
    if (cscli === null) skipBecause(this, 'cscli is not installed; the CSV follows `cscli allowlists import` (value,expiration,comment) and is checked by exact-output tests');
    // cscli needs a running CrowdSec local API and database to import into; a check of it is not attempted here.
    skipBecause(this, 'cscli is installed, but importing needs a CrowdSec local API; not attempted');
  });
});

describe('keyward export of a long label (found by an outside tester: a 1,021-character label became an ipset command)', () => {
  const ws = Workspace.create();
  const injected = `${'x'.repeat(1021)}add keyward_allow_v4_tmp 0.0.0.0/1`;
  before(() => {
    expect(ws.run(['authorize', '198.51.100.0/24', '--label', injected], {now: NOW}).code).to.equal(0);
    expect(ws.run(['authorize', '192.0.2.1', '--label', '\u{1F600}'.repeat(2000)], {now: NOW}).code).to.equal(0);
  });

  it("cuts a label in a gateway format to 480 bytes, ended by …, so that no line reaches ipset's 1,024 bytes or nginx's word limit", () => {
    for (const format of ['nginx', 'haproxy', 'nftables', 'ipset']) {
      const out = ws.run(['export', '--format', format], {now: NOW});
      expect(out.code).to.equal(0);
      const lines = out.stdout.split('\n');
      for (const line of lines) expect(Buffer.byteLength(line), `${format}: ${line.slice(0, 40)}`).to.be.at.most(600);
      expect(
        lines.filter((l) => l.includes('x'.repeat(400))).every((l) => l.endsWith('…')),
        format,
      ).to.equal(true);
      expect(out.stdout, format).to.not.contain('0.0.0.0/1');
    }
    // The data formats keep the label whole (sync reads it back).
    expect(ws.run(['export', '--format', 'plain'], {now: NOW}).stdout).to.contain(injected);
  });

  it('ipset restore loads the file with the long label as a comment, and nothing else in the set', function () {
    const ipset = findTool('ipset');
    if (ipset === null) skipBecause(this, 'ipset is not installed');
    const file = path.join(ws.dir, 'long.ipset');
    expect(ws.run(['export', '--format', 'ipset', '--output', file], {now: NOW}).code).to.equal(0);
    const listed = inPrivateNetns(`"${ipset}" restore < "$1" && "${ipset}" list keyward_allow_v4`, file);
    if (listed === null) skipBecause(this, 'a private network namespace is not permitted here');
    expect(listed!.code, listed!.out).to.equal(0);
    const members = listed!.out.split('Members:\n')[1].trim().split('\n').sort();
    expect(members).to.deep.equal(['192.0.2.1', '198.51.100.0/24']);
  });

  it('nginx -t accepts the include file', function () {
    const nginx = findTool('nginx');
    if (nginx === null) skipBecause(this, 'nginx is not installed');
    const include = path.join(ws.dir, 'long.nginx.conf');
    expect(ws.run(['authorize', '203.0.113.0/24', '--label', 'y'.repeat(5000)], {now: NOW}).code).to.equal(0);
    expect(ws.run(['export', '--format', 'nginx', '--output', include], {now: NOW}).code).to.equal(0);
    const checked = runTool(nginx!, ['-t', '-q', '-c', nginxConf(ws, include), '-p', ws.dir]);
    expect(checked.code, checked.out).to.equal(0);
  });
});

describe('keyward export --aggregate and list --json of a large store (the index cache)', () => {
  const ws = Workspace.create();
  // Over MIN_STORE_BYTES (1 MiB), so that keyward writes the index cache beside it: export --aggregate reads the cache.
  const entries = Array.from({length: 9000}, (_, i) => {
    const given = i % 9 === 0 ? `2001:db8:${(i >> 4).toString(16)}:${(i & 15).toString(16)}::/64` : `10.${(i >> 12) & 255}.${(i >> 4) & 255}.${(i & 15) * 16}/${28 + (i % 5)}`;
    const entry = Prefix.parse(given).masked().toString();
    const record: Record<string, unknown> = {entry, source: 'import', label: i % 10 === 0 ? `customer "${i}"` : null, addedAt: NOW, expiresAt: null};
    if (i % 13 === 1) record.group = 'ops';
    if (i % 17 === 2) record.expiresAt = daysAfter(NOW, i % 34 === 2 ? -1 : 3);
    if (i % 23 === 3) record.effect = 'deny';
    if (i % 29 === 4) record.enabled = false;
    return record;
  });
  const runs = [
    ['export', '--aggregate', '--no-timestamp'],
    ['export', '--aggregate', '--json'],
    ['list', '--json'],
  ];
  const outputs = () => runs.map((args) => ws.run(args, {now: NOW})).map(({code, stdout, stderr}) => ({code, stdout, stderr}));

  before(() => {
    // A store keyward made, given the entries by hand out of order; keyward's own write then puts it in canonical form and writes the cache.
    expect(ws.run(['authorize', '198.51.100.1'], {now: NOW}).code).to.equal(0);
    ws.file('store.json', JSON.stringify({...ws.storeJson(), account: entries}));
    const out = ws.run(['authorize', '198.51.100.1'], {now: NOW});
    expect(out.code, out.stderr).to.equal(0);
    expect(existsSync(`${ws.store}.cache`), 'the cache is written').to.equal(true);
  });

  it('writes the same text, warnings and exit code whether the cache vouches for the store or not (cut short, a hand edit)', () => {
    const cached = outputs();
    expect(cached[0].code).to.equal(0);
    expect(cached[0].stdout).to.match(/^!/);
    expect(cached[0].stdout).to.include('2001:db8::/');
    expect(cached[0].stderr).to.include('expires at');
    // A cache cut short (the store untouched): not whole, so not used.
    const cache = readFileSync(`${ws.store}.cache`);
    writeFileSync(`${ws.store}.cache`, cache.subarray(0, cache.length - 8));
    expect(outputs()).to.deep.equal(cached);
    writeFileSync(`${ws.store}.cache`, cache);
    // The same text written again by hand: a new change time, so the cache no longer belongs to the store.
    ws.file('store.json', readFileSync(ws.store));
    expect(outputs()).to.deep.equal(cached);
  });
});
