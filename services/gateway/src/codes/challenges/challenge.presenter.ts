import type { OtpChallenge } from '@otp/db';
import { challengeStatus } from '@otp/domain';
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
