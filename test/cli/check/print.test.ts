/**
 * `check KEY - --print allowed|denied` (SPEC "Commands", check row): a filter
 * that prints only the addresses with one decision, each as given (a stream
 * line without its line ending and surrounding blanks), one a line. Held to
 * an independent oracle (ipaddr.js) on random stores and random streams:
 * IPv4, IPv6 in any case and form, 4-in-6, deny entries, disabled and
 * expired entries, duplicates, blank lines, comments and CRLF; the exit code
 * stays check's; a bad line stops the filter with exit 2 after the lines
 * before it; stdin as a socket, a file and arguments; the fast path and the
 * oclif path (KEYWARD_NO_FAST_PATH=1) print the same bytes.
 */
import {spawnSync} from 'node:child_process';
import {closeSync, openSync} from 'node:fs';

import {expect} from 'chai';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';

import {BIN, daysAfter, environment, NOW, RunResult, Workspace} from '../harness.js';

const ok = (r: RunResult, code = 0): RunResult => {
  expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(code);
  return r;
};

/** The check runs a day after the expiring entries expired. */
const LATER = daysAfter(NOW, 2);

type Family = 4 | 6;

/** An entry of the small address space the probes are drawn from: 10.0.0.0/22 and 2001:db8::/94 (the last two groups 0-3 and any). */
interface Entry {
  family: Family;
  /** The two low groups of the space: IPv4 third octet (0-3) and fourth; IPv6 seventh group (0-3) and eighth. */
  high: number;
  low: number;
  bits: number;
}

function entryText(e: Entry): string {
  if (e.family === 4) {
    const value = ((e.high << 8) | e.low) >>> 0;
    const keep = 32 - e.bits;
    const masked = keep >= 16 ? 0 : (value >>> keep) << keep;
    return `10.0.${masked >>> 8}.${masked & 255}/${e.bits}`;
  }
  const value = ((e.high << 16) | e.low) >>> 0;
  const keep = 128 - e.bits;
  const masked = keep >= 32 ? 0 : keep === 0 ? value : Number((BigInt(value) >> BigInt(keep)) << BigInt(keep));
  return `${ipaddr.IPv6.parse(`2001:db8::${(masked >>> 16).toString(16)}:${(masked & 0xffff).toString(16)}`).toRFC5952String()}/${e.bits}`;
}

const entry: fc.Arbitrary<Entry> = fc.oneof(
  fc.record({family: fc.constant<Family>(4), high: fc.integer({min: 0, max: 3}), low: fc.integer({min: 0, max: 255}), bits: fc.integer({min: 22, max: 32})}),
  fc.record({family: fc.constant<Family>(6), high: fc.integer({min: 0, max: 3}), low: fc.integer({min: 0, max: 0xffff}), bits: fc.integer({min: 110, max: 128})}),
);

/** How each entry is stored: allowed for good, allowed until yesterday, denied; and whether it is then disabled. */
const stored = fc.record({
  entry,
  kind: fc.constantFrom('allow', 'allow', 'allow', 'expiring', 'deny'),
  disabled: fc.boolean(),
});

/** A probe line: an address of the space (or outside it) written in one of its forms, or a line the filter skips. */
const probeLine: fc.Arbitrary<string> = fc.oneof(
  {weight: 8, arbitrary: fc.tuple(fc.integer({min: 0, max: 3}), fc.integer({min: 0, max: 255})).map(([h, l]) => `10.0.${h}.${l}`)},
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.integer({min: 0, max: 3}), fc.integer({min: 0, max: 255}), fc.constantFrom('::ffff:', '::FFFF:', '0:0:0:0:0:ffff:'))
      .map(([h, l, form]) => `${form}10.0.${h}.${l}`),
  },
  {
    weight: 6,
    arbitrary: fc.tuple(fc.integer({min: 0, max: 3}), fc.integer({min: 0, max: 0xffff}), fc.constantFrom('short', 'upper', 'full')).map(([h, l, form]) => {
      const address = ipaddr.IPv6.parse(`2001:db8::${h.toString(16)}:${l.toString(16)}`);
      if (form === 'full') return address.toNormalizedString();
      const short = address.toRFC5952String();
      return form === 'upper' ? short.toUpperCase() : short;
    }),
  },
  {weight: 1, arbitrary: fc.constantFrom('192.0.2.1', '2001:db9::1', '::1', '0.0.0.0', '255.255.255.255')},
  {weight: 1, arbitrary: fc.constantFrom('', '   ', '# a comment', '#10.0.0.1')},
);

/** A line as written in the stream: sometimes with blanks around it or a CR before its LF. */
const streamLine = fc.tuple(probeLine, fc.constantFrom('', '', '', ' ', '\t'), fc.constantFrom('', '', '', '\r')).map(([line, pad, cr]) => `${pad}${line}${pad}${cr}`);

/** The oracle: the decision for `text` under blocking, by ipaddr.js over the live entries (deny first, then allow, else deny). */
function oracleAllows(text: string, entries: {entry: Entry; kind: string; disabled: boolean}[]): boolean {
  let address = ipaddr.parse(text);
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) address = (address as ipaddr.IPv6).toIPv4Address();
  const live = (kind: (k: string) => boolean) => entries.filter((s) => !s.disabled && kind(s.kind)).map((s) => ipaddr.parseCIDR(entryText(s.entry)));
  const inAny = (ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][]) => ranges.some((range) => range[0].kind() === address.kind() && address.match(range));
  if (inAny(live((k) => k === 'deny'))) return false;
  // An expiring entry expired before the check: it never matches.
  return inAny(live((k) => k === 'allow'));
}

/** What the filter prints for each wanted line: the line without its CR and surrounding blanks; blank and comment lines skipped. */
function expectedOutput(lines: string[], entries: {entry: Entry; kind: string; disabled: boolean}[], printed: 'allowed' | 'denied'): string {
  let out = '';
  for (const raw of lines) {
    const text = raw.trim();
    if (text === '' || text.startsWith('#')) continue;
    if (oracleAllows(text, entries) === (printed === 'allowed')) out += `${text}\n`;
  }
  return out;
}

/** A store holding `entries` (each canonical entry once, with its kind), an API key `ci` and API blocking active. */
function storeOf(entries: {entry: Entry; kind: string; disabled: boolean}[]): Workspace {
  const ws = Workspace.create();
  const texts = (kind: string) => entries.filter((s) => s.kind === kind).map((s) => entryText(s.entry));
  const allow = texts('allow');
  const expiring = texts('expiring');
  const deny = texts('deny');
  // A duplicate line in an import is one entry.
  if (allow.length > 0) ok(ws.run(['authorize', '-'], {now: NOW, input: `${[...allow, allow[0]].join('\n')}\n`}));
  if (expiring.length > 0) ok(ws.run(['authorize', '-', '--expires', '1d'], {now: NOW, input: `${expiring.join('\n')}\n`}));
  if (deny.length > 0) ok(ws.run(['deny', '-'], {now: NOW, input: `${deny.join('\n')}\n`}));
  const disabled = entries.filter((s) => s.disabled).map((s) => entryText(s.entry));
  if (disabled.length > 0) ok(ws.run(['disable', ...disabled], {now: NOW}));
  ok(ws.run(['keys', 'create', 'ci', '--type', 'api'], {now: NOW}));
  ok(ws.run(['activate', '--api', '--force'], {now: NOW}));
  return ws;
}

/** Each entry once (by its canonical text), so that its kind and state are one. */
function unique(entries: {entry: Entry; kind: string; disabled: boolean}[]) {
  const seen = new Set<string>();
  return entries.filter((s) => {
    const text = entryText(s.entry);
    if (seen.has(text)) return false;
    seen.add(text);
    return true;
  });
}

describe('keyward check --print', function () {
  this.timeout(120_000);

  it('prints exactly the addresses the oracle allows (or denies), as given, on random stores and streams, both ways', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stored, {minLength: 1, maxLength: 24}), fc.array(streamLine, {minLength: 1, maxLength: 150}), async (drawn, lines) => {
        const entries = unique(drawn);
        const ws = storeOf(entries);
        // Duplicates: the stream again, after itself.
        const input = `${[...lines, ...lines.slice(0, 10)].join('\n')}\n`;
        const all = input.split('\n').slice(0, -1);
        const addresses = all.filter((line) => line.trim() !== '' && !line.trim().startsWith('#'));
        const runs = await Promise.all(
          (['allowed', 'denied'] as const).flatMap((printed) =>
            [{}, {KEYWARD_NO_FAST_PATH: '1'}].map((env) => ws.start(['check', 'ci', '-', '--print', printed], {now: LATER, input, env})),
          ),
        );
        const [allowedFast, allowedOclif, deniedFast, deniedOclif] = runs;
        const anyDenied = addresses.some((line) => !oracleAllows(line.trim(), entries));
        for (const [run, printed] of [
          [allowedFast, 'allowed'],
          [deniedFast, 'denied'],
        ] as const) {
          if (addresses.length === 0) {
            // Nothing to decide is refused, as check refuses it.
            expect(run.code, run.stderr).to.equal(2);
            continue;
          }
          expect(run.stdout, `--print ${printed}`).to.equal(expectedOutput(all, entries, printed));
          expect(run.stderr).to.equal('');
          expect(run.code).to.equal(anyDenied ? 1 : 0);
        }
        for (const [fast, oclif] of [
          [allowedFast, allowedOclif],
          [deniedFast, deniedOclif],
        ]) {
          expect(oclif.stdout).to.equal(fast.stdout);
          expect(oclif.stderr).to.equal(fast.stderr);
          expect(oclif.code).to.equal(fast.code);
        }
      }),
      {numRuns: Number(process.env.KEYWARD_PROPERTY_RUNS ?? 4)},
    );
  });

  describe('on a fixed store', () => {
    let ws: Workspace;
    before(() => {
      ws = storeOf([
        {entry: {family: 4, high: 0, low: 0, bits: 24}, kind: 'allow', disabled: false}, // 10.0.0.0/24
        {entry: {family: 4, high: 0, low: 66, bits: 32}, kind: 'deny', disabled: false}, // 10.0.0.66
        {entry: {family: 6, high: 1, low: 0, bits: 112}, kind: 'allow', disabled: false}, // 2001:db8::1:0/112
      ]);
    });

    it('prints addresses given as arguments as given, in order, duplicates included; exit 1 when any is denied, 0 when none', () => {
      const args = ['10.0.0.1', '2001:DB8::1:5', '10.0.0.66', '::ffff:10.0.0.2', '10.0.0.1', '192.0.2.1'];
      const allowed = ok(ws.run(['check', 'ci', ...args, '--print', 'allowed'], {now: LATER}), 1);
      expect(allowed.stdout).to.equal('10.0.0.1\n2001:DB8::1:5\n::ffff:10.0.0.2\n10.0.0.1\n');
      expect(allowed.stderr).to.equal('');
      const denied = ok(ws.run(['check', 'ci', ...args, '--print=denied'], {now: LATER}), 1);
      expect(denied.stdout).to.equal('10.0.0.66\n192.0.2.1\n');
      const none = ok(ws.run(['check', 'ci', '10.0.0.1', '10.0.0.9', '--print', 'denied'], {now: LATER}), 0);
      expect(none.stdout).to.equal('');
    });

    it('keeps --expect: the exit code says whether every address got the expected decision', () => {
      expect(ok(ws.run(['check', 'ci', '10.0.0.66', '192.0.2.1', '--print', 'denied', '--expect', 'deny'], {now: LATER}), 0).stdout).to.equal('10.0.0.66\n192.0.2.1\n');
      expect(ok(ws.run(['check', 'ci', '10.0.0.66', '10.0.0.1', '--print', 'denied', '--expect', 'deny'], {now: LATER}), 1).stdout).to.equal('10.0.0.66\n');
    });

    it('stops at a bad line with exit 2, naming it, after printing the lines before it (fast path and oclif alike)', async () => {
      const input = '10.0.0.1\n10.0.0.2\n# fine\n010.0.0.3\n10.0.0.4\n';
      const [fast, oclif] = await Promise.all([
        ws.start(['check', 'ci', '-', '--print', 'allowed'], {now: LATER, input}),
        ws.start(['check', 'ci', '-', '--print', 'allowed'], {now: LATER, input, env: {KEYWARD_NO_FAST_PATH: '1'}}),
      ]);
      expect(fast.code).to.equal(2);
      expect(fast.stdout).to.equal('10.0.0.1\n10.0.0.2\n');
      expect(fast.stderr).to.contain('line 4');
      expect([oclif.code, oclif.stdout, oclif.stderr]).to.deep.equal([fast.code, fast.stdout, fast.stderr]);
      // A range is no address either.
      expect(ok(ws.run(['check', 'ci', '-', '--print', 'denied'], {now: LATER, input: '192.0.2.1\n10.0.0.0/24\n'}), 2).stdout).to.equal('192.0.2.1\n');
    });

    it('refuses an empty stdin and --print with --json or --ndjson (exit 2, nothing on stdout), and a value other than allowed or denied', async () => {
      const runs = await Promise.all([
        ws.start(['check', 'ci', '-', '--print', 'allowed'], {now: LATER, input: '\n# nothing\n'}),
        ws.start(['check', 'ci', '10.0.0.1', '--print', 'allowed', '--json'], {now: LATER}),
        ws.start(['check', 'ci', '10.0.0.1', '--ndjson', '--print', 'denied'], {now: LATER}),
        ws.start(['check', 'ci', '10.0.0.1', '--print', 'allow'], {now: LATER}),
        ws.start(['check', 'ci', '10.0.0.1', '--print'], {now: LATER}),
      ]);
      for (const run of runs) {
        expect(run.code, run.stderr).to.equal(2);
        // (--json puts its error object on stdout; it is never an address.)
        expect(run.stdout).not.to.contain('10.0.0.1\n');
      }
      expect(runs[1].stderr).to.contain('--print');
      expect(runs[2].stderr).to.contain('--print');
    });

    it('prints the same bytes from a file on stdin (read by its descriptor) as from a socket, over several reads', () => {
      const lines: string[] = [];
      for (let i = 0; i < 40_000; i++) lines.push(i % 7 === 0 ? `2001:db8::1:${(i & 0xffff).toString(16)}` : `10.0.${i % 2}.${i & 255}`);
      const input = `${lines.join('\n')}\n`;
      const streamed = ok(ws.run(['check', 'ci', '-', '--print', 'allowed'], {now: LATER, input}), 1);
      const file = ws.file('probes.txt', input);
      const fd = openSync(file, 'r');
      try {
        const run = spawnSync(process.execPath, [BIN, 'check', 'ci', '-', '--print', 'allowed'], {
          env: environment(ws.store, {now: LATER}),
          stdio: [fd, 'pipe', 'pipe'],
          encoding: 'utf8',
          maxBuffer: 1 << 26,
        });
        expect(run.status).to.equal(1);
        expect(run.stdout).to.equal(streamed.stdout);
      } finally {
        closeSync(fd);
      }
      const allowed = lines.filter((l) => (l.startsWith('10.0.0.') && l !== '10.0.0.66') || l.startsWith('2001:db8::1:'));
      expect(streamed.stdout).to.equal(`${allowed.join('\n')}\n`);
    });
  });
});
