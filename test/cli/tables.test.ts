/**
 * Tables (issue 14 item 4, docs/contract.md "Output shapes"): on a terminal,
 * aligned columns that wrap whole words only (never an address, key name or
 * flag cut), dates as `2026-11-30 17:41` under a "(UTC)" heading, expiries
 * relative, no rules between rows, and a pager when taller than the screen;
 * in a pipe, TSV with a header line, one row a line, escaped text. The
 * terminal is a real one: `script` runs keyward on a pseudo-terminal.
 */
import {spawnSync} from 'node:child_process';
import {existsSync, readFileSync} from 'node:fs';
import path from 'node:path';

import {expect} from 'chai';
import fc from 'fast-check';

import {Column, expiresIn, fitWidths, shortTime, terminalTable, tsv, wrap} from '../../src/cli/render.js';
import {BIN, daysAfter, environment, NOW, RunResult, Workspace} from './harness.js';

const ok = (r: RunResult, code = 0): RunResult => {
  expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(code);
  return r;
};

const hasScript = spawnSync('script', ['--version'], {encoding: 'utf8'}).status === 0;

/** Runs keyward on a pseudo-terminal (util-linux `script`), its output as the terminal got it (\r\n made \n). */
function onTerminal(ws: Workspace, args: string[], env: Record<string, string | undefined> = {}): {code: number | null; out: string} {
  const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  const command = [process.execPath, BIN, ...args].map(quote).join(' ');
  const run = spawnSync('script', ['-qec', command, '/dev/null'], {
    cwd: ws.dir,
    // (A terminal that can page and colour, whatever the runner's TERM is.)
    env: environment(ws.store, {now: NOW, env: {COLUMNS: '60', LINES: '200', PAGER: 'false-pager-unset', TERM: 'xterm', ...env}}),
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout: 30_000,
  });
  return {code: run.status, out: run.stdout.replaceAll('\r\n', '\n')};
}

/** A store with long IPv6 entries, key names, labels, a group, deny, disabled and expiring entries, a blocked address. */
function store(): Workspace {
  const ws = Workspace.create();
  ok(ws.run(['keys', 'create', 'billing-eu-west', '--type', 'api', '--allow', '2001:db8:abcd:1234::/64', '--allow', '192.0.2.0/24'], {now: NOW}));
  ok(ws.run(['keys', 'create', 'relay', '--type', 'smtp'], {now: NOW}));
  ok(ws.run(['authorize', '192.0.2.0/24', '--label', 'office network on the third floor'], {now: NOW}));
  ok(ws.run(['authorize', '2001:db8:abcd:1234:5678::/80', '--label', 'datacenter v6 range', '--expires', '30d'], {now: NOW}));
  ok(ws.run(['authorize', '198.51.100.7', '--group', 'github-actions'], {now: NOW}));
  ok(ws.run(['authorize', '203.0.113.9', '--expires', '1d'], {now: NOW}));
  ok(ws.run(['deny', '10.66.0.0/16', '--label', 'stolen key caller'], {now: NOW}));
  ok(ws.run(['authorize', '100.64.0.0/10'], {now: NOW}));
  ok(ws.run(['disable', '100.64.0.0/10'], {now: NOW}));
  ok(ws.run(['activate', '--api', '--force'], {now: NOW}));
  ok(ws.run(['learn', '-'], {now: NOW, input: `billing-eu-west 198.18.0.66 ${NOW}\n`}));
  return ws;
}

/** Words that must never be cut: every address, key name and group the store holds. */
const WHOLE = [
  '2001:db8:abcd:1234::/64',
  '2001:db8:abcd:1234:5678::/80',
  '192.0.2.0/24',
  '198.51.100.7',
  '203.0.113.9',
  '10.66.0.0/16',
  '100.64.0.0/10',
  'billing-eu-west',
  'github-actions',
];

/** Every word of WHOLE stands whole on one line of `out` (`lines`): no address, key name or group is split. */
function expectWholeWords(lines: string[], out: string): void {
  for (const word of WHOLE)
    expect(
      lines.some((l) => l.split(/\s+/).includes(word)),
      `${word} whole on one line:\n${out}`,
    ).to.equal(true);
}

describe('tables on a terminal', function () {
  this.timeout(60_000);
  const ws = store();
  const later = daysAfter(NOW, 3);

  before(function () {
    if (!hasScript) this.skip();
  });

  it('at 60 columns, too narrow for the columns side by side: a record a row, no word split, no line wider than 60', () => {
    const {code, out} = onTerminal(ws, ['list'], {KEYWARD_NOW: later});
    expect(code, out).to.equal(0);
    const lines = out.trimEnd().split('\n');
    expectWholeWords(lines, out);
    for (const line of lines) expect(line.length, line).to.be.at.most(60);
    // A record a row: each starts with its entry, records apart by one blank line.
    expect(lines.filter((l) => /^entry\s/.test(l))).to.have.length(8);
    expect(lines.filter((l) => l === '')).to.have.length(7);
    expect(out).to.match(/^added \(UTC\)\s+2026-01-01 00:00$/m);
    expect(out, 'no ISO timestamps on a terminal').not.to.match(/\d{2}:\d{2}:\d{2}|T\d{2}:|\.000Z/);
  });

  it('at 140 columns: one table, no address, key name or group is split, dates are short and UTC, no rules between rows', () => {
    const {code, out} = onTerminal(ws, ['list'], {KEYWARD_NOW: later, COLUMNS: '140'});
    expect(code, out).to.equal(0);
    const lines = out.trimEnd().split('\n');
    expectWholeWords(lines, out);
    expect(lines[0]).to.match(/^entry\s+scope\s+effect\s+source\s+label\s+group\s+added \(UTC\)\s+expires$/);
    expect(out).to.contain('(UTC)');
    expect(out).to.match(/2026-01-01\s+00:00/);
    expect(out, 'no ISO timestamps on a terminal').not.to.match(/\d{2}:\d{2}:\d{2}|T\d{2}:|\.000Z/);
    expect(out, 'expiries relative').to.contain('in 27 d').and.contain('expired 2 d ago');
    expect(out, 'no box drawing').not.to.match(/[│┌├└─┼]/);
    expect(
      lines.filter((l) => /^[\s\-=_+|]+$/.test(l)),
      'no rule lines',
    ).to.deep.equal([]);
    // Each entry starts a line; a row takes more than one line only where a cell wraps.
    const starts = lines.filter((l) => /^\S/.test(l));
    expect(starts).to.have.length(1 + 8);
  });

  it('keys list, blocked, history, list --contains, --aggregate and --key: whole words, short dates, one header', () => {
    const outs = new Map<string, string>();
    const v6 = '2001:db8:abcd:1234::/64';
    for (const [args, whole] of [
      [
        ['keys', 'list'],
        ['billing-eu-west', v6, '192.0.2.0/24', 'relay'],
      ],
      [['blocked'], ['198.18.0.66', 'billing-eu-west']],
      [['history'], ['2001:db8:abcd:1234:5678::/80', '198.51.100.7', 'billing-eu-west', '--expires']],
      [
        ['list', '--contains', '192.0.2.66'],
        ['192.0.2.0/24', 'billing-eu-west'],
      ],
      [
        ['list', '--aggregate'],
        ['192.0.2.0/24', '198.51.100.7', v6, 'billing-eu-west'],
      ],
      [
        ['list', '--key', 'billing-eu-west'],
        ['192.0.2.0/24', v6, 'billing-eu-west'],
      ],
    ] as [string[], string[]][]) {
      const {code, out} = onTerminal(ws, args);
      expect(code, `${args.join(' ')}\n${out}`).to.equal(0);
      expect(out, args.join(' ')).not.to.match(/[│┌├└─┼\t]|\.000Z/);
      const words = new Set(out.split(/[\s,]+/));
      for (const word of whole) expect(words.has(word), `${args.join(' ')}: ${word} whole\n${out}`).to.equal(true);
      outs.set(args.join(' '), out);
    }
    expect(outs.get('keys list')).to.contain('billing-eu-west').and.contain('2001:db8:abcd:1234::/64').and.contain('created (UTC)');
    const history = outs.get('history')!;
    expect(history).to.contain('time (UTC)');
    for (const flag of ['--expires', '--label', '--group', '--force']) expect(history.split(/\s+/), flag).to.include(flag);
    // Seven columns do not fit side by side in 60: a record a row, a line a field.
    const blocked = outs.get('blocked')!;
    for (const line of [/^address\s+198\.18\.0\.66$/m, /^key\s+billing-eu-west$/m, /^reason\s+not-in-key-allowlist$/m, /^first seen \(UTC\)\s+\d{4}-\d\d-\d\d \d\d:\d\d$/m])
      expect(blocked).to.match(line);
    expect(outs.get('list --contains 192.0.2.66')!.split('\n')[0]).to.match(/^entry\s+scope\s+applies\s+why$/);
  });

  it('a pager only when the table is taller than the screen, on a terminal, without --json or --no-pager; a pager that fails is not an error', () => {
    const recorder = ws.file('pager.sh', 'echo ran > "$0.ran"; cat > "$0.out"\n');
    const ran = `${recorder}.ran`;
    const pager = {PAGER: `sh ${recorder}`, LINES: '5'};
    const reset = () => spawnSync('rm', ['-f', ran, `${recorder}.out`]);

    reset();
    const paged = onTerminal(ws, ['list'], pager);
    expect(paged.code).to.equal(0);
    expect(existsSync(ran), 'a table of 10 lines on a 5-line screen goes through $PAGER').to.equal(true);
    expect(readFileSync(`${recorder}.out`, 'utf8')).to.contain('github-actions');
    expect(paged.out, 'the pager had the text, not the terminal').not.to.contain('github-actions');

    reset();
    onTerminal(ws, ['list'], {...pager, KEYWARD_PAGER: 'cat'});
    expect(existsSync(ran), '$KEYWARD_PAGER comes before $PAGER').to.equal(false);

    reset();
    const dumb = onTerminal(ws, ['list'], {...pager, TERM: 'dumb'});
    expect(existsSync(ran), 'no pager on TERM=dumb').to.equal(false);
    expect(dumb.out, 'printed straight on TERM=dumb').to.contain('github-actions');
    // Nor a prompt, whose cursor movements would print as garbage: a confirmation is refused as off a terminal.
    const asked = onTerminal(ws, ['revoke', '198.51.100.7'], {TERM: 'dumb'});
    expect(asked.code, asked.out).to.equal(4);
    expect(asked.out).to.contain('refused: the terminal (TERM=dumb) cannot show a prompt').and.not.contain('\u001b[');

    for (const args of [
      ['list', '--no-pager'],
      ['list', '--json'],
      ['list', '--key', 'relay', '--account'],
    ]) {
      reset();
      const {code, out} = onTerminal(ws, args, pager);
      expect(code, out).to.be.oneOf([0, 2]);
      expect(existsSync(ran), `no pager for ${args.join(' ')}`).to.equal(false);
    }
    reset();
    onTerminal(ws, ['keys', 'list'], {...pager, LINES: '50'});
    expect(existsSync(ran), 'a table that fits is printed').to.equal(false);

    reset();
    const piped = ws.run(['list'], {env: pager});
    expect(piped.stdout.split('\n')[0].split('\t')[0]).to.equal('entry');
    expect(existsSync(ran), 'never a pager in a pipe').to.equal(false);

    const broken = onTerminal(ws, ['list'], {PAGER: path.join(ws.dir, 'no-such-pager'), LINES: '5'});
    expect(broken.code).to.equal(0);
    expect(broken.out, 'printed when the pager cannot start').to.contain('github-actions');
  });
});

describe('tables in a pipe: TSV', () => {
  const ws = store();

  it('list: a header of the --json fields, one row a line, full ISO times, no colour', () => {
    const out = ok(ws.run(['list'], {env: {FORCE_COLOR: '1'}})).stdout;
    const lines = out.replace(/\n$/, '').split('\n');
    expect(lines[0]).to.equal('entry\tscope\teffect\tenabled\tsource\tlabel\tgroup\taddedAt\texpiresAt');
    const json = ok(ws.run(['list', '--json'])).json<Record<string, unknown>[]>();
    expect(lines).to.have.length(json.length + 1);
    const fields = lines[0].split('\t');
    lines.slice(1).forEach((line, i) => {
      const cells = line.split('\t');
      expect(cells).to.have.length(fields.length);
      fields.forEach((f, j) => expect(cells[j], `${f} of row ${i}`).to.equal(json[i][f] === null ? '' : String(json[i][f])));
    });
    expect(out).not.to.contain('\u001b[');
  });

  it('tabs, newlines and escapes in a label or key name never break a row', () => {
    const hostile = Workspace.create();
    ok(hostile.run(['authorize', '192.0.2.1', '--label', 'a\tb\nc\r\u001b[31md'], {now: NOW}));
    ok(hostile.run(['authorize', '192.0.2.2', '--label', 'plain'], {now: NOW}));
    const lines = ok(hostile.run(['list']))
      .stdout.replace(/\n$/, '')
      .split('\n');
    expect(lines).to.have.length(3);
    expect(lines.map((l) => l.split('\t').length)).to.deep.equal([9, 9, 9]);
    expect(lines[1]).to.contain('a\\tb\\nc\\r\\u001b[31md');
  });

  it('every table command: a header, then one row a line with as many fields', () => {
    for (const [args, header] of [
      [['keys', 'list'], 'name\ttype\thint\tstatus\tcreatedAt\trotatedAt\tallow\tdeny'],
      [['blocked'], 'ip\tkey\tchannel\treason\tfirstSeen\tlastSeen\tcount'],
      [['history'], 'at\tcommand\tflags\tuser\tchanges'],
      [['list', '--aggregate'], 'entry\tscope'],
      [['list', '--aggregate', '--key', 'relay'], 'entry\tscope'],
      [['list', '--contains', '192.0.2.66'], 'entry\tscope\teffect\tenabled\tsource\tlabel\tgroup\taddedAt\texpiresAt\tapplies\twhy'],
      [['list', '--label', 'nothing-like-this'], 'entry\tscope\teffect\tenabled\tsource\tlabel\tgroup\taddedAt\texpiresAt'],
    ] as [string[], string][]) {
      const lines = ok(ws.run(args, {now: NOW}))
        .stdout.replace(/\n$/, '')
        .split('\n');
      expect(lines[0], args.join(' ')).to.equal(header);
      const n = header.split('\t').length;
      for (const line of lines) expect(line.split('\t'), `${args.join(' ')}: ${line}`).to.have.length(n);
    }
    const keys = ok(ws.run(['keys', 'list'])).stdout.split('\n');
    expect(keys[1]).to.equal('billing-eu-west\tapi\t' + keys[1].split('\t')[2] + '\tactive\t2026-01-01T00:00:00.000Z\t\t192.0.2.0/24,2001:db8:abcd:1234::/64\t');
  });

  it('list --aggregate: entry and scope, with one list as with several', () => {
    const one = ok(ws.run(['list', '--aggregate', '--account']))
      .stdout.replace(/\n$/, '')
      .split('\n');
    const all = ok(ws.run(['list', '--aggregate']))
      .stdout.replace(/\n$/, '')
      .split('\n');
    expect(one[0]).to.equal('entry\tscope');
    expect(one.slice(1).every((l) => l.endsWith('\taccount'))).to.equal(true);
    expect(all.slice(0, one.length)).to.deep.equal(one);
    expect(all.some((l) => l.endsWith('\tbilling-eu-west'))).to.equal(true);
  });

  it('100,000 entries in a pipe: measured (not asserted by time), every row written', function () {
    this.timeout(120_000);
    const big = Workspace.create();
    const lines: string[] = [];
    for (let i = 0; i < 100_000; i++) lines.push(`${10 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.0/24${i % 3 === 0 ? ` # label ${i}` : ''}`);
    ok(big.run(['authorize', '--file', big.file('big.txt', `${lines.join('\n')}\n`)], {now: NOW}));
    const started = process.hrtime.bigint();
    const run = spawnSync(process.execPath, [BIN, 'list'], {env: environment(big.store, {now: NOW}), encoding: 'utf8', maxBuffer: 64 << 20});
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout.split('\n')).to.have.length(100_002);
    console.log(`      keyward list of 100,000 entries into a pipe: ${Math.round(ms)} ms wall (this machine, this run)`);
  });
});

describe('a reader that goes away (| head -1)', () => {
  it('list, list --json, export and history stop with exit 0, never 13 for a wait that cannot end', () => {
    const ws = Workspace.create();
    // More than a pipe's buffer of output: the writes block, then the reader goes.
    const lines = Array.from({length: 20000}, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.0/24 # row ${i}`).join('\n');
    ok(ws.run(['authorize', '-', '--quiet'], {now: NOW, input: `${lines}\n`}));
    for (const args of [['list'], ['list', '--json'], ['export', '--format', 'plain'], ['history', '--json']]) {
      const script = 'set -o pipefail; "$1" "$2" "${@:3}" | head -n 1';
      const run = spawnSync('bash', ['-c', script, 'bash', process.execPath, BIN, ...args], {cwd: ws.dir, env: environment(ws.store, {now: NOW}), encoding: 'utf8'});
      expect(run.stdout.split('\n').length, args.join(' ')).to.equal(2);
      expect(run.status, `${args.join(' ')}: ${run.stderr}`).to.equal(0);
    }
  });
});

describe('the table renderer', () => {
  type Row = {a: string; b: string | null; n: number};
  const columns: Column<Row>[] = [
    {head: 'first column', field: 'a', value: (r) => r.a},
    {head: 'b', field: 'b', value: (r) => r.b},
    {field: 'n', value: (r) => r.n},
    {head: 'only here', text: (r) => `#${r.n}`},
  ];

  it('wraps whole words only; a word wider than the column keeps its line', () => {
    expect(wrap('office network on the third floor', 10)).to.deep.equal(['office', 'network on', 'the third', 'floor']);
    expect(wrap('2001:db8:abcd:1234:5678::/80 x', 5)).to.deep.equal(['2001:db8:abcd:1234:5678::/80', 'x']);
    expect(wrap('a\nb c', 10)).to.deep.equal(['a', 'b c']);
  });

  it('fitWidths: natural widths when they fit, else the widest gives way, never below its floor', () => {
    expect(fitWidths([10, 20, 30], [3, 3, 3], 100)).to.deep.equal([10, 20, 30]);
    expect(fitWidths([10, 20, 30], [3, 3, 3], 50)).to.deep.equal([10, 20, 20]);
    expect(fitWidths([10, 20, 30], [10, 20, 25], 50)).to.deep.equal([10, 20, 25]);
  });

  it('never cuts a word, whatever the width and the words (property)', () => {
    const word = fc.stringMatching(/^[a-z0-9:./-]{1,30}$/);
    const cell = fc.array(word, {minLength: 0, maxLength: 5}).map((ws) => ws.join(' '));
    fc.assert(
      fc.property(fc.array(fc.tuple(cell, cell), {minLength: 1, maxLength: 8}), fc.integer({min: 10, max: 120}), (cells, width) => {
        const rows = cells.map(([a, b], n) => ({a, b, n}));
        const text = terminalTable(columns, rows, width);
        const tokens = new Set(text.split(/\s+/));
        for (const r of rows) for (const w of `${r.a} ${r.b}`.split(' ').filter((x) => x.length > 0)) if (!tokens.has(w)) return false;
        // No line is wider than the terminal unless one word beside its heading ("first column  WORD") is.
        const longest = Math.max(...rows.flatMap((r) => `${r.a} ${r.b}`.split(' ').map((x) => x.length)));
        const widest = Math.max(...text.split('\n').map((l) => l.length));
        return widest <= width || 'first column'.length + 2 + longest > width;
      }),
      {numRuns: 300},
    );
  });

  it('leaves out on a terminal a column empty in every row, and keeps every field in TSV', () => {
    const rows = [
      {a: 'x', b: null, n: 1},
      {a: 'y', b: null, n: 2},
    ];
    expect(terminalTable(columns, rows, 80).split('\n')).to.deep.equal(['first column  only here', 'x             #1', 'y             #2']);
    expect(tsv(columns, rows)).to.equal('a\tb\tn\nx\t\t1\ny\t\t2');
    expect(tsv(columns, [])).to.equal('a\tb\tn');
    expect(tsv(columns, [{a: 'tab\there', b: 'new\nline', n: 3}]).split('\n')[1]).to.equal('tab\\there\tnew\\nline\t3');
  });

  it('dates: minutes in UTC; expiries relative, rounded to the nearest day, hour or minute', () => {
    expect(shortTime('2026-11-30T17:41:59.000Z')).to.equal('2026-11-30 17:41');
    expect(shortTime('2026-11-30T18:41:00+01:00')).to.equal('2026-11-30 17:41');
    expect(shortTime(null)).to.equal(null);
    const now = new Date('2026-11-30T00:00:00Z');
    const at = (ms: number) => new Date(now.getTime() + ms).toISOString();
    const nb = (s: string) => s.replaceAll('\u00a0', ' ');
    expect(nb(expiresIn(at(3 * 86_400_000), now))).to.equal('in 3 d');
    expect(nb(expiresIn(at(2.6 * 86_400_000), now))).to.equal('in 3 d');
    expect(nb(expiresIn(at(47 * 3_600_000), now))).to.equal('in 47 h');
    expect(nb(expiresIn(at(90 * 60_000), now))).to.equal('in 90 min');
    expect(nb(expiresIn(at(10_000), now))).to.equal('in 1 min');
    expect(nb(expiresIn(at(-86_400_000 * 5), now))).to.equal('expired 5 d ago');
    expect(nb(expiresIn(at(0), now))).to.equal('expired 1 min ago');
  });
});
