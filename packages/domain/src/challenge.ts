import type { Purpose } from './queue-contract.ts';
import type { Channel } from './recipient.ts';

/** Stored status; `expired` is never stored, it is derived from the expiry time. */
export type StoredChallengeStatus = 'pending' | 'verified' | 'locked' | 'failed';
export type ChallengeStatus = StoredChallengeStatus | 'expired';

export function challengeStatus(stored: StoredChallengeStatus, expiresAt: Date, now: Date): ChallengeStatus {
  return stored === 'pending' && expiresAt.getTime() <= now.getTime() ? 'expired' : stored;
}

/**
 * Which channel a purpose must use: an email is verified by email, a phone by SMS; a password is
 * reset by a code to the account's email.
 */
export function channelAllowedFor(purpose: Purpose, channel: Channel): boolean {
  if (purpose === 'verify_email' || purpose === 'reset_password' || purpose === 'change_email') {
    return channel === 'email';
  }
  if (purpose === 'verify_phone') return channel === 'sms';
  return true;
}

/**
 * How many code hashes a challenge keeps: the latest send and the one before it (a slow message
 * must not make the code in the user's hand useless). Each kept code is one more a guess can hit,
 * so no more than that (issue 12).
 */
export const VALID_SENDS_KEPT = 2;

/** The hashes a challenge keeps after a new send, newest first. */
export function keepRecentHashes<T>(newest: T, previous: readonly T[]): T[] {
  return [newest, ...previous].slice(0, VALID_SENDS_KEPT);
}

export function secondsUntil(when: Date, now: Date): number {
  return Math.max(1, Math.ceil((when.getTime() - now.getTime()) / 1000));
}
