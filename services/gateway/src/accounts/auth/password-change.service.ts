import { findUserById, replacePasswordHash, revokeUserSessions } from '@otp/db';
import { PublicError, recipientHash } from '@otp/domain';
import { type GatewayDeps, now } from '../../deps.ts';
import { inTransaction, recordEvent } from '../../events/record-event.ts';
import type { RequestContext } from '../../events/request-context.ts';
import type { SignInReservation, SignInThrottle } from './sign-in-throttle.ts';

export interface PasswordChange {
  userId: string;
  /** The caller's session (the access token's `sid`): it stays; null (an old token) keeps none. */
  sessionId: string | null;
  currentPassword: string | undefined;
  newPassword: string;
}

/**
 * Checks `currentPassword` as a sign-in would: counted by the sign-in throttle per address and
 * network before Argon2 runs, a wrong one recorded as `sign_in.failed` and kept counted. Whoever
 * holds a stolen access token thus gets no faster password oracle here than at POST /auth/login,
 * and their guesses lock the real sign-in of that address like any others. 429 sign_in_throttled
 * at the limit, 401 invalid_credentials for a wrong password.
 */
async function checkCurrentPassword(
  deps: GatewayDeps,
  throttle: SignInThrottle,
  context: RequestContext,
  user: { id: string; email: string | null; password_hash: string },
  password: string,
  at: Date,
): Promise<void> {
  const subject = {
    accountKey: recipientHash(deps.keys.codeHmacKey, 'email', user.email ?? user.id).toString('hex'),
    ip: context.ip,
    userId: user.id,
  };
  let reservation: SignInReservation;
  try {
    reservation = await throttle.reserve(subject, at);
  } catch (error) {
    await recordEvent(deps.db, context, 'sign_in.throttled', { userId: user.id });
    throw error;
  }
  let matches: boolean;
  try {
    matches = await deps.passwords.verify(user.password_hash, password);
  } catch (error) {
    await reservation.release();
    throw error;
  }
  if (!matches) {
    await recordEvent(deps.db, context, 'sign_in.failed', {
      userId: user.id,
      details: { method: 'password_change', reason: 'wrong_password' },
    });
    throw new PublicError('invalid_credentials', { detail: 'currentPassword is not the password of this account' });
  }
  await reservation.succeeded();
}

/**
 * POST /v1/me/password: sets a new password and ends every other sign-in of the account (the
 * caller's stays). An account with a password must give it (`currentPassword`); one without (it
 * signed in with codes) sets its first. The replacement is conditional on the hash checked, so
 * two changes racing from one password cannot both win: the loser answers 401
 * invalid_credentials, its current password no longer being current.
 */
export async function changePassword(
  deps: GatewayDeps,
  throttle: SignInThrottle,
  context: RequestContext,
  change: PasswordChange,
): Promise<void> {
  const at = now(deps);
  const user = await findUserById(deps.db, change.userId);
  if (user === undefined) throw new PublicError('unauthorized', { detail: 'the account no longer exists' });
  const current = user.password_hash;
  if (current !== null) {
    if (change.currentPassword === undefined) {
      throw new PublicError('validation_failed', { detail: 'currentPassword is required: the account has a password' });
    }
    await checkCurrentPassword(
      deps,
      throttle,
      context,
      { ...user, password_hash: current },
      change.currentPassword,
      at,
    );
  }
  const passwordHash = await deps.passwords.hash(change.newPassword);
  await inTransaction(deps.db, async (trx) => {
    if (!(await replacePasswordHash(trx, user.id, current, passwordHash))) {
      throw new PublicError('invalid_credentials', { detail: 'the password was changed meanwhile' });
    }
    const sessionsRevoked = (await revokeUserSessions(trx, user.id, at, 'password_changed', change.sessionId))
      .sessionIds.length;
    await recordEvent(trx, context, 'password.changed', {
      userId: user.id,
      details: { how: current === null ? 'first' : 'change', sessionsRevoked },
    });
  });
}
