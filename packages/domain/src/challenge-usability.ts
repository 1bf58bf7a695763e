import { challengeStatus, type StoredChallengeStatus } from './challenge.ts';
import { HANDED_OVER } from './delivery-lifecycle.ts';
import type { DeliveryStatus } from './queue-contract.ts';

/** The stored fields of a challenge that say whether it can still be used (an `otp_challenges` row). */
export interface ChallengeState {
  status: StoredChallengeStatus;
  expires_at: Date;
  attempt_count: number;
  max_attempts: number;
  send_count: number;
  delivery_status: DeliveryStatus;
}

/**
 * Why a challenge can no longer be completed (no code checked, no code sent):
 * - `challenge_missing`: no such challenge (never was, or purged);
 * - `challenge_verified`: used already;
 * - `challenge_locked`: locked, or its attempt budget is used up (it is locked by the request
 *   that used the last attempt);
 * - `challenge_failed`: its code could not be delivered;
 * - `challenge_expired`: past its expiry.
 * These are also the skip reasons a worker records in `delivery_attempts.error_code`.
 */
export type ChallengeRefusal =
  | 'challenge_missing'
  | 'challenge_verified'
  | 'challenge_locked'
  | 'challenge_failed'
  | 'challenge_expired';

/**
 * Why a send of a challenge must not go out (besides a challenge refusal):
 * - `superseded`: a resend happened, the newer send speaks for the challenge;
 * - `unknown_send`: the job names a send the challenge has not made (never expected);
 * - `already_sent`: this send was handed to the provider already (a duplicate job), so
 *   enqueueing the same send twice sends one message.
 */
export type SendRefusal = ChallengeRefusal | 'superseded' | 'unknown_send' | 'already_sent';

/**
 * The one check of "can this challenge still be used?", for the gateway (a code, a resend), the
 * workers (a send) and the operator's retry. Order matters: a used challenge says "used" even
 * after it expired, and a locked one "locked".
 */
export function challengeRefusal(challenge: ChallengeState | undefined, now: Date): ChallengeRefusal | undefined {
  if (challenge === undefined) return 'challenge_missing';
  const status = challengeStatus(challenge.status, challenge.expires_at, now);
  if (status === 'verified') return 'challenge_verified';
  if (status === 'locked' || challenge.attempt_count >= challenge.max_attempts) return 'challenge_locked';
  if (status === 'failed') return 'challenge_failed';
  if (status === 'expired') return 'challenge_expired';
  return undefined;
}

/** Why send `sendNumber` of the challenge must not go out now; undefined when it may. */
export function sendRefusal(
  challenge: ChallengeState | undefined,
  sendNumber: number,
  now: Date,
): SendRefusal | undefined {
  const refusal = challengeRefusal(challenge, now);
  if (refusal !== undefined || challenge === undefined) return refusal;
  if (challenge.send_count > sendNumber) return 'superseded';
  if (challenge.send_count < sendNumber) return 'unknown_send';
  if (HANDED_OVER.includes(challenge.delivery_status)) return 'already_sent';
  return undefined;
}

/**
 * The challenge as the operator's retry would leave it: the `reopened` transition makes a failed
 * challenge pending again, so a failed challenge is judged as if it were pending.
 */
export function asReopened<C extends ChallengeState>(challenge: C): C {
  return challenge.status === 'failed' ? { ...challenge, status: 'pending' } : challenge;
}
