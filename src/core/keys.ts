/** Keys: finding one by name or secret, naming rules, and key records. */
import {holdsSecret, InputError, show} from './errors.js';
import {nearest} from './nearest.js';
import {scanPrefix} from './prefix.js';
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
  // `Bearer KEY` is how an Authorization header names a key (learn, serve, check): a key of that name could not be told
  // from the word in front of another's.
  if (/^bearer$/i.test(name)) throw new InputError(`${show(name)} cannot be a key name: it is the word an Authorization header puts before a key`, 'choose another name');
  // `check KEY ADDRESS` tells swapped arguments by the address in front: a key named like one could not be told from it
  // (found by an outside tester). Dotted numbers only: a name cannot hold the `:` of an IPv6 address.
  if (/^[0-9]+(?:\.[0-9]+){3}$/.test(name)) throw new InputError(`${show(name)} cannot be a key name: it reads as an IPv4 address`, 'choose a name that is not an address');
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
  const found = lookupKey(keys, nameOrSecret);
  if (found) return found;
  throw unknownKey(keys, nameOrSecret);
}

/** The key of `Bearer KEY` (an Authorization header pasted whole, as learn and serve read it), or null for other text. */
export function afterBearer(text: string): string | null {
  return /^\s*bearer[ \t]+(\S+)\s*$/i.exec(text)?.[1] ?? null;
}

/** The key named by `nameOrSecret` (see findKey), or null when there is none. */
export function lookupKey(keys: readonly KeyRecord[], nameOrSecret: string): KeyRecord | null {
  const byName = keys.find((k) => k.name === nameOrSecret);
  if (byName) return byName;
  // `Bearer SECRET` (an Authorization header pasted whole) names the key as learn and serve read it.
  const bearer = afterBearer(nameOrSecret);
  if (bearer !== null) {
    const named = keys.find((k) => k.name === bearer);
    if (named) return named;
  }
  const secret = (bearer ?? nameOrSecret).trim().toLowerCase();
  if (!looksLikeSecret(secret)) return null;
  const hash = hashSecret(secret);
  let found: KeyRecord | null = null;
  // Compare against every key so that the time taken does not depend on which one matches.
  for (const k of keys) if (secretMatches(hash, k.hash)) found = k;
  return found;
}

/**
 * The error for a key that is not there: a secret by its hint; a name with
 * the nearest key name, when one is close (`biling` → billing). Nothing
 * shaped like a secret is ever compared or repeated.
 */
export function unknownKey(keys: readonly KeyRecord[], nameOrSecret: string): InputError {
  const secret = nameOrSecret.trim().toLowerCase();
  if (looksLikeSecret(secret)) {
    return new InputError(`unknown key: the secret ${hintOf(secret)} matches no key (it may have been rotated)`, 'see `keyward keys list`');
  }
  const meant = holdsSecret(nameOrSecret)
    ? null
    : nearest(
        nameOrSecret,
        keys.map((k) => k.name),
      );
  // show(): the text may hold a secret in another spelling (`Bearer …`, a comma) or control characters.
  const error = new InputError(`unknown key ${show(nameOrSecret)}${meant === null ? '' : `; did you mean ${meant}?`}`, 'see `keyward keys list`');
  error.input = nameOrSecret;
  return error;
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

/**
 * The key of `check KEY ADDRESS...` (see findKey), with the arguments
 * swapped said as such: `check 10.20.30.1 web-api` is an unknown key
 * "10.20.30.1" that is an address, and KEY comes first.
 */
export function findCheckKey(keys: readonly KeyRecord[], key: string, addresses: readonly string[]): KeyRecord {
  const found = lookupKey(keys, key);
  if (found) return found;
  const error = unknownKey(keys, key);
  if (!isEntryText(key)) throw error;
  const named = addresses.find((a) => lookupKey(keys, a) !== null && !looksLikeSecret(a.trim().toLowerCase()));
  const swapped = new InputError(
    `unknown key ${show(key)}: it is an address, and KEY comes first`,
    named === undefined ? `keyward check KEY ${key}` : `did you mean \`keyward check ${named} ${key}\`?`,
  );
  swapped.input = key;
  throw swapped;
}

/** Whether `text` is an address or range by the grammar. */
function isEntryText(text: string): boolean {
  try {
    scanPrefix(text, {family: 4, bits: 0, words: new Uint32Array(4)});
    return true;
  } catch {
    return false;
  }
}
