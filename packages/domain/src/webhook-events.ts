import { createHash, randomUUID } from 'node:crypto';
import { EVENT_TYPES, type EventType, type EventTypeEntry } from './events.ts';

/**
 * The events the webhooks carry (docs/webhooks.md), by their public name. Published names never
 * change: an application's receiver switches on them. Which recorded event (EVENT_TYPES) sends
 * which is said there, by each entry's `webhook` routes; this table says what each one means and
 * what its `data` holds beyond the details of the event that sends it.
 */
export const WEBHOOK_EVENT_TYPES = {
  'challenge.requested': {
    description:
      'A message was accepted for delivery (`challengeId`, `channel`, `purpose`, `toMasked`): a code (`template` otp-code), or a message without one where there is no code to send: `account-exists` (a registration for an address that has an account; `userId` names it) or `reset-no-account` (a reset for an address without one).',
  },
  'challenge.verified': {
    description: 'A right code consumed its challenge (`challengeId`, `channel`, `purpose`, `toMasked`).',
  },
  'challenge.failed': {
    description:
      'A code could not be delivered: the provider refused it for good, its retries ran out, or the carrier reported it undelivered (`challengeId`, `channel`, `purpose`, `toMasked`, `errorCode`).',
  },
  'user.created': {
    description:
      'An account was created: by a registration with a password, or by the first code sign-in to an address (`method`: password, email, sms).',
  },
  'user.signed_in': {
    description: 'A sign-in completed, second factor included when the account has one (`method`, `sessionId`).',
  },
  'user.deleted': {
    description:
      'An account was deleted with its personal data (`by`: user, operator, or expiry: a registration whose address was never verified, purged after UNVERIFIED_ACCOUNT_TTL_SECONDS).',
  },
  'user.disabled': {
    description: 'An operator disabled the account: its sessions ended and every sign-in is refused.',
  },
  'password.changed': {
    description: 'The password was set, changed or reset (`how`: change, first, reset).',
  },
  'email.changed': {
    description: 'The account moved to another, proven email address (`emailMasked`: the new one).',
  },
  'session.revoked': {
    description:
      'Sessions were ended (`reason`: logout, ended_by_user, all_ended_by_user, operator; `sessionId` or `sessionIds`).',
  },
  'refresh_token.reuse_detected': {
    description:
      'A refresh token already rotated was presented again: its session and every token of it were revoked (`sessionId`).',
  },
  'factor.enabled': {
    description: 'An authenticator (TOTP) or hardware token (HOTP) factor was enabled (`kind`).',
  },
  'factor.disabled': {
    description:
      'A factor was removed (`kind`), or an operator removed every factor of the account (`reason`: operator).',
  },
  'account.locked': {
    description:
      'Codes are refused for a while: too many wrong factor codes in a row locked the account (`reason`: factor_lock), or too many wrong sign-in codes locked an address (`reason`: code_sign_in_lock, with the challenge).',
  },
} as const satisfies Record<string, { description: string }>;

export type WebhookEventType = keyof typeof WEBHOOK_EVENT_TYPES;
export const WEBHOOK_EVENT_NAMES = Object.keys(WEBHOOK_EVENT_TYPES) as WebhookEventType[];

/**
 * When a recorded event sends a webhook event: `type`, provided every detail named in `when` has
 * that value; `add` is merged into its data (a reason the public name does not carry by itself).
 */
export interface WebhookRoute {
  type: WebhookEventType;
  when?: Readonly<Record<string, string | boolean>>;
  add?: Readonly<Record<string, string>>;
}

/** A webhook event as it goes to the events outbox: its id is every delivery's `webhook-id`. */
export interface WebhookEvent {
  id: string;
  type: WebhookEventType;
  occurredAt: Date;
  data: Record<string, unknown>;
}

/**
 * The webhook events one recorded event sends (none for most): the routes of its entry in
 * EVENT_TYPES, whose conditions the details meet. The data is the details (ids, reasons,
 * counters, masked addresses: the table's rule for details) plus the account's id.
 */
export function webhookEventsOf(
  type: EventType,
  fields: { userId?: string | null; details?: Record<string, unknown>; at: Date },
): WebhookEvent[] {
  const entry: EventTypeEntry = EVENT_TYPES[type];
  const routes = entry.webhook ?? [];
  const details = fields.details ?? {};
  const events: WebhookEvent[] = [];
  for (const route of routes) {
    const applies = Object.entries(route.when ?? {}).every(([key, value]) => details[key] === value);
    if (!applies) continue;
    events.push({
      id: randomUUID(),
      type: route.type,
      occurredAt: fields.at,
      data: { ...(fields.userId == null ? {} : { userId: fields.userId }), ...details, ...route.add },
    });
  }
  return events;
}

/** The recorded events that send each webhook event (for the docs and the tests). */
export function webhookSources(): Record<WebhookEventType, EventType[]> {
  const sources = Object.fromEntries(WEBHOOK_EVENT_NAMES.map((name) => [name, [] as EventType[]])) as Record<
    WebhookEventType,
    EventType[]
  >;
  for (const [type, entry] of Object.entries(EVENT_TYPES) as Array<[EventType, EventTypeEntry]>) {
    for (const route of entry.webhook ?? []) sources[route.type].push(type);
  }
  return sources;
}

/**
 * An endpoint's stable id, from its URL: the state Postgres keeps for it (disabled after a 410)
 * survives a secret's rotation and a reordering of WEBHOOK_ENDPOINTS. Names the endpoint in logs
 * and metrics, where the URL itself (whose path may hold a token) never goes.
 */
export function webhookEndpointId(url: string): string {
  return `ep_${createHash('sha256').update(url).digest('base64url').slice(0, 16)}`;
}

// Do not rename: live jobs in Redis use these names.
export const WEBHOOK_QUEUE = 'webhooks';
export const WEBHOOK_JOB_NAME = 'deliver';

/**
 * One event for one endpoint, as the relay puts it on the `webhooks` queue (job id
 * `<eventId>.<endpointId>`): everything the body is built from, nothing secret. The endpoint's URL
 * and secret stay in the worker's configuration.
 */
export interface WebhookJobData {
  v: 1;
  eventId: string;
  endpointId: string;
  type: WebhookEventType;
  occurredAt: string;
  data: Record<string, unknown>;
}

export function webhookJobId(eventId: string, endpointId: string): string {
  return `${eventId}.${endpointId}`;
}

export function isWebhookJobData(value: unknown): value is WebhookJobData {
  if (typeof value !== 'object' || value === null) return false;
  const job = value as Record<string, unknown>;
  return (
    job.v === 1 &&
    typeof job.eventId === 'string' &&
    typeof job.endpointId === 'string' &&
    typeof job.type === 'string' &&
    (WEBHOOK_EVENT_NAMES as string[]).includes(job.type) &&
    typeof job.occurredAt === 'string' &&
    typeof job.data === 'object' &&
    job.data !== null &&
    !Array.isArray(job.data)
  );
}
