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
   * The provider certainly did not take the message (connection refused, an SMTP reply before the
   * end of DATA, an HTTP 429/5xx without a message id), so another provider may be tried at once
   * without risking a second message. False (the default) when the outcome is unknown: a timeout
   * or a lost connection after the message was handed over.
   */
  notAccepted?: boolean;
  /** The provider that failed, set by a provider chain (provider-chain.ts); recorded on the attempt. */
  provider?: string;
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
  readonly provider: string | undefined;

  constructor(kind: DeliveryErrorKind, code: DeliveryFailureCode, options: DeliveryErrorOptions = {}) {
    super(code);
    this.name = 'DeliveryError';
    this.kind = kind;
    this.code = code;
    this.retryAfterMs = options.retryAfterMs;
    this.detail = options.detail === undefined ? undefined : redactRecipients(options.detail);
    this.notAccepted = options.notAccepted ?? false;
    this.provider = options.provider;
  }

  /** This failure, naming the provider that failed (a chain's record of which one it was). */
  from(provider: string): DeliveryError {
    return new DeliveryError(this.kind, this.code, {
      ...(this.retryAfterMs === undefined ? {} : { retryAfterMs: this.retryAfterMs }),
      ...(this.detail === undefined ? {} : { detail: this.detail }),
      notAccepted: this.notAccepted,
      provider,
    });
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
