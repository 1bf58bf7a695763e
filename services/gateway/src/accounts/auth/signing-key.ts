import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';

/** The JWS algorithms access tokens may be signed with (JWT_ALGORITHM), one per kind of key. */
export const JWT_ALGORITHMS = ['EdDSA', 'ES256', 'RS256'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

/** The smallest RSA modulus accepted (NIST SP 800-57: 2048 bits until 2030). */
export const MIN_RSA_BITS = 2048;

/** What each algorithm's key must be, as the start error says it. */
const KEY_OF: Record<JwtAlgorithm, string> = {
  EdDSA: 'an Ed25519 key',
  ES256: 'an EC key on the P-256 curve',
  RS256: `an RSA key of at least ${MIN_RSA_BITS} bits`,
};

/**
 * The one algorithm a key signs and verifies with; undefined for a key none of them takes (an
 * Ed448 or P-384 key, RSA-PSS, RSA under 2048 bits). A key is never used with another algorithm,
 * so RS/ES confusion and HMAC-with-the-public-key cannot happen.
 */
export function algorithmOfKey(key: KeyObject): JwtAlgorithm | undefined {
  const details = key.asymmetricKeyDetails;
  switch (key.asymmetricKeyType) {
    case 'ed25519':
      return 'EdDSA';
    case 'ec':
      return details?.namedCurve === 'prime256v1' ? 'ES256' : undefined;
    case 'rsa':
      return (details?.modulusLength ?? 0) >= MIN_RSA_BITS ? 'RS256' : undefined;
    default:
      return undefined;
  }
}

/** The members a JWKS publishes of a key: those of its type (OKP: crv, x; EC: crv, x, y; RSA: n, e). */
export type PublicSigningJwk =
  | { kty: 'OKP'; crv: string; x: string; kid: string; alg: 'EdDSA'; use: 'sig' }
  | { kty: 'EC'; crv: string; x: string; y: string; kid: string; alg: 'ES256'; use: 'sig' }
  | { kty: 'RSA'; n: string; e: string; kid: string; alg: 'RS256'; use: 'sig' };

/** A public key that verifies access tokens, and what the JWKS publishes of it. */
export interface VerifyingKey {
  readonly publicKey: KeyObject;
  /** The only algorithm accepted for this key. */
  readonly alg: JwtAlgorithm;
  /** JWK thumbprint (RFC 7638) of the public key: stable for a key, new for a new key. */
  readonly kid: string;
  readonly publicJwk: PublicSigningJwk;
}

/** The key that signs access tokens, and what the JWKS publishes of it. */
export interface SigningKey extends VerifyingKey {
  readonly privateKey: KeyObject;
}

/** Env files often hold a PEM on one line with literal "\n" sequences, or JSON-quoted. */
function unwrapPem(value: string): string {
  return value
    .trim()
    .replace(/^"([\s\S]*)"$/, '$1')
    .replace(/\\n/g, '\n')
    .trim();
}

/**
 * Reads the PKCS#8 PEM private key of JWT_PRIVATE_KEY, which must be of `algorithm`'s kind.
 * Messages never include key material.
 */
export function parseSigningKeyPem(value: string, algorithm: JwtAlgorithm = 'EdDSA'): KeyObject {
  const pem = unwrapPem(value);
  if (!pem.startsWith('-----BEGIN PRIVATE KEY-----')) {
    throw new Error('must be a PKCS#8 PEM private key ("-----BEGIN PRIVATE KEY-----")');
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new Error('is not a readable PKCS#8 PEM private key');
  }
  if (algorithmOfKey(key) !== algorithm)
    throw new Error(`must be ${KEY_OF[algorithm]} (JWT_ALGORITHM is ${algorithm})`);
  return key;
}

/**
 * Reads the SPKI PEM of the previous signing key (JWT_PREVIOUS_PUBLIC_KEY): tokens it signed keep
 * verifying while they live, so a key rotation signs nobody out. Any of the three kinds: its
 * algorithm is the key's own, so a rotation may also change the algorithm.
 */
export function parsePublicKeyPem(value: string): KeyObject {
  const pem = unwrapPem(value);
  if (!pem.startsWith('-----BEGIN PUBLIC KEY-----')) {
    throw new Error('must be an SPKI PEM public key ("-----BEGIN PUBLIC KEY-----")');
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    throw new Error('is not a readable SPKI PEM public key');
  }
  if (algorithmOfKey(key) === undefined) {
    throw new Error(`must be ${KEY_OF.EdDSA}, ${KEY_OF.ES256} or ${KEY_OF.RS256}`);
  }
  return key;
}

function publicJwkOf(jwk: JWK, kid: string, alg: JwtAlgorithm): PublicSigningJwk {
  const member = (name: keyof JWK) => String(jwk[name]);
  switch (alg) {
    case 'EdDSA':
      return { kty: 'OKP', crv: member('crv'), x: member('x'), kid, alg, use: 'sig' };
    case 'ES256':
      return { kty: 'EC', crv: member('crv'), x: member('x'), y: member('y'), kid, alg, use: 'sig' };
    case 'RS256':
      return { kty: 'RSA', n: member('n'), e: member('e'), kid, alg, use: 'sig' };
  }
}

export async function createVerifyingKey(publicKey: KeyObject): Promise<VerifyingKey> {
  const alg = algorithmOfKey(publicKey);
  if (alg === undefined) throw new Error('not a key access tokens can be signed with');
  const jwk = publicKey.export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint(jwk, 'sha256');
  return { publicKey, alg, kid, publicJwk: publicJwkOf(jwk, kid, alg) };
}

export async function createSigningKey(pem: string, algorithm: JwtAlgorithm = 'EdDSA'): Promise<SigningKey> {
  const privateKey = parseSigningKeyPem(pem, algorithm);
  return { privateKey, ...(await createVerifyingKey(createPublicKey(privateKey))) };
}
