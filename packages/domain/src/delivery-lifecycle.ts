import { DELIVERY_STATUSES, type DeliveryStatus } from './queue-contract.ts';

/**
 * Who moves a challenge's delivery status:
 * - `gateway`: the code request (which creates it `queued`) and a resend;
 * - `worker`: the email or SMS worker processing the send's job;
 * - `provider`: the provider's report on a message it accepted (Twilio's status callback);
 * - `reconciler`: the gateway's repair of sends that stayed silent (outbox.reconciler.ts);
 * - `operator`: `retry-failed`, the dead-letter retry.
 */
export const DELIVERY_ACTORS = ['gateway', 'worker', 'provider', 'reconciler', 'operator'] as const;
export type DeliveryActor = (typeof DELIVERY_ACTORS)[number];

export interface DeliveryTransition {
  readonly by: readonly DeliveryActor[];
  /** The statuses the send may be in; from any other, the move does not happen. */
  readonly from: readonly DeliveryStatus[];
  readonly to: DeliveryStatus;
  /** One more hand-over to the provider, counted in `delivery_attempts`. */
  readonly countsAttempt?: boolean;
  /** A pending challenge becomes `failed`: its code can no longer arrive. */
  readonly failsChallenge?: boolean;
  /** A failed challenge becomes `pending` again; only a pending or failed, unexpired challenge moves. */
  readonly reopensChallenge?: boolean;
}

/** A challenge is created with its first send `queued`, in the statement that writes its outbox row. */
export const INITIAL_DELIVERY_STATUS: DeliveryStatus = 'queued';

/** The provider has (or had) the message: a job for this send must not send it again. */
export const HANDED_OVER: readonly DeliveryStatus[] = ['sent', 'delivered', 'undelivered'];

const ANY = DELIVERY_STATUSES;
const IN_LINE: readonly DeliveryStatus[] = ['queued', 'sending'];
// Provider reports arrive out of order: a late `undelivered` or `failed` must not undo a delivery.
const NOT_DELIVERED = DELIVERY_STATUSES.filter((status) => status !== 'delivered');

/**
 * Every move of a send's delivery status, by name. Only the latest send of a challenge moves
 * (an older send finishing late speaks for nothing), and only from the statuses listed.
 */
export const DELIVERY_TRANSITIONS = {
  /** A resend: the new send starts in line, whatever became of the previous one. */
  resent: { by: ['gateway'], from: ANY, to: 'queued' },
  /**
   * A worker takes the job, after its usability check passed (so the send is not handed over);
   * `failed` with a pending challenge is a provider's `failed` report, which a new job may retry.
   */
  taken: { by: ['worker'], from: ['queued', 'sending', 'failed'], to: 'sending' },
  /** A temporary failure, a 429 or refused credentials: the job waits and tries again. */
  retry_scheduled: { by: ['worker'], from: IN_LINE, to: 'queued', countsAttempt: true },
  /** A permanent failure, or a temporary one on the job's last attempt. */
  failed: { by: ['worker'], from: IN_LINE, to: 'failed', countsAttempt: true, failsChallenge: true },
  /**
   * The provider accepted the message. From any status: the message did go out, and the record
   * (with its provider message id) now speaks of it.
   */
  sent: { by: ['worker'], from: ANY, to: 'sent', countsAttempt: true },
  /**
   * BullMQ failed a job whose worker died too often holding it; recorded by the worker that saw
   * it, or by the reconciler when that record did not land. A send already recorded stays.
   */
  stalled: { by: ['worker', 'reconciler'], from: IN_LINE, to: 'failed', failsChallenge: true },
  /** A job completed with a provider message id whose worker could not write that back. */
  sent_recorded: { by: ['reconciler'], from: IN_LINE, to: 'sent', countsAttempt: true },
  /** The provider reports the message delivered. */
  delivered: { by: ['provider'], from: NOT_DELIVERED, to: 'delivered' },
  /** The provider reports the message undelivered (the carrier gave up). */
  undelivered: { by: ['provider'], from: NOT_DELIVERED, to: 'undelivered' },
  /** The provider reports the message failed (it never left the provider). */
  provider_failed: { by: ['provider'], from: NOT_DELIVERED, to: 'failed' },
  /**
   * The operator retries a failed job: the send goes back in line and a challenge its failure
   * had failed is pending again. `queued`/`sending`: a job that failed without a record.
   */
  reopened: { by: ['operator'], from: ['queued', 'sending', 'failed'], to: 'queued', reopensChallenge: true },
} as const satisfies Record<string, DeliveryTransition>;

export type DeliveryTransitionName = keyof typeof DELIVERY_TRANSITIONS;

const TRANSITIONS: ReadonlyArray<readonly [DeliveryTransitionName, DeliveryTransition]> = Object.entries(
  DELIVERY_TRANSITIONS,
) as Array<[DeliveryTransitionName, DeliveryTransition]>;

/** The named transitions that move a send from `from` to `to` (by anyone, or by `actor`). */
export function transitionsBetween(from: DeliveryStatus, to: DeliveryStatus, actor?: DeliveryActor) {
  return TRANSITIONS.filter(
    ([, t]) => t.to === to && t.from.includes(from) && (actor === undefined || t.by.includes(actor)),
  ).map(([name]) => name);
}

/** Whether some transition (of `actor`, when given) moves a send from `from` to `to`. */
export function mayFollow(from: DeliveryStatus, to: DeliveryStatus, actor?: DeliveryActor): boolean {
  return transitionsBetween(from, to, actor).length > 0;
}

/** The statuses `actor` may move a send to. */
export function statusesMovedBy(actor: DeliveryActor): DeliveryStatus[] {
  return [...new Set(TRANSITIONS.filter(([, t]) => t.by.includes(actor)).map(([, t]) => t.to))];
}
