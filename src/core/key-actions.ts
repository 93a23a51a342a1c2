/** What the `keys` commands do to the store: create, rotate and revoke a key, and a key as JSON (never its hash). */
import {addEntries} from './allowlist.js';
import {InputError, maskSecrets} from './errors.js';
import {checkKeyName, findKey, newKeyRecord} from './keys.js';
import {Channel, isDeny, KeyRecord} from './model.js';
import {Prefix} from './prefix.js';
import {Question} from './question.js';
import {hashSecret, hintOf} from './secret.js';

/** `keys list --json`: every key, without its hash. */
export function keysJson(data: {keys: readonly KeyRecord[]}) {
  return data.keys.map(keyJson);
}

/** A key without its hash (`keys list`, `keys revoke`). */
export function keyJson(k: KeyRecord) {
  return {
    name: k.name,
    type: k.type,
    // (A hint is the store's own text, which a hand edit may make a whole secret: shown by its hint, as in the table.)
    hint: maskSecrets(k.hint),
    status: k.status,
    createdAt: k.createdAt,
    rotatedAt: k.rotatedAt,
    // `allow` holds entries, as the contract types it: a deny entry of the key's list is in `deny` (found by an outside
    // tester: a `!ENTRY` there was no entry, and piped back into authorize or check it was refused).
    allow: k.allow.filter((r) => !isDeny(r)).map((r) => r.entry),
    deny: k.allow.filter(isDeny).map((r) => r.entry),
  };
}

/** Adds a new key with the list `allow` to the store in place (see newKeyRecord); an InputError when the name is taken. */
export function createKey(data: {keys: KeyRecord[]}, key: {name: string; type: Channel; allow: readonly Prefix[]}, secret: string, now: Date): KeyRecord {
  checkKeyName(key.name);
  if (data.keys.some((k) => k.name === key.name)) throw new InputError(`a key named ${key.name} exists already`);
  const record = newKeyRecord(key.name, key.type, secret, now);
  addEntries(
    record.allow,
    key.allow.map((prefix) => ({prefix, label: null, source: 'manual', expiresAt: null})),
    now,
  );
  data.keys.push(record);
  return record;
}

/** The key `keys rotate` would rotate, and the question; an InputError for a revoked key. */
export function planRotate(data: {keys: readonly KeyRecord[]}, nameOrSecret: string): {key: KeyRecord; question: Question} {
  const key = findKey(data.keys, nameOrSecret);
  if (key.status === 'revoked') throw new InputError(`key ${key.name} is revoked and cannot be rotated`, 'create a new key instead');
  return {key, question: {text: `Rotate key ${key.name}? Its current secret (${key.hint}) stops working at once.`}};
}

/** Gives `key` the new secret in place: the old one stops working. */
export function rotateKey(key: KeyRecord, secret: string, now: Date): void {
  key.hash = hashSecret(secret);
  key.hint = hintOf(secret);
  key.rotatedAt = now.toISOString();
}

/** The key `keys revoke` would retire, and the question (none when it is already revoked). */
export function planKeyRevoke(data: {keys: readonly KeyRecord[]}, nameOrSecret: string): {key: KeyRecord; question: Question | null} {
  const key = findKey(data.keys, nameOrSecret);
  return {key, question: key.status === 'revoked' ? null : {text: `Revoke key ${key.name}? Every use of it will be denied.`}};
}

/** Retires `key` in place (already revoked: left as it is). */
export function revokeKey(key: KeyRecord, now: Date): void {
  if (key.status === 'revoked') return;
  key.status = 'revoked';
  key.revokedAt = now.toISOString();
}
