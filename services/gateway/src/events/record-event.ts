import { type Database, insertSecurityEvent, type Kysely } from '@otp/db';
import { type ChallengeRef, type CodeEventType, EVENT_TYPES, type EventType, type EventTypeEntry } from '@otp/domain';
import type { RequestContext } from './request-context.ts';

export interface EventFields {
  userId?: string | null;
  /** Ids, reasons, counters, methods: never a code, password, token or full address. */
  details?: Record<string, unknown>;
}

/** Code events always say which challenge, so they can be counted by channel and purpose. */
export type FieldsOf<T extends EventType> = T extends CodeEventType
  ? EventFields & { details: ChallengeRef & Record<string, unknown> }
  : EventFields;

// The log lines and counters of events recorded in a transaction wait for its commit: a
// rolled-back change did not happen, and must not be reported as if it had.
const afterCommit = new WeakMap<Kysely<Database>, Array<() => void>>();

/**
 * Runs `work` in one transaction. The events it records are written in that transaction and
 * logged and counted once it has committed.
 */
export async function inTransaction<T>(db: Kysely<Database>, work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  const reports: Array<() => void> = [];
  const result = await db.transaction().execute((trx) => {
    afterCommit.set(trx, reports);
    return work(trx);
  });
  for (const report of reports) report();
  return result;
}

/**
 * Records one event from the table of event types: its audit row (when the type has one) on
 * `db`, the caller's handle, so inside a transaction it commits with the change it records; its
 * log line on the request's logger; its counter. Outside a transaction all three happen now.
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
  if (entry.audit) {
    await insertSecurityEvent(db, {
      type,
      userId,
      ip: context.ip,
      userAgent: context.userAgent,
      requestId: context.requestId,
      details,
    });
  }
  const report = () => {
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
