import type { OtpChallenge } from '@otp/db';

/**
 * Why a send must not go out, recorded as the `error_code` of a `skipped` attempt:
 * - `challenge_missing`: the challenge is gone (purged);
 * - `challenge_verified` / `challenge_locked` / `challenge_failed`: it can no longer be completed;
 * - `challenge_expired`: past its expiry, so retries stop there;
 * - `superseded`: a resend happened, the newer send speaks for the challenge;
 * - `unknown_send`: the job names a send the challenge has not made (never expected);
 * - `already_sent`: this send was handed to the provider already (a duplicate job), so
 *   enqueueing the same send twice sends one message.
 */
export type SkipReason =
  | 'challenge_missing'
  | 'challenge_verified'
  | 'challenge_locked'
  | 'challenge_failed'
  | 'challenge_expired'
  | 'superseded'
  | 'unknown_send'
  | 'already_sent';

const ALREADY_HANDED_OVER = new Set(['sent', 'delivered', 'undelivered']);

export function skipReason(challenge: OtpChallenge | undefined, sendNumber: number, now: Date): SkipReason | null {
  if (challenge === undefined) return 'challenge_missing';
  if (challenge.status !== 'pending') return `challenge_${challenge.status}`;
  if (challenge.expires_at.getTime() <= now.getTime()) return 'challenge_expired';
  if (challenge.send_count > sendNumber) return 'superseded';
  if (challenge.send_count < sendNumber) return 'unknown_send';
  if (ALREADY_HANDED_OVER.has(challenge.delivery_status)) return 'already_sent';
  return null;
}
