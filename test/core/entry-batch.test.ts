/**
 * An EntryBatch keeps each text and label as given (it stores copies of its
 * own, src/core/entry-parse.ts ownCopy): any Unicode, characters past
 * Latin-1, lone surrogates, around the length past which a text is kept
 * itself; and a text read from a line of a large chunk, which is a slice of it.
 */
import {expect} from 'chai';
import fc from 'fast-check';

import {EntryBatch} from '../../src/core/entry-parse.js';

const RUNS = Number(process.env.KEYWARD_PROPERTY_RUNS || 300);

const text = fc.oneof(
  fc.string({unit: 'binary', maxLength: 300}),
  fc.string({unit: 'grapheme', maxLength: 300}),
  fc.string({unit: fc.constantFrom('a', 'é', 'ÿ', 'Ā', '日', '\ud800', '\udc00', '\u0000'), minLength: 250, maxLength: 260}),
);

describe('EntryBatch: texts and labels as given', () => {
  it('keeps any text and label exactly', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(text, fc.option(text)), {maxLength: 8}), (inputs) => {
        const batch = new EntryBatch(16);
        for (const [t, label] of inputs) batch.add(t, 4, 32, [1, 0, 0, 0], label, 'import', null);
        expect(batch.texts).to.deep.equal(inputs.map(([t]) => t));
        expect(batch.labels).to.deep.equal(inputs.map(([, label]) => label));
      }),
      {numRuns: RUNS},
    );
  });

  it('keeps the lines of a large chunk as they read', () => {
    const chunk = Array.from({length: 2000}, (_, i) => `10.${i >> 8}.${i & 255}.0/24 # customer «${i}»`).join('\n');
    const batch = new EntryBatch(16);
    for (const line of chunk.split('\n')) batch.add(line.slice(0, line.indexOf(' ')), 4, 24, [1, 0, 0, 0], line.slice(line.indexOf('#') + 2), 'import', null);
    expect(batch.texts[1999]).to.equal('10.7.207.0/24');
    expect(batch.labels[1999]).to.equal('customer «1999»');
    expect(batch.texts.join('\n').length).to.equal(
      chunk
        .split('\n')
        .map((l) => l.slice(0, l.indexOf(' ')))
        .join('\n').length,
    );
  });
});
