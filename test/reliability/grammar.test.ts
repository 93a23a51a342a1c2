/**
 * No ambiguous address is ever accepted: every input of the corpus
 * (corpus/malformed.txt) is refused by the core's parsers, and by authorize,
 * revoke, check and learn --strict with exit 2, the store byte for byte as it
 * was and no stack trace. Real-world line endings (CRLF, a BOM, trailing
 * spaces) are accepted.
 *
 * The core check covers every input in-process. Each CLI process stops at the
 * first bad input, so proving each input refused by each command takes one
 * process per input and command: the default run gives every command a
 * different sample of every kind (and one `learn` process counts every input
 * as a bad line); KEYWARD_LONG_TESTS=1 runs every input through every command.
 */
import os from 'node:os';

import {expect} from 'chai';

import {Address, scanDecisionAddress} from '../../src/core/address.js';
import {AddressError, InputError} from '../../src/core/errors.js';
import {parseEventLine} from '../../src/core/events.js';
import {Prefix} from '../../src/core/prefix.js';
import {parseEntry} from '../../src/core/entry-parse.js';
import {NOW, Workspace} from '../cli/harness.js';
import {byKind, CorpusInput, loadCorpus} from './corpus.js';
import {expectNoStackTrace, LONG, listing, pool} from './helpers.js';

const corpus = loadCorpus();
const kinds = byKind(corpus);

/** Characters that must never reach a terminal raw from an error message: C0/C1 controls, bidi and invisible formatting. */
const UNSAFE_IN_MESSAGE = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/u;

/** What stderr says when the grammar (or the line-length bound) refused an input. */
// The grammar's own reason, or a common mistake said in its words (src/core/mistakes.ts, docs/errors.md).
const REFUSED =
  /is not an IPv[46] (address|range)|is empty|is longer than \d+ characters|longer than the limit|check takes single addresses|is a host name|is a name, not an IP address|is a URL|has a port|is a comma-separated list|is several entries|has text after the entry|is in brackets|is a range written a-b/;

function refusedBy(what: string, parse: () => unknown): string | null {
  try {
    const value = parse();
    return `${what} accepted it as ${String(value)}`;
  } catch (error) {
    if (!(error instanceof InputError)) return `${what} threw ${(error as Error).name}: ${(error as Error).message}`;
    if (UNSAFE_IN_MESSAGE.test(error.message + (error.hint ?? ''))) return `${what}: the message holds a raw control or invisible character: ${JSON.stringify(error.message)}`;
    if (error.message.length > 1000) return `${what}: the message is ${error.message.length} characters long`;
    return null;
  }
}

function label(input: CorpusInput): string {
  const shown = JSON.stringify(input.text);
  return `corpus line ${input.line} (${input.kind}) ${shown.length > 60 ? `${shown.slice(0, 60)}…` : shown}`;
}

describe('reliability: no ambiguous address is ever accepted', function () {
  this.timeout(0);

  it(`has a corpus of at least 300 inputs in every kind the issue names (${corpus.length} inputs, ${kinds.size} kinds)`, () => {
    expect(corpus.length).to.be.at.least(300);
    expect([...kinds.keys()]).to.include.members([
      'octal-ipv4',
      'hex-ipv4',
      'short-form-ipv4',
      'leading-zero-prefix',
      'out-of-range',
      'zone-index',
      'ipv6-compression',
      'signs',
      'whitespace-and-control',
      'non-ascii-digits',
      'empty-prefix',
      'double-prefix',
      'very-long',
      'nul-bytes',
    ]);
    for (const [kind, inputs] of kinds) expect(inputs.length, kind).to.be.at.least(10);
    expect(new Set(corpus.map((c) => c.text)).size, 'no input is listed twice').to.equal(corpus.length);
  });

  it('core: every parser refuses every input, as given and as a line reader trims it, with a safe bounded message', () => {
    const words = new Uint32Array(4);
    const failures: string[] = [];
    for (const input of corpus) {
      for (const text of new Set([input.text, input.text.trim()])) {
        const checks: Array<[string, () => unknown]> = [
          ['parseEntry', () => parseEntry(text)],
          ['parseEntry --normalize --force', () => parseEntry(text, {normalize: true, force: true})],
          ['Prefix.parse', () => Prefix.parse(text)],
          ['Address.parse', () => Address.parse(text)],
          ['scanDecisionAddress', () => scanDecisionAddress(text, words)],
          [
            'learn event',
            () => {
              const event = parseEventLine(JSON.stringify({key: 'ci', ip: text}));
              return scanDecisionAddress(event!.ip, words);
            },
          ],
        ];
        for (const [what, parse] of checks) {
          const failure = refusedBy(what, parse);
          if (failure) failures.push(`${label(input)}: ${failure}`);
        }
      }
      try {
        parseEntry(input.text);
      } catch (error) {
        if (!(error instanceof AddressError)) failures.push(`${label(input)}: not an AddressError but ${(error as Error).name}`);
      }
    }
    expect(failures.length, failures.slice(0, 20).join('\n')).to.equal(0);
  });

  describe('the CLI', () => {
    let ws: Workspace;
    let original: Buffer;
    let files: string[];

    before(() => {
      ws = Workspace.create();
      expect(ws.run(['keys', 'create', 'ci', '--type', 'api', '--allow', '192.0.2.0/24'], {now: NOW}).code).to.equal(0);
      expect(ws.run(['authorize', '10.0.0.0/8', '2001:db8::/32', '192.0.2.1', '0.0.0.0/0', '--force'], {now: NOW}).code).to.equal(0);
      original = ws.storeBytes()!;
      files = listing(ws.dir);
    });

    /** Every command gets a different share of each kind: all of it in the long run. */
    function sample(command: number): CorpusInput[] {
      if (LONG) return corpus;
      return [...kinds.values()].map((group) => group[command % group.length]);
    }

    type Delivery = (input: CorpusInput, i: number) => {args: string[]; input?: string};
    const commands: Array<[string, Delivery]> = [
      // authorize: as an argument (after "--", so that "-1.2.3.4" is not read as a flag); NUL cannot be an argument: stdin.
      ['authorize', (c) => (c.text.includes('\0') ? {args: ['authorize', '-'], input: `${c.text}\n`} : {args: ['authorize', '--', c.text]})],
      // revoke: a CRLF file line, as an exported list would be.
      ['revoke', (c) => ({args: ['revoke', '--yes', '--file', ws.file('revoke-input.txt', `${c.text}\r\n`)]})],
      // check: stdin lines and arguments in turn.
      ['check', (c, i) => (i % 2 === 0 || c.text.includes('\0') ? {args: ['check', 'ci', '-'], input: `${c.text}\n`} : {args: ['check', 'ci', '--', c.text]})],
      // learn --strict: NDJSON events carry any string exactly.
      ['learn --strict', (c) => ({args: ['learn', '--strict', '-'], input: `${JSON.stringify({key: 'ci', ip: c.text, at: NOW})}\n`})],
    ];

    commands.forEach(([name, deliver], command) => {
      const inputs = sample(command);
      it(`${name} refuses ${LONG ? 'every input' : `a sample of every kind (${inputs.length} inputs)`} with exit 2, the store unchanged, no stack trace`, async () => {
        // revoke reads a file it is given, so its runs share that file and go one at a time.
        const parallel = name === 'revoke' ? 1 : Math.max(2, os.cpus().length);
        const failures: string[] = [];
        await pool(
          parallel,
          inputs.map((input, i) => async () => {
            const {args, input: stdin} = deliver(input, i);
            const run = stdin === undefined ? await ws.runOrStart(args, {now: NOW}) : await ws.runOrStart(args, {now: NOW, input: stdin});
            const problems: string[] = [];
            if (run.code !== 2) problems.push(`exit ${run.code}`);
            if (run.stdout !== '') problems.push(`stdout ${JSON.stringify(run.stdout.slice(0, 100))}`);
            if (!REFUSED.test(run.stderr)) problems.push(`stderr does not say why: ${JSON.stringify(run.stderr.slice(0, 300))}`);
            if (!/argument \d|line 1\b/.test(run.stderr)) problems.push('stderr does not say where');
            if (/^\s+at .+[(:]/m.test(run.stderr) || run.stderr.includes('internal error')) problems.push('a stack trace or internal error');
            if (UNSAFE_IN_MESSAGE.test(run.stderr.replace(/\n/g, ''))) problems.push(`raw control characters on stderr: ${JSON.stringify(run.stderr.slice(0, 200))}`);
            if (!ws.storeBytes()!.equals(original)) problems.push('THE STORE CHANGED');
            if (problems.length > 0) failures.push(`${label(input)}: ${problems.join('; ')}`);
          }),
        );
        expect(ws.storeBytes()!.equals(original), 'the store is byte for byte as it was').to.equal(true);
        expect(
          listing(ws.dir).filter((f) => !f.endsWith('.txt')),
          'no lock or temporary file is left',
        ).to.deep.equal(files);
        expect(failures.length, failures.slice(0, 15).join('\n')).to.equal(0);
      });
    });

    it(`learn counts every corpus input as a bad line in one process (${corpus.length} NDJSON events), applies none and exits 2`, () => {
      const ndjson = corpus.map((c) => JSON.stringify({key: 'ci', ip: c.text, at: NOW})).join('\n');
      // No line is an event: a log that cannot be read, exit 2, every line counted as bad.
      const run = ws.run(['learn', '--json', '--dry-run', '-'], {now: NOW, input: `${ndjson}\n`});
      expect(run.code, run.stderr).to.equal(2);
      expect(run.json().error.message).to.contain(`: ${corpus.length} bad lines`);
      expectNoStackTrace(run.stderr, 'learn');
      expect(ws.storeBytes()!.equals(original)).to.equal(true);

      // The same through the plain text form, for the inputs whose fields it can carry.
      const plain = corpus.filter((c) => !/[\s{]/u.test(c.text) && c.text.length < 4000);
      const text = ws.run(['learn', '--json', '--dry-run', '-'], {now: NOW, input: plain.map((c) => `ci ${c.text}\r\n`).join('')});
      expect(text.code, text.stderr).to.equal(2);
      expect(text.json().error.message).to.contain(`: ${plain.length} bad lines`);
      expect(plain.length).to.be.at.least(200);
    });
  });

  describe('real-world line endings are accepted: CRLF, a UTF-8 byte order mark, trailing spaces and tabs', () => {
    const BOM = '\ufeff';
    const lines = [`${BOM}10.1.0.0/16  `, '  192.0.2.55\t ', '2001:DB8:1::/48 # office ', '', '# a comment', '::ffff:198.51.100.7'];
    const crlf = `${lines.join('\r\n')}\r\n`;
    const expected = ['10.1.0.0/16', '192.0.2.55', '198.51.100.7', '2001:db8:1::/48'];

    it('authorize --file and revoke --file read a BOM + CRLF file with trailing spaces', () => {
      const ws = Workspace.create();
      const file = ws.file('list.txt', crlf);
      const added = ws.run(['authorize', '--file', file, '--json'], {now: NOW});
      expect(added.code, added.stderr).to.equal(0);
      expect([...added.json().added].sort()).to.deep.equal([...expected].sort());
      const list = ws.run(['list', '--json']).json<Array<{entry: string; label: string | null}>>();
      expect(list.find((r) => r.entry === '2001:db8:1::/48')?.label).to.equal('office');
      const removed = ws.run(['revoke', '--file', file, '--yes', '--json'], {now: NOW});
      expect(removed.code, removed.stderr).to.equal(0);
      expect([...removed.json().removed].sort()).to.deep.equal([...expected].sort());
    });

    it('authorize - reads the same from piped stdin, a final line without its newline included', () => {
      const ws = Workspace.create();
      const run = ws.run(['authorize', '-', '--json'], {now: NOW, input: crlf.replace(/\r\n$/, '')});
      expect(run.code, run.stderr).to.equal(0);
      expect([...run.json().added].sort()).to.deep.equal([...expected].sort());
    });

    it('check - and learn --strict read BOM + CRLF streams', () => {
      const ws = Workspace.create();
      expect(ws.run(['keys', 'create', 'ci', '--type', 'api'], {now: NOW}).code).to.equal(0);
      expect(ws.run(['authorize', '10.1.0.0/16'], {now: NOW}).code).to.equal(0);
      const check = ws.run(['check', 'ci', '-', '--ndjson'], {now: NOW, input: `${BOM}10.1.2.3 \r\n\r\n2001:DB8::1\t\r\n`});
      expect(check.code, check.stderr).to.equal(0);
      expect(check.ndjson().map((d) => [d.ip, d.reason])).to.deep.equal([
        ['10.1.2.3', 'authorized'],
        ['2001:db8::1', 'learning'],
      ]);
      const learn = ws.run(['learn', '--strict', '--json', '-'], {now: NOW, input: `${BOM}ci 203.0.113.9 ${NOW} \r\nci 198.51.100.20 ${NOW}\t\r\n# done\r\n`});
      expect(learn.code, learn.stderr).to.equal(0);
      expect(learn.json()).to.include({events: 2, badLines: 0});
      expect([...learn.json().learned].sort()).to.deep.equal(['198.51.100.0/24', '203.0.113.0/24']);
    });

    it('a byte order mark anywhere but the start of the input is refused', () => {
      const ws = Workspace.create();
      const run = ws.run(['authorize', '-'], {now: NOW, input: `10.1.0.0/16\n1.2\ufeff.3.4\n`});
      expect(run.code).to.equal(2);
      expect(run.stderr).to.contain('line 2').and.contain('\\ufeff');
      expect(ws.storeBytes()).to.equal(null);
    });
  });
});
