import {expect} from 'chai';

import {scanDecisionAddress} from '../../src/core/address.js';
import {decide, decideWords, isLive, Policy} from '../../src/core/decision.js';
import {AddressError, InputError} from '../../src/core/errors.js';
import {Channel, EntryRecord, KeyRecord, StoreData, emptyStore} from '../../src/core/model.js';
import {hashSecret, hintOf, newSecret} from '../../src/core/secret.js';

const NOW = new Date('2025-03-01T12:00:00.000Z');
const DAY = 86_400_000;
const daysBefore = (days: number, from = NOW) => new Date(from.getTime() - days * DAY).toISOString();
const daysAfter = (days: number, from = NOW) => new Date(from.getTime() + days * DAY);

function record(entry: string, expiresAt: string | null = null): EntryRecord {
  return {entry, source: 'manual', label: null, addedAt: daysBefore(100), expiresAt};
}

interface MadeKey {
  key: KeyRecord;
  secret: string;
}

function makeKey(name: string, type: Channel, allow: EntryRecord[] = []): MadeKey {
  const secret = newSecret();
  const key: KeyRecord = {
    name,
    type,
    hash: hashSecret(secret),
    hint: hintOf(secret),
    status: 'active',
    createdAt: daysBefore(100),
    rotatedAt: null,
    revokedAt: null,
    allow,
  };
  return {key, secret};
}

/** A store with API and SMTP blocking in the given states and the given account list. */
function storeWith(options: {api?: 'learning' | 'active' | 'inactive'; smtp?: 'active' | 'inactive'; account?: EntryRecord[]; keys?: KeyRecord[]}): StoreData {
  const data = emptyStore(new Date(daysBefore(100)));
  if (options.api) data.blocking.api.state = options.api;
  if (options.smtp) data.blocking.smtp.state = options.smtp;
  data.account = options.account ?? [];
  data.keys = options.keys ?? [];
  return data;
}

function check(data: StoreData, keyName: string, address: string, now = NOW) {
  const policy = new Policy(data, now);
  return decide(policy.forKey(policy.findKey(keyName)), address);
}

describe('core/decision', () => {
  describe('the reasons of a decision', () => {
    const api = makeKey('web', 'api').key;
    const smtp = makeKey('mail', 'smtp').key;
    const account = [record('10.0.0.0/8'), record('10.1.0.0/16'), record('2001:db8::/32')];

    it('denies a revoked key even from an authorized address: key-revoked', () => {
      const revoked: KeyRecord = {...makeKey('old', 'api', [record('10.0.0.0/8')]).key, status: 'revoked', revokedAt: daysBefore(1)};
      const data = storeWith({api: 'inactive', account, keys: [revoked]});
      expect(check(data, 'old', '10.1.2.3')).to.deep.equal({key: 'old', ip: '10.1.2.3', decision: 'deny', reason: 'key-revoked', matched: []});
    });

    it('denies an address outside the key list even with blocking off: not-in-key-allowlist', () => {
      const narrow = makeKey('narrow', 'api', [record('192.0.2.0/24')]).key;
      const data = storeWith({api: 'inactive', account, keys: [narrow]});
      expect(check(data, 'narrow', '10.1.2.3')).to.deep.equal({
        key: 'narrow',
        ip: '10.1.2.3',
        decision: 'deny',
        reason: 'not-in-key-allowlist',
        matched: [],
      });
    });

    it('denies an address outside the account list while blocking is active: not-authorized', () => {
      const data = storeWith({api: 'active', account, keys: [api]});
      expect(check(data, 'web', '192.0.2.1')).to.deep.equal({key: 'web', ip: '192.0.2.1', decision: 'deny', reason: 'not-authorized', matched: []});
    });

    it('allows an unknown address while learning: learning', () => {
      const data = storeWith({api: 'learning', account, keys: [api]});
      expect(check(data, 'web', '192.0.2.1')).to.include({decision: 'allow', reason: 'learning'});
    });

    it('allows an unknown address while blocking is off: blocking-inactive', () => {
      const data = storeWith({api: 'active', smtp: 'inactive', account, keys: [api, smtp]});
      expect(check(data, 'mail', '192.0.2.1')).to.include({decision: 'allow', reason: 'blocking-inactive'});
    });

    it('allows an authorized address naming every matched entry, outermost first: authorized', () => {
      const data = storeWith({api: 'active', account, keys: [api]});
      expect(check(data, 'web', '10.1.2.3')).to.deep.equal({
        key: 'web',
        ip: '10.1.2.3',
        decision: 'allow',
        reason: 'authorized',
        matched: ['10.0.0.0/8', '10.1.0.0/16'],
      });
    });

    it('names the key-list entries before the account entries', () => {
      const scoped = makeKey('scoped', 'api', [record('10.1.2.0/24'), record('10.1.0.0/16')]).key;
      const data = storeWith({api: 'active', account, keys: [scoped]});
      expect(check(data, 'scoped', '10.1.2.3').matched).to.deep.equal(['10.1.0.0/16', '10.1.2.0/24', '10.0.0.0/8', '10.1.0.0/16']);
    });

    it('still requires the account list when the key list matches and blocking is active', () => {
      const scoped = makeKey('scoped', 'api', [record('192.0.2.0/24')]).key;
      const data = storeWith({api: 'active', account, keys: [scoped]});
      expect(check(data, 'scoped', '192.0.2.1')).to.deep.equal({
        key: 'scoped',
        ip: '192.0.2.1',
        decision: 'deny',
        reason: 'not-authorized',
        matched: ['192.0.2.0/24'],
      });
    });

    it('allows a key-list address while blocking is off, naming the key entry', () => {
      const scoped = makeKey('scoped', 'smtp', [record('192.0.2.0/24')]).key;
      const data = storeWith({smtp: 'inactive', keys: [scoped]});
      expect(check(data, 'scoped', '192.0.2.1')).to.include({decision: 'allow', reason: 'blocking-inactive'});
      expect(check(data, 'scoped', '192.0.2.1').matched).to.deep.equal(['192.0.2.0/24']);
    });

    it('reports an address in the account list as authorized while learning or inactive too', () => {
      // The spec's step 5 ("otherwise authorized"): a known address is not "learned" again.
      expect(check(storeWith({api: 'learning', account, keys: [api]}), 'web', '10.1.2.3')).to.include({reason: 'authorized'});
      expect(check(storeWith({api: 'inactive', account, keys: [api]}), 'web', '10.1.2.3')).to.include({reason: 'authorized'});
    });

    it('uses the blocking state of the key’s own channel', () => {
      const data = storeWith({api: 'inactive', smtp: 'active', account, keys: [api, smtp]});
      expect(check(data, 'web', '192.0.2.1')).to.include({decision: 'allow', reason: 'blocking-inactive'});
      expect(check(data, 'mail', '192.0.2.1')).to.include({decision: 'deny', reason: 'not-authorized'});
    });

    it('decides IPv6 addresses and reports them in canonical form', () => {
      const data = storeWith({api: 'active', account, keys: [api]});
      expect(check(data, 'web', '2001:DB8:0:0::0001')).to.deep.equal({
        key: 'web',
        ip: '2001:db8::1',
        decision: 'allow',
        reason: 'authorized',
        matched: ['2001:db8::/32'],
      });
      expect(check(data, 'web', '2001:db9::1')).to.include({decision: 'deny', reason: 'not-authorized'});
    });
  });

  describe('4-in-6 in decisions', () => {
    const api = makeKey('web', 'api').key;

    it('matches ::ffff:10.1.2.3 against the IPv4 entry 10.0.0.0/8', () => {
      const data = storeWith({api: 'active', account: [record('10.0.0.0/8')], keys: [api]});
      expect(check(data, 'web', '::ffff:10.1.2.3')).to.deep.equal({
        key: 'web',
        ip: '::ffff:10.1.2.3',
        decision: 'allow',
        reason: 'authorized',
        matched: ['10.0.0.0/8'],
      });
      expect(check(data, 'web', '::FFFF:0A01:0203')).to.include({ip: '::ffff:10.1.2.3', reason: 'authorized'});
    });

    it('denies a mapped address outside the IPv4 entries: it never bypasses them', () => {
      const data = storeWith({api: 'active', account: [record('10.0.0.0/8')], keys: [api]});
      expect(check(data, 'web', '::ffff:192.0.2.1')).to.include({decision: 'deny', reason: 'not-authorized'});
    });

    it('denies a mapped address outside a key list of IPv4 entries', () => {
      const scoped = makeKey('scoped', 'api', [record('10.0.0.0/8')]).key;
      const data = storeWith({api: 'inactive', keys: [scoped]});
      expect(check(data, 'scoped', '::ffff:192.0.2.1')).to.include({decision: 'deny', reason: 'not-in-key-allowlist'});
      expect(check(data, 'scoped', '::ffff:10.0.0.1')).to.include({decision: 'allow'});
    });

    it('does not let an IPv6 range around the mapped block allow a mapped address', () => {
      const data = storeWith({api: 'active', account: [record('::/64')], keys: [api]});
      expect(check(data, 'web', '::ffff:10.1.2.3')).to.include({decision: 'deny', reason: 'not-authorized'});
    });
  });

  describe('expiry', () => {
    const api = makeKey('web', 'api').key;

    it('never matches an expired account entry', () => {
      const data = storeWith({api: 'active', account: [record('10.0.0.0/8', daysBefore(1)), record('10.1.0.0/16')], keys: [api]});
      expect(check(data, 'web', '10.1.2.3').matched).to.deep.equal(['10.1.0.0/16']);
      expect(check(data, 'web', '10.2.0.1')).to.include({decision: 'deny', reason: 'not-authorized'});
    });

    it('still matches a live outer entry when the entry inside it has expired', () => {
      const data = storeWith({api: 'active', account: [record('10.0.0.0/8'), record('10.1.0.0/16', daysBefore(1))], keys: [api]});
      expect(check(data, 'web', '10.1.2.3').matched).to.deep.equal(['10.0.0.0/8']);
    });

    it('matches an entry until the moment it expires, and not at that moment', () => {
      const expires = new Date(NOW.getTime() + 1000).toISOString();
      const data = storeWith({api: 'active', account: [record('10.0.0.0/8', expires)], keys: [api]});
      expect(check(data, 'web', '10.0.0.1', new Date(NOW.getTime() + 999))).to.include({decision: 'allow'});
      expect(check(data, 'web', '10.0.0.1', new Date(expires))).to.include({decision: 'deny'});
      expect(isLive(record('10.0.0.0/8', expires), new Date(expires))).to.equal(false);
      expect(isLive(record('10.0.0.0/8', null), daysAfter(100_000))).to.equal(true);
    });

    it('treats a key list whose entries all expired as allowing nothing, not as no list', () => {
      const scoped = makeKey('scoped', 'api', [record('10.0.0.0/8', daysBefore(1))]).key;
      const data = storeWith({api: 'inactive', keys: [scoped]});
      expect(check(data, 'scoped', '10.0.0.1')).to.include({decision: 'deny', reason: 'not-in-key-allowlist'});
    });
  });

  describe('bad input to decide', () => {
    const api = makeKey('web', 'api').key;
    const policy = new Policy(storeWith({keys: [api]}), NOW).forKey(api);

    it('refuses a range: check takes single addresses', () => {
      expect(() => decide(policy, '10.0.0.0/8')).to.throw(InputError, 'is a range');
    });

    it('refuses a bad address with the grammar’s reason', () => {
      expect(() => decide(policy, '010.0.0.1')).to.throw(AddressError, 'octet 010 has a leading zero');
      expect(() => decide(policy, 'fe80::1%eth0')).to.throw(AddressError, 'zone');
    });

    it('says "is a range" only of real ranges: other text with a slash gets the grammar\'s reason', () => {
      expect(() => decide(policy, 'http://1.2.3.4'))
        .to.throw(AddressError)
        .that.satisfies((e: Error) => !e.message.includes('is a range'));
      expect(() => decide(policy, '/24'))
        .to.throw(AddressError)
        .that.satisfies((e: Error) => !e.message.includes('is a range'));
      expect(() => decide(policy, '2001:db8::/32')).to.throw(InputError, 'is a range');
    });

    it('keeps the message about a range bounded and escaped', () => {
      const input = `10.0.0.0/8\n${'x'.repeat(100_000)}`;
      try {
        decide(policy, input);
        expect.fail('accepted');
      } catch (error) {
        expect(error).to.be.instanceOf(InputError);
        const {message} = error as InputError;
        expect(message.length).to.be.below(300);
        expect(message).not.to.contain('\n');
      }
    });

    it('gives the same answer from decideWords on scanned words', () => {
      const data = storeWith({api: 'active', account: [record('10.0.0.0/8')], keys: [api]});
      const p = new Policy(data, NOW).forKey(api);
      const words = new Uint32Array(4);
      const family = scanDecisionAddress('10.9.8.7', words);
      expect(decideWords(p, '10.9.8.7', family, words)).to.deep.equal(decide(p, '10.9.8.7'));
    });
  });

  describe('blocking state: the stored state is the state in force', () => {
    it('starts a new store with api learning and smtp inactive', () => {
      const data = emptyStore(NOW);
      expect(new Policy(data, NOW).states).to.deep.equal({api: 'learning', smtp: 'inactive'});
      expect(data.settings.learningWindowDays).to.equal(30);
    });

    it('keeps learning past its window until an event turns it on (time alone never does)', () => {
      const api = makeKey('web', 'api').key;
      const data = storeWith({api: 'learning', account: [record('10.0.0.0/24')], keys: [api]});
      data.blocking.api.learningSince = daysBefore(100);
      data.blocking.api.lastNewAddressAt = daysBefore(31);
      data.blocking.api.lastEventAt = daysBefore(1);
      const policy = new Policy(data, daysAfter(1000));
      expect(policy.states).to.deep.equal({api: 'learning', smtp: 'inactive'});
      expect(decide(policy.forKey(api), '192.0.2.1')).to.include({decision: 'allow', reason: 'learning'});
    });

    it('denies unknown addresses once blocking is active', () => {
      const api = makeKey('web', 'api').key;
      const data = storeWith({api: 'active', account: [record('10.0.0.0/24')], keys: [api]});
      const policy = new Policy(data, NOW);
      expect(policy.states).to.deep.equal({api: 'active', smtp: 'inactive'});
      expect(decide(policy.forKey(api), '192.0.2.1')).to.include({decision: 'deny', reason: 'not-authorized'});
      expect(decide(policy.forKey(api), '10.0.0.1')).to.include({decision: 'allow', reason: 'authorized'});
    });
  });

  describe('finding the key', () => {
    const web = makeKey('web', 'api');
    const mail = makeKey('mail', 'smtp');
    const policy = new Policy(storeWith({keys: [web.key, mail.key]}), NOW);

    it('finds a key by its name', () => {
      expect(policy.findKey('web')).to.equal(web.key);
      expect(policy.findKey('mail')).to.equal(mail.key);
    });

    it('finds a key by its secret', () => {
      expect(policy.findKey(web.secret)).to.equal(web.key);
      expect(policy.findKey(mail.secret)).to.equal(mail.key);
    });

    it('finds a key given as `Bearer SECRET` (an Authorization header pasted whole), as learn and serve do', () => {
      expect(policy.findKey(`Bearer ${web.secret}`)).to.equal(web.key);
      expect(policy.findKey(`  bearer\t${mail.secret.toUpperCase()} `)).to.equal(mail.key);
      expect(policy.findKey('Bearer web')).to.equal(web.key);
      expect(() => policy.findKey(`Bearer ${newSecret()}`)).to.throw(InputError);
      expect(() => policy.findKey(`Bearer ${web.secret} extra`)).to.throw(InputError);
    });

    it('refuses an unknown name as a usage error naming it', () => {
      expect(() => policy.findKey('nope')).to.throw(InputError, 'unknown key `nope`');
      try {
        policy.findKey('nope');
      } catch (error) {
        expect((error as InputError).kind).to.equal('usage');
      }
    });

    it('refuses an unknown secret without echoing it', () => {
      const stranger = newSecret();
      try {
        policy.findKey(stranger);
        expect.fail('accepted');
      } catch (error) {
        expect(error).to.be.instanceOf(InputError);
        const {message, hint} = error as InputError;
        expect(message).to.contain('unknown key');
        expect(message).not.to.contain(stranger);
        expect(hint ?? '').not.to.contain(stranger);
      }
    });

    it('stops accepting the old secret once the key is rotated', () => {
      const fresh = newSecret();
      const rotated: KeyRecord = {...web.key, hash: hashSecret(fresh), hint: hintOf(fresh), rotatedAt: NOW.toISOString()};
      const after = new Policy(storeWith({keys: [rotated]}), NOW);
      expect(after.findKey(fresh)).to.equal(rotated);
      expect(() => after.findKey(web.secret)).to.throw(InputError, 'may have been rotated');
    });

    it('finds a key from its secret in capitals or with surrounding whitespace (hex is one number in any case), not from a name so spelled', () => {
      expect(policy.findKey(web.secret.toUpperCase())).to.equal(web.key);
      expect(policy.findKey(` ${web.secret}\r`)).to.equal(web.key);
      expect(() => policy.findKey(`Bearer ${web.secret}`.replace('Bearer', 'Basic'))).to.throw(InputError, hintOf(web.secret));
      expect(() => policy.findKey(` ${web.key.name}`)).to.throw(InputError);
    });
  });
});
