import { randomUUID } from 'node:crypto';
import { findRefreshTokenByHash, retireRefreshToken, revokeRefreshFamily } from '@otp/db';
import { PublicError } from '@otp/domain';
import { type GatewayDeps, now } from '../../deps.ts';
import { inTransaction, recordEvent } from '../../events/record-event.ts';
import type { RequestContext } from '../../events/request-context.ts';
import type { Tokens } from '../users/user.schemas.ts';
import { hashRefreshToken, issueTokensInFamily, tokenSettings } from './tokens.service.ts';

/**
 * Refresh-token rotation. The presented token is retired and its successor stored in one
 * transaction; retiring is a conditional UPDATE, so of concurrent refreshes with one token at
 * most one succeeds. A token that was already retired by a rotation is a replay (stolen token or
 * a client bug): the whole family is revoked, the event is audited, and the answer is 401.
 */
export async function refreshTokens(deps: GatewayDeps, context: RequestContext, refreshToken: string): Promise<Tokens> {
  const tokenHash = hashRefreshToken(refreshToken);
  const at = now(deps);
  const successorId = randomUUID();
  const rotated = await deps.db.transaction().execute(async (trx) => {
    const retired = await retireRefreshToken(trx, tokenHash, successorId, at);
    if (retired === undefined) return undefined;
    const family = { familyId: retired.family_id, familyExpiresAt: retired.family_expires_at };
    return issueTokensInFamily(trx, tokenSettings(deps), retired.user_id, family, at, successorId);
  });
  if (rotated !== undefined) return rotated;

  const known = await findRefreshTokenByHash(deps.db, tokenHash);
  if (known !== undefined && known.replaced_by !== null) {
    await inTransaction(deps.db, async (trx) => {
      const revoked = await revokeRefreshFamily(trx, known.family_id, at);
      await recordEvent(trx, context, 'token.reuse_detected', {
        userId: known.user_id,
        details: { familyId: known.family_id, tokenId: known.id, revoked },
        // The notice says a session was ended: only when this reuse ended it. A stolen token
        // replayed again and again must not flood the owner's mailbox.
        ...(revoked === 0 ? { notice: false as const } : {}),
      });
    });
  }
  throw new PublicError('invalid_refresh_token');
}

/** Logout: revokes the family of the presented token. Unknown tokens change nothing (still 204). */
export async function logout(deps: GatewayDeps, context: RequestContext, refreshToken: string): Promise<void> {
  const known = await findRefreshTokenByHash(deps.db, hashRefreshToken(refreshToken));
  if (known === undefined) return;
  await inTransaction(deps.db, async (trx) => {
    const revoked = await revokeRefreshFamily(trx, known.family_id, now(deps));
    await recordEvent(trx, context, 'session.logged_out', {
      userId: known.user_id,
      details: { familyId: known.family_id, revoked },
    });
  });
}
