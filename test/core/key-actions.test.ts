/** Key workflows (core/key-actions.ts): create, rotate and revoke, and the JSON of a key. */
import {expect} from 'chai';

import {InputError} from '../../src/core/errors.js';
import {createKey, keyJson, planKeyRevoke, planRotate, revokeKey, rotateKey} from '../../src/core/key-actions.js';
import {parseEntry} from '../../src/core/entry-parse.js';
import {hashSecret, hintOf} from '../../src/core/secret.js';
import {NOW, secretOf, store} from './workflow-fixtures.js';

describe('core/keys: key workflows', () => {
  it('creates a key holding only the hash and hint of its secret, and refuses a name taken or shaped like a secret', () => {
    const data = store([]);
    const secret = 'a'.repeat(40);
    const key = createKey(data, {name: 'billing', type: 'api', allow: [parseEntry('192.0.2.0/24')]}, secret, NOW);
    expect(key).to.include({name: 'billing', type: 'api', hash: hashSecret(secret), hint: hintOf(secret), status: 'active'});
    expect(key.allow.map((r) => r.entry)).to.deep.equal(['192.0.2.0/24']);
    expect(JSON.stringify(data)).not.to.include(secret);
    expect(() => createKey(data, {name: 'billing', type: 'smtp', allow: []}, 'b'.repeat(40), NOW)).to.throw(InputError, 'exists already');
    expect(() => createKey(data, {name: 'c'.repeat(40), type: 'api', allow: []}, 'b'.repeat(40), NOW)).to.throw(InputError, 'looks like a key secret');
  });

  it('rotating asks, naming the current hint; a revoked key is refused', () => {
    const data = store([], {billing: []});
    const {key, question} = planRotate(data, secretOf(1));
    expect(question.text).to.equal(`Rotate key billing? Its current secret (${hintOf(secretOf(1))}) stops working at once.`);
    rotateKey(key, 'd'.repeat(40), NOW);
    expect(data.keys[0]).to.include({hash: hashSecret('d'.repeat(40)), rotatedAt: NOW.toISOString()});
    revokeKey(data.keys[0], NOW);
    expect(() => planRotate(data, 'billing')).to.throw(InputError, 'revoked and cannot be rotated');
  });

  it('revoking asks once: a revoked key asks nothing and keeps its date', () => {
    const data = store([], {billing: ['192.0.2.0/24']});
    expect(planKeyRevoke(data, 'billing').question?.text).to.equal('Revoke key billing? Every use of it will be denied.');
    revokeKey(data.keys[0], NOW);
    revokeKey(data.keys[0], new Date(NOW.getTime() + 1000));
    expect(planKeyRevoke(data, 'billing').question).to.equal(null);
    expect(keyJson(data.keys[0])).to.deep.equal({
      name: 'billing',
      type: 'api',
      hint: hintOf(secretOf(1)),
      status: 'revoked',
      createdAt: '2026-01-01T00:00:00.000Z',
      rotatedAt: null,
      allow: ['192.0.2.0/24'],
      deny: [],
    });
    expect(data.keys[0].revokedAt).to.equal(NOW.toISOString());
  });
});
