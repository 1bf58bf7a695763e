import { type Database, type Kysely, moveDelivery } from '@otp/db';
import { type TwilioErrorCode, twilioErrorCode } from '@otp/domain';
import type { FastifyBaseLogger } from 'fastify';

/** What one Twilio status report means for the challenge: a provider transition, or nothing. */
export interface TwilioOutcome {
  transition: 'delivered' | 'undelivered' | 'provider_failed';
  /** `twilio_<code>` when Twilio names an error code. */
  lastError?: TwilioErrorCode;
}

const FINAL_STATUSES: Record<string, TwilioOutcome['transition']> = {
  delivered: 'delivered',
  undelivered: 'undelivered',
  failed: 'provider_failed',
};

// Twilio's error codes are numbers; anything else is not copied into our data or logs.
const isErrorNumber = (code: string): code is `${number}` => /^[0-9]{1,8}$/.test(code);

/**
 * Maps Twilio's MessageStatus to a delivery transition. Only the final outcomes matter: queued,
 * sending, sent, accepted, scheduled... say no more than the worker already recorded (`sent`).
 */
export function twilioOutcome(messageStatus: string, errorCode: string | undefined): TwilioOutcome | undefined {
  const transition = Object.hasOwn(FINAL_STATUSES, messageStatus) ? FINAL_STATUSES[messageStatus] : undefined;
  if (transition === undefined) return undefined;
  if (transition === 'delivered' || errorCode === undefined || !isErrorNumber(errorCode)) return { transition };
  return { transition, lastError: twilioErrorCode(errorCode) };
}

export interface TwilioStatusReport {
  challengeId: string;
  sendNumber: number;
  messageSid: string;
  messageStatus: string;
  errorCode: string | undefined;
}

/**
 * Applies one (signature-checked) status report. Returns whether the challenge changed: a report
 * about an older send, another message, or a challenge already delivered changes nothing.
 */
export async function applyTwilioStatus(
  db: Kysely<Database>,
  report: TwilioStatusReport,
  log: FastifyBaseLogger,
): Promise<boolean> {
  const context = { challengeId: report.challengeId, sendNumber: report.sendNumber, status: report.messageStatus };
  const outcome = twilioOutcome(report.messageStatus, report.errorCode);
  if (outcome === undefined) {
    log.debug(context, 'twilio status callback: nothing to record');
    return false;
  }
  // Only about the latest send and the very message the worker recorded for it; the transition
  // never leaves `delivered` (reports arrive out of order).
  const changed = await moveDelivery(db, report.challengeId, report.sendNumber, outcome.transition, {
    aboutMessage: report.messageSid,
    ...(outcome.lastError === undefined ? {} : { lastError: outcome.lastError }),
  });
  const providerErrorCode = outcome.lastError === undefined ? undefined : report.errorCode;
  if (changed) log.info({ ...context, providerErrorCode }, 'twilio status callback: delivery status recorded');
  else log.info({ ...context, providerErrorCode }, 'twilio status callback: stale or unknown message, ignored');
  return changed;
}
