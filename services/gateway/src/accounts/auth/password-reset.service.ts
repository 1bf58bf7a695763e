import { findChallenge, findUserByEmail, revokeUserSessions, setPasswordHash } from '@otp/db';
import { normalizeEmail, PublicError } from '@otp/domain';
import Type from 'typebox';
import type { ChallengePurposes } from '../../codes/challenges/challenge.purpose.port.ts';
import { requestChallenge } from '../../codes/challenges/challenge.request.service.ts';
import { verifyChallenge } from '../../codes/challenges/challenge.verify.service.ts';
import type { GatewayDeps } from '../../deps.ts';
import { recordEvent } from '../../events/record-event.ts';
import type { RequestContext } from '../../events/request-context.ts';

/**
 * POST /v1/auth/password/forgot, answered alike for every address, as registration is: the same
 * answer (a reset_password challenge id), the same work (one account read, one challenge and its
 * message in one statement) and a real message every time. Only an account whose email is
 * verified gets a code (`otp-code`); an unknown address, or an account
 * nobody verified yet (whoever registered it may not own the address), gets `reset-no-account`,
 * which says there is no password to reset here and carries no code, so its challenge can never
 * be verified. The per-recipient limits and OTP_RECIPIENT_LIMIT apply as for any code.
 */
export async function requestPasswordReset(
  deps: GatewayDeps,
  context: RequestContext,
  input: { email: string; locale: string },
): Promise<{ challengeId: string }> {
  const email = normalizeEmail(input.email);
  const user = await findUserByEmail(deps.db, email);
  const account = user === undefined ? 'none' : user.email_verified_at === null ? 'unverified' : 'verified';
  const challenge = await requestChallenge(
    deps,
    {
      channel: 'email',
      to: email,
      purpose: 'reset_password',
      locale: input.locale,
      // No userId on the challenge, on purpose: a gateway of the previous release that is handed
      // this challenge at its verify route treats it as it would an SMS proof without an account,
      // changing nothing. The reset finds the account by the proven address instead.
      template: account === 'verified' ? 'otp-code' : 'reset-no-account',
    },
    context,
  );
  await recordEvent(deps.db, context, 'password.reset_requested', {
    userId: user?.id ?? null,
    details: { challengeId: challenge.id, account },
  });
  return { challengeId: challenge.id };
}

/** The address as stored today (see provenAddress in challenge-purposes.ts). */
function normalOrSame(address: string): string {
  try {
    return normalizeEmail(address);
  } catch {
    return address;
  }
}

/**
 * What a right reset code does, in the transaction that consumed its challenge: the account of
 * the proven address, if its email is verified, gets the new password and every one of its
 * sessions ends. Nothing else changes: its factors stay, and no one is signed in, so the
 * next sign-in still asks for the second factor.
 */
function resetPurpose(passwordHash: string | null): ChallengePurposes {
  return {
    answer: Type.Null(),
    purposes: ['reset_password'],
    async apply(trx, challenge, context, at) {
      const user = await findUserByEmail(trx, normalOrSame(challenge.recipient));
      if (user === undefined || user.email_verified_at === null) {
        // The account went since the code was sent: the code is void.
        throw new PublicError('challenge_expired', { detail: 'the account of this address is gone' });
      }
      // Unreachable: a challenge that was not worth hashing for is refused before its purpose applies.
      if (passwordHash === null) throw new Error('reset reached without a hashed password');
      await setPasswordHash(trx, user.id, passwordHash);
      const sessionsRevoked = (await revokeUserSessions(trx, user.id, at, 'password_reset')).sessionIds.length;
      await recordEvent(trx, context, 'password.changed', {
        userId: user.id,
        details: { how: 'reset', challengeId: challenge.id, sessionsRevoked },
      });
      return { answer: null, userId: user.id };
    },
  };
}

/**
 * POST /v1/auth/password/reset: the code is checked exactly as any code (verifyChallenge: the
 * attempt counted first, the recipient's failure budget, a conditional consume, so of concurrent
 * resets with one code exactly one wins). Only a reset_password challenge is taken: any other
 * answers 400 validation_failed before an attempt is counted.
 *
 * The new password is hashed before the check, outside its transaction (behind the hashing
 * bound: 503 when it is full), but only for a pending reset challenge that has a code: anything
 * else is refused by verifyChallenge before the hash would be used, so a stranger with made-up
 * ids cannot make the gateway run Argon2.
 */
export async function resetPassword(
  deps: GatewayDeps,
  context: RequestContext,
  input: { challengeId: string; code: string; newPassword: string },
): Promise<void> {
  const target = await findChallenge(deps.db, input.challengeId);
  const resettable =
    target?.purpose === 'reset_password' && target.status === 'pending' && target.code_hashes.length > 0;
  const passwordHash = resettable ? await deps.passwords.hash(input.newPassword) : null;
  await verifyChallenge(deps, resetPurpose(passwordHash), input.challengeId, input.code, context);
}
