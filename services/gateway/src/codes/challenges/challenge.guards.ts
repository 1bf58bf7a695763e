import type { OtpChallenge } from '@otp/db';
import { type ChallengeRefusal, challengeRefusal, PublicError } from '@otp/domain';

/** What a client is told for each reason the domain gives for a challenge it cannot use. */
const PUBLIC_REFUSALS = {
  challenge_missing: () => new PublicError('challenge_not_found'),
  challenge_verified: () => new PublicError('challenge_used'),
  challenge_locked: () => new PublicError('too_many_attempts', { extra: { attemptsRemaining: 0 } }),
  challenge_failed: () => new PublicError('challenge_failed'),
  challenge_expired: () => new PublicError('challenge_expired'),
} satisfies Record<ChallengeRefusal, () => PublicError>;

/**
 * Why a challenge cannot take a code or a resend, as the error the client gets; undefined when
 * it can. The domain's `challengeRefusal` decides (a used challenge says "used" even after it
 * expired); this only words it.
 */
export function unusableChallenge(row: OtpChallenge | undefined, now: Date): PublicError | undefined {
  const refusal = challengeRefusal(row, now);
  return refusal === undefined ? undefined : PUBLIC_REFUSALS[refusal]();
}

/** Throws the refusal of `unusableChallenge`, if any; afterwards the row is known to exist. */
export function assertUsable(row: OtpChallenge | undefined, now: Date): asserts row is OtpChallenge {
  const refusal = unusableChallenge(row, now);
  if (refusal !== undefined) throw refusal;
}
