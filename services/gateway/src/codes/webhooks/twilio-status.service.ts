import { type Database, type Kysely, type ProviderStatusUpdate, recordProviderDeliveryStatus } from '@otp/db';
import type { FastifyBaseLogger } from 'fastify';

/** What one Twilio status report means for the challenge: a final status, or nothing. */
export interface TwilioOutcome {
  status: ProviderStatusUpdate['status'];
  /** `twilio_<code>` when Twilio names an error code. */
  lastError?: string;
}

const FINAL_STATUSES: Record<string, ProviderStatusUpdate['status']> = {
  delivered: 'delivered',
  undelivered: 'undelivered',
  failed: 'failed',
};

// Twilio's error codes are numbers; anything else is not copied into our data or logs.
const ERROR_CODE = /^[0-9]{1,8}$/;

/**
 * Maps Twilio's MessageStatus to a delivery status. Only the final outcomes matter: queued,
 * sending, sent, accepted, scheduled... say no more than the worker already recorded (`sent`).
 */
export function twilioOutcome(messageStatus: string, errorCode: string | undefined): TwilioOutcome | undefined {
  const status = FINAL_STATUSES[messageStatus];
  if (status === undefined) return undefined;
  if (status === 'delivered' || errorCode === undefined || !ERROR_CODE.test(errorCode)) return { status };
  return { status, lastError: `twilio_${errorCode}` };
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
  const changed = await recordProviderDeliveryStatus(db, report.challengeId, {
    sendNumber: report.sendNumber,
    providerMessageId: report.messageSid,
    ...outcome,
  });
  const providerErrorCode = outcome.lastError === undefined ? undefined : report.errorCode;
  if (changed) log.info({ ...context, providerErrorCode }, 'twilio status callback: delivery status recorded');
  else log.info({ ...context, providerErrorCode }, 'twilio status callback: stale or unknown message, ignored');
  return changed;
}
