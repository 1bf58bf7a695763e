import { findAccessState } from '@otp/db';
import { PublicError } from '@otp/domain';
import type { FastifyRequest } from 'fastify';
import { type GatewayDeps, now } from '../../deps.ts';
import { recordEvent } from '../../events/record-event.ts';
import { requestContext } from '../../events/request-context.ts';
import { type AccessClaims, tokenSettings, verifyAccessToken } from './tokens.service.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `authenticate` on routes that require an access token. */
    userId: string | null;
    /** The access token's claims (session, auth_time), set by `authenticate`. */
    auth: AccessClaims | null;
  }
}

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i;

/**
 * A preHandler that accepts only a valid Bearer access token of a session that was not revoked
 * (signed out, or ended by a refresh-token reuse) of an account that is not disabled (403
 * account_disabled), and sets `request.userId` and `request.auth`.
 */
export function authenticate(deps: GatewayDeps) {
  const settings = tokenSettings(deps);
  return async function requireAccessToken(request: FastifyRequest): Promise<void> {
    const match = BEARER.exec(request.headers.authorization ?? '');
    let claims: AccessClaims | undefined;
    if (match?.[1] !== undefined) {
      claims = await verifyAccessToken(settings, match[1]).catch(() => undefined);
    }
    if (claims === undefined)
      throw new PublicError('unauthorized', { detail: 'a valid Bearer access token is required' });
    const state = await findAccessState(deps.db, claims.userId, claims.sessionId);
    if (state === undefined) throw new PublicError('unauthorized', { detail: 'this sign-in has ended' });
    // Before the session: disabling revokes every session, and the holder of a token should be
    // told why it stopped working rather than sent to sign in again, which would fail too.
    if (state.disabled) throw new PublicError('account_disabled');
    if (state.session !== 'live') throw new PublicError('unauthorized', { detail: 'this sign-in has ended' });
    request.userId = claims.userId;
    request.auth = claims;
  };
}

/** The changes that need a recent sign-in, as the `action` of `session.reauthentication_required`. */
export type StepUpAction =
  | 'phone.change'
  | 'email.change'
  | 'factor.enrol'
  | 'factor.enable'
  | 'factor.remove'
  | 'recovery_codes.regenerate'
  | 'session.end_other'
  | 'password.change';

/**
 * A preHandler, after `authenticate`, for changes an attacker with a stolen access token must not
 * make: the token's `auth_time` must be at most REAUTH_MAX_AGE_SECONDS old. Otherwise 401
 * reauthentication_required with `WWW-Authenticate: Bearer error="insufficient_user_authentication",
 * max_age=N` (RFC 9470): the client signs in again (password and factor, or a code to the verified
 * address). A refresh does not help: it carries the old auth_time over. A token without auth_time
 * (issued before sessions) never passes.
 */
export function requireRecentSignIn(deps: GatewayDeps, action: StepUpAction) {
  const maxAge = deps.config.REAUTH_MAX_AGE_SECONDS;
  return async function recentSignIn(request: FastifyRequest): Promise<void> {
    const authTime = request.auth?.authTime ?? null;
    const age = authTime === null ? null : Math.floor((now(deps).getTime() - authTime.getTime()) / 1000);
    if (age !== null && age <= maxAge) return;
    await recordEvent(deps.db, requestContext(request, deps), 'session.reauthentication_required', {
      userId: request.userId,
      details: { action, authAgeSeconds: age },
    });
    throw new PublicError('reauthentication_required', {
      detail: `this change needs a sign-in within the last ${maxAge} seconds: sign in again`,
      extra: { maxAge },
      wwwAuthenticate: `Bearer error="insufficient_user_authentication", error_description="A more recent sign-in is required", max_age=${maxAge}`,
    });
  };
}
