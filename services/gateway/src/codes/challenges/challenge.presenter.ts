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

/**
 * The verification token of a server's verified challenge, or undefined: not verified, or its 10
 * minutes are over (the status still says verified; the token, a portable proof, has run out).
 */
export async function verificationTokenOf(
  deps: Pick<GatewayDeps, 'keys'>,
  sign: VerificationTokenSigner,
  row: OtpChallenge,
  at: Date,
): Promise<string | undefined> {
  if (row.api_key_name === null || row.status !== 'verified' || row.verified_at === null) return undefined;
  if (verificationTokenExpiry(row.verified_at).getTime() <= at.getTime()) return undefined;
  const to = open(deps.keys.envelopes, row.recipient_sealed, `recipient:${row.id}`) as string;
  const claims = {
    apiKey: row.api_key_name,
    challengeId: row.id,
    channel: row.channel,
    to,
    verifiedAt: row.verified_at,
  };
  return sign(claims, at);
}
