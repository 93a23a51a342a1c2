/** authorize (core/authorize.ts): what an `authorize` adds, covers, updates, and releases from the blocked list. */
import {expect} from 'chai';

import {parseEntries} from '../../src/core/entry-parse.js';
import {authorize, authorizeJson} from '../../src/core/authorize.js';
import {InputError} from '../../src/core/errors.js';
import {blocked, NOW, secretOf, store} from './workflow-fixtures.js';

const batch = (...texts: string[]) =>
  parseEntries(
    texts.map((line, i) => {
      const [text, label] = line.split('#').map((s) => s.trim());
      return {text, label: label || null, where: `argument ${i + 1}`, source: 'manual' as const};
    }),
    {},
  );

describe('core/authorize: authorize', () => {
  it('adds to the account list, reports covered entries, and gives --label and --expires to entries without their own', () => {
    const data = store(['10.0.0.0/8']);
    const expiresAt = '2026-02-01T00:00:00.000Z';
    const result = authorize(data, batch('10.1.0.0/16', '192.0.2.1 # office'), {label: 'vpn', expiresAt, now: NOW});
    expect(result.added).to.deep.equal(['10.1.0.0/16', '192.0.2.1']);
    expect(result.covered).to.deep.equal([{entry: '10.1.0.0/16', coveredBy: ['10.0.0.0/8']}]);
    expect(data.account.map((r) => [r.entry, r.label, r.expiresAt])).to.deep.equal([
      ['10.0.0.0/8', null, null],
      ['10.1.0.0/16', 'vpn', expiresAt],
      ['192.0.2.1', 'office', expiresAt],
    ]);
  });

  it('reports no entry covered by a disabled entry (it lets nothing in), and keeps a disabled exact entry as it is', () => {
    const data = store(['10.0.0.0/8', '10.1.0.0/16']);
    data.account[0].enabled = false;
    const result = authorize(data, batch('10.1.2.3', '10.2.0.0/16', '10.0.0.0/8'), {label: null, expiresAt: null, now: NOW});
    expect(result.added).to.deep.equal(['10.1.2.3', '10.2.0.0/16']);
    expect(result.covered).to.deep.equal([{entry: '10.1.2.3', coveredBy: ['10.1.0.0/16']}]);
    expect(result.unchanged).to.deep.equal(['10.0.0.0/8']);
    expect(result.disabled).to.deep.equal(['10.0.0.0/8']);
    expect(data.account.filter((r) => r.entry === '10.0.0.0/8')).to.have.length(1);
  });

  it('updates an exact entry given a new label, and leaves one given nothing new unchanged', () => {
    const data = store(['192.0.2.1', '192.0.2.2']);
    const result = authorize(data, batch('192.0.2.1 # new', '192.0.2.2'), {label: null, expiresAt: null, now: NOW});
    expect(result.updated).to.deep.equal([{entry: '192.0.2.1', label: 'new', expiresAt: null}]);
    expect(result.unchanged).to.deep.equal(['192.0.2.2']);
    expect(authorizeJson(result, true)).to.deep.equal({
      added: [],
      covered: [],
      updated: [{entry: '192.0.2.1', label: 'new', group: null, expiresAt: null}],
      unchanged: ['192.0.2.2'],
      elsewhere: [],
      dryRun: true,
    });
  });

  it('adds to the list of the key named by name or by secret, and refuses an unknown key', () => {
    const data = store([], {billing: ['10.0.0.0/24']});
    authorize(data, batch('10.0.1.0/24'), {key: secretOf(1), label: null, expiresAt: null, now: NOW});
    expect(data.keys[0].allow.map((r) => r.entry)).to.deep.equal(['10.0.0.0/24', '10.0.1.0/24']);
    expect(data.account).to.deep.equal([]);
    expect(() => authorize(data, batch('10.0.2.0/24'), {key: 'nobody', label: null, expiresAt: null, now: NOW})).to.throw(InputError, 'unknown key');
  });

  it('releases from the blocked list only what the change lets in: a key list still refusing the address keeps it listed', () => {
    const data = store(['198.51.100.0/24'], {billing: ['198.51.100.0/24']});
    data.blocking.api.state = 'active';
    data.blocked = [blocked('203.0.113.7', 'billing'), blocked('203.0.113.8', 'other'), blocked('192.0.2.9', 'other')];
    const result = authorize(data, batch('203.0.113.0/24'), {label: null, expiresAt: null, now: NOW});
    // billing's own list does not hold 203.0.113.7: still refused. "other" is not a key of this store: released.
    expect(result.unblocked).to.equal(1);
    expect(result.stillRefused).to.deep.equal(['203.0.113.7 (key billing)']);
    expect(data.blocked.map((b) => b.ip)).to.deep.equal(['203.0.113.7', '192.0.2.9']);
  });

  it("a key list entry releases that key's record once the account list lets it in too", () => {
    const data = store(['203.0.113.0/24'], {billing: ['198.51.100.0/24']});
    data.blocking.api.state = 'active';
    data.blocked = [blocked('203.0.113.7', 'billing')];
    const result = authorize(data, batch('203.0.113.7'), {key: 'billing', label: null, expiresAt: null, now: NOW});
    expect(result).to.include({unblocked: 1});
    expect(data.blocked).to.deep.equal([]);
    expect(data.keys[0].allow.map((r) => r.entry)).to.deep.equal(['198.51.100.0/24', '203.0.113.7']);
  });
});
