/**
 * model.ts deferAccount: store data whose account list is read only when
 * first asked for (learn --follow's commits, store/read.ts). What registers
 * with onListRead is given the list as read, before anyone can change it,
 * whether the list is first read or first replaced; a load that fails fails
 * the asking, and the list stays unread.
 */
import {expect} from 'chai';

import {appendHistory, diffStore, snapshot} from '../../src/core/history.js';
import {accountUnread, deferList, emptyStore, EntryRecord, onListRead, StoreData} from '../../src/core/model.js';

const NOW = new Date('2026-03-02T00:00:00.000Z');
const record = (entry: string): EntryRecord => ({entry, source: 'manual', label: null, addedAt: NOW.toISOString(), expiresAt: null});

/** Store data whose account list (two records) is loaded on first use; `loads` counts the loads. */
function deferred(): {data: StoreData; loads: () => number} {
  const data = emptyStore(NOW);
  let loads = 0;
  deferList(data, 'account', () => {
    loads++;
    return {list: [record('10.0.0.0/8'), record('192.0.2.0/24')], text: null};
  });
  return {data, loads: () => loads};
}

describe('core/model: an account list read when asked for', () => {
  it('is loaded once, on first use, and the hooks get it as read before the caller changes it', () => {
    const {data, loads} = deferred();
    const seen: string[][] = [];
    onListRead(data, 'account', (list) => seen.push(list.map((r) => r.entry)));
    expect(accountUnread(data)).to.equal(true);
    expect(Object.keys(data), 'a member like any other').to.include('account');
    expect(loads()).to.equal(0);
    data.account.push(record('198.51.100.0/24'));
    expect(accountUnread(data)).to.equal(false);
    expect(data.account.length).to.equal(3);
    expect(loads()).to.equal(1);
    expect(seen).to.deep.equal([['10.0.0.0/8', '192.0.2.0/24']]);
    // Read, it is a plain member: a hook registered now is never called.
    onListRead(data, 'account', () => expect.fail('called after the list was read'));
    data.account = [];
    expect(loads()).to.equal(1);
  });

  it('replaced before it was read: the hooks get the list as read all the same', () => {
    const {data, loads} = deferred();
    const seen: string[][] = [];
    onListRead(data, 'account', (list) => seen.push(list.map((r) => r.entry)));
    data.account = [record('203.0.113.0/24')];
    expect(accountUnread(data)).to.equal(false);
    expect(data.account.map((r) => r.entry)).to.deep.equal(['203.0.113.0/24']);
    expect(seen).to.deep.equal([['10.0.0.0/8', '192.0.2.0/24']]);
    expect(loads()).to.equal(1);
  });

  it('a load that fails fails the asking, and the list stays unread', () => {
    const data = emptyStore(NOW);
    deferList(data, 'account', () => {
      throw new Error('the account list is not valid JSON');
    });
    expect(() => data.account.length).to.throw(/not valid JSON/);
    expect(accountUnread(data)).to.equal(true);
  });

  it('the history: a list never asked for is unchanged; one read and changed is diffed against the list as read', () => {
    const untouched = deferred();
    const before = snapshot(untouched.data);
    untouched.data.blocking.api.state = 'active';
    const changes = diffStore(before, untouched.data);
    expect(changes?.entries, 'no account entries').to.deep.equal([]);
    expect(untouched.loads(), 'not read by the diff').to.equal(0);

    const changed = deferred();
    const taken = snapshot(changed.data);
    changed.data.account.splice(0, 1, record('198.51.100.0/24'));
    const diff = diffStore(taken, changed.data)!;
    expect(diff.counts).to.deep.equal({added: 1, removed: 1, updated: 0});
    appendHistory(changed.data, [{at: NOW.toISOString(), command: 'learn', flags: [], user: 'u', changes: diff}]);
    expect(changed.data.history).to.have.length(1);
  });
});
