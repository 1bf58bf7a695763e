import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject, randomFillSync } from 'node:crypto';

/**
 * AES-256-GCM envelopes for data that must travel or rest encrypted (the code and the address in
 * a job, the recipient on a challenge row). Format: `v1.<keyId>.<iv>.<tag>.<ciphertext>`, each
 * part base64url. The key id lets keys rotate: the first key of a ring encrypts, all decrypt.
 */
export interface KeyRing {
  readonly currentId: string;
  /** KeyObjects, not Buffers: Node's ciphers take a KeyObject several times faster. */
  readonly keys: ReadonlyMap<string, KeyObject>;
}

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/** Parses `id:base64key[,id:base64key...]`; throws a message that never contains a key. */
export function parseKeyRing(value: string): KeyRing {
  const keys = new Map<string, KeyObject>();
  let currentId: string | undefined;
  for (const part of value.split(',')) {
    const separator = part.indexOf(':');
    const id = part.slice(0, separator).trim();
    const key = Buffer.from(part.slice(separator + 1).trim(), 'base64');
    if (separator < 1 || !KEY_ID.test(id)) throw new Error('each key must be written "id:base64", id of [A-Za-z0-9_-]');
    if (key.length !== 32) throw new Error(`key "${id}" must be 32 bytes (base64 of 32 random bytes)`);
    if (keys.has(id)) throw new Error(`key id "${id}" is repeated`);
    keys.set(id, createSecretKey(key));
    currentId ??= id;
  }
  if (currentId === undefined) throw new Error('at least one key is required');
  return { currentId, keys };
}

const IV_BYTES = 12;
const IV_POOL_BYTES = IV_BYTES * 341;
let ivPool = Buffer.alloc(0);
let ivOffset = 0;

/**
 * A fresh random 96-bit IV, cut from a pool of random bytes drawn 4 kB at a time (as Node draws
 * its random UUIDs): one call into the random generator per 341 envelopes instead of one each,
 * which was half the cost of a seal. A used pool is left to the IVs cut from it, never refilled.
 */
function nextIv(): Buffer {
  if (ivOffset + IV_BYTES > ivPool.length) {
    ivPool = randomFillSync(Buffer.allocUnsafe(IV_POOL_BYTES));
    ivOffset = 0;
  }
  const iv = ivPool.subarray(ivOffset, ivOffset + IV_BYTES);
  ivOffset += IV_BYTES;
  return iv;
}

/** Encrypts `value` (JSON) bound to `context` (authenticated, not stored), e.g. a job id. */
export function seal(ring: KeyRing, value: unknown, context: string): string {
  const key = ring.keys.get(ring.currentId) as KeyObject;
  const iv = nextIv();
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context));
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  const parts = [iv, cipher.getAuthTag(), ciphertext].map((part) => part.toString('base64url'));
  return ['v1', ring.currentId, ...parts].join('.');
}

export type EnvelopeFailure = 'unknown_format' | 'unknown_key' | 'authentication_failed';

export class EnvelopeError extends Error {
  /** `unknown_key` may heal (a key not rolled out yet); the others never do. */
  readonly reason: EnvelopeFailure;
  constructor(reason: EnvelopeFailure, detail: string) {
    super(`envelope cannot be opened: ${detail}`);
    this.name = 'EnvelopeError';
    this.reason = reason;
  }
}

/** Decrypts an envelope made by `seal` with the same `context`; throws EnvelopeError otherwise. */
export function open(ring: KeyRing, envelope: string, context: string): unknown {
  const [version, keyId, iv, tag, ciphertext, ...rest] = envelope.split('.');
  if (version !== 'v1' || keyId === undefined || ciphertext === undefined || rest.length > 0) {
    throw new EnvelopeError('unknown_format', 'unknown format');
  }
  const key = ring.keys.get(keyId);
  if (key === undefined) throw new EnvelopeError('unknown_key', `unknown key id "${keyId}"`);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv as string, 'base64url'));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(Buffer.from(tag as string, 'base64url'));
    const plain = Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]);
    return JSON.parse(plain.toString('utf8'));
  } catch {
    throw new EnvelopeError('authentication_failed', 'authentication failed');
  }
}
