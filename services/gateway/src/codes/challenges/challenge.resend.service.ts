import { insertOutboxMessage, lockChallengeForUpdate, moveDelivery, recordResend, takeRecipientSlot } from '@otp/db';
import {
  generateNumericCode,
  hashCode,
  keepRecentHashes,
  open,
  PublicError,
  type SmsDestination,
  secondsUntil,
} from '@otp/domain';
import { type GatewayDeps, now } from '../../deps.ts';
import { inTransaction, recordEvent } from '../../events/record-event.ts';
import type { RequestContext } from '../../events/request-context.ts';
import { admitSms, assertEmailSwitchedOn, takeSmsSend } from '../sms/sms-guard.ts';
import { assertUsable } from './challenge.guards.ts';
import { deliveryOutboxRow } from './challenge.outbox.ts';
import { recipientLimits, recipientRefusal } from './recipient-limits.ts';

export interface ResentChallenge {
  resendAvailableAt: Date;
  expiresAt: Date;
}

/**
 * Sends a new code for a challenge. The code of the previous send stays valid (slow delivery
 * must not make the code in the user's hand useless), older ones do not; the attempt budget is
 * shared and not reset; the expiry is not extended. The row lock makes concurrent resends take
 * turns. A resend is a message like a new challenge: it takes a slot in the recipient's window
 * (OTP_RECIPIENT_LIMIT) and is refused while the recipient is locked, in this transaction, so a
 * refused resend writes nothing.
 */
export async function resendChallenge(
  deps: GatewayDeps,
  id: string,
  context: RequestContext,
): Promise<ResentChallenge> {
  const { config, keys } = deps;
  const at = now(deps);
  let destination: SmsDestination | undefined;
  const resent = await inTransaction(deps.db, async (trx) => {
    const row = await lockChallengeForUpdate(trx, id);
    assertUsable(row, at);
    if (row.send_count >= row.max_sends) throw new PublicError('resend_limit_reached');
    if (at.getTime() < row.resend_available_at.getTime()) {
      throw new PublicError('resend_too_soon', { retryAfterSeconds: secondsUntil(row.resend_available_at, at) });
    }
    const to = open(keys.envelopes, row.recipient_sealed, `recipient:${id}`) as string;
    // A resend is a message like any other: today's policy, kill switches, suspensions and
    // counters apply to it (refused here, the transaction writes nothing).
    if (row.channel === 'sms') destination = await admitSms(deps, to, at);
    else assertEmailSwitchedOn(deps);
    // The window row is locked after the challenge's, the order the verification statement uses;
    // the SMS counters after both.
    const limits = recipientLimits(config, at);
    if (!(await takeRecipientSlot(trx, row.recipient_hash, limits))) {
      throw await recipientRefusal(trx, row.recipient_hash, limits, config.OTP_RECIPIENT_WINDOW_SECONDS);
    }
    if (destination !== undefined) await takeSmsSend(trx, deps, destination, at);
    const sendNumber = row.send_count + 1;
    const resendAvailableAt = new Date(at.getTime() + config.OTP_RESEND_COOLDOWN_SECONDS * 1000);
    // An account-exists or reset-no-account challenge sends its message again, still without a code.
    const code = row.template === 'otp-code' ? generateNumericCode(config.OTP_CODE_LENGTH) : undefined;
    await recordResend(trx, id, {
      codeHashes:
        code === undefined ? row.code_hashes : keepRecentHashes(hashCode(keys.codeHmacKey, id, code), row.code_hashes),
      sendCount: sendNumber,
      resendAvailableAt,
    });
    // The new send starts in line, whatever became of the previous one.
    await moveDelivery(trx, id, sendNumber, 'resent', { lastError: null, providerMessageId: null });
    await insertOutboxMessage(
      trx,
      deliveryOutboxRow(keys.envelopes, {
        challengeId: id,
        sendNumber,
        purpose: row.purpose,
        locale: row.locale,
        toMasked: row.recipient_masked,
        expiresAt: row.expires_at,
        to,
        requestId: context.requestId,
        traceparent: context.traceparent,
        requestedAt: at,
        ...(code === undefined
          ? { template: row.template as 'account-exists' | 'reset-no-account', channel: 'email' as const }
          : { channel: row.channel, code }),
      }),
    );
    await recordEvent(trx, context, 'code.resent', {
      userId: row.user_id,
      details: { challengeId: id, channel: row.channel, purpose: row.purpose, sendNumber },
    });
    return { resendAvailableAt, expiresAt: row.expires_at };
  });

  if (destination !== undefined) deps.metrics.sms.sent(destination.country);
  deps.relay.nudge();
  return resent;
}
