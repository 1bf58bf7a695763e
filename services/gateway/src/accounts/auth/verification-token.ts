import { randomUUID } from 'node:crypto';
import type { Channel } from '@otp/domain';
import { SignJWT } from 'jose';
import type { TokenSettings } from './tokens.service.ts';

/**
 * The media type of a verification token (RFC 8725 §3.11 explicit typing): never `at+jwt`, so the
 * gateway and any resource server that checks `typ` refuse it as an access token. Its audience is
 * a server key's name, which the configuration keeps apart from JWT_AUDIENCE as well.
 */
export const VERIFICATION_TOKEN_TYP = 'verification+jwt';
/** How long a verification token is good for, counted from the verification. */
export const VERIFICATION_TOKEN_TTL_SECONDS = 600;

/** What a verification token states: this server's challenge proved this address at that time. */
export interface VerificationClaims {
  /** The server key's name (its API_KEYS entry): the token's `aud`. */
  apiKey: string;
  challengeId: string;
  channel: Channel;
  /** The proven address, in clear (the server asked for it). */
  to: string;
  verifiedAt: Date;
}

/** Signs verification tokens with the access tokens' key and issuer; resolves with a JWT. */
export type VerificationTokenSigner = (claims: VerificationClaims, now: Date) => Promise<string>;

const seconds = (at: Date) => Math.floor(at.getTime() / 1000);

/** The token expires VERIFICATION_TOKEN_TTL_SECONDS after the verification, however late it is asked for. */
export function verificationTokenExpiry(verifiedAt: Date): Date {
  return new Date(verifiedAt.getTime() + VERIFICATION_TOKEN_TTL_SECONDS * 1000);
}

export function verificationTokenSigner(settings: TokenSettings): VerificationTokenSigner {
  return async (claims, now) =>
    new SignJWT({ channel: claims.channel, to: claims.to, verified_at: seconds(claims.verifiedAt) })
      .setProtectedHeader({
        alg: settings.signing.alg,
        typ: VERIFICATION_TOKEN_TYP,
        kid: settings.signing.kid,
      })
      .setIssuer(settings.issuer)
      .setAudience(claims.apiKey)
      .setSubject(claims.challengeId)
      .setIssuedAt(seconds(now))
      .setExpirationTime(seconds(verificationTokenExpiry(claims.verifiedAt)))
      .setJti(randomUUID())
      .sign(settings.signing.privateKey);
}
