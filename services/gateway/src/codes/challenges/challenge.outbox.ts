import type { NewDeliveryOutboxRow } from '@otp/db';
import {
  type Channel,
  type DeliveryJobData,
  type DeliverySecret,
  deliveryJobId,
  envelopeContext,
  isDeliveryJobData,
  type KeyRing,
  type Purpose,
  seal,
} from '@otp/domain';

export interface SendRequest {
  challengeId: string;
  sendNumber: number;
  channel: Channel;
  purpose: Purpose;
  locale: string;
  toMasked: string;
  expiresAt: Date;
  /** The normalised recipient and the code: they travel only inside the sealed envelope. */
  to: string;
  code: string;
  requestId: string;
  /** The request's span (W3C trace context), when the gateway traces. */
  traceparent?: string | undefined;
  requestedAt: Date;
}

/**
 * The outbox row of one send. Its job data is what BullMQ will hold: masked fields in clear and
 * the code + address sealed under the envelope key, bound to this job id.
 */
export function deliveryOutboxRow(envelopes: KeyRing, send: SendRequest): NewDeliveryOutboxRow {
  const secret: DeliverySecret = { to: send.to, code: send.code };
  const jobData: DeliveryJobData = {
    v: 1,
    challengeId: send.challengeId,
    sendNumber: send.sendNumber,
    channel: send.channel,
    template: 'otp-code',
    purpose: send.purpose,
    locale: send.locale,
    toMasked: send.toMasked,
    requestedAt: send.requestedAt.toISOString(),
    expiresAt: send.expiresAt.toISOString(),
    requestId: send.requestId,
    ...(send.traceparent === undefined ? {} : { traceparent: send.traceparent }),
    envelope: seal(envelopes, secret, envelopeContext(send.challengeId, send.sendNumber)),
  };
  // The producer checks the contract too: a bad payload fails here, not in a worker.
  if (!isDeliveryJobData(jobData)) throw new Error('delivery job data does not match the queue contract');
  return {
    challenge_id: send.challengeId,
    send_number: send.sendNumber,
    channel: send.channel,
    job_id: deliveryJobId(send.challengeId, send.sendNumber),
    job_data: JSON.stringify(jobData),
  };
}
