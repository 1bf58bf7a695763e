import { type Database, type Kysely, lockChallengeForUpdate, moveDelivery } from '@otp/db';
import { type DeliveryStatus, type TwilioErrorCode, twilioErrorCode } from '@otp/domain';
import { inTransaction, recordEvent } from '../../events/record-event.ts';
import type { RequestContext } from '../../events/request-context.ts';

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

// A carrier's report that the message did not arrive: the webhook's challenge.failed.
const NOT_ARRIVED: readonly DeliveryStatus[] = ['undelivered', 'failed'];

/**
 * Applies one (signature-checked) status report. Returns whether the challenge changed: a report
 * about an older send, another message, or a challenge already delivered changes nothing.
 *
 * A move to undelivered or failed records `code.delivery_failed` in the transaction of the move,
 * once: the challenge's row is locked first, so of two reports that it did not arrive (Twilio
 * retries its callbacks, and may report undelivered then failed) only the first, which finds the
 * send not yet reported so, records it.
 */
export async function applyTwilioStatus(
  db: Kysely<Database>,
  report: TwilioStatusReport,
  context: RequestContext,
): Promise<boolean> {
  const { log } = context;
  const fields = { challengeId: report.challengeId, sendNumber: report.sendNumber, status: report.messageStatus };
  const outcome = twilioOutcome(report.messageStatus, report.errorCode);
  if (outcome === undefined) {
    log.debug(fields, 'twilio status callback: nothing to record');
    return false;
  }
  const changed = await inTransaction(db, async (trx) => {
    const before = await lockChallengeForUpdate(trx, report.challengeId);
    if (before === undefined) return false;
    // Only about the latest send and the very message the worker recorded for it; the transition
    // never leaves `delivered` (reports arrive out of order).
    const moved = await moveDelivery(trx, report.challengeId, report.sendNumber, outcome.transition, {
      aboutMessage: report.messageSid,
      ...(outcome.lastError === undefined ? {} : { lastError: outcome.lastError }),
    });
    if (moved && outcome.transition !== 'delivered' && !NOT_ARRIVED.includes(before.delivery_status)) {
      await recordEvent(trx, context, 'code.delivery_failed', {
        userId: before.user_id,
        details: {
          challengeId: before.id,
          channel: before.channel,
          purpose: before.purpose,
          toMasked: before.recipient_masked,
          status: report.messageStatus,
          ...(outcome.lastError === undefined ? {} : { errorCode: outcome.lastError }),
        },
      });
    }
    return moved;
  });
  const providerErrorCode = outcome.lastError === undefined ? undefined : report.errorCode;
  if (changed) log.info({ ...fields, providerErrorCode }, 'twilio status callback: delivery status recorded');
  else log.info({ ...fields, providerErrorCode }, 'twilio status callback: stale or unknown message, ignored');
  return changed;
}
