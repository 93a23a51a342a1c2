/**
 * Key secrets: 40 hex characters from a CSPRNG, shown once; only their
 * sha256 and a short hint are ever kept. A secret has 160 random bits, so a
 * fast unsalted hash is enough: there is nothing to brute-force.
 */

/**
 * node:crypto, loaded on first use: a `check` that names its key never needs
 * it, and loading it is a tenth of such a check's start-up.
 */
function crypto(): typeof import('node:crypto') {
  return process.getBuiltinModule('node:crypto');
}

const SECRET_PATTERN = /^[0-9a-f]{40}$/;

export function newSecret(): string {
  return crypto().randomBytes(20).toString('hex');
}

/** Whether a key argument has the shape of a secret (names of that shape are refused). */
export function looksLikeSecret(text: string): boolean {
  return SECRET_PATTERN.test(text);
}

export function hashSecret(secret: string): string {
  const c = crypto();
  // crypto.hash (Node 20.12+, 21.7+): one call, no Hash object; 0.5 µs against 1.2 (serve hashes each request's secret).
  return typeof c.hash === 'function' ? c.hash('sha256', secret, 'hex') : c.createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex hashes. */
export function secretMatches(hash: string, storedHash: string): boolean {
  const a = Buffer.from(hash, 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && crypto().timingSafeEqual(a, b);
}

/** The hint that names a secret without revealing it: a1b2…9f0e. */
export function hintOf(secret: string): string {
  return `${secret.slice(0, 4)}…${secret.slice(-4)}`;
}
