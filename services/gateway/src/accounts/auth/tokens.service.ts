import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { type Database, insertRefreshToken, type Kysely, type NewRefreshToken } from '@otp/db';
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
  /** JWT_INCLUDE_CONTACT_CLAIMS: access tokens carry the account's verified email and phone. */
  includeContactClaims: boolean;
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
    includeContactClaims: deps.config.JWT_INCLUDE_CONTACT_CLAIMS,
  };
}

// RFC 9068's media type for access tokens: a token of another kind (an ID token, a future MFA
// token) signed with the same key is refused where an access token is expected.
const ACCESS_TOKEN_TYP = 'at+jwt';

/** What an access token says: who, which sign-in, and when the user last proved a factor. */
export interface AccessClaims {
  userId: string;
  /** The session (`sid`); null for a token issued before sessions had ids. */
  sessionId: string | null;
  /** `auth_time`: when the user last proved a factor; a refresh carries it over unchanged. */
  authTime: Date | null;
  /**
   * `amr` (RFC 8176, accounts/auth/amr.ts): how that sign-in was proved; a refresh carries it
   * over unchanged. Null for a token without it (a session from before tokens carried amr).
   */
  amr: readonly string[] | null;
}

/** The account's verified addresses: what the optional contact claims may say. */
export interface VerifiedContact {
  email: string | null;
  phone: string | null;
}

/** An account row's verified addresses; an unverified one is never put in a token. */
export function verifiedContact(user: {
  email: string | null;
  email_verified_at: Date | null;
  phone: string | null;
  phone_verified_at: Date | null;
}): VerifiedContact {
  return {
    email: user.email_verified_at === null ? null : user.email,
    phone: user.phone_verified_at === null ? null : user.phone,
  };
}

/** OIDC's standard claims for the verified addresses, when JWT_INCLUDE_CONTACT_CLAIMS is on. */
function contactClaims(settings: TokenSettings, contact: VerifiedContact | null): Record<string, unknown> {
  if (!settings.includeContactClaims || contact === null) return {};
  return {
    ...(contact.email === null ? {} : { email: contact.email, email_verified: true }),
    ...(contact.phone === null ? {} : { phone_number: contact.phone, phone_number_verified: true }),
  };
}

const seconds = (at: Date) => Math.floor(at.getTime() / 1000);

export async function signAccessToken(
  settings: TokenSettings,
  claims: AccessClaims,
  now: Date,
  contact: VerifiedContact | null = null,
): Promise<string> {
  const issuedAt = seconds(now);
  return new SignJWT({
    ...(claims.sessionId === null ? {} : { sid: claims.sessionId }),
    ...(claims.authTime === null ? {} : { auth_time: seconds(claims.authTime) }),
    ...(claims.amr === null ? {} : { amr: [...claims.amr] }),
    ...contactClaims(settings, contact),
  })
    .setProtectedHeader({ alg: settings.signing.alg, typ: ACCESS_TOKEN_TYP, kid: settings.signing.kid })
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setSubject(claims.userId)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + settings.accessTtlSeconds)
    .setJti(randomUUID())
    .sign(settings.signing.privateKey);
}

/**
 * The claims of a valid access token; throws (any jose error) otherwise. The key is chosen by
 * `kid` among the current and previous keys only, and the algorithm allowlist is that key's own
 * algorithm alone, so `alg: none`, HMAC-with-the-public-key, RS/ES confusion and tokens of
 * unknown keys all fail.
 */
export async function verifyAccessToken(settings: TokenSettings, token: string): Promise<AccessClaims> {
  const { kid } = decodeProtectedHeader(token);
  const key = settings.verifying.find((candidate) => candidate.kid === kid);
  if (key === undefined) throw new Error('access token signed by an unknown key');
  const { payload } = await jwtVerify(token, key.publicKey, {
    algorithms: [key.alg],
    issuer: settings.issuer,
    audience: settings.audience,
    typ: ACCESS_TOKEN_TYP,
    requiredClaims: ['sub', 'exp', 'iat', 'jti'],
  });
  if (typeof payload.sub !== 'string') throw new Error('access token without subject');
  const { sid, auth_time: authTime, amr } = payload;
  if (sid !== undefined && typeof sid !== 'string') throw new Error('access token with a malformed sid');
  if (authTime !== undefined && typeof authTime !== 'number')
    throw new Error('access token with a malformed auth_time');
  if (amr !== undefined && !(Array.isArray(amr) && amr.every((value) => typeof value === 'string')))
    throw new Error('access token with a malformed amr');
  return {
    userId: payload.sub,
    sessionId: sid ?? null,
    authTime: authTime === undefined ? null : new Date(authTime * 1000),
    amr: amr === undefined ? null : (amr as string[]),
  };
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

/** The session a token pair belongs to, as its row says. */
export interface SessionPosition {
  sessionId: string;
  userId: string;
  /** The session's absolute end. */
  expiresAt: Date;
  authTime: Date;
  /** The sign-in's amr; null for a session from before tokens carried it (no amr claim). */
  amr: readonly string[] | null;
  /** The account's verified addresses now (the contact claims, when they are on). */
  contact: VerifiedContact;
}

/**
 * A new refresh token of a session (shown once) and its row, stored by hash only. Its idle
 * deadline is `idleTtlSeconds` from now, never past the session's end.
 */
export function newRefreshToken(
  settings: TokenSettings,
  session: SessionPosition,
  now: Date,
  id: string = randomUUID(),
): { refreshToken: string; row: NewRefreshToken } {
  const refreshToken = newOpaqueToken();
  const idleEnd = now.getTime() + settings.idleTtlSeconds * 1000;
  const row = {
    id,
    user_id: session.userId,
    family_id: session.sessionId,
    token_hash: hashOpaqueToken(refreshToken),
    expires_at: new Date(Math.min(idleEnd, session.expiresAt.getTime())),
    family_expires_at: session.expiresAt,
    revoked_at: null,
    replaced_by: null,
  };
  return { refreshToken, row };
}

/**
 * The token pair of a stored refresh token: an access token carrying the session's id, auth_time
 * and amr (and, with JWT_INCLUDE_CONTACT_CLAIMS, the account's verified addresses).
 */
export async function tokenPair(
  settings: TokenSettings,
  session: SessionPosition,
  now: Date,
  refreshToken: string,
): Promise<Tokens> {
  const claims = {
    userId: session.userId,
    sessionId: session.sessionId,
    authTime: session.authTime,
    amr: session.amr,
  };
  const accessToken = await signAccessToken(settings, claims, now, session.contact);
  return { accessToken, refreshToken, tokenType: 'Bearer', expiresIn: settings.accessTtlSeconds };
}

/** Stores a new refresh token of a session and signs its access token (newRefreshToken, tokenPair). */
export async function issueTokensInSession(
  db: Kysely<Database>,
  settings: TokenSettings,
  session: SessionPosition,
  now: Date,
  id: string = randomUUID(),
): Promise<Tokens> {
  const { refreshToken, row } = newRefreshToken(settings, session, now, id);
  await insertRefreshToken(db, row);
  return tokenPair(settings, session, now, refreshToken);
}
