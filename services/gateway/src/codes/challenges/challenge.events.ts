import type { Channel, Purpose } from '@otp/domain';
import type { FastifyBaseLogger } from 'fastify';

/** Security events, one log line each (with the request id of the request's logger). */
export type OtpEvent = 'otp.challenge_requested' | 'otp.resent' | 'otp.verified' | 'otp.verify_failed' | 'otp.locked';

export interface OtpEventFields {
  challengeId: string;
  channel: Channel;
  purpose: Purpose;
  reason?: string;
  attemptsRemaining?: number;
  sendNumber?: number;
  userId?: string;
}

// Only ids, channel, purpose and counters: never the code, the address or a token.
export function logOtpEvent(log: FastifyBaseLogger, event: OtpEvent, fields: OtpEventFields): void {
  const level = event === 'otp.locked' || event === 'otp.verify_failed' ? 'warn' : 'info';
  log[level]({ event, ...fields }, event);
}
