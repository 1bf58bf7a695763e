import { listLiveSessions, lockSession, revokeSession, revokeUserSessions, type Session } from '@otp/db';
import { PublicError } from '@otp/domain';
import { type GatewayDeps, now } from '../../deps.ts';
import { inTransaction, recordEvent } from '../../events/record-event.ts';
import type { RequestContext } from '../../events/request-context.ts';
import { networkPrefix } from '../../http/client-network.ts';
import type { SessionView } from './sessions.schemas.ts';

function presentSession(session: Session, currentId: string | null): SessionView {
  return {
    id: session.id,
    createdAt: session.created_at.toISOString(),
    lastUsedAt: session.last_used_at.toISOString(),
    userAgent: session.user_agent,
    ipPrefix: session.client_network === null ? null : networkPrefix(session.client_network),
    current: session.id === currentId,
  };
}

/** The account's usable sessions; `currentId` is the caller's (null for a token without `sid`). */
export async function listSessions(
  deps: GatewayDeps,
  userId: string,
  currentId: string | null,
): Promise<SessionView[]> {
  const sessions = await listLiveSessions(deps.db, userId, now(deps), currentId);
  return sessions.map((session) => presentSession(session, currentId));
}

/**
 * Ends one of the caller's sessions and every token of it, under the session's lock (as a
 * rotation takes it, so a refresh in flight cannot leave a live successor). An id that is not
 * one of the caller's sessions is 404, whether it exists or not: nobody learns of other
 * accounts' sessions. One already ended changes nothing (a retried DELETE still succeeds).
 */
export async function endSession(
  deps: GatewayDeps,
  context: RequestContext,
  userId: string,
  sessionId: string,
  current: boolean,
): Promise<void> {
  const found = await inTransaction(deps.db, async (trx) => {
    const session = await lockSession(trx, sessionId);
    if (session === undefined || session.user_id !== userId) return false;
    if (session.revoked_at !== null) return true;
    const revoked = await revokeSession(trx, session.id, now(deps), 'ended_by_user');
    await recordEvent(trx, context, 'session.ended_by_user', { userId, details: { sessionId, current, revoked } });
    return true;
  });
  if (!found) throw new PublicError('not_found', { detail: 'no such session on this account' });
}

/**
 * Sign-out everywhere: every session of the account and every refresh token ends, the caller's
 * own included, in one transaction. A sign-in that commits after it starts a new session, which
 * stays.
 */
export async function logoutAll(deps: GatewayDeps, context: RequestContext, userId: string): Promise<void> {
  await inTransaction(deps.db, async (trx) => {
    const ended = await revokeUserSessions(trx, userId, now(deps), 'logout_all');
    await recordEvent(trx, context, 'session.logged_out_all', {
      userId,
      details: { sessionIds: ended.sessionIds, revoked: ended.tokens },
    });
  });
}
