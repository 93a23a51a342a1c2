/**
 * The log formats `learn` reads (src/core/log-formats.ts): each format's
 * lines as the real tools write them, the time forms, and properties over
 * random events written in every format (read back exactly, the format
 * recognised) and random or mangled lines (never a crash, never an event
 * whose key and address are not text of the line). Runs: 200, or
 * KEYWARD_PROPERTY_RUNS.
 */
import {expect} from 'chai';
import fc from 'fast-check';

import {anyTime, combinedTime, keyOf, LineRead, LogFormat, LogReader, lookup, recognize, stripPort, syslogTime} from '../../src/core/log-formats.js';

const RUNS = Number(process.env.KEYWARD_PROPERTY_RUNS || 200);
const NOW = new Date('2026-11-30T12:00:00Z');
const reader = (format: LogFormat | 'auto', more: Partial<ConstructorParameters<typeof LogReader>[0]> = {}) => new LogReader({format, now: NOW, ...more});

describe('core/log-formats: lines as the tools write them', () => {
  it('ndjson: dotted paths, arrays read by their first value, ports taken off, Bearer taken off, empty keys are requests without a key', () => {
    const r = reader('ndjson', {fields: {key: 'request.headers.X-Api-Key', ip: 'request.remote_ip', at: 'ts'}});
    expect(r.read('{"ts":1796032800.5,"request":{"remote_ip":"192.0.2.1","headers":{"X-Api-Key":["Bearer billing","other"]}}}')).to.deep.equal({
      kind: 'event',
      key: 'billing',
      ip: '192.0.2.1',
      at: Date.parse('2026-11-30T10:00:00.500Z'),
    });
    // Unix seconds from the digits written, not the number JSON.parse rounds them to (found by an outside tester).
    expect(r.read('{"ts":1764547199.999999999,"request":{"remote_ip":"192.0.2.1","headers":{"X-Api-Key":"k"}}}')).to.deep.include({at: 1764547199999});
    expect(r.read('{"ts":1,"request":{"remote_ip":"192.0.2.1","headers":{}}}')).to.deep.equal({kind: 'keyless'});
    expect(r.read('{"ts":1,"request":{"remote_ip":"192.0.2.1","headers":{"X-Api-Key":[]}}}')).to.deep.equal({kind: 'keyless'});
    expect(r.read('{"request":{"headers":{"X-Api-Key":["k"]}}}').kind).to.equal('unreadable');
    expect(r.read('{"ts":"yesterday","request":{"remote_ip":"192.0.2.1","headers":{"X-Api-Key":["k"]}}}').kind).to.equal('bad');
    expect(r.read('[1,2]').kind).to.equal('unreadable');
    const envoy = reader('ndjson', {fields: {key: 'x-api-key', ip: 'downstream_remote_address', at: 'start_time'}});
    expect(envoy.read('{"start_time":"2026-11-30T10:00:00.123Z","downstream_remote_address":"[2001:db8::1]:443","x-api-key":"k"}')).to.deep.equal({
      kind: 'event',
      key: 'k',
      ip: '2001:db8::1',
      at: Date.parse('2026-11-30T10:00:00.123Z'),
    });
    expect(envoy.read('{"start_time":"2026-11-30T10:00:00.123Z","downstream_remote_address":"192.0.2.1:1","x-api-key":null}')).to.deep.equal({kind: 'keyless'});
    // A field name that itself holds dots.
    expect(lookup({'http.request.key': 'k'}, ['http', 'request', 'key'])).to.equal('k');
    expect(lookup({a: [{b: 'x'}, {b: 'y'}]}, ['a', '1', 'b'])).to.equal('y');
  });

  it('combined: the key from quoted field N (4 by default), nginx \\xHH and Apache \\" escapes, "-" is no key', () => {
    const line = (key: string) => `192.0.2.1 - bob [30/Nov/2026:11:00:00 +0100] "GET /a?\\x22 HTTP/1.1" 200 5 "-" "agent \\"x\\"" "${key}"`;
    expect(reader('combined').read(line('billing'))).to.deep.equal({kind: 'event', key: 'billing', ip: '192.0.2.1', at: Date.parse('2026-11-30T10:00:00Z')});
    expect(reader('combined').read(line('-')).kind).to.equal('keyless');
    expect(reader('combined').read(line('k\\x22ey'))).to.deep.include({key: 'k"ey'});
    expect(reader('combined', {keyField: 3}).read(line('billing'))).to.deep.include({key: 'agent "x"'});
    expect(reader('combined', {keyField: 5}).read(line('billing')).kind).to.equal('unreadable');
    expect(reader('combined').read('192.0.2.1 - - [30/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "unterminated').kind).to.equal('unreadable');
    expect(reader('combined').read('192.0.2.1 - - [31/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "x" "k"').kind).to.equal('bad');
  });

  it('a key field of `Bearer -` (the scheme and no value) is a request without a key, as `-` is', () => {
    const line = (key: string) => `192.0.2.1 - - [30/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua" "${key}"`;
    for (const key of ['-', 'Bearer -', 'bearer  -', 'Bearer ']) expect(reader('combined').read(line(key)), key).to.deep.equal({kind: 'keyless'});
  });

  it('postfix: SASL logins are events, every other syslog line is skipped, anything else is unreadable', () => {
    const r = reader('postfix');
    expect(r.read('Nov 30 10:00:01 mail postfix/smtpd[2201]: 4F1A22C0123: client=mail.example.com[198.51.100.20], sasl_method=PLAIN, sasl_username=relay')).to.deep.equal({
      kind: 'event',
      key: 'relay',
      ip: '198.51.100.20',
      at: Date.parse('2026-11-30T10:00:01Z'),
      smtpOnly: true,
    });
    expect(
      r.read(
        '2026-11-30T10:00:01.123456+01:00 mail postfix/submission/smtpd[7]: 5B: client=unknown[2001:db8::5]:587, sasl_method=LOGIN, sasl_username=relay, sasl_sender=a@b',
      ),
    ).to.deep.equal({
      kind: 'event',
      key: 'relay',
      ip: '2001:db8::5',
      at: Date.parse('2026-11-30T09:00:01.123Z'),
      smtpOnly: true,
    });
    // journalctl -o short-iso.
    expect(r.read('2026-11-30T10:00:01+0000 mail postfix/smtpd[1]: 6C: client=unknown[203.0.113.7], sasl_method=PLAIN, sasl_username=relay')).to.deep.include({
      key: 'relay',
      at: Date.parse('2026-11-30T10:00:01Z'),
    });
    expect(r.read('Nov 30 10:00:01 mail postfix/smtpd[2201]: connect from x[192.0.2.1]')).to.deep.equal({kind: 'skip'});
    expect(r.read('Nov 30 10:00:01 mail postfix/smtp[2201]: 4F: client=x[192.0.2.1], sasl_method=PLAIN, sasl_username=relay')).to.deep.equal({kind: 'skip'});
    expect(r.read('Nov 30 10:00:01 mail dovecot: imap-login: Login: user=<a>')).to.deep.equal({kind: 'skip'});
    expect(r.read('postfix/smtpd: client=x[192.0.2.1], sasl_method=PLAIN, sasl_username=relay').kind).to.equal('unreadable');
  });

  it('regex: named groups, with a missing or "-" key as a request without a key', () => {
    const r = reader('regex', {pattern: /^(?<key>\S+) (?<ip>\S+)(?: (?<at>.+))?$/});
    expect(r.read('k 192.0.2.1:80 30/Nov/2026:10:00:00 +0000')).to.deep.equal({kind: 'event', key: 'k', ip: '192.0.2.1', at: Date.parse('2026-11-30T10:00:00Z')});
    expect(r.read('- 192.0.2.1').kind).to.equal('keyless');
    expect(r.read('one').kind).to.equal('unreadable');
    expect(() => reader('regex', {pattern: /(?<key>\S+)/})).to.throw(/no named group ip/);
  });

  it("auto: chooses the format of the first line some format reads; lines before it are unreadable, other programs' syslog lines skipped", () => {
    const r = reader('auto');
    expect(r.read('<html>').kind).to.equal('unreadable');
    expect(r.read('Nov 30 10:00:01 mail dovecot: imap-login: x').kind).to.equal('skip');
    expect(r.format).to.equal(null);
    expect(r.read('Nov 30 10:00:01 mail postfix/qmgr[1]: 4F: removed').kind).to.equal('skip');
    expect([r.format, r.chosenBy]).to.deep.equal(['postfix', 'detected']);
    expect(recognize('billing 192.0.2.1')).to.equal('keyward');
    expect(recognize('{"key":"b","ip":"192.0.2.1"}')).to.equal('keyward');
    expect(recognize('{"remote_addr":"192.0.2.1"}')).to.equal('ndjson');
    expect(recognize('192.0.2.1 - - [30/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "x"')).to.equal('combined');
    expect(recognize('a b c d')).to.equal(null);
  });

  it('times: ISO 8601 needs Z or an offset, the combined form, syslog without a year, Unix seconds', () => {
    const now = NOW.getTime();
    expect(anyTime('2026-11-30T10:00:00+02:00', now)).to.equal(Date.parse('2026-11-30T08:00:00Z'));
    expect(Number.isNaN(anyTime('2026-11-30T10:00:00', now))).to.equal(true);
    expect(anyTime('1796032800', now)).to.equal(Date.parse('2026-11-30T10:00:00Z'));
    expect(combinedTime('[30/Nov/2026:10:00:00 -0130]')).to.equal(Date.parse('2026-11-30T11:30:00Z'));
    expect(Number.isNaN(combinedTime('29/Feb/2026:10:00:00 +0000'))).to.equal(true);
    expect(Number.isNaN(combinedTime('30/Nov/2026:24:00:00 +0000'))).to.equal(true);
    // The year that puts the stamp nearest before now, a few minutes of skew allowed.
    expect(syslogTime('Nov 30 12:04:00', now)).to.equal(Date.parse('2026-11-30T12:04:00Z'));
    expect(syslogTime('Nov 30 12:06:00', now)).to.equal(Date.parse('2025-11-30T12:06:00Z'));
    expect(syslogTime('Dec  1 00:00:00', now)).to.equal(Date.parse('2025-12-01T00:00:00Z'));
    expect(syslogTime('Feb 29 10:00:00', now)).to.equal(Date.parse('2024-02-29T10:00:00Z'));
    expect(syslogTime('Jan  1 00:00:00', Date.parse('2027-01-01T00:01:00Z'))).to.equal(Date.parse('2027-01-01T00:00:00Z'));
  });

  it('keys and addresses: Bearer and ports come off, a bare IPv6 address keeps its last group', () => {
    expect(keyOf('  Bearer   abc ')).to.equal('abc');
    expect(keyOf('bearer\tabc')).to.equal('abc');
    expect(keyOf('Bearerabc')).to.equal('Bearerabc');
    expect(stripPort('192.0.2.1:8080')).to.equal('192.0.2.1');
    expect(stripPort('[2001:db8::1]:443')).to.equal('2001:db8::1');
    expect(stripPort('[2001:db8::1]')).to.equal('2001:db8::1');
    expect(stripPort('2001:db8::1:443')).to.equal('2001:db8::1:443');
    expect(stripPort('192.0.2.1:80:80')).to.equal('192.0.2.1:80:80');
    // A port is 1 to 65535 without leading zeros, and brackets hold IPv6 only: anything else is left whole, a bad line
    // (found by an outside tester: `:99999`, `:0` and `[1.2.3.4]:80` were read as the address).
    for (let port = 0; port <= 70_000; port += port < 100 ? 1 : 97) {
      const kept = port >= 1 && port <= 65_535;
      expect(stripPort(`192.0.2.1:${port}`), `port ${port}`).to.equal(kept ? '192.0.2.1' : `192.0.2.1:${port}`);
      expect(stripPort(`[2001:db8::1]:${port}`), `port ${port}`).to.equal(kept ? '2001:db8::1' : `[2001:db8::1]:${port}`);
    }
    expect(stripPort('192.0.2.1:65535')).to.equal('192.0.2.1');
    expect(stripPort('192.0.2.1:65536')).to.equal('192.0.2.1:65536');
    expect(stripPort('192.0.2.1:080')).to.equal('192.0.2.1:080');
    expect(stripPort('[192.0.2.1]:80')).to.equal('[192.0.2.1]:80');
  });
});

// ---- Properties: random events written as each tool writes them, read back ----

interface Event {
  key: string;
  ip: string;
  /** Whole seconds, UTC. */
  at: number;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

const keyArb = fc.oneof(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/), fc.stringMatching(/^[0-9a-f]{40}$/));
const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'));
const ipv6 = fc.array(fc.nat(0xffff), {minLength: 8, maxLength: 8}).map((g) => g.map((n) => n.toString(16)).join(':'));
// Times within the year before NOW, whole seconds (what combined and syslog carry).
const atArb = fc.integer({min: 0, max: 360 * 86_400}).map((back) => Math.floor(NOW.getTime() / 1000) * 1000 - back * 1000);
const eventArb = fc.record({key: keyArb, ip: fc.oneof(ipv4, ipv6), at: atArb});
// Text a request or a user agent may hold, quotes and backslashes and controls included.
const noise = fc.string({unit: 'binary', maxLength: 30});

/** nginx's default escaping of a variable in a quoted field: `"`, `\` and bytes outside 32–126 as \xHH. */
const nginxEscape = (text: string) =>
  [...Buffer.from(text, 'utf8')]
    .map((b) => (b === 34 || b === 92 || b < 32 || b > 126 ? `\\x${b.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(b)))
    .join('');

function combinedStamp(ms: number, offsetMinutes: number): string {
  const d = new Date(ms + offsetMinutes * 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const off = Math.abs(offsetMinutes);
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${sign}${pad(Math.floor(off / 60))}${pad(off % 60)}`;
}

function syslogStamp(ms: number): string {
  const d = new Date(ms);
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

const bracketed = (ip: string) => (ip.includes(':') ? `[${ip}]` : ip);

/** Each format: how a tool writes the event, and the reader options that read it. */
const WRITERS: {name: string; format: LogFormat; options?: Partial<ConstructorParameters<typeof LogReader>[0]>; write: (e: Event, n: string, extra: number) => string}[] = [
  {name: 'keyward', format: 'keyward', write: (e) => `${e.key} ${e.ip} ${new Date(e.at).toISOString()}`},
  {
    name: 'nginx escape=json',
    format: 'ndjson',
    options: {fields: {key: 'http_x_api_key', ip: 'remote_addr', at: 'time_iso8601'}},
    write: (e, n) =>
      JSON.stringify({
        time_iso8601: new Date(e.at).toISOString().replace('.000Z', '+00:00'),
        remote_addr: e.ip,
        request: n,
        status: 200,
        http_x_api_key: e.key,
        http_user_agent: n,
      }),
  },
  {
    name: 'nginx combined',
    format: 'combined',
    write: (e, n, extra) => `${e.ip} - - [${combinedStamp(e.at, (extra % 1500) - 750)}] "${nginxEscape(n)}" 200 5 "-" "${nginxEscape(n)}" "Bearer ${e.key}"`,
  },
  {
    name: 'Envoy',
    format: 'ndjson',
    options: {fields: {key: 'x-api-key', ip: 'downstream_remote_address', at: 'start_time'}},
    write: (e, n, extra) =>
      JSON.stringify({start_time: new Date(e.at).toISOString(), 'user-agent': n, downstream_remote_address: `${bracketed(e.ip)}:${1 + (extra % 65535)}`, 'x-api-key': e.key}),
  },
  {
    name: 'Caddy',
    format: 'ndjson',
    options: {fields: {key: 'request.headers.X-Api-Key', ip: 'request.remote_ip', at: 'ts'}},
    write: (e, n) => JSON.stringify({level: 'info', ts: e.at / 1000, msg: n, request: {remote_ip: e.ip, headers: {'User-Agent': [n], 'X-Api-Key': [e.key]}}}),
  },
  {
    name: 'Postfix',
    format: 'postfix',
    write: (e, _n, extra) =>
      `${syslogStamp(e.at)} mail postfix/smtpd[${extra}]: 4F${extra.toString(16).toUpperCase()}: client=unknown[${e.ip}], sasl_method=PLAIN, sasl_username=${e.key}`,
  },
];

/**
 * The oracle for a line no one wrote: an event's key and address are text of
 * the line, a time is a time; `-` is no key, but in keyward's own format
 * (where it always was a key name, unknown to every store).
 */
function plausible(line: string, read: LineRead, format: LogFormat | null): boolean {
  if (read.kind !== 'event') return true;
  const decoded = line.replace(/\\x([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  const holds = (text: string) => line.includes(text) || decoded.includes(text) || line.includes(JSON.stringify(text).slice(1, -1));
  return (
    read.key.length > 0 &&
    (read.key !== '-' || format === 'keyward') &&
    holds(read.key) &&
    read.ip.length > 0 &&
    holds(read.ip) &&
    (Number.isNaN(read.at) || Number.isFinite(read.at))
  );
}

describe('core/log-formats: properties', () => {
  for (const w of WRITERS) {
    it(`${w.name}: a random event as the tool writes it reads back exactly, and auto recognises the format`, () => {
      fc.assert(
        fc.property(eventArb, noise, fc.nat(1_000_000), (event, n, extra) => {
          const line = w.write(event, n, extra);
          // (A mail log's login is a use of an SMTP key only.)
          const expected = {kind: 'event', key: event.key, ip: event.ip, at: event.at, ...(w.format === 'postfix' ? {smtpOnly: true} : {})};
          expect(new LogReader({format: w.format, now: NOW, ...w.options}).read(line)).to.deep.equal(expected);
          const auto = new LogReader({format: 'auto', now: NOW, ...w.options});
          const read = auto.read(line);
          expect(auto.format).to.equal(w.format);
          if (w.format !== 'ndjson') expect(read).to.deep.equal(expected);
        }),
        {numRuns: RUNS},
      );
    });

    it(`${w.name}: a mangled line never crashes the reader and never yields an event that is not in it`, () => {
      fc.assert(
        fc.property(
          eventArb,
          noise,
          fc.nat(1_000_000),
          fc.array(fc.tuple(fc.nat(), fc.nat(3), fc.string({unit: 'binary', maxLength: 3})), {minLength: 1, maxLength: 4}),
          (event, n, extra, edits) => {
            let line = w.write(event, n, extra);
            for (const [at, op, text] of edits) {
              const i = at % (line.length + 1);
              line =
                op === 0
                  ? line.slice(0, i) + text + line.slice(i)
                  : op === 1
                    ? line.slice(0, i) + line.slice(i + 1 + text.length)
                    : op === 2
                      ? line.slice(0, i)
                      : text + line.slice(i);
            }
            line = line.trim();
            for (const format of ['auto', 'keyward', 'ndjson', 'combined', 'postfix'] as const) {
              const r = new LogReader({format, now: NOW, ...(format === 'ndjson' || format === 'auto' ? w.options : {})});
              const read = r.read(line);
              expect(plausible(line, read, r.format), `${format}: ${JSON.stringify(line)} → ${JSON.stringify(read)}`).to.equal(true);
            }
          },
        ),
        {numRuns: RUNS},
      );
    });
  }

  it('any text: the detector and every format answer without throwing, and an event is always text of the line', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({unit: 'binary', maxLength: 200}), fc.string({unit: fc.constantFrom(...' -[]":/{}\\,.0123456789abcdefNov'.split('')), maxLength: 120})),
        (text) => {
          const line = text.trim();
          recognize(line);
          for (const format of ['auto', 'keyward', 'ndjson', 'combined', 'postfix'] as const) {
            const r = new LogReader({format, now: NOW});
            const read = r.read(line);
            expect(plausible(line, read, r.format), `${format}: ${JSON.stringify(line)} → ${JSON.stringify(read)}`).to.equal(true);
          }
        },
      ),
      {numRuns: RUNS * 5},
    );
  });

  it('syslogTime: the latest date of that stamp at or before now (+5 minutes), against a search over years', () => {
    fc.assert(
      fc.property(
        fc.integer({min: Date.parse('2001-01-01T00:00:00Z'), max: Date.parse('2090-01-01T00:00:00Z')}),
        fc.integer({min: 0, max: 7 * 366 * 86_400}),
        (nowMs, back) => {
          const at = Math.floor(nowMs / 1000) * 1000 - back * 1000;
          const stamp = syslogStamp(at);
          // The oracle: every year from now's next back eight, the latest whose instant is not after now + 5 min.
          const d = new Date(at);
          let want = Number.NaN;
          for (let y = new Date(nowMs).getUTCFullYear() + 1; y > new Date(nowMs).getUTCFullYear() - 8; y--) {
            const t = Date.UTC(y, d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds());
            if (new Date(t).getUTCDate() !== d.getUTCDate()) continue;
            if (t <= nowMs + 300_000) {
              want = t;
              break;
            }
          }
          expect(syslogTime(stamp, nowMs)).to.equal(want);
          expect(syslogTime(stamp, nowMs) >= at || back > 366 * 86_400).to.equal(true);
        },
      ),
      {numRuns: RUNS},
    );
  });
});
