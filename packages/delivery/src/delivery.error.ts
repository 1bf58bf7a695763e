import type { DeliveryFailureCode, DeliveryOutcomeKind } from '@otp/domain';

/**
 * How a failed send affects the job (the domain's `DELIVERY_OUTCOME_KINDS` explains each):
 * `temporary`, `permanent`, `rate_limited` or `provider_auth` (no message can go out until an
 * operator fixes the credentials, so the queue pauses and alerts rather than burn every job's
 * attempts).
 */
export type DeliveryErrorKind = Exclude<DeliveryOutcomeKind, 'stalled' | 'skipped'>;

export interface DeliveryErrorOptions {
  /** How long the provider asked us to wait (rate_limited). */
  retryAfterMs?: number;
  /** Safe, redacted detail for the attempt row, e.g. a provider reply with addresses removed. */
  detail?: string;
  /**
   * True when the provider certainly did not accept the message (no connection was made, or it
   * answered with a refusal and no message id), so sending it elsewhere cannot duplicate it; false
   * when unknown (a timeout or a reset after the request may have been sent).
   */
  notAccepted?: boolean;
}

/**
 * A classified delivery failure. Its message is its stable `code` (`smtp_550`, `twilio_21211`...,
 * one of the domain's `DELIVERY_ERROR_CODES`): the message ends up in BullMQ's failedReason and in
 * logs, so it is never built from provider text, which can echo the address.
 */
export class DeliveryError extends Error {
  readonly kind: DeliveryErrorKind;
  readonly code: DeliveryFailureCode;
  readonly retryAfterMs: number | undefined;
  readonly detail: string | undefined;
  readonly notAccepted: boolean;

  constructor(kind: DeliveryErrorKind, code: DeliveryFailureCode, options: DeliveryErrorOptions = {}) {
    super(code);
    this.name = 'DeliveryError';
    this.kind = kind;
    this.code = code;
    this.retryAfterMs = options.retryAfterMs;
    this.detail = options.detail === undefined ? undefined : redactRecipients(options.detail);
    this.notAccepted = options.notAccepted ?? false;
  }
}

const EMAIL_ADDRESS = /[^\s<>()",;:@]+@[^\s<>()",;:@]+/g;
// Numbers written with spaces ("+1 415 555 0123"): redacted from seven digits on, so an SMTP
// reply such as "550 5.1.1" survives.
const SPACED_NUMBER = /\+?\d[\d\s().-]*\d/g;
// Numbers without spaces: codes and phone numbers from four digits on.
const NUMBER = /\+?\d[\d().-]*\d/g;
const MAX_DETAIL_LENGTH = 200;

function digitCount(text: string): number {
  return text.replace(/\D/g, '').length;
}

/** Removes email addresses, phone numbers and codes from provider text before it is kept anywhere. */
export function redactRecipients(text: string): string {
  const redacted = text
    .replace(EMAIL_ADDRESS, '[address]')
    .replace(SPACED_NUMBER, (run) => (digitCount(run) >= 7 ? '[number]' : run))
    .replace(NUMBER, (run) => (digitCount(run) >= 4 ? '[number]' : run));
  return redacted.length > MAX_DETAIL_LENGTH ? `${redacted.slice(0, MAX_DETAIL_LENGTH)}…` : redacted;
}
