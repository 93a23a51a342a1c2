/**
 * eachLine (src/cli/input.ts), which every line-reading command reads its
 * files and stdin through: a chunk of ASCII bytes is taken as Latin-1 (a
 * character a byte, without the UTF-8 decoder) until a chunk that is not,
 * which goes to the decoder with every one after it (issue 15). Over random
 * texts (ASCII, two-, three- and four-byte characters, a BOM, CR, blank
 * lines, and bytes that are not UTF-8) cut into random chunks, the lines
 * must be those of the whole text decoded at once: the BOM off, split at
 * LF, each line trimmed. Runs: 200, or KEYWARD_PROPERTY_RUNS.
 */
import {Readable} from 'node:stream';

import {expect} from 'chai';
import fc from 'fast-check';

import {eachLine, MAX_LINE_LENGTH} from '../../src/cli/input.js';

const RUNS = Number(process.env.KEYWARD_PROPERTY_RUNS || 200);

/** The lines of `bytes` read whole: what eachLine must give, however the bytes come. */
function linesOf(bytes: Buffer): string[] {
  let text = bytes.toString('utf8');
  if (text.startsWith('\ufeff')) text = text.slice(1);
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map((line) => line.trim());
}

/** `bytes` cut at `cuts` (positions taken modulo its length), in order. */
function chunksOf(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => (bytes.length === 0 ? 0 : c % bytes.length)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const to of [...at, bytes.length]) {
    if (to > from) chunks.push(bytes.subarray(from, to));
    from = Math.max(from, to);
  }
  return chunks;
}

const piece = fc.oneof(
  {arbitrary: fc.constantFrom('198.51.100.7', 'billing', ' ', '\t', '# note', '2026-03-01T00:00:00Z', '\r', '\n', '\n\n'), weight: 12},
  {arbitrary: fc.constantFrom('é', 'ü', '…', '€', '日本', '😀', '\u00a0', '\u2028'), weight: 2},
  {arbitrary: fc.string({unit: 'binary', maxLength: 6}), weight: 1},
  {arbitrary: fc.constantFrom([0xc3], [0xe2, 0x80], [0xf0, 0x9f, 0x98], [0x80], [0xc0, 0xaf], [0xff]), weight: 2},
);

describe('eachLine: ASCII chunks without the decoder, the rest decoded', () => {
  it('gives the lines of the whole text, however it is cut, whatever characters it holds', async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.array(piece, {maxLength: 60}), fc.array(fc.nat(), {maxLength: 8}), async (bom, pieces, cuts) => {
        // (Lone surrogates have no UTF-8: encoded, they are U+FFFD, which is what both readings see.) A piece may
        // also be bytes that are not UTF-8: a character's first byte alone, a continuation byte, an overlong form.
        const bytes = Buffer.concat([Buffer.from(bom ? '\ufeff' : ''), ...pieces.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p)))]);
        const seen: string[] = [];
        await eachLine(Readable.from(chunksOf(bytes, cuts)), (text) => void seen.push(text));
        expect(seen).to.deep.equal(linesOf(bytes));
      }),
      {numRuns: RUNS},
    );
  });

  it('numbers every line, and skips (and names) each line over the limit, however the text is cut', async () => {
    // Long runs make lines over MAX_LINE_LENGTH, ended in the chunk that starts them, in a later one, or never.
    const long = fc.oneof(
      fc.constantFrom('a'.repeat(MAX_LINE_LENGTH - 1), 'b'.repeat(MAX_LINE_LENGTH), 'c'.repeat(MAX_LINE_LENGTH + 1)),
      fc.integer({min: 1, max: 3 * MAX_LINE_LENGTH}).map((n) => 'd'.repeat(n)),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.array(fc.oneof({arbitrary: piece, weight: 6}, {arbitrary: long, weight: 1}), {maxLength: 30}),
        fc.array(fc.nat(), {maxLength: 12}),
        async (bom, pieces, cuts) => {
          const bytes = Buffer.concat([Buffer.from(bom ? '\ufeff' : ''), ...pieces.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p)))]);
          const seen: string[] = [];
          const skipped: number[] = [];
          await eachLine(Readable.from(chunksOf(bytes, cuts)), (text, line) => void seen.push(`${line}:${text}`), {onTooLong: (line) => void skipped.push(line)});
          // The oracle: the whole text decoded at once, its BOM off, split at LF; a line (CR included) over the limit is skipped and named.
          let text = bytes.toString('utf8');
          if (text.startsWith('\ufeff')) text = text.slice(1);
          const raw = text.split('\n');
          if (raw.at(-1) === '') raw.pop();
          expect(seen).to.deep.equal(raw.flatMap((line, i) => (line.length > MAX_LINE_LENGTH ? [] : [`${i + 1}:${line.trim()}`])));
          expect(skipped).to.deep.equal(raw.flatMap((line, i) => (line.length > MAX_LINE_LENGTH ? [i + 1] : [])));
        },
      ),
      {numRuns: RUNS},
    );
  });

  it('reads an ASCII chunk, then a character cut across the next two chunks, then ASCII again', async () => {
    const bytes = Buffer.from('billing 198.51.100.7\nkey-é 192.0.2.1\n…\nplain 10.0.0.1\n', 'utf8');
    const at = bytes.indexOf(Buffer.from('é', 'utf8')) + 1;
    const ellipsis = bytes.indexOf(Buffer.from('…', 'utf8'));
    const chunks = [bytes.subarray(0, 21), bytes.subarray(21, at), bytes.subarray(at, ellipsis + 2), bytes.subarray(ellipsis + 2)];
    const seen: string[] = [];
    await eachLine(Readable.from(chunks), (text) => void seen.push(text));
    expect(seen).to.deep.equal(['billing 198.51.100.7', 'key-é 192.0.2.1', '…', 'plain 10.0.0.1']);
  });
});
