import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

// The operators' API keys (ADMIN_API_KEYS): `name:hash` entries, where the hash is the base64url
// SHA-256 of the key. Only hashes are configured, so a leaked environment or manifest does not
// leak a key. A plain SHA-256 is enough: a key is 32 random bytes, nothing a dictionary or a
// slow hash would protect better, and checking it must stay cheap for every admin call.

export interface AdminKeyEntry {
  /** Who holds the key, recorded as `operator` on every event of its calls. */
  name: string;
  /** SHA-256 of the key (32 bytes). */
  hash: Buffer;
}

/** What a generated key starts with, so a key that leaks is recognisable (secret scanners, logs). */
export const ADMIN_KEY_PREFIX = 'otpa_';
/** Shortest key accepted: shorter ones are no key this system generated. */
export const ADMIN_KEY_MIN_LENGTH = 24;
const NAME = /^[a-z0-9._-]{1,64}$/;
const HASH = /^[A-Za-z0-9_-]{43}$/;

/** The base64url (no padding) SHA-256 of a key, as its entry in ADMIN_API_KEYS holds it. */
export function hashAdminKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('base64url');
}

/** A new key (`otpa_` and 32 random bytes in base64url) and its `name:hash` entry. */
export function generateAdminKey(name: string): { key: string; entry: string } {
  if (!NAME.test(name)) throw new Error('a key name is 1 to 64 of a-z, 0-9, dot, underscore, hyphen');
  const key = `${ADMIN_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { key, entry: `${name}:${hashAdminKey(key)}` };
}

/**
 * The entries of ADMIN_API_KEYS (comma-separated `name:hash`); empty or blank: none. Throws, never
 * quoting a hash, on a malformed entry or a name used twice.
 */
export function parseAdminApiKeys(value: string): AdminKeyEntry[] {
  const entries: AdminKeyEntry[] = [];
  const parts = value.split(',').map((part) => part.trim());
  if (parts.length === 1 && parts[0] === '') return entries;
  for (const [index, part] of parts.entries()) {
    const [name = '', hash = '', ...rest] = part.split(':');
    if (rest.length > 0 || !NAME.test(name) || !HASH.test(hash)) {
      throw new Error(
        `entry ${index + 1} must be name:hash (name: 1 to 64 of a-z 0-9 . _ -; hash: the base64url SHA-256 of the key, 43 characters)`,
      );
    }
    if (entries.some((entry) => entry.name === name)) throw new Error(`the name ${name} is used twice`);
    entries.push({ name, hash: Buffer.from(hash, 'base64url') });
  }
  return entries;
}

/**
 * The name of the entry the key hashes to, or undefined. Every entry is compared, in constant
 * time, whatever matched before: the time of an answer says nothing about which entry, if any,
 * came close.
 */
export function matchAdminKey(entries: readonly AdminKeyEntry[], key: string): string | undefined {
  const presented = createHash('sha256').update(key, 'utf8').digest();
  let found: string | undefined;
  for (const entry of entries) {
    if (timingSafeEqual(presented, entry.hash) && found === undefined) found = entry.name;
  }
  return found;
}
