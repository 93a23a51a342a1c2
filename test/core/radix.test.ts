/**
 * The radix sort (src/core/radix.ts) against a plain stable sort by the same
 * keys, on both sides of the size where it turns to comparing.
 */
import {expect} from 'chai';
import fc from 'fast-check';

import {Digit, sortByDigits} from '../../src/core/radix.js';

describe('core/radix', () => {
  it('orders positions as a stable sort by the digits, most significant last in the list, for few and many positions', () => {
    fc.assert(
      fc.property(fc.integer({min: 0, max: 3000}), fc.integer({min: 1, max: 0xffffffff}), fc.constantFrom(1, 3, 0xffff, 0xffffffff), (n, seed, spread) => {
        // Two words a position, few distinct values (spread) so that ties are common; order starts shuffled.
        let state = seed;
        const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0);
        const keys = Uint32Array.from({length: 2 * n}, () => next() % (spread + 1));
        const order = Uint32Array.from({length: n}, (_, i) => i);
        for (let i = n - 1; i > 0; i--) {
          const j = next() % (i + 1);
          [order[i], order[j]] = [order[j], order[i]];
        }
        const digits: Digit[] = [
          {keys, stride: 2, offset: 1, shift: 0},
          {keys, stride: 2, offset: 1, shift: 16},
          {keys, stride: 2, offset: 0, shift: 0},
          {keys, stride: 2, offset: 0, shift: 16},
        ];
        const expected = [...order]
          .map((p, place) => ({p, place}))
          .sort((a, b) => keys[2 * a.p] - keys[2 * b.p] || keys[2 * a.p + 1] - keys[2 * b.p + 1] || a.place - b.place);
        sortByDigits(order, digits);
        expect([...order]).to.deep.equal(expected.map(({p}) => p));
      }),
      {numRuns: 60},
    );
  });
});
