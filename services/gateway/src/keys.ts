import { createSecretKey, type KeyObject } from 'node:crypto';
import { type KeyRing, parseKeyRing } from '@otp/domain';
import {
  createSigningKey,
  createVerifyingKey,
  type JwtAlgorithm,
  parsePublicKeyPem,
  type SigningKey,
  type VerifyingKey,
} from './accounts/auth/signing-key.ts';

/** The gateway's secrets, parsed once at start. */
export interface GatewayKeys {
  /** HMAC key of the stored code hashes and recipient hashes. */
  readonly codeHmacKey: KeyObject;
  /** Seals the recipient on a challenge row and the code + address in a delivery job. */
  readonly envelopes: KeyRing;
  /** Seals authenticator secrets (TOTP, HOTP) at rest. */
  readonly factorSecrets: KeyRing;
  /** Signs access tokens. */
  readonly signing: SigningKey;
  /**
   * Every key that verifies access tokens: the signing key first, then the previous one if any,
   * each with its own algorithm (a rotation may change it).
   */
  readonly verifying: readonly VerifyingKey[];
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$|^[A-Za-z0-9_-]+$/;

export function parseCodeHmacKey(value: string): Buffer {
  const trimmed = value.trim();
  if (!BASE64.test(trimmed)) throw new Error('must be base64');
  const key = Buffer.from(trimmed, trimmed.includes('-') || trimmed.includes('_') ? 'base64url' : 'base64');
  if (key.length < 32) throw new Error('must decode to at least 32 bytes (e.g. base64 of 32 random bytes)');
  return key;
}

/** The secret settings, as the config schema (config.ts, which checks them with the parsers here) reads them. */
export interface KeySettings {
  CODE_HMAC_KEY: string;
  ENVELOPE_KEYS: string;
  FACTOR_KEYS: string;
  JWT_ALGORITHM: JwtAlgorithm;
  JWT_PRIVATE_KEY: string;
  JWT_PREVIOUS_PUBLIC_KEY: string;
}

export async function createGatewayKeys(config: KeySettings): Promise<GatewayKeys> {
  const signing = await createSigningKey(config.JWT_PRIVATE_KEY, config.JWT_ALGORITHM);
  const previous =
    config.JWT_PREVIOUS_PUBLIC_KEY.trim() === ''
      ? []
      : [await createVerifyingKey(parsePublicKeyPem(config.JWT_PREVIOUS_PUBLIC_KEY))];
  return {
    // A KeyObject: Node's HMAC takes one several times faster than a Buffer.
    codeHmacKey: createSecretKey(parseCodeHmacKey(config.CODE_HMAC_KEY)),
    envelopes: parseKeyRing(config.ENVELOPE_KEYS),
    factorSecrets: parseKeyRing(config.FACTOR_KEYS),
    signing,
    verifying: [signing, ...previous.filter((key) => key.kid !== signing.kid)],
  };
}
