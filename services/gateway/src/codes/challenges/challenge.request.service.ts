import {
  type ChallengeTemplate,
  createChallengeWithinRecipientLimit,
  type Database,
  type Kysely,
  type NewDeliveryOutboxRow,
  newChallengeId,
} from '@otp/db';
import {
  type Channel,
  channelAllowedFor,
  generateNumericCode,
  hashCode,
  INITIAL_DELIVERY_STATUS,
  maskRecipient,
  normalizeRecipient,
  PublicError,
  type Purpose,
  recipientHash,
  type SmsDestination,
  seal,
  webhookEventsOf,
} from '@otp/domain';
import { type GatewayDeps, now } from '../../deps.ts';
import { inTransaction, recordEvent } from '../../events/record-event.ts';
import type { RequestContext } from '../../events/request-context.ts';
import { admitSms, assertEmailSwitchedOn, takeSmsSend } from '../sms/sms-guard.ts';
import { deliveryOutboxRow } from './challenge.outbox.ts';
import { recipientLimits, recipientRefusal } from './recipient-limits.ts';

export interface ChallengeRequest {
  /**
   * The message: a code (`otp-code`, the default), or `account-exists` / `reset-no-account`
   * (email only; no code is sent, none verifies the challenge: registration's answer for an
   * address with a verified account, a reset's for an address without one).
   */
  template?: ChallengeTemplate;
  channel: Channel;
  to: string;
  purpose: Purpose;
  /** The catalogue locale of its messages (http/locale.ts), recorded on the challenge and in each send. */
  locale: string;
  /** The signed-in account the code is for (verify_phone from /v1/me/phone, verify_email at registration). */
  userId?: string;
  /** The server key (its API_KEYS name) that asks: the challenge is that server's, and belongs to no account. */
  apiKey?: string;
}

export interface RequestedChallenge {
  id: string;
  channel: Channel;
  toMasked: string;
  expiresAt: Date;
  resendAvailableAt: Date;
}

/**
 * Creates a challenge and its first delivery in one transaction (the outbox), then nudges the
 * relay. Never reads the users table: the answer and the work are the same whether or not an
 * account exists for the address, so the endpoint cannot be used to enumerate accounts.
 */
export async function requestChallenge(
  deps: GatewayDeps,
  request: ChallengeRequest,
  context: RequestContext,
  /** A transaction of the caller's to write in; the caller then nudges the relay after its commit. */
  trx?: Kysely<Database>,
): Promise<RequestedChallenge> {
  const { config, keys } = deps;
  if (!channelAllowedFor(request.purpose, request.channel)) {
    throw new PublicError('validation_failed', {
      detail: `body.purpose ${request.purpose} needs channel ${request.purpose === 'verify_phone' ? 'sms' : 'email'}`,
    });
  }
  const to = normalizeRecipient(request.channel, request.to);
  const at = now(deps);
  // Before anything is written: an SMS meets the defences against pumping (sms-guard.ts), an
  // email the operator's kill switches.
  let destination: SmsDestination | undefined;
  if (request.channel === 'sms') destination = await admitSms(deps, to, at);
  else assertEmailSwitchedOn(deps);
  // The id says when the challenge was made (its created_at is `at`, below): a lookup by id then
  // names the one partition that holds it.
  const id = newChallengeId(at);
  const template = request.template ?? 'otp-code';
  const hash = recipientHash(keys.codeHmacKey, request.channel, to);
  const toMasked = maskRecipient(request.channel, to);
  const expiresAt = new Date(at.getTime() + config.OTP_TTL_SECONDS * 1000);
  const resendAvailableAt = new Date(at.getTime() + config.OTP_RESEND_COOLDOWN_SECONDS * 1000);
  const send = {
    challengeId: id,
    sendNumber: 1,
    purpose: request.purpose,
    locale: request.locale,
    toMasked,
    expiresAt,
    to,
    requestId: context.requestId,
    // The request's span, carried in the job so the worker's span is its child.
    traceparent: context.traceparent,
    requestedAt: at,
  };
  let outboxRow: NewDeliveryOutboxRow;
  let codeHashes: Buffer[];
  if (template !== 'otp-code') {
    if (request.channel !== 'email') throw new Error(`the ${template} message is an email`);
    outboxRow = deliveryOutboxRow(keys.envelopes, { ...send, template, channel: 'email' });
    codeHashes = [];
  } else {
    const code = generateNumericCode(config.OTP_CODE_LENGTH);
    outboxRow = deliveryOutboxRow(keys.envelopes, { ...send, channel: request.channel, code });
    codeHashes = [hashCode(keys.codeHmacKey, id, code)];
  }

  const limits = recipientLimits(config, at);
  const challenge = {
    id,
    channel: request.channel,
    purpose: request.purpose,
    recipient_hash: hash,
    recipient_sealed: seal(keys.envelopes, to, `recipient:${id}`),
    recipient_masked: toMasked,
    locale: request.locale,
    user_id: request.userId ?? null,
    code_hashes: codeHashes,
    template,
    status: 'pending' as const,
    send_count: 1,
    attempt_count: 0,
    max_attempts: config.OTP_MAX_ATTEMPTS,
    max_sends: config.OTP_MAX_SENDS,
    expires_at: expiresAt,
    resend_available_at: resendAvailableAt,
    verified_at: null,
    client_ip: context.ip,
    delivery_status: INITIAL_DELIVERY_STATUS,
    delivery_last_error: null,
    delivery_provider_message_id: null,
    delivery_updated_at: at,
    sms_country: destination?.country ?? null,
    sms_range: destination?.range ?? null,
    api_key_name: request.apiKey ?? null,
  };
  // One statement: the per-recipient limits (room for a message, the address not locked), the
  // challenge and its delivery request (the outbox) commit together or not at all; a refusal
  // writes nothing. An SMS also takes its units of the SMS counters, after the recipient's window
  // (the order a resend takes them in), in the same transaction: past a limit it all rolls back.
  // Its webhook events (challenge.requested) go in that statement too: a refused request sends none.
  const userId = request.userId ?? null;
  // The template says whether a code went out (otp-code) or a message without one (account-exists,
  // reset-no-account), which the webhook's receiver needs to tell apart.
  const details = { challengeId: id, channel: request.channel, purpose: request.purpose, template, toMasked };
  const events = webhookEventsOf('code.requested', { userId, details, at });
  const write = async (db: Kysely<Database>) => {
    if (!(await createChallengeWithinRecipientLimit(db, challenge, outboxRow, limits, events))) {
      throw await recipientRefusal(db, hash, limits, config.OTP_RECIPIENT_WINDOW_SECONDS);
    }
    if (destination !== undefined) await takeSmsSend(db, deps, destination, at);
  };
  const db = trx ?? deps.db;
  if (destination === undefined || db.isTransaction) await write(db);
  else await inTransaction(db, write);
  // Counted once committed (a caller's transaction that rolls back afterwards still counts: rare).
  if (destination !== undefined) deps.metrics.sms.sent(destination.country);

  // After the commit; the relay works in the background, so the request never waits on Redis.
  if (trx === undefined) deps.relay.nudge();
  await recordEvent(db, context, 'code.requested', { userId, details, webhookEvents: 'written' });
  return { id, channel: request.channel, toMasked, expiresAt, resendAvailableAt };
}
