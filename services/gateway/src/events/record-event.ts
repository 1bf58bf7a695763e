import { type Database, insertAuditAndEvents, type Kysely, type NewEvent, type SecurityEventRow } from '@otp/db';
import {
  type ChallengeRef,
  type CodeEventType,
  EVENT_TYPES,
  type EventType,
  type EventTypeEntry,
  webhookEventsOf,
} from '@otp/domain';
import type { RequestContext } from './request-context.ts';

export interface EventFields {
  userId?: string | null;
  /** Ids, reasons, counters, methods: never a code, password, token or full address. */
  details?: Record<string, unknown>;
  /**
   * `false`: this one call sends no security notice although its type has one (a factor
   * enrolment only begun: nothing is protected by it yet).
   */
  notice?: false;
  /**
   * `written`: the caller has already written this event's webhook events (the outbox rows of
   * WEBHOOK_EVENT_TYPES) itself, in the statement of its change (a code request writes them with
   * its challenge, in one statement that writes nothing when the recipient's limit refuses it), so
   * this call writes none. Leave it out everywhere else: recordEvent writes them.
   */
  webhookEvents?: 'written';
  /**
   * When it happened (the webhook events' `occurredAt`), when the caller read the time already
   * for its change; the context's clock otherwise.
   */
  at?: Date;
}

/** Code events always say which challenge, so they can be counted by channel and purpose. */
export type FieldsOf<T extends EventType> = T extends CodeEventType
  ? EventFields & { details: ChallengeRef & Record<string, unknown> }
  : EventFields;

// The log lines and counters of events recorded in a transaction wait for its commit: a
// rolled-back change did not happen, and must not be reported as if it had.
const afterCommit = new WeakMap<Kysely<Database>, Array<() => void | Promise<void>>>();

/** The audit rows and webhook events of a transaction that writes them together at its end. */
interface HeldRows {
  audits: SecurityEventRow[];
  events: NewEvent[];
}
const heldRows = new WeakMap<Kysely<Database>, HeldRows>();

export interface TransactionOptions {
  /**
   * Hold the audit rows and webhook events of the events recorded in the transaction, and write
   * them all in one statement when `work` has finished, before the commit: one round trip for
   * them instead of one per event. Only for work that deletes no account after recording an
   * event about it (the audit row's account must still exist when it is written); a code's
   * verification is such work.
   */
  holdEventRows?: boolean;
}

/**
 * Runs `work` in one transaction. The events it records are written in that transaction and
 * logged and counted once it has committed.
 */
export async function inTransaction<T>(
  db: Kysely<Database>,
  work: (trx: Kysely<Database>) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const reports: Array<() => void | Promise<void>> = [];
  const result = await db.transaction().execute(async (trx) => {
    afterCommit.set(trx, reports);
    if (!options.holdEventRows) return work(trx);
    const held: HeldRows = { audits: [], events: [] };
    heldRows.set(trx, held);
    const done = await work(trx);
    heldRows.delete(trx);
    // Written with the COMMIT, in one round trip (its error fails the commit).
    await insertAuditAndEvents(trx, held.audits, held.events, { writeBehind: true });
    return done;
  });
  for (const report of reports) await report();
  return result;
}

/**
 * Runs `work` once the transaction `trx` (opened by inTransaction) has committed, before
 * inTransaction returns; never when it rolls back. For what must follow a change only if it
 * happened, outside Postgres (removing the queue jobs of deleted rows). `work` must not throw:
 * the change has committed, so it catches and logs its own failures.
 */
export function onCommit(trx: Kysely<Database>, work: () => Promise<void>): void {
  const reports = afterCommit.get(trx);
  if (reports === undefined) throw new Error('onCommit needs a transaction opened by inTransaction');
  reports.push(work);
}

/**
 * Records one event from the table of event types: its audit row (when the type has one) on
 * `db`, the caller's handle, so inside a transaction it commits with the change it records; its
 * log line on the request's logger; its counter. Outside a transaction all three happen now.
 *
 * An event whose type has a security notice (`notice`) about an account also sends that notice
 * to the account's verified email: a `notifications` row and its outbox row, in the same
 * transaction as the audit row (a change rolled back sends nothing), the relay nudged after the
 * commit. Outside a transaction such an event opens one for the three rows.
 *
 * An event whose type has `webhook` routes writes their events to the events outbox
 * (`event_outbox`) on the same handle, so they commit with the change or not at all; the webhook
 * worker's relay sends them. Their data are the details and the account's id: the details' rule
 * (no code, password, token or full address) is what keeps secrets out of the webhooks.
 */
export async function recordEvent<T extends EventType>(
  db: Kysely<Database>,
  context: RequestContext,
  type: T,
  fields: FieldsOf<T>,
): Promise<void> {
  const entry: EventTypeEntry = EVENT_TYPES[type];
  const userId = fields.userId ?? null;
  const details = fields.details ?? {};
  const notice = entry.notice !== undefined && fields.notice !== false && userId !== null ? entry.notice : undefined;
  const webhookEvents =
    fields.webhookEvents === 'written'
      ? []
      : webhookEventsOf(type, { userId, details, at: fields.at ?? context.now?.() ?? new Date() });
  // The audit row and the webhook events are one statement (insertAuditAndEvents), atomic on its
  // own. A notice is two more rows: outside a transaction, one is opened for all of them, so none
  // is written without the others.
  if (notice !== undefined && !db.isTransaction) {
    return inTransaction(db, (trx) => recordEvent(trx, context, type, fields));
  }
  const audits = entry.audit
    ? [{ type, userId, ip: context.ip, userAgent: context.userAgent, requestId: context.requestId, details }]
    : [];
  const held = heldRows.get(db);
  if (held === undefined) await insertAuditAndEvents(db, audits, webhookEvents);
  else {
    held.audits.push(...audits);
    held.events.push(...webhookEvents);
  }
  const noticeWritten =
    notice !== undefined &&
    userId !== null &&
    (await context.notices.write(db, {
      template: notice,
      userId,
      details,
      ip: context.ip,
      userAgent: context.userAgent,
      requestId: context.requestId,
      traceparent: context.traceparent,
    }));
  const report = () => {
    if (noticeWritten) context.notices.nudge();
    const { codeMetric } = entry;
    if (codeMetric !== undefined) {
      const { channel, purpose } = details as unknown as ChallengeRef;
      context.metrics.codeEvent(codeMetric, { channel, purpose });
    }
    context.log[entry.level]({ event: type, ...(userId === null ? {} : { userId }), ...details }, type);
  };
  if (!db.isTransaction) {
    report();
    return;
  }
  const reports = afterCommit.get(db);
  if (reports === undefined) throw new Error(`event ${type} recorded in a transaction not opened by inTransaction`);
  reports.push(report);
}
