/**
 * An EntryBatch keeps each text and label as given (it stores copies of its
 * own, src/core/entry-parse.ts ownCopy): any Unicode, characters past
 * Latin-1, lone surrogates, around the length past which a text is kept
 * itself; and a text read from a line of a large chunk, which is a slice of it.
 */
import {expect} from 'chai';
import fc from 'fast-check';

import {EntryBatch} from '../../src/core/entry-parse.js';
import type {EntrySource} from '../../src/core/model.js';

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

describe('EntryBatch: columns grown in place of push()', () => {
  it('reads every column at its count, whatever the adds and reads between them (writes through a read column kept)', () => {
    fc.assert(
      fc.property(fc.integer({min: 1, max: 40}), fc.array(fc.oneof(fc.integer({min: 1, max: 90}), fc.constant(0)), {maxLength: 10}), (capacity, steps) => {
        const batch = new EntryBatch(capacity);
        const oracle = {texts: [] as string[], labels: [] as (string | null)[], sources: [] as EntrySource[], expiresAt: [] as (string | null)[]};
        let n = 0;
        for (const step of steps) {
          // 0: read every column and write through one (as authorize does: labels[i] ??= label); else add that many.
          if (step === 0) {
            expect(batch.texts).to.deep.equal(oracle.texts);
            expect(batch.labels).to.deep.equal(oracle.labels);
            expect(batch.sources).to.deep.equal(oracle.sources);
            expect(batch.expiresAt).to.deep.equal(oracle.expiresAt);
            if (n > 0) {
              batch.labels[n - 1] ??= 'set';
              oracle.labels[n - 1] ??= 'set';
            }
            continue;
          }
          for (let k = 0; k < step; k++, n++) {
            const label = n % 3 === 0 ? `l${n}` : null;
            const expiry = n % 5 === 0 ? '2030-01-01T00:00:00.000Z' : null;
            batch.add(`10.0.${n >> 8}.${n & 255}`, 4, 32, [n, 0, 0, 0], label, n % 2 === 0 ? 'import' : 'manual', expiry);
            oracle.texts.push(`10.0.${n >> 8}.${n & 255}`);
            oracle.labels.push(label);
            oracle.sources.push(n % 2 === 0 ? 'import' : 'manual');
            oracle.expiresAt.push(expiry);
          }
        }
        expect(batch.count).to.equal(n);
        for (const column of [batch.texts, batch.labels, batch.sources, batch.expiresAt]) {
          expect(column).to.have.length(n);
          // No hole left where room was made: every value was written.
          for (let i = 0; i < n; i++) expect(i in column).to.equal(true);
        }
        expect(batch.texts).to.deep.equal(oracle.texts);
        expect(batch.labels).to.deep.equal(oracle.labels);
        expect(batch.sources).to.deep.equal(oracle.sources);
        expect(batch.expiresAt).to.deep.equal(oracle.expiresAt);
      }),
      {numRuns: RUNS},
    );
  });
});
