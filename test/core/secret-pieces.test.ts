/**
 * rememberSecretPieces and maskSecrets (core/errors.ts): a secret split over
 * two arguments or two fields of a line is shown by its hint wherever a
 * message names one piece alone; other hex text is left as it is.
 */
import {expect} from 'chai';

import {maskAlong, maskSecrets, rememberSecretPieces} from '../../src/core/errors.js';
import {hintOf} from '../../src/core/secret.js';

describe('core/errors: pieces of a split secret', () => {
  const secret = '0123456789abcdef0123456789abcdef01234567';

  it("shows each piece of a secret split by whitespace by the whole secret's hint, in any case", () => {
    rememberSecretPieces(`${secret.slice(0, 20)} ${secret.slice(20)}`);
    expect(maskSecrets(`argument 2: \`${secret.slice(20).toUpperCase()}\` is not an address`)).to.equal(`argument 2: \`${hintOf(secret)}\` is not an address`);
    expect(maskAlong(`line 1: \`${secret.slice(0, 20)}\``, 'unrelated')).to.equal(`line 1: \`${hintOf(secret)}\``);
  });

  it('remembers nothing of a whole secret beside other hex text, nor pieces shorter than 8 digits', () => {
    const other = 'fedcba9876543210fedcba9876543210fedcba98';
    rememberSecretPieces(`${other} 2001:db8::1`);
    rememberSecretPieces('1234567 abcdef0123456789abcdef0123');
    expect(maskSecrets('2001:db8::1')).to.equal('2001:db8::1');
    expect(maskSecrets('1234567 is not a key')).to.equal('1234567 is not a key');
    expect(maskSecrets(`key ${other}`)).to.equal(`key ${hintOf(other)}`);
  });
});
