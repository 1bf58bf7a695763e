import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';

export interface PublicSigningJwk {
  kty: string;
  crv: string;
  x: string;
  kid: string;
  alg: 'EdDSA';
  use: 'sig';
}

/** A public key that verifies access tokens, and what the JWKS publishes of it. */
export interface VerifyingKey {
  readonly publicKey: KeyObject;
  /** JWK thumbprint (RFC 7638) of the public key: stable for a key, new for a new key. */
  readonly kid: string;
  readonly publicJwk: PublicSigningJwk;
}

/** The key that signs access tokens, and what the JWKS publishes of it. */
export interface SigningKey extends VerifyingKey {
  readonly privateKey: KeyObject;
}

/**
 * Reads a PKCS#8 PEM Ed25519 private key. Env files often hold it on one line with literal "\n"
 * sequences, so those become newlines first. Messages never include key material.
 */
export function parseSigningKeyPem(value: string): KeyObject {
  // Also tolerate the surrounding quotes of a JSON-encoded PEM pasted into an environment.
  const pem = value
    .trim()
    .replace(/^"([\s\S]*)"$/, '$1')
    .replace(/\\n/g, '\n')
    .trim();
  if (!pem.startsWith('-----BEGIN PRIVATE KEY-----')) {
    throw new Error('must be a PKCS#8 PEM private key ("-----BEGIN PRIVATE KEY-----")');
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new Error('is not a readable PKCS#8 PEM private key');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('must be an Ed25519 key');
  return key;
}

/**
 * Reads the SPKI PEM of the previous Ed25519 signing key (JWT_PREVIOUS_PUBLIC_KEY): tokens it
 * signed keep verifying while they live, so a key rotation signs nobody out.
 */
export function parsePublicKeyPem(value: string): KeyObject {
  const pem = value
    .trim()
    .replace(/^"([\s\S]*)"$/, '$1')
    .replace(/\\n/g, '\n')
    .trim();
  if (!pem.startsWith('-----BEGIN PUBLIC KEY-----')) {
    throw new Error('must be an SPKI PEM public key ("-----BEGIN PUBLIC KEY-----")');
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    throw new Error('is not a readable SPKI PEM public key');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('must be an Ed25519 key');
  return key;
}

export async function createVerifyingKey(publicKey: KeyObject): Promise<VerifyingKey> {
  const jwk = publicKey.export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint(jwk, 'sha256');
  const publicJwk: PublicSigningJwk = {
    kty: String(jwk.kty),
    crv: String(jwk.crv),
    x: String(jwk.x),
    kid,
    alg: 'EdDSA',
    use: 'sig',
  };
  return { publicKey, kid, publicJwk };
}

export async function createSigningKey(pem: string): Promise<SigningKey> {
  const privateKey = parseSigningKeyPem(pem);
  return { privateKey, ...(await createVerifyingKey(createPublicKey(privateKey))) };
}
