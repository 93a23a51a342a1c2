/** Keys: finding one by name or secret, naming rules, and key records. */
import {holdsSecret, InputError, show} from './errors.js';
import {Channel, KeyRecord} from './model.js';
import {hashSecret, hintOf, looksLikeSecret, secretMatches} from './secret.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Whether `name` has the grammar of a key name (a store's names are held to it on load). */
export function isKeyName(name: string): boolean {
  return NAME.test(name);
}

/** Checks a new key's name: 1–64 of A–Z a–z 0–9 . _ -, not shaped like a secret. */
export function checkKeyName(name: string): void {
  if (!NAME.test(name)) {
    throw new InputError(`${show(name)} is not a key name: use 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit`);
  }
  // In any case and anywhere in the name: a name is printed everywhere, a secret nowhere.
  if (holdsSecret(name)) throw new InputError(`${show(name)} looks like a key secret and cannot be a name`);
}

/** Checks a group name (SPEC "Groups"): the grammar of a key name, not shaped like a secret. */
export function checkGroupName(name: string): void {
  if (!NAME.test(name)) {
    throw new InputError(`${show(name)} is not a group name: use 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit`);
  }
  if (holdsSecret(name)) throw new InputError(`${show(name)} looks like a key secret and cannot be a group name`);
}

/**
 * The key named by `nameOrSecret`: its name, or its secret (looked up by
 * hash, compared in constant time, never echoed in a message). A secret is
 * recognised with surrounding whitespace (a pasted line's space or CR) and
 * in any case: hex is the same number in upper case.
 */
export function findKey(keys: readonly KeyRecord[], nameOrSecret: string): KeyRecord {
  const byName = keys.find((k) => k.name === nameOrSecret);
  if (byName) return byName;
  const secret = nameOrSecret.trim().toLowerCase();
  if (looksLikeSecret(secret)) {
    const hash = hashSecret(secret);
    let found: KeyRecord | undefined;
    // Compare against every key so that the time taken does not depend on which one matches.
    for (const k of keys) if (secretMatches(hash, k.hash)) found = k;
    if (found) return found;
    throw new InputError(`unknown key: the secret ${hintOf(secret)} matches no key (it may have been rotated)`, 'see `keyward keys list`');
  }
  // show(): the text may hold a secret in another spelling (`Bearer …`, a comma) or control characters.
  throw new InputError(`unknown key ${show(nameOrSecret)}`, 'see `keyward keys list`');
}

/** A new key record for `secret`; only its hash and hint are kept. */
export function newKeyRecord(name: string, type: Channel, secret: string, now: Date): KeyRecord {
  return {
    name,
    type,
    hash: hashSecret(secret),
    hint: hintOf(secret),
    status: 'active',
    createdAt: now.toISOString(),
    rotatedAt: null,
    revokedAt: null,
    allow: [],
  };
}

/** The name of the key `nameOrSecret` names (see findKey). */
export function keyNamed(data: {keys: readonly KeyRecord[]}, nameOrSecret: string): string {
  return findKey(data.keys, nameOrSecret).name;
}
