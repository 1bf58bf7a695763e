import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { NOTICE_TEMPLATES } from './notices.ts';
import type { Channel } from './recipient.ts';

// Do not rename: live jobs in Redis use these names.
export const QUEUE_NAMES = { email: 'email', sms: 'sms' } as const satisfies Record<Channel, string>;
// Do not rename: live jobs in Redis use these names.
export const JOB_NAMES = { sendCode: 'send-code', sendNotice: 'send-notice' } as const;
/** BullMQ's failedReason for a job that stalled more often than its worker's maxStalledCount. */
export const STALLED_TOO_OFTEN = 'job stalled more than allowable limit';

export const DEFAULT_QUEUE_PREFIX = '{otp}';
/** W3C trace context header value (version-traceid-parentid-flags). */
export const TRACEPARENT_PATTERN = '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$';
/**
 * What a code is for. `reset_password` (a password reset by emailed code) is never a purpose of
 * `POST /v1/otp/challenges` nor verified there: only POST /v1/auth/password/forgot makes one and
 * only POST /v1/auth/password/reset takes its code, so it can never sign anyone in.
 * `change_email` (a code to the new address of POST /v1/me/email) is made only by that route and
 * verified at POST /v1/otp/challenges/:id/verify, where it moves its own account to the address.
 */
export const PURPOSES = ['login', 'verify_email', 'verify_phone', 'reset_password', 'change_email'] as const;
export type Purpose = (typeof PURPOSES)[number];
/** The purposes versions 1 and 2 carry (those of the releases before `reset_password`). */
const PURPOSES_V1 = ['login', 'verify_email', 'verify_phone'] as const satisfies readonly Purpose[];
/** The purposes version 4 carries (the release before `change_email`). */
const PURPOSES_V4 = [...PURPOSES_V1, 'reset_password'] as const satisfies readonly Purpose[];

// Do not rename: live jobs in Redis carry these names in `template`.
export const DELIVERY_TEMPLATES = ['otp-code', 'account-exists', 'reset-no-account'] as const;
/**
 * Which message a job asks for:
 * - `otp-code`: a one-time code (sign-in, verification, password reset);
 * - `account-exists`: at registration, to an address whose account is verified already: how to
 *   sign in or reset the password, and never a code;
 * - `reset-no-account`: a password reset asked for an address with no verified account: there
 *   is no password to reset here (register, or finish registering), and never a code.
 */
export type DeliveryTemplate = (typeof DELIVERY_TEMPLATES)[number];

/**
 * The clear fields every version of the job has: only what a queue dashboard needs. The address
 * (and the code, for `otp-code`) travel inside `envelope` (AES-256-GCM, bound to the job id),
 * which only the gateway and the workers can open.
 */
const clearFields = (purposes: readonly Purpose[]) => ({
  challengeId: Type.String({ format: 'uuid' }),
  sendNumber: Type.Integer({ minimum: 1 }),
  channel: Type.Union([Type.Literal('email'), Type.Literal('sms')]),
  purpose: Type.Enum(purposes),
  locale: Type.String({ maxLength: 35 }),
  toMasked: Type.String(),
  requestedAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
  requestId: Type.Optional(Type.String({ maxLength: 128 })),
  /**
   * The gateway request's span (W3C trace context) when it traces (OTEL_EXPORTER_OTLP_ENDPOINT
   * set): the relay adds the job in that context, so BullMQ's spans and the worker's join the
   * request's trace. Workers that predate this field reject it (the schema allows no unknown
   * property): upgrade the workers before turning tracing on.
   */
  traceparent: Type.Optional(Type.String({ pattern: TRACEPARENT_PATTERN })),
  envelope: Type.String({ pattern: '^v1\\.' }),
});

/** Version 1: a code, nothing else. Still written for `otp-code` and read by every worker. */
export const DeliveryJobDataV1 = Type.Object(
  { v: Type.Literal(1), template: Type.Literal('otp-code'), ...clearFields(PURPOSES_V1) },
  { additionalProperties: false },
);
export type DeliveryJobDataV1 = Static<typeof DeliveryJobDataV1>;

/**
 * Version 2: version 1 plus the `account-exists` template. A worker older than version 2 fails
 * such a job as `invalid_payload`: upgrade every worker before the gateways (docs/operating.md).
 */
export const DeliveryJobDataV2 = Type.Object(
  { v: Type.Literal(2), template: Type.Enum(['otp-code', 'account-exists']), ...clearFields(PURPOSES_V1) },
  { additionalProperties: false },
);
export type DeliveryJobDataV2 = Static<typeof DeliveryJobDataV2>;

/**
 * Version 4 (3 is the notices'): version 2 plus the `reset_password` purpose and the
 * `reset-no-account` template. A worker of the release before fails only these jobs as
 * `invalid_payload`: codes of the other purposes stay version 1, account-exists version 2.
 */
export const DeliveryJobDataV4 = Type.Object(
  { v: Type.Literal(4), template: Type.Enum(DELIVERY_TEMPLATES), ...clearFields(PURPOSES_V4) },
  { additionalProperties: false },
);
export type DeliveryJobDataV4 = Static<typeof DeliveryJobDataV4>;

/**
 * Version 5: version 4 plus the `change_email` purpose. A worker of the release before fails
 * only these jobs as `invalid_payload`; every other send keeps its older version.
 */
export const DeliveryJobDataV5 = Type.Object(
  { v: Type.Literal(5), template: Type.Enum(DELIVERY_TEMPLATES), ...clearFields(PURPOSES) },
  { additionalProperties: false },
);
export type DeliveryJobDataV5 = Static<typeof DeliveryJobDataV5>;

/** Every version a worker reads. */
export const DeliveryJobData = Type.Union([DeliveryJobDataV1, DeliveryJobDataV2, DeliveryJobDataV4, DeliveryJobDataV5]);
export type DeliveryJobData = DeliveryJobDataV1 | DeliveryJobDataV2 | DeliveryJobDataV4 | DeliveryJobDataV5;

/**
 * The version the gateway writes for each template: the oldest that carries it. Codes stay
 * version 1, so a worker of the previous release keeps delivering them while a release rolls
 * out or back; only the new message needs the new workers.
 */
export const DELIVERY_JOB_VERSION = {
  'otp-code': 1,
  'account-exists': 2,
  'reset-no-account': 4,
} as const satisfies Record<DeliveryTemplate, DeliveryJobData['v']>;

/**
 * The version of one send: its template's, 4 for any message of a password reset, 5 for a code
 * to a new email address.
 */
export function deliveryJobVersion(template: DeliveryTemplate, purpose: Purpose): DeliveryJobData['v'] {
  if (purpose === 'change_email') return 5;
  return purpose === 'reset_password' ? 4 : DELIVERY_JOB_VERSION[template];
}

/**
 * What is sealed inside `envelope`, per template (in every version): an `otp-code` job always
 * carries the code, an `account-exists` job never does (its envelope holding one is refused).
 */
export const DELIVERY_SECRETS = {
  'otp-code': Type.Object({ to: Type.String(), code: Type.String() }, { additionalProperties: false }),
  'account-exists': Type.Object({ to: Type.String() }, { additionalProperties: false }),
  'reset-no-account': Type.Object({ to: Type.String() }, { additionalProperties: false }),
} as const;
export type DeliverySecret<T extends DeliveryTemplate = DeliveryTemplate> = {
  [K in DeliveryTemplate]: Static<(typeof DELIVERY_SECRETS)[K]>;
}[T];

const jobDataValidator = Compile(DeliveryJobData);
const secretValidators = {
  'otp-code': Compile(DELIVERY_SECRETS['otp-code']),
  'account-exists': Compile(DELIVERY_SECRETS['account-exists']),
  'reset-no-account': Compile(DELIVERY_SECRETS['reset-no-account']),
};

/** Job data of any version of a send a worker reads (1, 2, 4 or 5). */
export function isDeliveryJobData(value: unknown): value is DeliveryJobData {
  return jobDataValidator.Check(value);
}

/** The notices version 3 carries: those of the release that introduced notices. */
const NOTICE_TEMPLATES_V3 = [
  'new-sign-in',
  'phone-changed',
  'factor-changed',
  'recovery-codes-regenerated',
  'factor-locked',
  'session-revoked',
] as const satisfies ReadonlyArray<(typeof NOTICE_TEMPLATES)[number]>;

const noticeFields = {
  kind: Type.Literal('notice'),
  notificationId: Type.String({ format: 'uuid' }),
  channel: Type.Literal('email'),
  locale: Type.String({ maxLength: 35 }),
  toMasked: Type.String(),
  requestedAt: Type.String({ format: 'date-time' }),
  requestId: Type.Optional(Type.String({ maxLength: 128 })),
  traceparent: Type.Optional(Type.String({ pattern: TRACEPARENT_PATTERN })),
  envelope: Type.String({ pattern: '^v1\\.' }),
};

/**
 * Version 3: a security notice (packages/domain/src/notices.ts), an email about the account to
 * its verified address. No challenge: the notice is a `notifications` row (`notificationId`), the
 * worker's record of whether it went out. Clear fields only what a dashboard needs; the address
 * and what the message shows travel in the envelope. A worker older than version 3 fails such a
 * job as `invalid_payload`: upgrade every worker before the gateways (docs/operating.md).
 */
export const NoticeJobDataV3 = Type.Object(
  { v: Type.Literal(3), template: Type.Enum(NOTICE_TEMPLATES_V3), ...noticeFields },
  { additionalProperties: false },
);

/** The notices version 4 carries: version 3's and `password-changed`. */
const NOTICE_TEMPLATES_V4 = [...NOTICE_TEMPLATES_V3, 'password-changed'] as const satisfies ReadonlyArray<
  (typeof NOTICE_TEMPLATES)[number]
>;

/**
 * Version 4, for notices: version 3 plus `password-changed` (and its `how` fact). A worker of
 * the release before fails only these as `invalid_payload`; the other notices stay version 3.
 */
export const NoticeJobDataV4 = Type.Object(
  { v: Type.Literal(4), template: Type.Enum(NOTICE_TEMPLATES_V4), ...noticeFields },
  { additionalProperties: false },
);

/**
 * Version 5, for notices: version 4 plus `email-changed` (with its `emailMasked` fact),
 * `account-deleted` and `factors-reset`. A worker of the release before fails only these as
 * `invalid_payload`; the other notices keep their versions.
 */
export const NoticeJobDataV5 = Type.Object(
  { v: Type.Literal(5), template: Type.Enum(NOTICE_TEMPLATES), ...noticeFields },
  { additionalProperties: false },
);
export type NoticeJobData =
  | Static<typeof NoticeJobDataV3>
  | Static<typeof NoticeJobDataV4>
  | Static<typeof NoticeJobDataV5>;

/** The version the gateway writes for each notice: the oldest that carries it (as for codes). */
export const NOTICE_JOB_VERSION = {
  'new-sign-in': 3,
  'phone-changed': 3,
  'factor-changed': 3,
  'recovery-codes-regenerated': 3,
  'factor-locked': 3,
  'session-revoked': 3,
  'password-changed': 4,
  'email-changed': 5,
  'account-deleted': 5,
  'factors-reset': 5,
} as const satisfies Record<(typeof NOTICE_TEMPLATES)[number], NoticeJobData['v']>;

/**
 * What a notice shows, sealed in its envelope with the address. Never a code, a token or a full
 * phone number: the schema has no room for one (no unknown property; a phone only masked).
 * - `at`: when it happened (every notice);
 * - `factorKind`, `change`: which factor and what happened to it (`factor-changed`);
 * - `phoneMasked`: the new number, last four digits only (`phone-changed`);
 * - `userAgent`, `network`: the device and its network (IPv6 /64, IPv4 address) (`new-sign-in`);
 * - `how`: set for the first time, changed while signed in, or reset by an emailed code, and
 *   `sessionsRevoked`: the sign-ins that ended with it (`password-changed`, version 4);
 * - `emailMasked`: the account's new address, masked (`email-changed`, version 5; sent to the
 *   old address).
 */
export const NoticeFacts = Type.Object(
  {
    at: Type.String({ format: 'date-time' }),
    factorKind: Type.Optional(Type.Union([Type.Literal('totp'), Type.Literal('hotp')])),
    change: Type.Optional(Type.Union([Type.Literal('enrolled'), Type.Literal('enabled'), Type.Literal('removed')])),
    phoneMasked: Type.Optional(Type.String({ pattern: '^\\+\\*+[0-9]{4}$' })),
    userAgent: Type.Optional(Type.String({ maxLength: 512 })),
    network: Type.Optional(Type.String({ maxLength: 64 })),
    how: Type.Optional(Type.Union([Type.Literal('first'), Type.Literal('change'), Type.Literal('reset')])),
    sessionsRevoked: Type.Optional(Type.Integer({ minimum: 0 })),
    emailMasked: Type.Optional(Type.String({ maxLength: 320, pattern: '^[^@]{1,2}\\*{3}@[^@]+$' })),
  },
  { additionalProperties: false },
);
export type NoticeFacts = Static<typeof NoticeFacts>;
export const NoticeSecret = Type.Object({ to: Type.String(), facts: NoticeFacts }, { additionalProperties: false });
export type NoticeSecret = Static<typeof NoticeSecret>;

const noticeDataValidator = Compile(Type.Union([NoticeJobDataV3, NoticeJobDataV4, NoticeJobDataV5]));
const noticeSecretValidator = Compile(NoticeSecret);

/** Notice job data (version 3, 4 or 5). */
export function isNoticeJobData(value: unknown): value is NoticeJobData {
  return noticeDataValidator.Check(value);
}

/** Whether an opened notice envelope holds an address and the facts, and nothing more. */
export function isNoticeSecret(value: unknown): value is NoticeSecret {
  return noticeSecretValidator.Check(value);
}

/** A notice's job id: one job per notification. BullMQ ids must not contain ":" nor be all digits. */
export function noticeJobId(notificationId: string): string {
  return `notice.${notificationId}`;
}

/** The value a notice's envelope is bound to: it opens for that notification's job only. */
export function noticeEnvelopeContext(notificationId: string): string {
  return `notice:${notificationId}`;
}

/** Every job a worker may find on its queue: a send (1, 2, 4, 5) or a notice (3, 4, 5). */
export type AnyDeliveryJobData = DeliveryJobData | NoticeJobData;

/** Whether an opened envelope holds what `template` needs, and nothing more. */
export function isDeliverySecret<T extends DeliveryTemplate>(template: T, value: unknown): value is DeliverySecret<T> {
  return secretValidators[template].Check(value);
}

/**
 * One job per send: enqueueing the same send twice is a no-op while the job exists. BullMQ ids
 * must not contain ":" nor be all digits, hence the dot.
 */
export function deliveryJobId(challengeId: string, sendNumber: number): string {
  return `${challengeId}.${sendNumber}`;
}

/** The value the envelope is bound to, so an envelope cannot be replayed in another job. */
export function envelopeContext(challengeId: string, sendNumber: number): string {
  return `delivery:${deliveryJobId(challengeId, sendNumber)}`;
}

export interface DeliveryJobOptions {
  attempts: number;
  backoffMs: number;
  /** How long a failed job stays in Redis for inspection and retry (default 7 days). */
  failedRetentionSeconds?: number;
}

/** BullMQ options every delivery job is added with. */
export function deliveryJobOptions(jobId: string, options: DeliveryJobOptions) {
  return {
    jobId,
    attempts: options.attempts,
    // Exponential with jitter: 2 s, 4 s, 8 s... each shortened by up to half at random, so
    // retries from many jobs do not hit a recovering provider in lockstep.
    backoff: { type: 'exponential', delay: options.backoffMs, jitter: 0.5 },
    removeOnComplete: { age: 3600, count: 1000 },
    // The failed set is the dead-letter queue: kept for inspection and `retry-failed`.
    removeOnFail: { age: options.failedRetentionSeconds ?? 7 * 24 * 3600, count: 10000 },
  } as const;
}

/** Where a delivery stands; shown as `delivery.status` on a challenge. */
export const DELIVERY_STATUSES = ['queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** The outcome of one attempt to hand a message to a provider, as recorded per attempt. */
export type AttemptOutcome = 'sent' | 'temporary_failure' | 'permanent_failure' | 'rate_limited' | 'skipped';
