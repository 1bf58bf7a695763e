import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

// Keys sent as `Authorization: Bearer <key>`: the operators' (ADMIN_API_KEYS) and the servers'
// (API_KEYS). Both are configured as `name:hash` entries, where the hash is the base64url SHA-256
// of the key. Only hashes are configured, so a leaked environment or manifest does not leak a key.
// A plain SHA-256 is enough: a key is 32 random bytes, nothing a dictionary or a slow hash would
// protect better, and checking it must stay cheap for every call.

export interface KeyEntry {
  /** Who holds the key: the operator of an admin call, the server of a verification. */
  name: string;
  /** SHA-256 of the key (32 bytes). */
  hash: Buffer;
}

/** What a generated key starts with, so a key that leaks is recognisable (secret scanners, logs). */
export const ADMIN_KEY_PREFIX = 'otpa_';
export const SERVER_KEY_PREFIX = 'otpk_';
/** Shortest key accepted: shorter ones are no key this system generated. */
export const KEY_MIN_LENGTH = 24;
const NAME = /^[a-z0-9._-]{1,64}$/;
const HASH = /^[A-Za-z0-9_-]{43}$/;
// A key is one token of printable ASCII (a generated one is a prefix + base64url); anything else
// is malformed and compared with nothing. The upper bound keeps hashing trivially cheap.
const BEARER = new RegExp(`^Bearer ([\\x21-\\x7e]{${KEY_MIN_LENGTH},256})$`, 'i');

/** The key of an `Authorization: Bearer <key>` header, or undefined when the header is not one. */
export function bearerKey(header: string): string | undefined {
  return BEARER.exec(header)?.[1];
}

/** The base64url (no padding) SHA-256 of a key, as its `name:hash` entry holds it. */
export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('base64url');
}

/** A new key (`prefix` and 32 random bytes in base64url) and its `name:hash` entry. */
export function generateKey(prefix: string, name: string): { key: string; entry: string } {
  if (!NAME.test(name)) throw new Error('a key name is 1 to 64 of a-z, 0-9, dot, underscore, hyphen');
  const key = `${prefix}${randomBytes(32).toString('base64url')}`;
  return { key, entry: `${name}:${hashKey(key)}` };
}

/** A new admin API key (`otpa_...`) and its ADMIN_API_KEYS entry. */
export const generateAdminKey = (name: string) => generateKey(ADMIN_KEY_PREFIX, name);
/** A new server key of the verification API (`otpk_...`) and its API_KEYS entry. */
export const generateServerKey = (name: string) => generateKey(SERVER_KEY_PREFIX, name);

/**
 * The entries of a keys variable (comma-separated `name:hash`); empty or blank: none. Throws, never
 * quoting a hash, on a malformed entry or a name used twice.
 */
export function parseKeyEntries(value: string): KeyEntry[] {
  const entries: KeyEntry[] = [];
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
export function matchKey(entries: readonly KeyEntry[], key: string): string | undefined {
  const presented = createHash('sha256').update(key, 'utf8').digest();
  let found: string | undefined;
  for (const entry of entries) {
    if (timingSafeEqual(presented, entry.hash) && found === undefined) found = entry.name;
  }
  return found;
}
