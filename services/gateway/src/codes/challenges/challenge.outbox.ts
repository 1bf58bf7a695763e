import type { NewDeliveryOutboxRow } from '@otp/db';
import {
  type Channel,
  type DeliverySecret,
  deliveryJobId,
  deliveryJobVersion,
  envelopeContext,
  isDeliveryJobData,
  isDeliverySecret,
  type KeyRing,
  type Purpose,
  seal,
} from '@otp/domain';

interface SendFields {
  challengeId: string;
  sendNumber: number;
  channel: Channel;
  purpose: Purpose;
  locale: string;
  toMasked: string;
  expiresAt: Date;
  /** The normalised recipient: it travels only inside the sealed envelope. */
  to: string;
  requestId: string;
  /** The request's span (W3C trace context), when the gateway traces. */
  traceparent?: string | undefined;
  requestedAt: Date;
}

/** A code to deliver (the `otp-code` message, the default): the code is sealed with the address. */
export interface CodeSend extends SendFields {
  template?: 'otp-code';
  code: string;
}

/**
 * The "account exists" email of a registration for an address whose account is verified
 * already: how to sign in or reset the password. Email only, and never a code.
 */
export interface AccountExistsSend extends SendFields {
  /** `reset-no-account`: a password reset for an address without a verified account, likewise. */
  template: 'account-exists' | 'reset-no-account';
  channel: 'email';
  code?: undefined;
}

export type SendRequest = CodeSend | AccountExistsSend;

function sealedSecret(send: SendRequest): DeliverySecret {
  if (send.template === undefined || send.template === 'otp-code') return { to: send.to, code: send.code };
  // The type says so already; this holds for callers that got around it too.
  if (send.code !== undefined) throw new Error(`an ${send.template} send never carries a code`);
  return { to: send.to };
}

/**
 * The outbox row of one send. Its job data is what BullMQ will hold: masked fields in clear and
 * the address (and the code, for `otp-code`) sealed under the envelope key, bound to this job id.
 * The contract version is the oldest that carries the template and purpose (deliveryJobVersion):
 * codes stay version 1, so workers of the previous release keep delivering them during an
 * upgrade; only a password reset's messages need version 4.
 */
export function deliveryOutboxRow(envelopes: KeyRing, send: SendRequest): NewDeliveryOutboxRow {
  const template = send.template ?? 'otp-code';
  const secret = sealedSecret(send);
  // The producer checks the contract too: a bad payload fails here, not in a worker.
  if (!isDeliverySecret(template, secret)) throw new Error('delivery secret does not match its template');
  const fields = {
    challengeId: send.challengeId,
    sendNumber: send.sendNumber,
    channel: send.channel,
    purpose: send.purpose,
    locale: send.locale,
    toMasked: send.toMasked,
    requestedAt: send.requestedAt.toISOString(),
    expiresAt: send.expiresAt.toISOString(),
    requestId: send.requestId,
    ...(send.traceparent === undefined ? {} : { traceparent: send.traceparent }),
    envelope: seal(envelopes, secret, envelopeContext(send.challengeId, send.sendNumber)),
  };
  // Typed by the check below, which pairs each version with the templates and purposes it carries.
  const jobData: unknown = { v: deliveryJobVersion(template, send.purpose), template, ...fields };
  if (!isDeliveryJobData(jobData)) throw new Error('delivery job data does not match the queue contract');
  return {
    challenge_id: send.challengeId,
    send_number: send.sendNumber,
    channel: send.channel,
    job_id: deliveryJobId(send.challengeId, send.sendNumber),
    job_data: JSON.stringify(jobData),
  };
}
