import type { SendRefusal } from './challenge-usability.ts';

/**
 * What a delivery error does to its job (the first four are the kinds a sender throws):
 * - `temporary`: retry with backoff (network, SMTP 4yz, provider 5xx);
 * - `permanent`: fail at once, no retry (invalid or unsubscribed recipient, SMTP 5yz);
 * - `rate_limited`: the provider asked us to slow down: pause the queue, keep the attempt;
 * - `provider_auth`: the provider refused our credentials: pause the queue and alert;
 * - `stalled`: BullMQ failed the job after its worker died too often holding it;
 * - `skipped`: the send must not go out (the challenge or the send is no longer usable).
 */
export const DELIVERY_OUTCOME_KINDS = [
  'temporary',
  'permanent',
  'rate_limited',
  'provider_auth',
  'stalled',
  'skipped',
] as const;
export type DeliveryOutcomeKind = (typeof DELIVERY_OUTCOME_KINDS)[number];

export interface DeliveryErrorEntry {
  kind: DeliveryOutcomeKind;
  /** When the code is written (one line, shown in the docs). */
  when: string;
}

/**
 * Every delivery error code: the `code` of a `DeliveryError`, a failed job's reason, the
 * `error_code` of a `delivery_attempts` row and the challenge's `delivery.lastError`. Operators
 * and alerts read them, so never rename one. Families (one code per provider reply code) follow.
 */
export const DELIVERY_ERROR_CODES = {
  smtp_auth: { kind: 'provider_auth', when: 'The SMTP server refused our credentials (535, EAUTH, ENOAUTH).' },
  smtp_connection: { kind: 'temporary', when: 'No SMTP conversation: connection refused, reset or timed out.' },
  smtp_envelope: { kind: 'permanent', when: 'nodemailer could not build an envelope for the address.' },
  smtp_error: { kind: 'temporary', when: 'Any other SMTP client failure.' },
  smtp_rejected: { kind: 'permanent', when: 'The SMTP server took the message but rejected its recipient.' },
  twilio_429: { kind: 'rate_limited', when: 'Twilio answered 429 Too Many Requests.' },
  twilio_20003: { kind: 'provider_auth', when: 'Twilio refused our credentials (HTTP 401 or error 20003).' },
  twilio_5xx: { kind: 'temporary', when: 'Twilio answered with a 5xx status.' },
  twilio_network: { kind: 'temporary', when: 'No HTTP answer from Twilio (refused, reset, timed out).' },
  twilio_error: { kind: 'temporary', when: 'Any other Twilio client failure without an HTTP error.' },
  hook_429: { kind: 'rate_limited', when: 'The send hook answered 429 Too Many Requests.' },
  hook_auth: { kind: 'provider_auth', when: 'The send hook refused our signature (HTTP 401 or 403).' },
  hook_5xx: { kind: 'temporary', when: 'The send hook answered with a 5xx status.' },
  hook_rejected: {
    kind: 'permanent',
    when: 'The send hook refused the message: any other 4xx, or a redirect (never followed).',
  },
  hook_connection: {
    kind: 'temporary',
    when: 'No connection to the send hook (refused, DNS or TLS failure): the request was never sent.',
  },
  hook_timeout: {
    kind: 'temporary',
    when: 'The send hook did not answer within its timeout; it may have the message.',
  },
  hook_network: {
    kind: 'temporary',
    when: 'The connection to the send hook broke after the request may have been sent (reset, closed).',
  },
  providers_unavailable: {
    kind: 'temporary',
    when: "Every provider of the worker's chain is unavailable (breaker open, switched off, or rate limited or refusing our credentials in this attempt); retried with backoff.",
  },
  dev_outbox_write: { kind: 'temporary', when: 'The development outbox could not write the message file.' },
  sender_error: { kind: 'temporary', when: 'A sender threw something it had not classified (a bug).' },
  worker_error: { kind: 'temporary', when: 'An error around the send (Postgres away, a bug); job reason only.' },
  invalid_payload: {
    kind: 'permanent',
    when: 'The job broke the queue contract, or names a version or template this worker does not handle; job reason only.',
  },
  envelope_key_unknown: { kind: 'temporary', when: 'The envelope names a key this worker does not know yet.' },
  envelope_unreadable: {
    kind: 'permanent',
    when: 'The envelope is tampered with, sealed for another job, or does not fit its template (an account-exists envelope holding a code).',
  },
  stalled: { kind: 'stalled', when: 'The job stalled more often than allowed; the challenge fails.' },
  challenge_missing: { kind: 'skipped', when: 'The challenge is gone (purged); logged only, no row to record on.' },
  challenge_verified: { kind: 'skipped', when: 'The challenge was used already.' },
  challenge_locked: { kind: 'skipped', when: 'The challenge is locked or has no verification attempt left.' },
  challenge_failed: { kind: 'skipped', when: 'An earlier failure of this delivery failed the challenge.' },
  challenge_expired: { kind: 'skipped', when: 'The challenge is past its expiry.' },
  superseded: { kind: 'skipped', when: 'A resend happened: the newer send speaks for the challenge.' },
  unknown_send: { kind: 'skipped', when: 'The job names a send the challenge has not made (never expected).' },
  already_sent: {
    kind: 'skipped',
    when: 'This send (or notice) was handed to the provider already (a duplicate job).',
  },
  notification_missing: {
    kind: 'skipped',
    when: "A notice's notification is gone (its account deleted); logged only.",
  },
} as const satisfies Record<string, DeliveryErrorEntry> & Record<SendRefusal, { kind: 'skipped'; when: string }>;

/** Codes that carry the provider's own reply code, typed as template literal types. */
export type SmtpReplyCode = `smtp_${number}`;
export type TwilioErrorCode = `twilio_${number}`;

/** The families, by the pattern of their codes (a code listed above is read from the list first). */
export const DELIVERY_ERROR_FAMILIES = {
  'smtp_<4yz>': { pattern: /^smtp_4\d\d$/, kind: 'temporary', when: 'The SMTP server answered with this 4yz reply.' },
  'smtp_<5yz>': { pattern: /^smtp_5\d\d$/, kind: 'permanent', when: 'The SMTP server answered with this 5yz reply.' },
  'twilio_<code>': {
    pattern: /^twilio_\d{1,8}$/,
    kind: 'permanent',
    when: 'Twilio refused the message (HTTP 4xx: 21211 invalid number, 21610 unsubscribed...), or its status callback named this error for an undelivered or failed message.',
  },
} as const satisfies Record<string, DeliveryErrorEntry & { pattern: RegExp }>;

export type DeliveryErrorCode = keyof typeof DELIVERY_ERROR_CODES | SmtpReplyCode | TwilioErrorCode;
/** The codes a sender may throw: every code but the skip reasons (which are not failures). */
export type DeliveryFailureCode = Exclude<DeliveryErrorCode, SendRefusal>;

/** The table's entry for a code, families included; undefined for a string that is no delivery error code. */
export function deliveryErrorEntry(code: string): DeliveryErrorEntry | undefined {
  if (Object.hasOwn(DELIVERY_ERROR_CODES, code)) return DELIVERY_ERROR_CODES[code as keyof typeof DELIVERY_ERROR_CODES];
  return Object.values(DELIVERY_ERROR_FAMILIES).find((family) => family.pattern.test(code));
}

/** `twilio_<code>` for a provider's numeric error code (digits only: anything else is not copied). */
export function twilioErrorCode(code: number | `${number}`): TwilioErrorCode {
  return `twilio_${code}`;
}
