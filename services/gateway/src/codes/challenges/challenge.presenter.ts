import type { OtpChallenge } from '@otp/db';
import { challengeStatus, open } from '@otp/domain';
import { type VerificationTokenSigner, verificationTokenExpiry } from '../../accounts/auth/verification-token.ts';
import type { GatewayDeps } from '../../deps.ts';
import type { RequestedChallenge } from './challenge.request.service.ts';
import type { ResentChallenge } from './challenge.resend.service.ts';
import type { ChallengeView } from './challenge.schemas.ts';

// Rows and service results → API objects, explicitly: a row type never leaves the service.

export function presentRequested(challenge: RequestedChallenge) {
  return {
    challengeId: challenge.id,
    channel: challenge.channel,
    to: challenge.toMasked,
    expiresAt: challenge.expiresAt.toISOString(),
    resendAvailableAt: challenge.resendAvailableAt.toISOString(),
  };
}

export function presentResent(resent: ResentChallenge) {
  return { resendAvailableAt: resent.resendAvailableAt.toISOString(), expiresAt: resent.expiresAt.toISOString() };
}

export function presentChallenge(row: OtpChallenge, now: Date): ChallengeView {
  return {
    id: row.id,
    channel: row.channel,
    to: row.recipient_masked,
    purpose: row.purpose,
    locale: row.locale,
    status: challengeStatus(row.status, row.expires_at, now),
    attemptsRemaining: Math.max(0, row.max_attempts - row.attempt_count),
    expiresAt: row.expires_at.toISOString(),
    delivery: {
      status: row.delivery_status,
      attempts: row.delivery_attempts,
      ...(row.delivery_last_error === null ? {} : { lastError: row.delivery_last_error }),
      updatedAt: row.delivery_updated_at.toISOString(),
    },
  };
}

/** The challenge's normalised address, opened from its sealed copy (bound to the challenge id). */
export function recipientOf(
  deps: Pick<GatewayDeps, 'keys'>,
  row: Pick<OtpChallenge, 'id' | 'recipient_sealed'>,
): string {
  return open(deps.keys.envelopes, row.recipient_sealed, `recipient:${row.id}`) as string;
}

/**
 * The verification token of a server's verified challenge to `to` (its opened address), or
 * undefined: not verified, or its 10 minutes are over (the status still says verified; the token,
 * a portable proof, has run out).
 */
export async function verificationTokenOf(
  sign: VerificationTokenSigner,
  row: OtpChallenge,
  to: string,
  at: Date,
): Promise<string | undefined> {
  if (row.api_key_name === null || row.status !== 'verified' || row.verified_at === null) return undefined;
  if (verificationTokenExpiry(row.verified_at).getTime() <= at.getTime()) return undefined;
  const claims = {
    apiKey: row.api_key_name,
    challengeId: row.id,
    channel: row.channel,
    to,
    verifiedAt: row.verified_at,
  };
  return sign(claims, at);
}
