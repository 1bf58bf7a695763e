import type { OtpChallenge } from '@otp/db';
import { challengeStatus, PublicError } from '@otp/domain';

/**
 * Why a challenge cannot take a code or a resend, as the error the client gets; undefined when
 * it can. Order matters: a used challenge says "used" even after it expired.
 */
export function unusableChallenge(row: OtpChallenge | undefined, now: Date): PublicError | undefined {
  if (row === undefined) return new PublicError('challenge_not_found');
  const status = challengeStatus(row.status, row.expires_at, now);
  if (status === 'verified') return new PublicError('challenge_used');
  if (status === 'locked' || row.attempt_count >= row.max_attempts) {
    return new PublicError('too_many_attempts', { extra: { attemptsRemaining: 0 } });
  }
  if (status === 'failed') return new PublicError('challenge_failed');
  if (status === 'expired') return new PublicError('challenge_expired');
  return undefined;
}

/** Throws the refusal of `unusableChallenge`, if any; afterwards the row is known to exist. */
export function assertUsable(row: OtpChallenge | undefined, now: Date): asserts row is OtpChallenge {
  const refusal = unusableChallenge(row, now);
  if (refusal !== undefined) throw refusal;
}
