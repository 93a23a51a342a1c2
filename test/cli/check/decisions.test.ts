/**
 * The decision writer (src/cli/check/decisions.ts) against the plain path it
 * replaces: lines read by eachLine, each decided by decide() and rendered by
 * JSON.stringify or the human line. Randomized inputs (valid and refused
 * lines, IPv4, IPv6 in any style, 4-in-6, comments, blanks, CRLF, BOM,
 * surrounding and Unicode spaces, bytes that are not UTF-8, long lines) are
 * cut into random chunks, and stdout must match byte for byte, as must the
 * tally and the error.
 */
import {expect} from 'chai';
import {Chalk, type ChalkInstance} from 'chalk';
import fc from 'fast-check';
import {Readable, Writable} from 'node:stream';

import {formatIPv4, formatIPv6} from '../../../src/core/address.js';
import {Decision, decide, EntryIndex, KeyPolicy, Verdict} from '../../../src/core/decision.js';
import {InputError} from '../../../src/core/errors.js';
import {BlockingState, EntryRecord, KeyRecord} from '../../../src/core/model.js';
import {DecisionFormat, writeDecisions} from '../../../src/cli/check/decisions.js';
import {accountTextsOf} from '../../../src/cli/check/outcomes.js';
import {eachLine, MAX_LINE_LENGTH} from '../../../src/cli/input.js';

const RUNS = Number(process.env.KEYWARD_PROPERTY_RUNS || 200);
const NOW = Date.parse('2025-06-01T00:00:00.000Z');

function record(entry: string, expiresAt: number | null = null): EntryRecord {
  return {entry, source: 'manual', label: null, addedAt: '2025-01-01T00:00:00.000Z', expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString()};
}

function keyRecord(name: string, status: 'active' | 'revoked', allow: EntryRecord[]): KeyRecord {
  return {name, type: 'api', hash: '0'.repeat(64), hint: '0000…0000', status, createdAt: '2025-01-01T00:00:00.000Z', rotatedAt: null, revokedAt: null, allow};
}

/** A deny entry, or (enabled false) a switched-off entry of either effect. */
function switched(r: EntryRecord, effect: 'allow' | 'deny', enabled = true): EntryRecord {
  return {...r, ...(effect === 'deny' ? {effect: 'deny' as const} : {}), ...(enabled ? {} : {enabled: false as const})};
}

const ACCOUNT = [
  record('10.0.0.0/8'),
  switched(record('10.1.128.0/17'), 'deny'),
  switched(record('10.0.5.0/24'), 'deny', false),
  switched(record('192.0.2.64/26', NOW + 1), 'deny'),
  switched(record('192.0.2.192/26', NOW - 1), 'deny'),
  switched(record('198.51.100.0/24'), 'allow', false),
  switched(record('2001:db8:1:5::/64'), 'deny'),
  record('10.1.0.0/16'),
  record('10.1.2.0/24', NOW - 1),
  record('10.1.2.3'),
  record('192.0.2.0/24'),
  record('198.51.100.7', NOW + 1),
  record('2001:db8::/32'),
  record('2001:db8:1::/48'),
  record('2001:db8:1::1'),
  record('fe80::/10', NOW),
];

function policyOf(options: {state: BlockingState; status: 'active' | 'revoked'; own: EntryRecord[]; name: string}): KeyPolicy {
  return {
    key: keyRecord(options.name, options.status, options.own),
    state: options.state,
    own: options.own.length > 0 ? EntryIndex.fromRecords(options.own) : null,
    restricted: options.own.some((r) => r.effect !== 'deny'),
    account: EntryIndex.fromRecords(ACCOUNT),
    nowMs: NOW,
  };
}

interface Outcome {
  stdout: Buffer;
  tally: {count: number; misses: number} | null;
  error: string | null;
}

interface Case {
  policy: KeyPolicy;
  args: string[];
  input: Buffer | null;
  format: DecisionFormat;
  wanted: Verdict;
  colour: ChalkInstance;
  /** Under `print`, the decision whose addresses are printed. */
  printed?: Verdict;
  /** Whether the account texts are given as bytes, as the index cache gives them (records written from them). */
  bytes?: boolean;
}

/** The plain path: eachLine, decide() and JSON.stringify per line, everything before a bad address written. */
async function reference(c: Case, chunks: Buffer[]): Promise<Outcome> {
  // --json is always an array, one address too (SPEC "Machine output").
  const jsonArray = c.format === 'json';
  const render = (d: Decision, text: string) => {
    // A filter prints the address as given (the line without its CR and surrounding blanks), or nothing.
    if (c.format === 'print') return d.decision === (c.printed ?? 'allow') ? `${text}\n` : '';
    if (c.format === 'human') {
      const verdict = d.decision === 'allow' ? c.colour.green('allow') : c.colour.red('deny ');
      const matched = d.matched.length > 0 ? `  ${c.colour.dim(d.matched.join(', '))}` : '';
      return `${verdict}  ${d.ip}  ${d.reason}${matched}\n`;
    }
    return c.format === 'ndjson' ? `${JSON.stringify(d)}\n` : JSON.stringify(d);
  };
  let out = '';
  let count = 0;
  let misses = 0;
  const add = (text: string, where: string) => {
    let d: Decision;
    try {
      d = decide(c.policy, text);
    } catch (error) {
      if (error instanceof InputError) throw new InputError(`${where}: ${error.message}`, error.hint);
      throw error;
    }
    if (d.decision !== c.wanted) misses++;
    out += (jsonArray ? (count === 0 ? '[\n' : ',\n') : '') + render(d, text);
    count++;
  };
  try {
    c.args.forEach((text, i) => add(text, `argument ${i + 2}`));
    if (c.input !== null) {
      await eachLine(Readable.from(chunks), (text, line) => {
        if (text.length === 0 || text.startsWith('#')) return;
        add(text, `line ${line}`);
      });
    }
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    // An array that cannot be closed is not written; line formats keep every decision before the bad line.
    return {stdout: Buffer.from(c.format === 'json' ? '' : out), tally: null, error: error.message};
  }
  if (count > 0) out += jsonArray ? '\n]\n' : '';
  return {stdout: Buffer.from(out), tally: {count, misses}, error: null};
}

/**
 * A sink that takes its time now and then, so that the writer must wait for
 * it ('slow'), or one that never makes the writer wait but holds each chunk
 * until a later turn, as a pipe the kernel has not taken yet ('late'): a
 * block reused before its write's callback would show in what it takes.
 */
function sink(pace: boolean | 'late'): {stream: Writable; bytes: () => Buffer} {
  const parts: Buffer[] = [];
  let calls = 0;
  const stream = new Writable({
    highWaterMark: pace === 'late' ? 1 << 30 : pace ? 64 : 16384,
    write(chunk: Buffer, _encoding, done) {
      if (pace === 'late') {
        setImmediate(() => {
          parts.push(Buffer.from(chunk));
          done();
        });
        return;
      }
      parts.push(Buffer.from(chunk));
      if (pace && ++calls % 3 === 0) setImmediate(done);
      else done();
    },
  });
  return {stream, bytes: () => Buffer.concat(parts)};
}

async function fast(c: Case, chunks: Buffer[], slow: boolean | 'late'): Promise<Outcome> {
  const {stream, bytes} = sink(slow);
  try {
    const tally = await writeDecisions({
      policy: c.policy,
      addresses: c.args.map((text, i) => ({text, where: `argument ${i + 2}`})),
      stream: c.input === null ? null : Readable.from(chunks),
      out: stream,
      format: c.format,
      wanted: c.wanted,
      colour: c.colour,
      printed: c.printed,
      accountTexts: c.bytes ? accountTextsOf(c.policy.account) : null,
    });
    await ended(stream);
    return {stdout: bytes(), tally, error: null};
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    await ended(stream);
    return {stdout: bytes(), tally: null, error: error.message};
  }
}

/** Once the sink has taken every write (a slow sink may still hold some when writeDecisions resolves, as a pipe would). */
async function ended(stream: Writable): Promise<void> {
  await new Promise<void>((resolve) => stream.end(() => resolve()));
}

/** Cuts `bytes` at the given points (taken modulo its length). */
function cut(bytes: Buffer, points: number[]): Buffer[] {
  if (bytes.length === 0) return [];
  const at = [...new Set(points.map((p) => p % bytes.length))].filter((p) => p > 0).sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const p of [...at, bytes.length]) {
    chunks.push(bytes.subarray(from, p));
    from = p;
  }
  return chunks;
}

// ---- the lines ------------------------------------------------------------------------------

const v4 = fc.oneof(
  fc.integer({min: 0, max: 0xffffffff}).map(formatIPv4),
  fc.integer({min: 0, max: 0x1ffff}).map((n) => formatIPv4(0x0a000000 + n)),
  fc.integer({min: 0, max: 0x3ff}).map((n) => formatIPv4(0x0a010000 + n)),
  fc.constantFrom('10.1.2.3', '192.0.2.255', '198.51.100.7', '0.0.0.0', '255.255.255.255'),
);

/** IPv6 in canonical and other styles: upper case, leading zeros, no compression. */
const v6 = fc
  .record({
    words: fc.oneof(
      fc.array(fc.integer({min: 0, max: 0xffffffff}), {minLength: 4, maxLength: 4}),
      fc.record({lo: fc.integer({min: 0, max: 0xffff}), mid: fc.constantFrom(0, 1, 0x10000)}).map(({lo, mid}) => [0x20010db8, mid, 0, lo]),
      fc.constantFrom([0xfe800000, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 1], [0x20010db8, 0x00010000, 0, 1]),
    ),
    style: fc.constantFrom('canonical', 'upper', 'full', 'padded'),
  })
  .map(({words, style}) => {
    const w = Uint32Array.from(words);
    const groups = Array.from({length: 8}, (_, k) => ((w[k >> 1] >>> (k % 2 === 0 ? 16 : 0)) & 0xffff).toString(16));
    if (style === 'canonical') return formatIPv6(w);
    if (style === 'upper') return formatIPv6(w).toUpperCase();
    if (style === 'full') return groups.join(':');
    return groups.map((g) => g.padStart(4, '0')).join(':');
  });

const mapped = v4.chain((a) => fc.constantFrom(`::ffff:${a}`, `::FFFF:${a}`, `0:0:0:0:0:ffff:${a}`));

const good = fc.oneof({arbitrary: v4, weight: 6}, {arbitrary: v6, weight: 3}, {arbitrary: mapped, weight: 1});

/** Ways a line may hold its address, all of which eachLine and decide accept. */
const dressed = fc.record({address: good, dress: fc.constantFrom('', '', '', '', 'cr', 'spaces', 'tab', 'nbsp', 'ideographic')}).map(({address, dress}) => {
  switch (dress) {
    case 'cr':
      return `${address}\r`;
    case 'spaces':
      return `  ${address} `;
    case 'tab':
      return `\t${address}\t\r`;
    case 'nbsp':
      return `\u00a0${address}`;
    case 'ideographic':
      return `${address}\u3000`;
    default:
      return address;
  }
});

const skipped = fc.constantFrom('', '   ', '\r', '# a comment', '  # indented comment', '#10.0.0.1', '# ünïcödé comment', '\u00a0# after a no-break space');

/** Lines that stop the run, for one of many reasons. */
const bad = fc.oneof(
  fc.constantFrom(
    '10.0.0.256',
    '010.0.0.1',
    '1.2.3',
    'fe80::1%eth0',
    '10.0.0.0/8',
    '2001:db8::/32',
    '10.0.0.1/33',
    '1.2.3.4 5',
    'x',
    '::ffff:1.2.3',
    '１.2.3.4',
    '1.2.3.4\u0000',
    '\u001b[31m1.2.3.4',
    '1.2.3.4\u202e',
  ),
  fc.string({maxLength: 20}).filter((s) => !s.includes('\n')),
);

type LineSpec = {kind: 'text'; text: string} | {kind: 'bytes'; bytes: number[]} | {kind: 'long'; length: number; fill: string};

const goodLine: fc.Arbitrary<LineSpec> = fc.oneof(
  {arbitrary: dressed.map((text) => ({kind: 'text' as const, text})), weight: 10},
  {arbitrary: skipped.map((text) => ({kind: 'text' as const, text})), weight: 1},
);

const anyLine: fc.Arbitrary<LineSpec> = fc.oneof(
  {arbitrary: dressed.map((text) => ({kind: 'text' as const, text})), weight: 40},
  {arbitrary: skipped.map((text) => ({kind: 'text' as const, text})), weight: 4},
  {arbitrary: bad.map((text) => ({kind: 'text' as const, text})), weight: 1},
  // Bytes that are not UTF-8 (or are, and are not addresses): shown escaped in the message.
  {
    arbitrary: fc
      .array(fc.constantFrom(0x31, 0x2e, 0xff, 0xfe, 0xc3, 0xa9, 0xe2, 0x80, 0x20, 0x0d, 0x00), {minLength: 1, maxLength: 8})
      .map((bytes) => ({kind: 'bytes' as const, bytes})),
    weight: 1,
  },
  {
    arbitrary: fc
      .record({
        length: fc.constantFrom(MAX_LINE_LENGTH - 1, MAX_LINE_LENGTH, MAX_LINE_LENGTH + 1, 3 * MAX_LINE_LENGTH, 5 * MAX_LINE_LENGTH),
        fill: fc.constantFrom('#', ' ', '1', 'é', '€', '😀'),
      })
      .map(({length, fill}) => ({kind: 'long' as const, length, fill})),
    weight: 1,
  },
);

function lineBytes(spec: LineSpec): Buffer {
  if (spec.kind === 'text') return Buffer.from(spec.text);
  if (spec.kind === 'bytes') return Buffer.from(spec.bytes);
  // A long line of `fill`, `length` UTF-16 units long (a comment, spaces or a non-address).
  const units = spec.fill.length;
  const text = spec.fill.repeat(Math.ceil(spec.length / units)).slice(0, spec.length);
  return Buffer.from(spec.fill === ' ' ? `${text.slice(1)}1` : text);
}

const input = fc
  .record({
    // Half the inputs have only lines that decide or are skipped; the others may stop anywhere.
    lines: fc.oneof(fc.array(goodLine, {maxLength: 60, size: 'max'}), fc.array(anyLine, {maxLength: 60, size: 'max'})),
    bom: fc.boolean(),
    crlf: fc.boolean(),
    finalNewline: fc.boolean(),
  })
  .map(({lines, bom, crlf, finalNewline}) => {
    const parts = lines.map(lineBytes);
    const eol = Buffer.from(crlf ? '\r\n' : '\n');
    const joined: Buffer[] = [];
    parts.forEach((p, i) => {
      joined.push(p);
      if (i < parts.length - 1 || finalNewline) joined.push(eol);
    });
    return Buffer.concat([Buffer.from(bom ? '\ufeff' : ''), ...joined]);
  });

const scenario = fc.record({
  state: fc.constantFrom<BlockingState>('active', 'learning', 'inactive'),
  status: fc.constantFrom<'active' | 'revoked'>('active', 'active', 'active', 'revoked'),
  own: fc.constantFrom<EntryRecord[]>([], [], [record('10.1.0.0/16'), record('2001:db8:1::/48')], [record('10.0.0.0/8', NOW - 1)]),
  name: fc.constantFrom('ci', 'q"uote', 'ключ'),
  format: fc.constantFrom<DecisionFormat>('ndjson', 'ndjson', 'json', 'human', 'print'),
  printed: fc.constantFrom<Verdict>('allow', 'deny'),
  wanted: fc.constantFrom<Verdict>('allow', 'deny'),
  colour: fc.boolean(),
  args: fc.array(fc.oneof({arbitrary: good, weight: 9}, {arbitrary: bad, weight: 1}), {maxLength: 3}),
  stdin: fc.boolean(),
  input,
  points: fc.array(fc.nat(), {maxLength: 12}),
  slow: fc.boolean(),
});

describe('check decisions: the byte stream path against decide() line by line', function () {
  this.timeout(0);

  it('writes the same bytes, tally and error for randomized inputs cut into random chunks', async () => {
    let errors = 0;
    let decided = 0;
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const c: Case = {
          policy: policyOf(s),
          args: s.args,
          input: s.stdin || s.args.length === 0 ? s.input : null,
          format: s.format,
          wanted: s.wanted,
          colour: new Chalk({level: s.colour ? 1 : 0}),
          printed: s.printed,
          bytes: s.points.length % 2 === 0,
        };
        const chunks = c.input === null ? [] : cut(c.input, s.points);
        const expected = await reference(c, chunks);
        const actual = await fast(c, chunks, s.slow);
        expect(actual.error).to.equal(expected.error);
        expect(actual.tally).to.deep.equal(expected.tally);
        if (expected.error !== null && c.format === 'json') {
          // Whole blocks may have gone out before the bad line; never a byte of a decision after it.
          expect(actual.stdout.length).to.equal(0);
        } else expect(actual.stdout.toString('latin1')).to.equal(expected.stdout.toString('latin1'));
        if (expected.error !== null) errors++;
        decided += expected.tally?.count ?? 0;
      }),
      {numRuns: RUNS},
    );
    // The inputs must exercise both ways out.
    expect(errors, 'runs that stopped at a bad line').to.be.above(RUNS / 20);
    expect(decided, 'decisions written').to.be.above(RUNS * 5);
  });

  it('writes the same bytes over a large input (40,000 lines of every kind, several reads of input, one chunk cut at random points)', async () => {
    const lines = fc.sample(fc.oneof({arbitrary: dressed, weight: 50}, {arbitrary: skipped, weight: 2}), {numRuns: 40_000, seed: 42});
    const bytes = Buffer.from(`\ufeff${lines.join('\n')}\n`);
    const points = fc.sample(fc.nat(), {numRuns: 400, seed: 7});
    for (const format of ['ndjson', 'json', 'human', 'print'] as const) {
      for (const own of [[], [record('10.0.0.0/8'), record('2001:db8::/33')]]) {
        const c: Case = {
          policy: policyOf({state: 'active', status: 'active', own, name: 'ci'}),
          args: [],
          input: bytes,
          format,
          wanted: 'allow',
          colour: new Chalk({level: 0}),
          bytes: true,
        };
        const chunks = cut(bytes, points);
        const expected = await reference(c, chunks);
        const actual = await fast(c, chunks, false);
        expect(expected.error).to.equal(null);
        expect(actual.tally).to.deep.equal(expected.tally);
        expect(actual.tally!.count).to.be.above(36_000);
        expect(actual.stdout.equals(expected.stdout), `${format}: stdout differs`).to.equal(true);
      }
    }
  });

  it('writes the same bytes when a long stream over a large list has every outcome ruled at once (nested, expired and adjacent entries)', async () => {
    // 3,000 entries in 10.0.0.0/12: /24s, some split into /26s inside them, some expired, and 2001:db8::/32 below /48s.
    const list: EntryRecord[] = [record('2001:db8::/32')];
    for (let i = 0; i < 2500; i++) {
      list.push(record(`10.${i >> 8}.${i & 255}.0/24`, i % 7 === 0 ? NOW - 1 : i % 11 === 0 ? NOW + 1 : null));
      if (i % 5 === 0) list.push(record(`10.${i >> 8}.${i & 255}.64/26`, i % 3 === 0 ? NOW - 1 : null));
    }
    for (let i = 0; i < 400; i++) list.push(record(`2001:db8:${i.toString(16)}::/48`));
    const policy: KeyPolicy = {key: keyRecord('ci', 'active', []), state: 'active', own: null, restricted: false, account: EntryIndex.fromRecords(list), nowMs: NOW};
    const lines = fc.sample(
      fc.oneof(
        {arbitrary: fc.tuple(fc.nat(10), fc.nat(255), fc.nat(255)).map(([b, c, d]) => `10.${b}.${c}.${d}`), weight: 8},
        {arbitrary: fc.tuple(fc.nat(500), fc.nat(0xffff)).map(([g, h]) => `2001:db8:${g.toString(16)}::${h.toString(16)}`), weight: 2},
        {arbitrary: fc.nat(255).map((d) => `::ffff:10.1.2.${d}`), weight: 1},
        {arbitrary: skipped, weight: 1},
      ),
      {numRuns: 60_000, seed: 11},
    );
    const bytes = Buffer.from(`${lines.join('\n')}\n`);
    const points = fc.sample(fc.nat(), {numRuns: 50, seed: 3});
    for (const format of ['ndjson', 'human'] as const) {
      const c: Case = {policy, args: [], input: bytes, format, wanted: 'allow', colour: new Chalk({level: 0}), bytes: format === 'ndjson'};
      const chunks = cut(bytes, points);
      const expected = await reference(c, chunks);
      const actual = await fast(c, chunks, false);
      expect(actual.tally).to.deep.equal(expected.tally);
      expect(actual.stdout.equals(expected.stdout), `${format}: stdout differs`).to.equal(true);
    }
  });

  it('writes the same bytes when outcomes outgrow their first buffer (deep nests of long IPv6 entries)', async () => {
    // 1,000 chains of 8 nested IPv6 prefixes: matched lists of up to 8 long texts, more than the 64 bytes an outcome is first given.
    const list: EntryRecord[] = [];
    for (let i = 0; i < 1000; i++) {
      const base = `2001:db8:${(i + 0x1000).toString(16)}:a000`;
      for (const bits of [64, 72, 80, 88, 96, 104, 112, 120]) list.push(record(`${base}::/${bits}`, bits === 88 && i % 3 === 0 ? NOW - 1 : null));
    }
    const policy: KeyPolicy = {key: keyRecord('ci', 'active', []), state: 'active', own: null, restricted: false, account: EntryIndex.fromRecords(list), nowMs: NOW};
    const lines = fc.sample(
      fc.tuple(fc.nat(1100), fc.nat(8), fc.nat(0xffff)).map(([i, depth, h]) => {
        const groups = ['2001', 'db8', (i + 0x1000).toString(16), 'a000', '0', '0', '0', (h & 0x1ff).toString(16)];
        // Addresses at every depth of a chain: one of groups 4-6 set to leave the deeper prefixes, or none.
        if (depth > 0) groups[4 + (depth % 3)] = (depth * 0x1111).toString(16);
        return groups.join(':');
      }),
      {numRuns: 30_000, seed: 5},
    );
    const bytes = Buffer.from(`${lines.join('\n')}\n`);
    const c: Case = {policy, args: [], input: bytes, format: 'ndjson', wanted: 'allow', colour: new Chalk({level: 0}), bytes: true};
    const chunks = cut(bytes, fc.sample(fc.nat(), {numRuns: 20, seed: 4}));
    const expected = await reference(c, chunks);
    const actual = await fast(c, chunks, false);
    expect(actual.tally).to.deep.equal(expected.tally);
    expect(actual.stdout.equals(expected.stdout), 'stdout differs').to.equal(true);
    const longest = Math.max(
      ...expected.stdout
        .toString()
        .split('\n')
        .map((line) => line.length),
    );
    expect(longest, 'some outcome lists several long entries').to.be.above(200);
  });

  it('never fills a block again while the output still holds it (an output that takes each write on a later turn)', async () => {
    const lines = fc.sample(fc.oneof({arbitrary: dressed, weight: 50}, {arbitrary: skipped, weight: 2}), {numRuns: 30_000, seed: 13});
    const bytes = Buffer.from(`${lines.join('\n')}\n`);
    const c: Case = {
      policy: policyOf({state: 'active', status: 'active', own: [], name: 'ci'}),
      args: [],
      input: bytes,
      format: 'ndjson',
      wanted: 'allow',
      colour: new Chalk({level: 0}),
    };
    const chunks = cut(bytes, fc.sample(fc.nat(), {numRuns: 30, seed: 8}));
    const expected = await reference(c, chunks);
    expect(expected.stdout.length, 'several output blocks').to.be.above(4 * 256 * 1024);
    const actual = await fast(c, chunks, 'late');
    expect(actual.tally).to.deep.equal(expected.tally);
    expect(actual.stdout.equals(expected.stdout), 'stdout differs').to.equal(true);
  });

  it('stops at a bad line after writing every decision before it (ndjson), and names the line', async () => {
    const lines = [...Array.from({length: 5000}, (_, i) => formatIPv4(0x0a000000 + i)), '10.0.0.300', '10.0.0.1'];
    const c: Case = {
      policy: policyOf({state: 'active', status: 'active', own: [], name: 'ci'}),
      args: [],
      input: Buffer.from(lines.join('\n')),
      format: 'ndjson',
      wanted: 'allow',
      colour: new Chalk({level: 0}),
    };
    const actual = await fast(c, [c.input!], false);
    expect(actual.error).to.equal('line 5001: `10.0.0.300` is not an IPv4 address: octet 300 > 255');
    expect(actual.stdout.toString().split('\n')).to.have.length(5001);
  });

  it('refuses a line that never ends without holding it in memory', async () => {
    let fed = 0;
    const endless = new Readable({
      read() {
        fed += 1 << 16;
        this.push(fed > 64 << 20 ? null : Buffer.alloc(1 << 16, 0x31));
      },
    });
    const {stream} = sink(false);
    const run = writeDecisions({
      policy: policyOf({state: 'active', status: 'active', own: [], name: 'ci'}),
      addresses: [],
      stream: endless,
      out: stream,
      format: 'ndjson',
      wanted: 'allow',
      colour: new Chalk({level: 0}),
    });
    let message = '';
    await run.catch((error: Error) => {
      message = error.message;
    });
    expect(message).to.equal(`line 1 is longer than ${MAX_LINE_LENGTH} characters`);
    expect(fed, 'stopped reading soon after the limit').to.be.below(1 << 20);
  });
});
