/**
 * addEntries finds the entries that contain a new one by text for a small
 * batch (coversOf): the same positions, in the same order, as the compiled
 * index it uses for a large batch, on random lists of nested, adjacent and
 * mapped-looking IPv4 and IPv6 ranges.
 */
import {expect} from 'chai';

import {coversOf} from '../../src/core/allowlist.js';
import {parseEntry} from '../../src/core/entry-parse.js';
import {scanPrefix} from '../../src/core/prefix.js';
import {seeded} from '../reliability/helpers.js';

const int = (random: () => number, n: number) => Math.floor(random() * n);

/** A canonical entry in a small space, so that entries nest and repeat. */
function entry(random: () => number): string {
  const v4 = random() < 0.6;
  const text = v4
    ? `10.${int(random, 2)}.${int(random, 4)}.${int(random, 256)}`
    : random() < 0.2
      ? `::ffff:${int(random, 65536).toString(16)}:${int(random, 65536).toString(16)}`
      : `2001:db8:${int(random, 2).toString(16)}::${int(random, 65536).toString(16)}`;
  const bits = v4 ? int(random, 33) : int(random, 129);
  return parseEntry(`${text}/${bits}`, {normalize: true, force: true}).toString();
}

describe('core/allowlist: covers of a small batch by text', () => {
  it('gives the compiled index its answers, outermost first, for random lists and ranges', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const random = seeded(seed);
      const texts = [...new Set(Array.from({length: 1 + int(random, 300)}, () => entry(random)))];
      const byText = coversOf(texts, 1);
      const compiled = coversOf(texts, 10_000);
      for (let probe = 0; probe < 200; probe++) {
        const text = random() < 0.3 ? texts[int(random, texts.length)] : entry(random);
        const p = scanPrefix(text, {family: 4, bits: 0, words: new Uint32Array(4)});
        const words = new Uint32Array(p.words);
        expect(byText(p.family, words, p.bits), `seed ${seed}: ${text}`).to.deep.equal(compiled(p.family, words, p.bits));
      }
    }
  });

  it('gives the same answers with one pass over the texts (the first ranges asked), lists holding entries twice included', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const random = seeded(100 + seed);
      const unique = [...new Set(Array.from({length: 1 + int(random, 200)}, () => entry(random)))];
      // Some lists hold a few entries twice (a hand edit), anywhere in the list.
      const texts = seed % 2 === 0 ? unique : [...unique, ...Array.from({length: 1 + int(random, 3)}, () => unique[int(random, unique.length)])];
      const compiled = coversOf(texts, 10_000);
      for (let probe = 0; probe < 60; probe++) {
        const text = random() < 0.3 ? texts[int(random, texts.length)] : entry(random);
        const p = scanPrefix(text, {family: 4, bits: 0, words: new Uint32Array(4)});
        const words = new Uint32Array(p.words);
        // A new answerer for each range: every answer is the first asked of it, by the pass.
        expect(coversOf(texts, 1)(p.family, words, p.bits), `seed ${seed}: ${text}`).to.deep.equal(compiled(p.family, words, p.bits));
      }
    }
  });
});
