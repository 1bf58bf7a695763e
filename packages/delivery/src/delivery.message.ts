import {
  type DeliveryJobData,
  EnvelopeError,
  envelopeContext,
  isDeliverySecret,
  type KeyRing,
  open,
} from '@otp/domain';
import { DeliveryError } from './delivery.error.ts';
import type { MessageRenderers, RenderedMessage } from './sender.port.ts';

/** A job's message: the address opened from its envelope, and its template rendered. */
export interface ComposedMessage extends RenderedMessage {
  to: string;
}

/** Makes a job's message from what its envelope holds, at send time. */
export type MessageComposer = (opened: unknown, times: { expiresAt: Date; now: Date }) => ComposedMessage;

/**
 * Opens an envelope sealed for `context` (a code's send, a notice). A key id this worker does not
 * know yet is a temporary failure: during a key rotation the gateway may get the new key before
 * the workers do, so the job is retried. Tampered, or sealed for another job: permanent.
 */
export function openSealed(keyRing: KeyRing, envelope: string, context: string): unknown {
  try {
    return open(keyRing, envelope, context);
  } catch (error) {
    if (error instanceof EnvelopeError && error.reason === 'unknown_key') {
      throw new DeliveryError('temporary', 'envelope_key_unknown');
    }
    throw new DeliveryError('permanent', 'envelope_unreadable');
  }
}

/** Opens a code job's envelope; what it holds is checked against the job's template by the composer. */
export function openEnvelope(keyRing: KeyRing, data: DeliveryJobData): unknown {
  return openSealed(keyRing, data.envelope, envelopeContext(data.challengeId, data.sendNumber));
}

// An envelope that does not hold exactly what its template needs (an `account-exists` one with a
// code, an `otp-code` one without) came from a broken producer: refused like a tampered one.
export const unfit = () => new DeliveryError('permanent', 'envelope_unreadable');

/**
 * How this worker makes the message a job asks for, or undefined when it has no template for it
 * (`account-exists` on the SMS queue). Versions 1, 2 and 4 differ only in the templates and
 * purposes they may name, so the template alone decides.
 */
export function messageComposer(renderers: MessageRenderers, data: DeliveryJobData): MessageComposer | undefined {
  if (data.template === 'otp-code') {
    const render = renderers['otp-code'];
    return (opened, { expiresAt, now }) => {
      if (!isDeliverySecret('otp-code', opened)) throw unfit();
      const { code, to } = opened;
      return { to, ...render({ code, purpose: data.purpose, locale: data.locale, expiresAt, now }) };
    };
  }
  // The messages without a code (account-exists, reset-no-account): the address and the locale only.
  const { template } = data;
  const render = renderers[template];
  if (render === undefined) return undefined;
  return (opened) => {
    if (!isDeliverySecret(template, opened)) throw unfit();
    return { to: opened.to, ...render({ locale: data.locale }) };
  };
}
