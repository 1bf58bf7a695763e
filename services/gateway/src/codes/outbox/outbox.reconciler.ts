import {
  type CodeOutboxRow,
  type Database,
  type DeliveryOutboxRow,
  findQuietDispatchedNotices,
  findQuietDispatchedSends,
  type Kysely,
  markNotificationSent,
  moveDelivery,
  recordNotificationFailure,
} from '@otp/db';
import { recordStalledJob } from '@otp/delivery/gateway';
import { type Channel, STALLED_TOO_OFTEN } from '@otp/domain';
import type { Logger } from '@otp/runtime';
import type { Job, Queue } from 'bullmq';
import { type OutboxEnqueueOptions, outboxEnqueuer } from './outbox.enqueue.ts';

export interface OutboxReconcilerOptions extends OutboxEnqueueOptions {
  db: Kysely<Database>;
  queues: Record<Channel, Queue>;
  log: Logger;
  /** How often dispatched-but-silent sends are checked against the queue. */
  intervalMs: number;
  /** How long a send's delivery must have said nothing before it is checked. */
  quietSeconds: number;
  /** Sends checked per pass. */
  batchSize: number;
}

export interface OutboxReconciler {
  /**
   * Repairs dispatched sends that stayed silent: re-adds jobs gone from the queue, revives jobs
   * that failed without a record, writes back sends a worker finished without recording them.
   * Resolves with how many sends it repaired.
   */
  reconcileOnce(): Promise<number>;
  /** Stops the timer and waits for the pass in progress. */
  stop(): Promise<void>;
}

type Repair = 'readded' | 'stalled_recorded' | 'revived' | 'sent_recorded';

/** How far back the reconciler looks for silent notices. */
const NOTICE_RECONCILE_WINDOW_MS = 24 * 3600 * 1000;

/**
 * The gateway's repair of sends whose delivery has said nothing for `quietSeconds`; each one is
 * looked up in its queue:
 * - gone (Redis lost it: a restart without persistence, a failover to a lagging replica): it is
 *   added again under the same id;
 * - failed, while the challenge still reads queued/sending: the worker never recorded the
 *   failure (every failure it classifies is recorded first, so this is Postgres being away on
 *   each attempt, or the record of a twice-stalled job not landing). A stalled job's failure is
 *   recorded now, as its worker meant to; any other goes back to the queue with a fresh attempt
 *   budget, since the challenge can still use its code;
 * - completed with a provider message id: the message went out but the worker could not write
 *   that back (Postgres away longer than its write-back retries): it is recorded as sent now;
 * - waiting, delayed or active: it is on its way, and left alone.
 * The records go through the delivery transitions (`stalled`, `sent_recorded`), which move only a
 * send still queued or sending: a worker's record that lands meanwhile is never overwritten.
 * Security notices of the last day whose `notifications` row has stayed `queued` are repaired
 * the same four ways; their records never move a notice recorded sent.
 */
export function startOutboxReconciler(options: OutboxReconcilerOptions): OutboxReconciler {
  const { db, queues, log } = options;
  const enqueue = outboxEnqueuer(options);

  /** How a send's outcome is recorded: on its challenge (a code) or its `notifications` row. */
  interface Records {
    stalled(job: Job): Promise<unknown>;
    sent(providerMessageId: string | null): Promise<unknown>;
  }

  const codeRecords = (row: CodeOutboxRow): Records => ({
    // The record its worker meant to write; `unknown`: the reconciler does not know the provider.
    stalled: (job) =>
      recordStalledJob(db, {
        challengeId: row.challenge_id,
        sendNumber: row.send_number,
        channel: row.channel,
        provider: 'unknown',
        attempt: job.attemptsStarted,
      }),
    sent: (providerMessageId) =>
      moveDelivery(db, row.challenge_id, row.send_number, 'sent_recorded', { providerMessageId }),
  });

  const noticeRecords = (row: DeliveryOutboxRow): Records => {
    const notificationId = row.notification_id as string;
    return {
      stalled: () => recordNotificationFailure(db, notificationId, 'stalled', true),
      sent: (providerMessageId) => markNotificationSent(db, notificationId, providerMessageId),
    };
  };

  async function reconcileJob(row: DeliveryOutboxRow, job: Job | undefined, records: Records): Promise<Repair | null> {
    if (job === undefined) {
      await enqueue(row);
      return 'readded';
    }
    const state = await job.getState();
    if (state === 'failed' && job.failedReason === STALLED_TOO_OFTEN) {
      await records.stalled(job);
      return 'stalled_recorded';
    }
    if (state === 'failed') {
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      return 'revived';
    }
    const providerMessageId = (job.returnvalue as { providerMessageId?: unknown } | null)?.providerMessageId;
    if (state === 'completed' && (typeof providerMessageId === 'string' || providerMessageId === null)) {
      await records.sent(providerMessageId);
      return 'sent_recorded';
    }
    return null;
  }

  async function reconcileOnce(): Promise<number> {
    if (options.queuesReady?.() === false) return 0;
    const quietSince = new Date(Date.now() - options.quietSeconds * 1000);
    const rows = await findQuietDispatchedSends(db, quietSince, options.batchSize);
    const repaired: Partial<Record<Repair, number>> = {};
    for (const row of rows) {
      const repair = await reconcileJob(row, await queues[row.channel].getJob(row.job_id), codeRecords(row));
      if (repair !== null) repaired[repair] = (repaired[repair] ?? 0) + 1;
    }
    // Notices of the last day (older ones are news no more, and the scan stays bounded).
    const notices = await findQuietDispatchedNotices(
      db,
      quietSince,
      new Date(Date.now() - NOTICE_RECONCILE_WINDOW_MS),
      options.batchSize,
    );
    for (const row of notices) {
      const repair = await reconcileJob(row, await queues[row.channel].getJob(row.job_id), noticeRecords(row));
      if (repair !== null) repaired[repair] = (repaired[repair] ?? 0) + 1;
    }
    const total = Object.values(repaired).reduce((sum, count) => sum + count, 0);
    if (total > 0) log.warn(repaired, 'silent sends repaired: jobs lost, failed or finished without a record');
    return total;
  }

  // One pass at a time: a pass slowed down by Postgres or Redis is not joined by the next tick's.
  let running: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    if (running !== undefined) return;
    running = reconcileOnce()
      .catch((error: Error) => log.warn({ err: { message: error.message } }, 'reconcile failed'))
      .finally(() => {
        running = undefined;
      });
  }, options.intervalMs);
  timer.unref();

  return {
    reconcileOnce,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
