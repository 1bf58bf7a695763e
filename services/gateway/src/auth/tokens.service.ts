import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { type Database, insertRefreshToken, type Kysely } from '@otp/db';
import { jwtVerify, SignJWT } from 'jose';
import type { GatewayDeps } from '../deps.ts';
import type { Tokens } from '../users/user.schemas.ts';
import type { SigningKey } from './signing-key.ts';

export interface TokenSettings {
  signing: SigningKey;
  issuer: string;
  audience: string;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
}

export function tokenSettings(deps: GatewayDeps): TokenSettings {
  return {
    signing: deps.keys.signing,
    issuer: deps.config.JWT_ISSUER,
    audience: deps.config.JWT_AUDIENCE,
    accessTtlSeconds: deps.config.ACCESS_TOKEN_TTL_SECONDS,
    refreshTtlSeconds: deps.config.REFRESH_TOKEN_TTL_SECONDS,
  };
}

// RFC 9068's media type for access tokens: a token of another kind (an ID token, a future MFA
// token) signed with the same key is refused where an access token is expected.
const ACCESS_TOKEN_TYP = 'at+jwt';

export async function signAccessToken(settings: TokenSettings, userId: string, now: Date): Promise<string> {
  const issuedAt = Math.floor(now.getTime() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'EdDSA', typ: ACCESS_TOKEN_TYP, kid: settings.signing.kid })
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setSubject(userId)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + settings.accessTtlSeconds)
    .setJti(randomUUID())
    .sign(settings.signing.privateKey);
}

/** The user id of a valid access token; throws (any jose error) otherwise. */
export async function verifyAccessToken(settings: TokenSettings, token: string): Promise<string> {
  const { payload } = await jwtVerify(token, settings.signing.publicKey, {
    algorithms: ['EdDSA'],
    issuer: settings.issuer,
    audience: settings.audience,
    typ: ACCESS_TOKEN_TYP,
    requiredClaims: ['sub', 'exp', 'iat', 'jti'],
  });
  if (typeof payload.sub !== 'string') throw new Error('access token without subject');
  return payload.sub;
}

/** Refresh tokens are stored only as this hash; 256 random bits need no salt or slow hash. */
export function hashRefreshToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/**
 * A new session: an access token, and a refresh token starting a new family (rotation and reuse
 * detection work per family). Call inside the transaction that proves who the user is.
 */
export async function issueTokens(
  db: Kysely<Database>,
  settings: TokenSettings,
  userId: string,
  now: Date,
): Promise<Tokens> {
  const refreshToken = randomBytes(32).toString('base64url');
  await insertRefreshToken(db, {
    id: randomUUID(),
    user_id: userId,
    family_id: randomUUID(),
    token_hash: hashRefreshToken(refreshToken),
    expires_at: new Date(now.getTime() + settings.refreshTtlSeconds * 1000),
    revoked_at: null,
    replaced_by: null,
  });
  const accessToken = await signAccessToken(settings, userId, now);
  return { accessToken, refreshToken, tokenType: 'Bearer', expiresIn: settings.accessTtlSeconds };
}
