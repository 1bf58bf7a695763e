import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { type Database, insertRefreshToken, type Kysely } from '@otp/db';
import { decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import type { GatewayDeps } from '../../deps.ts';
import type { Tokens } from '../users/user.schemas.ts';
import type { SigningKey, VerifyingKey } from './signing-key.ts';

export interface TokenSettings {
  signing: SigningKey;
  /** Keys accepted on verification, picked by the token's `kid`. */
  verifying: readonly VerifyingKey[];
  issuer: string;
  audience: string;
  accessTtlSeconds: number;
  /** Absolute lifetime of a family (one sign-in and every token rotated from it). */
  familyTtlSeconds: number;
  /** A refresh token not used for this long expires. */
  idleTtlSeconds: number;
}

export function tokenSettings(deps: GatewayDeps): TokenSettings {
  return {
    signing: deps.keys.signing,
    verifying: deps.keys.verifying,
    issuer: deps.config.JWT_ISSUER,
    audience: deps.config.JWT_AUDIENCE,
    accessTtlSeconds: deps.config.ACCESS_TOKEN_TTL_SECONDS,
    familyTtlSeconds: deps.config.REFRESH_TOKEN_TTL_SECONDS,
    idleTtlSeconds: deps.config.REFRESH_TOKEN_IDLE_SECONDS,
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

/**
 * The user id of a valid access token; throws (any jose error) otherwise. The key is chosen by
 * `kid` among the current and previous keys only, and the algorithm allowlist is EdDSA alone, so
 * `alg: none`, HMAC-with-the-public-key and tokens of unknown keys all fail.
 */
export async function verifyAccessToken(settings: TokenSettings, token: string): Promise<string> {
  const { kid } = decodeProtectedHeader(token);
  const key = settings.verifying.find((candidate) => candidate.kid === kid);
  if (key === undefined) throw new Error('access token signed by an unknown key');
  const { payload } = await jwtVerify(token, key.publicKey, {
    algorithms: ['EdDSA'],
    issuer: settings.issuer,
    audience: settings.audience,
    typ: ACCESS_TOKEN_TYP,
    requiredClaims: ['sub', 'exp', 'iat', 'jti'],
  });
  if (typeof payload.sub !== 'string') throw new Error('access token without subject');
  return payload.sub;
}

/** Refresh and MFA tokens are stored only as this hash; 256 random bits need no salt or slow hash. */
export function hashOpaqueToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

export const hashRefreshToken = hashOpaqueToken;

/** 256 random bits, base64url. */
export function newOpaqueToken(): string {
  return randomBytes(32).toString('base64url');
}

export interface FamilyPosition {
  familyId: string;
  familyExpiresAt: Date;
}

/**
 * Stores a new refresh token of a family and signs an access token. Its idle deadline is
 * `idleTtlSeconds` from now, never past the family's end. Returns the token's id with the pair.
 */
export async function issueTokensInFamily(
  db: Kysely<Database>,
  settings: TokenSettings,
  userId: string,
  family: FamilyPosition,
  now: Date,
  id: string = randomUUID(),
): Promise<Tokens> {
  const refreshToken = newOpaqueToken();
  const idleEnd = now.getTime() + settings.idleTtlSeconds * 1000;
  await insertRefreshToken(db, {
    id,
    user_id: userId,
    family_id: family.familyId,
    token_hash: hashOpaqueToken(refreshToken),
    expires_at: new Date(Math.min(idleEnd, family.familyExpiresAt.getTime())),
    family_expires_at: family.familyExpiresAt,
    revoked_at: null,
    replaced_by: null,
  });
  const accessToken = await signAccessToken(settings, userId, now);
  return { accessToken, refreshToken, tokenType: 'Bearer', expiresIn: settings.accessTtlSeconds };
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
  const family = {
    familyId: randomUUID(),
    familyExpiresAt: new Date(now.getTime() + settings.familyTtlSeconds * 1000),
  };
  return issueTokensInFamily(db, settings, userId, family, now);
}
