/**
 * `keyward learn --format`: fixture logs written as nginx (escape=json and
 * combined + "$http_x_api_key"), Envoy, Caddy and Postfix write them, each
 * applied end to end: the entries learned, the addresses blocked once
 * blocking is on, the format `auto` names, and a log that cannot be read.
 */
import {fileURLToPath} from 'node:url';
import {expect} from 'chai';

import {RunResult, Workspace} from './harness.js';

const NOW = '2026-11-30T12:00:00.000Z';
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/logs/${name}`, import.meta.url));

function ok(result: RunResult): RunResult {
  expect(result.code, `exit ${result.code}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`).to.equal(0);
  return result;
}

/** A store with an API key `billing` and an SMTP key `relay`; their secrets. */
function workspace(): {ws: Workspace; secrets: Record<string, string>} {
  const ws = Workspace.create();
  const secrets: Record<string, string> = {};
  for (const [name, type] of [
    ['billing', 'api'],
    ['relay', 'smtp'],
  ]) {
    secrets[name] = ok(ws.run(['keys', 'create', name, '--type', type, '--json'], {now: NOW})).json().secret;
  }
  return {ws, secrets};
}

/** The gateway logs: the same five requests (two callers of billing, a health check without a key, an unknown key, a third caller). */
const GATEWAYS = [
  {name: 'nginx escape=json', file: 'nginx-json.log', format: 'ndjson', flags: ['--field', 'key=http_x_api_key', '--field', 'ip=remote_addr', '--field', 'at=time_iso8601']},
  {name: 'nginx combined + "$http_x_api_key"', file: 'nginx-combined.log', format: 'combined', flags: [] as string[]},
  {
    name: 'Envoy JSON access log',
    file: 'envoy.log',
    format: 'ndjson',
    flags: ['--field', 'key=x-api-key', '--field', 'ip=downstream_remote_address', '--field', 'at=start_time'],
  },
  {name: 'Caddy JSON log', file: 'caddy.log', format: 'ndjson', flags: ['--field', 'key=request.headers.X-Api-Key', '--field', 'ip=request.remote_ip', '--field', 'at=ts']},
];

describe('keyward learn --format: gateway logs end to end', () => {
  for (const gateway of GATEWAYS) {
    it(`${gateway.name}: learns the callers' networks while learning, names the format, skips the request without a key`, () => {
      const {ws} = workspace();
      const learn = ok(ws.run(['learn', fixture(gateway.file), ...gateway.flags, '--json'], {now: NOW}));
      expect(learn.json()).to.deep.include({
        events: 3,
        learned: ['192.0.2.0/24', '2001:db8:1:2::/64', '203.0.113.0/24'],
        blocked: [],
        unknownKeys: 1,
        badLines: 0,
        untimed: 0,
        format: gateway.format,
      });
      expect(learn.stderr).to.contain(`read as ${gateway.format}`).and.contain('1 request without a key skipped').and.contain('ghost (1 event)');
      const rows = ok(ws.run(['list', '--account', '--json'], {now: NOW})).json();
      // The times of the log, whatever their form: 10:00:00Z (11:00:05+01:00 is 10:00:05Z).
      expect(rows.map((r: any) => [r.entry, r.addedAt.slice(0, 19)])).to.deep.equal([
        ['192.0.2.0/24', '2026-11-30T10:00:00'],
        ['203.0.113.0/24', '2026-11-30T10:03:00'],
        ['2001:db8:1:2::/64', '2026-11-30T10:00:05'],
      ]);
    });

    it(`${gateway.name}: with API blocking active, blocks the callers the account list does not cover`, () => {
      const {ws} = workspace();
      ok(ws.run(['authorize', '192.0.2.0/24'], {now: NOW}));
      ok(ws.run(['activate', '--api', '--force'], {now: NOW}));
      const learn = ok(ws.run(['learn', fixture(gateway.file), ...gateway.flags, '--json'], {now: NOW}));
      expect(learn.json()).to.deep.include({
        learned: [],
        blocked: [
          {ip: '2001:db8:1:2::5', key: 'billing'},
          {ip: '203.0.113.50', key: 'billing'},
        ],
      });
      expect(learn.stderr).to.contain('keyward authorize 203.0.113.50');
    });
  }

  it('--format auto names the format of each log; with --json it is the `format` field', () => {
    const {ws} = workspace();
    const combined = ok(ws.run(['learn', fixture('nginx-combined.log'), '--dry-run'], {now: NOW}));
    expect(combined.stderr).to.contain(`read as combined (detected from line 1 of ${fixture('nginx-combined.log')})`);
    const postfix = ok(ws.run(['learn', fixture('postfix-mail.log'), '--dry-run', '--json'], {now: NOW}));
    expect(postfix.json().format).to.equal('postfix');
    expect(postfix.stderr).to.contain('read as postfix (detected from line 1');
    const keyward = ok(ws.run(['learn', '-', '--dry-run', '--json'], {now: NOW, input: `# a comment first\nbilling 192.0.2.1 ${NOW}\n`}));
    expect(keyward.json().format).to.equal('keyward');
    expect(keyward.stderr).to.contain('read as keyward (detected from line 2)');
    // JSON lines without --field: ndjson, and a message naming the fields the lines have.
    for (const file of ['nginx-json.log', 'envoy.log', 'caddy.log']) {
      const json = ws.run(['learn', fixture(file), '--dry-run'], {now: NOW});
      expect(json.code, json.stderr).to.equal(2);
      expect(json.stderr)
        .to.contain('cannot read the log as ndjson')
        .and.contain(`line 1 of ${fixture(file)}: has no field \`ip\``);
    }
    expect(ws.run(['learn', fixture('nginx-json.log'), '--dry-run'], {now: NOW}).stderr).to.contain('remote_addr, request');
    // An explicit format is used as given and not announced.
    const given = ok(ws.run(['learn', fixture('nginx-combined.log'), '--format', 'combined', '--dry-run', '--json'], {now: NOW}));
    expect(given.json().format).to.equal('combined');
    expect(given.stderr).not.to.contain('read as');
  });

  it('a key field holding the secret, bare or as `Bearer …`, finds its key; the secret is never printed', () => {
    const {ws, secrets} = workspace();
    const stranger = 'F00DFEEDF00DFEEDF00DFEEDF00DFEEDF00DBEEF';
    const log = [
      `192.0.2.10 - - [30/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "curl" "${secrets.billing}"`,
      `198.51.100.1 - - [30/Nov/2026:10:00:01 +0000] "GET / HTTP/1.1" 200 1 "-" "curl" "Bearer ${secrets.billing}"`,
      `203.0.113.1 - - [30/Nov/2026:10:00:02 +0000] "GET / HTTP/1.1" 200 1 "-" "curl" "Bearer ${stranger}"`,
      `203.0.113.2 - - [30/Nov/2026:10:00:03 +0000] "GET / HTTP/1.1" 200 1 "-" "curl" "${secrets.billing}" "extra"`,
      `{bad line holding ${stranger}}`,
    ].join('\n');
    const learn = ok(ws.run(['learn', '-', '--json'], {now: NOW, input: log}));
    expect(learn.json()).to.deep.include({events: 3, learned: ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24'], unknownKeys: 1, badLines: 1, format: 'combined'});
    expect(learn.stderr).to.contain('f00d…beef').and.contain('line 5');
    for (const secret of [secrets.billing, stranger, stranger.toLowerCase()]) {
      expect(learn.stdout + learn.stderr).not.to.contain(secret);
    }
    const json = ok(
      ws.run(['learn', '-', '--json', '--field', 'key=auth', '--field', 'ip=addr'], {now: NOW, input: `{"auth":"Bearer ${secrets.billing}","addr":"192.0.2.99:443"}\n`}),
    );
    expect(json.json()).to.deep.include({events: 1, untimed: 1});
  });
});

describe('keyward learn --format postfix: SMTP key uses from the mail log', () => {
  it('reads SASL logins (smtpd and submission), skips every other line, learns nothing for SMTP keys', () => {
    const {ws} = workspace();
    const learn = ok(ws.run(['learn', fixture('postfix-mail.log'), '--json'], {now: NOW, env: {TZ: 'UTC'}}));
    expect(learn.json()).to.deep.include({events: 4, learned: [], blocked: [], unknownKeys: 1, badLines: 0, format: 'postfix'});
    expect(ok(ws.run(['list', '--account', '--json'], {now: NOW})).json()).to.deep.equal([]);
  });

  it('with SMTP blocking active, blocks the SASL clients the account list does not cover, dated by the syslog time (the year before now)', () => {
    const {ws} = workspace();
    ok(ws.run(['authorize', '198.51.100.0/24'], {now: NOW}));
    ok(ws.run(['activate', '--smtp', '--force'], {now: NOW}));
    const learn = ok(ws.run(['learn', fixture('postfix-mail.log'), '--json'], {now: NOW, env: {TZ: 'UTC'}}));
    expect(learn.json().blocked).to.deep.equal([
      {ip: '2001:db8:5::1', key: 'relay'},
      {ip: '203.0.113.7', key: 'relay'},
    ]);
    expect(learn.stderr).to.contain('keyward deactivate --smtp');
    const blocked = ok(ws.run(['blocked', '--json'], {now: NOW})).json();
    expect(blocked.sort((a: any, b: any) => a.firstSeen.localeCompare(b.firstSeen))).to.deep.equal([
      {
        ip: '2001:db8:5::1',
        key: 'relay',
        channel: 'smtp',
        firstSeen: '2026-11-30T10:05:00.000Z',
        lastSeen: '2026-11-30T10:05:00.000Z',
        count: 1,
        reason: 'not-authorized',
        deniedBy: null,
      },
      {
        ip: '203.0.113.7',
        key: 'relay',
        channel: 'smtp',
        firstSeen: '2026-11-30T10:08:00.000Z',
        lastSeen: '2026-11-30T10:08:00.000Z',
        count: 1,
        reason: 'not-authorized',
        deniedBy: null,
      },
    ]);
  });

  it("syslog times are this machine's wall clock (TZ), and a date later than now is last year's", () => {
    const {ws} = workspace();
    ok(ws.run(['activate', '--smtp', '--force'], {now: NOW}));
    const log =
      'Nov 30 10:00:00 mail postfix/smtpd[1]: 1A: client=a[192.0.2.1], sasl_method=PLAIN, sasl_username=relay\nDec 24 10:00:00 mail postfix/smtpd[1]: 2B: client=b[192.0.2.2], sasl_method=PLAIN, sasl_username=relay\n';
    ok(ws.run(['learn', '-'], {now: NOW, input: log, env: {TZ: 'Europe/Berlin'}}));
    const blocked = Object.fromEntries(
      ok(ws.run(['blocked', '--json'], {now: NOW}))
        .json()
        .map((b: any) => [b.ip, b.firstSeen]),
    );
    expect(blocked).to.deep.equal({'192.0.2.1': '2026-11-30T09:00:00.000Z', '192.0.2.2': '2025-12-24T09:00:00.000Z'});
  });
});

describe("keyward learn: Unix seconds in keyward's own formats", () => {
  // Found by an outside tester: `auto` takes NDJSON with the default fields key/ip/at as keyward's own format,
  // which refused "at" in Unix seconds (0 events, exit 0) while --format ndjson read it.
  it('reads a time in Unix seconds in KEY ADDRESS TIME lines and as a JSON number, as the other formats do', () => {
    const {ws} = workspace();
    const at = Date.parse('2026-11-30T10:00:00Z') / 1000;
    const input = `billing 192.0.2.10 ${at}\n${JSON.stringify({key: 'billing', ip: '198.51.100.10', at})}\n${JSON.stringify({key: 'billing', ip: '203.0.113.10', at: at + 0.5})}\n`;
    const learned = ok(ws.run(['learn', '-', '--json'], {now: NOW, input})).json<{events: number; badLines: number; learned: string[]; format: string}>();
    expect(learned).to.deep.include({events: 3, badLines: 0, format: 'keyward'});
    const seen = ws.storeJson().seen as {ip: string; lastSeen: string}[];
    expect(seen.map((s) => s.lastSeen)).to.deep.equal(['2026-11-30T10:00:00.000Z', '2026-11-30T10:00:00.000Z', '2026-11-30T10:00:00.500Z']);
  });
});

describe("keyward learn: ports in keyward's own format", () => {
  // Noticed by an outside tester: the docs said ports come off every address; keyward's own format keeps the strict
  // grammar (docs/logs.md), so a port there is a bad line that names it, where the tools' formats take it off.
  it('a KEY ADDRESS TIME line or {key, ip, at} object with a port is a bad line naming the port; the same address in --format ndjson is read', () => {
    const {ws} = workspace();
    const input = `billing 192.0.2.10 2026-11-30T10:00:00Z\nbilling 192.0.2.11:80 2026-11-30T10:00:01Z\n${JSON.stringify({key: 'billing', ip: '[2001:db8::7]:443', at: '2026-11-30T10:00:02Z'})}\n`;
    const learned = ok(ws.run(['learn', '-', '--json', '--format', 'keyward'], {now: NOW, input}));
    expect(learned.json()).to.deep.include({events: 1, badLines: 2, format: 'keyward'});
    expect(learned.stderr).to.contain('`192.0.2.11:80` has a port (:80)');
    const ndjson = ok(
      ws.run(['learn', '-', '--json', '--format', 'ndjson'], {now: NOW, input: `${JSON.stringify({key: 'billing', ip: '[2001:db8::7]:443', at: '2026-11-30T10:00:02Z'})}\n`}),
    );
    expect(ndjson.json()).to.deep.include({events: 1, badLines: 0, format: 'ndjson'});
  });

  it('a combined log whose address carries a port (`$remote_addr:$remote_port`, `[IPv6]:PORT`) is read without it', () => {
    const {ws} = workspace();
    const line = (address: string) => `${address} - - [30/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "curl" "billing"\n`;
    const input = line('192.0.2.10:53422') + line('[2001:db8::1]:443') + line('198.51.100.7');
    const learned = ok(ws.run(['learn', '-', '--json', '--format', 'combined'], {now: NOW, input}));
    expect(learned.json()).to.deep.include({events: 3, badLines: 0, format: 'combined'});
    expect(learned.json().learned).to.have.members(['192.0.2.0/24', '2001:db8::/64', '198.51.100.0/24']);
  });
});

describe('keyward learn: a log it cannot read', () => {
  it('a plain combined log (no key field) is exit 2 naming its first lines and what to add, with nothing written', () => {
    const {ws} = workspace();
    const before = ws.storeBytes()!;
    const learn = ws.run(['learn', fixture('nginx-plain-combined.log'), '--json'], {now: NOW});
    expect(learn.code, learn.stderr).to.equal(2);
    expect(learn.stderr).to.contain('cannot read the log as combined').and.contain('line 1 of').and.contain('"$http_x_api_key"');
    expect(ws.storeBytes()!.equals(before)).to.equal(true);
  });

  it('a log whose every line is a bad event (hello world as KEY ADDRESS) is exit 2, never "0 events applied" with exit 0', () => {
    const {ws} = workspace();
    const before = ws.storeBytes();
    const learn = ws.run(['learn', '-', '--json'], {now: NOW, input: 'hello world\nfoo bar\nbaz qux\n'});
    expect(learn.code, learn.stderr).to.equal(2);
    expect(learn.stderr).to.contain('no line of the log is an event (read as keyward): 3 bad lines; nothing was written');
    expect(learn.json().error).to.deep.include({exit: 2, message: 'no line of the log is an event (read as keyward): 3 bad lines; nothing was written'});
    expect(learn.stderr).to.contain('choose the format with --format');
    expect(ws.storeBytes()!.equals(before!)).to.equal(true);
    // With --format named, the format is not what is wrong: the hint says so (found by an outside tester).
    const given = ws.run(['learn', '-', '--format', 'keyward'], {now: NOW, input: 'hello world\nfoo bar\n'});
    expect(given.code, given.stderr).to.equal(2);
    expect(given.stderr).to.contain('every line has a bad value (an address, a time): check what writes the log').and.not.contain('choose the format');
  });

  it('lines of no format are exit 2 naming the first bad line, its text escaped and a secret in it by hint', () => {
    const {ws} = workspace();
    const secret = 'abcdefabcdefabcdefabcdefabcdefabcdefabcd';
    const learn = ws.run(['learn', '-'], {now: NOW, input: `<html lang=en>\x1b]0;owned\x07 <title>${secret}</title> </head>\n<body>\n`});
    expect(learn.code, learn.stderr).to.equal(2);
    expect(learn.stderr).to.contain('cannot tell the format of the log').and.contain('line 1: is not a line of a log keyward reads');
    expect(learn.stderr).to.contain('\\u001b]0;owned\\u0007').and.contain('abcd…abcd').and.not.contain(secret);
    expect(learn.stderr).not.to.contain('\x1b');
  });

  it('a log of syslog lines of other programs only (HAProxy, sshd) is exit 2 naming its first lines, never 0 events applied; --format postfix reads a mail log with no Postfix line yet (found by an outside tester)', () => {
    const {ws} = workspace();
    const before = ws.storeBytes();
    const haproxy = [
      'Nov 30 10:00:00 lb haproxy[123]: 198.19.5.7:54321 [30/Nov/2026:10:00:00.123] fe be/srv 0/0/0/1/1 200 120 - - ---- 1/1/0/0/0 0/0 {billing} "GET / HTTP/1.1"',
      'Nov 30 10:00:01 lb sshd[9]: Accepted publickey for root',
      '',
    ].join('\n');
    const learn = ws.run(['learn', '-', '--json'], {now: NOW, input: haproxy});
    expect(learn.code, learn.stderr).to.equal(2);
    expect(learn.json().error.message).to.equal('cannot tell the format of the log: its 2 lines are syslog lines of programs other than Postfix; nothing was written');
    expect(learn.stderr)
      .to.contain('line 1: `Nov 30 10:00:00 lb haproxy[123]')
      .and.contain('line 2: `Nov 30 10:00:01 lb sshd[9]')
      .and.contain('choose the format with --format');
    expect(ws.storeBytes()!.equals(before!)).to.equal(true);
    const mail = ws.run(['learn', '-', '--format', 'postfix', '--json'], {now: NOW, input: 'Nov 30 10:00:01 mx dovecot[9]: imap-login: Login\n'});
    expect(mail.code, mail.stderr).to.equal(0);
    expect(mail.json()).to.include({events: 0});
  });

  it('stops after 20 lines when no format reads any of them', () => {
    const {ws} = workspace();
    const learn = ws.run(['learn', '-'], {now: NOW, input: 'not a log line at all\n'.repeat(5000)});
    expect(learn.code).to.equal(2);
    expect(learn.stderr).to.contain('no line of the first 20');
  });

  it('a log none of whose lines holds a key is exit 2 naming the key field; a log with some requests without keys is read', () => {
    const {ws} = workspace();
    const wrong = ws.run(['learn', fixture('caddy.log'), '--field', 'key=request.headers.Authorization', '--field', 'ip=request.remote_ip'], {now: NOW});
    expect(wrong.code, wrong.stderr).to.equal(2);
    expect(wrong.stderr).to.contain('no line of the log holds a key in field `request.headers.Authorization`').and.contain('--field key=PATH');
    const dashes = ws.run(['learn', '-', '--key-field', '3'], {now: NOW, input: '192.0.2.1 - - [30/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "-"\n'});
    expect(dashes.code).to.equal(2);
    expect(dashes.stderr).to.contain('quoted field 3').and.contain('--key-field N');
  });

  it('--strict: the first unreadable line is exit 2; flags for another format are exit 2', () => {
    const {ws} = workspace();
    const before = ws.storeBytes()!;
    const lines = `192.0.2.1 - - [30/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "curl" "billing"\n192.0.2.2 - [30/Nov/2026:10:00:00 +0000] "GET /"\n`;
    const strict = ws.run(['learn', '-', '--strict'], {now: NOW, input: lines});
    expect(strict.code).to.equal(2);
    expect(strict.stderr).to.contain('line 2: is not a combined log line').and.contain('nothing was written');
    expect(ws.storeBytes()!.equals(before)).to.equal(true);
    // Without --strict the line is counted and the rest applied.
    expect(ok(ws.run(['learn', '-', '--json'], {now: NOW, input: lines})).json()).to.deep.include({events: 1, badLines: 1});
    const mixed = ws.run(['learn', '-', '--format', 'combined', '--field', 'ip=remote_addr'], {now: NOW, input: ''});
    expect(mixed.code).to.equal(2);
    expect(mixed.stderr).to.contain('--field is for --format ndjson');
    const both = ws.run(['learn', '-', '--field', 'ip=a', '--key-field', '4'], {now: NOW, input: ''});
    expect(both.code).to.equal(2);
    const badField = ws.run(['learn', '-', '--field', 'addr=remote_addr'], {now: NOW, input: ''});
    expect(badField.code).to.equal(2);
    expect(badField.stderr).to.contain('key, ip, at or status');
    const badPattern = ws.run(['learn', '-', '--pattern', '(?<key>\\S+ (?<ip>'], {now: NOW, input: ''});
    expect(badPattern.code).to.equal(2);
    const noGroup = ws.run(['learn', '-', '--pattern', '^(?<key>\\S+) (\\S+)$'], {now: NOW, input: ''});
    expect(noGroup.code).to.equal(2);
    expect(noGroup.stderr).to.contain('no named group ip');
  });
});

describe('keyward learn: hostile log fields', () => {
  it('escape sequences in keys (nginx \\x1B, JSON \\u001b) and in --field paths are shown escaped; a secret in a bad line by its hint', () => {
    const {ws} = workspace();
    const secret = '0123456789abcdef0123456789abcdef01234567';
    const combined = [
      '192.0.2.1 - - [30/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "curl" "\\x1B]0;pwned\\x07\\x1B[2J"',
      `192.0.2.2 - - [30/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "curl" "billing" but ${secret} [31/Nov/2026:10:00:00 +0000]`,
      `${secret} - - [30/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "curl" "billing"`,
    ].join('\n');
    const learn = ok(ws.run(['learn', '-', '--json'], {now: NOW, input: combined}));
    expect(learn.json()).to.deep.include({events: 1, unknownKeys: 1, badLines: 1});
    expect(learn.stderr).to.contain('\\u001b]0;pwned\\u0007\\u001b[2J').and.contain('0123…4567');
    expect(learn.stderr).not.to.contain('\x1b').and.not.contain('\x07').and.not.contain(secret);

    const json = ok(ws.run(['learn', '-', '--field', 'key=k', '--field', 'ip=a'], {now: NOW, input: `{"k":"\\u001b[31mred","a":"192.0.2.1"}\n`}));
    expect(json.stderr).to.contain('\\u001b[31mred').and.not.contain('\x1b');

    const path = ws.run(['learn', '-', '--field', 'ip=\x1b[31m.x', '--field', 'key=k'], {now: NOW, input: '{"k":"billing","\\u001b[31m":{"y":1}}\n'});
    expect(path.code).to.equal(2);
    expect(path.stderr).to.contain('`\\u001b[31m.x`').and.contain('its fields: k, \\u001b[31m').and.not.contain('\x1b');
  });
});

describe('keyward learn --format regex', () => {
  it('reads key, ip and at from the named groups, the time in any form keyward reads', () => {
    const {ws} = workspace();
    const input =
      'ts=1796032800 user=billing from=192.0.2.10:5555\nts=1796032805 user=billing from=[2001:db8::7]:443\nts=1796032806 user=- from=198.51.100.1\nsomething else\n';
    const learn = ok(ws.run(['learn', '-', '--json', '--pattern', '^ts=(?<at>\\S+) user=(?<key>\\S+) from=(?<ip>\\S+)$'], {now: NOW, input}));
    expect(learn.json()).to.deep.include({events: 2, learned: ['192.0.2.0/24', '2001:db8::/64'], badLines: 1, format: 'regex'});
    expect(learn.stderr).to.contain('read as regex (--pattern given)').and.contain('line 4: does not match --pattern');
  });
});
