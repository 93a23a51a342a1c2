import {expect} from 'chai';
import {nearest} from '../../src/core/nearest.js';

describe('nearest: the name a person most likely meant', () => {
  const commands = ['activate', 'authorize', 'blocked', 'check', 'learn', 'list', 'status', 'store'];
  const cases: [string, string | null][] = [
    ['chek', 'check'], // one edit in four letters
    ['lern', 'learn'],
    ['autorize', 'authorize'],
    ['auth', 'authorize'], // the only name it begins
    ['stat', 'status'],
    ['scope', null], // two edits in five letters is a different word, not a typo of store
    ['force', null],
    ['xyz', null],
    ['', null],
  ];
  for (const [typed, meant] of cases) {
    it(`${typed || '(empty)'} → ${meant ?? 'none'}`, () => expect(nearest(typed, commands)).to.equal(meant));
  }

  it('allows two edits from six letters on', () => {
    expect(nearest('biling', ['billing', 'web-api'])).to.equal('billing');
    expect(nearest('acount', ['account', 'key'])).to.equal('account');
  });
});
