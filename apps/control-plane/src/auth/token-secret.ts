import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 32 random bytes: 256 bits of entropy per secret. */
const SECRET_BYTES = 32;

/**
 * A new random secret, `<prefix><base64url>`. The prefix names what the secret is (`emf_` API token, `emfe_`
 * enrolment token) so secret scanners and people can tell them apart; device secrets have no prefix.
 */
export function newSecret(prefix = ''): string {
  return `${prefix}${randomBytes(SECRET_BYTES).toString('base64url')}`;
}

/**
 * The stored form of a secret: SHA-256, hex. A fast unsalted hash is right here, and bcrypt/scrypt/argon2
 * are not: those slow hashes defend low-entropy human passwords against guessing, but every secret hashed here
 * is 256 random bits, so an attacker holding the table cannot guess a preimage at any hash speed. A slow hash
 * would instead cost tens of milliseconds of CPU on every API request and every MQTT CONNECT (an easy
 * denial-of-service lever), and a salted hash cannot be looked up by an index, so every verification would have
 * to scan candidate rows. Secrets that an operator chooses (EMOFLEET_ADMIN_TOKEN) must be at least 32
 * characters for the same reason.
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Compares a presented secret with a stored hash in constant time. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = Buffer.from(hashSecret(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

/** A short random id with a prefix naming its kind, e.g. `tok_3f9a0c12d4e5b6a7`. */
export function newId(prefix: string): string {
  return `${prefix}${randomBytes(8).toString('hex')}`;
}
