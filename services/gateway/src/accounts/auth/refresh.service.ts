import { randomUUID } from 'node:crypto';
import {
  adoptFamily,
  type Database,
  findRefreshTokenByHash,
  findUserById,
  type Kysely,
  lockSession,
  type RefreshToken,
  retireRefreshToken,
  revokeSession,
  type Session,
  touchSession,
} from '@otp/db';
import { PublicError } from '@otp/domain';
import { type GatewayDeps, now } from '../../deps.ts';
import { inTransaction, recordEvent } from '../../events/record-event.ts';
import type { RequestContext } from '../../events/request-context.ts';
import type { Tokens } from '../users/user.schemas.ts';
import { hashRefreshToken, issueTokensInSession, tokenSettings, verifiedContact } from './tokens.service.ts';

/** The token's session, locked; a family the previous release wrote without one is adopted first. */
async function lockFamilySession(trx: Kysely<Database>, token: RefreshToken): Promise<Session | undefined> {
  const session = await lockSession(trx, token.family_id);
  if (session !== undefined) return session;
  await adoptFamily(trx, token);
  return lockSession(trx, token.family_id);
}

type Rotation = { tokens: Tokens } | { refused: 'unknown' | 'reused' | 'disabled'; userId?: string };

/**
 * Refresh-token rotation, under the session row's lock (`FOR UPDATE`): the token is read again
 * once the lock is held, retired, and its successor stored in the same transaction. Concurrent
 * refreshes with one token queue on the lock, so at most one succeeds. A token that was already
 * retired by a rotation is a replay (a stolen copy, or a client bug): the session and every token
 * of it are revoked in that transaction, the owner gets a notice, and the answer is 401. Since a
 * revocation takes the same lock, a rotation in flight cannot leave a live successor behind it.
 * The new access token keeps the session's `auth_time` and `amr`: refreshing never counts as
 * signing in.
 */
export async function refreshTokens(deps: GatewayDeps, context: RequestContext, refreshToken: string): Promise<Tokens> {
  const tokenHash = hashRefreshToken(refreshToken);
  const at = now(deps);
  const found = await findRefreshTokenByHash(deps.db, tokenHash);
  if (found === undefined) throw new PublicError('invalid_refresh_token');

  const rotation = await inTransaction(deps.db, async (trx): Promise<Rotation> => {
    const session = await lockFamilySession(trx, found);
    if (session === undefined) return { refused: 'unknown' };
    // Read under the lock: a rotation that held it before us has committed by now.
    const token = await findRefreshTokenByHash(trx, tokenHash);
    if (token === undefined) return { refused: 'unknown' };
    if (token.replaced_by !== null) {
      const live = session.revoked_at === null;
      const revoked = live ? await revokeSession(trx, session.id, at, 'reuse_detected') : 0;
      await recordEvent(trx, context, 'token.reuse_detected', {
        userId: session.user_id,
        details: { sessionId: session.id, tokenId: token.id, revoked },
        // The notice says a sign-in was ended: only when this reuse ended it. A stolen token
        // replayed again and again is audited each time but does not flood the owner's mailbox.
        ...(live ? {} : { notice: false as const }),
      });
      return { refused: 'reused' };
    }
    // The disable revokes this session under the same lock; its account is read after the lock,
    // so a rotation that waited for a disable sees it (one that went first is revoked by it).
    const account = await findUserById(trx, session.user_id);
    // Deleted (its sessions go with it; a rotation that waited for the deletion finds none to sign).
    if (account === undefined) return { refused: 'unknown' };
    if (account.disabled_at !== null) return { refused: 'disabled', userId: session.user_id };
    if (session.revoked_at !== null) return { refused: 'unknown' };
    const successorId = randomUUID();
    if ((await retireRefreshToken(trx, tokenHash, successorId, at)) === undefined) return { refused: 'unknown' };
    await touchSession(trx, session.id, at);
    const position = {
      sessionId: session.id,
      userId: session.user_id,
      expiresAt: session.expires_at,
      authTime: session.auth_time,
      // The sign-in's amr (none for a session from before tokens carried it), and the account's
      // verified addresses as they are now, from the row read above: no extra statement.
      amr: session.amr,
      contact: verifiedContact(account),
    };
    return { tokens: await issueTokensInSession(trx, tokenSettings(deps), position, at, successorId) };
  });
  if ('tokens' in rotation) return rotation.tokens;
  if (rotation.refused === 'disabled') {
    await recordEvent(deps.db, context, 'sign_in.disabled', {
      userId: rotation.userId ?? null,
      details: { method: 'refresh' },
    });
    throw new PublicError('account_disabled');
  }
  throw new PublicError('invalid_refresh_token');
}

/** Logout: revokes the session of the presented token. Unknown tokens change nothing (still 204). */
export async function logout(deps: GatewayDeps, context: RequestContext, refreshToken: string): Promise<void> {
  const known = await findRefreshTokenByHash(deps.db, hashRefreshToken(refreshToken));
  if (known === undefined) return;
  await inTransaction(deps.db, async (trx) => {
    const session = await lockFamilySession(trx, known);
    if (session === undefined || session.revoked_at !== null) return;
    const revoked = await revokeSession(trx, session.id, now(deps), 'logout');
    await recordEvent(trx, context, 'session.logged_out', {
      userId: known.user_id,
      details: { sessionId: session.id, revoked },
    });
  });
}
