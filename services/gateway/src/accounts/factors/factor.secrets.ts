import type { FactorKind, UserFactor } from '@otp/db';
import { type KeyRing, open, seal } from '@otp/domain';
import { ScureBase32Plugin } from 'otplib';

/** Base32 (RFC 4648) as authenticator apps read it; encoded without padding. */
export const base32 = new ScureBase32Plugin();

export function toBase32(secret: Uint8Array): string {
  return base32.encode(secret, { padding: false });
}

/** Bound to the account and the kind, so a sealed secret cannot be moved to another row. */
function context(userId: string, kind: FactorKind): string {
  return `factor:${userId}:${kind}`;
}

/** Seals a factor secret under the current FACTOR_KEYS key (AES-256-GCM, key id inside). */
export function sealFactorSecret(ring: KeyRing, userId: string, kind: FactorKind, secret: Uint8Array): string {
  return seal(ring, Buffer.from(secret).toString('base64'), context(userId, kind));
}

/** The secret of a factor row; `stale` when an older key sealed it (re-seal it after use). */
export function openFactorSecret(ring: KeyRing, factor: UserFactor): { secret: Uint8Array; stale: boolean } {
  const value = open(ring, factor.secret_envelope, context(factor.user_id, factor.kind));
  if (typeof value !== 'string') throw new Error('factor secret envelope holds no secret');
  return { secret: Buffer.from(value, 'base64'), stale: factor.secret_envelope.split('.')[1] !== ring.currentId };
}
