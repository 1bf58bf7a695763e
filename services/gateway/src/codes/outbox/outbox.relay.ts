import {
  claimPendingOutbox,
  type Database,
  type DeliveryOutboxRow,
  deferOutbox,
  findQuietDispatchedSends,
  insertDeliveryAttempt,
  type Kysely,
  markOutboxDispatched,
  moveDelivery,
  releaseDeferredOutbox,
} from '@otp/db';
import {
  type Channel,
  type DeliveryJobOptions,
  deliveryJobOptions,
  isDeliveryJobData,
  JOB_NAMES,
  STALLED_TOO_OFTEN,
} from '@otp/domain';
import type { Logger } from '@otp/runtime';
import type { Job, Queue } from 'bullmq';

export interface OutboxRelayOptions {
  db: Kysely<Database>;
  queues: Record<Channel, Queue>;
  log: Logger;
  /** The timer's period: picks up rows left by a crashed replica and deferred rows. */
  intervalMs: number;
  batchSize: number;
  jobOptions: DeliveryJobOptions;
  /** How often dispatched-but-silent sends are checked against the queue, and after how long. */
  reconcile?: { intervalMs: number; quietSeconds: number };
  /** Bound on one `queue.add`; BullMQ waits for a connection that never came up otherwise. */
  enqueueTimeoutMs?: number;
  /** False while the queues' Redis connection is down: rows are deferred without trying. */
  queuesReady?: () => boolean;
}

export interface OutboxRelay {
  /** Asks for a drain soon; never waits, never throws. */
  nudge(): void;
  /** Runs one drain after any running one; resolves with the number of jobs added. */
  drainOnce(): Promise<number>;
  /**
   * Repairs dispatched sends that stayed silent: re-adds jobs gone from the queue, revives jobs
   * that failed without a record, writes back sends a worker finished without recording them.
   * Resolves with how many sends it repaired.
   */
  reconcileOnce(): Promise<number>;
  /** Makes deferred rows due now and drains: call it when the queue's Redis is back. */
  resumeDeferred(): void;
  /** Stops the timer and waits for the drain in progress. */
  stop(): Promise<void>;
}

const MAX_DEFER_MS = 30_000;

/** 1 s, 2 s, 4 s ... capped at 30 s, by how often the row was refused already. */
export function deferDelayMs(relayAttempts: number): number {
  return Math.min(MAX_DEFER_MS, 1000 * 2 ** Math.min(relayAttempts, 15));
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`queue did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Moves committed outbox rows to BullMQ. The rows stay locked (FOR UPDATE SKIP LOCKED) while
 * their jobs are added, so replicas never relay the same row at the same time; a row is marked
 * dispatched only once its job is in Redis, and deferred with a growing delay when Redis refused
 * it. Adding twice is harmless: the job id is derived from the challenge and the send number.
 */
export function startOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { db, queues, log, batchSize, jobOptions } = options;
  const enqueueTimeoutMs = options.enqueueTimeoutMs ?? 2000;

  async function enqueue(row: DeliveryOutboxRow): Promise<void> {
    if (options.queuesReady?.() === false) throw new Error('queue connection is not ready');
    if (!isDeliveryJobData(row.job_data)) throw new Error('outbox row holds invalid job data');
    const queue = queues[row.channel];
    await withTimeout(
      queue.add(JOB_NAMES.sendCode, row.job_data, deliveryJobOptions(row.job_id, jobOptions)),
      enqueueTimeoutMs,
    );
  }

  async function drain(): Promise<number> {
    return db.transaction().execute(async (trx) => {
      const rows = await claimPendingOutbox(trx, batchSize);
      if (rows.length === 0) return 0;
      const results = await Promise.allSettled(rows.map((row) => enqueue(row)));
      const added: string[] = [];
      const refused = new Map<number, { ids: string[]; error: string }>();
      results.forEach((result, index) => {
        const row = rows[index] as DeliveryOutboxRow;
        if (result.status === 'fulfilled') {
          added.push(row.id);
          return;
        }
        const delay = deferDelayMs(row.relay_attempts);
        const group = refused.get(delay) ?? { ids: [], error: String((result.reason as Error)?.message).slice(0, 200) };
        group.ids.push(row.id);
        refused.set(delay, group);
      });
      await markOutboxDispatched(trx, added);
      for (const [delay, group] of refused) await deferOutbox(trx, group.ids, group.error, delay);
      if (refused.size > 0) {
        const deferred = [...refused.values()].reduce((sum, group) => sum + group.ids.length, 0);
        log.warn({ added: added.length, deferred, reason: [...refused.values()][0]?.error }, 'outbox rows deferred');
      } else {
        log.debug({ added: added.length }, 'outbox relayed');
      }
      return added.length;
    });
  }

  // One chain of drains: at most one runs at a time; `queued` coalesces nudges that arrive while
  // a drain is waiting to start into that one drain.
  let chain: Promise<unknown> = Promise.resolve();
  let queued = false;
  let stopped = false;

  function nudge(): void {
    if (stopped || queued) return;
    queued = true;
    chain = chain.then(async () => {
      queued = false;
      try {
        // A full batch means more may be waiting: keep going rather than wait for the timer.
        if ((await drain()) === batchSize) nudge();
      } catch (error) {
        log.warn({ err: { message: (error as Error).message } }, 'outbox drain failed');
      }
    });
  }

  function drainOnce(): Promise<number> {
    const run = chain.then(() => drain());
    chain = run.catch(() => 0);
    return run;
  }

  const timer = setInterval(nudge, options.intervalMs);
  timer.unref();

  // A send whose delivery has said nothing for `quietSeconds` is looked up in its queue:
  // - gone (Redis lost it: a restart without persistence, a failover to a lagging replica): it is
  //   added again under the same id;
  // - failed, while the challenge still reads queued/sending: the worker never recorded the
  //   failure (every failure it classifies is recorded first, so this is Postgres being away on
  //   each attempt, or the record of a twice-stalled job not landing). A stalled job's failure is
  //   recorded now, as its worker meant to; any other goes back to the queue with a fresh attempt
  //   budget, since the challenge can still use its code;
  // - completed with a provider message id: the message went out but the worker could not write
  //   that back (Postgres away longer than its write-back retries): it is recorded as sent now;
  // - waiting, delayed or active: it is on its way, and left alone.
  // The records are the `stalled` and `sent_recorded` transitions, which move only a send still
  // queued or sending: a worker's record that lands meanwhile is never overwritten.
  async function reconcileJob(row: DeliveryOutboxRow, job: Job | undefined): Promise<string | null> {
    if (job === undefined) {
      await enqueue(row);
      return 'readded';
    }
    const state = await job.getState();
    const [challengeId, sendNumber] = [row.challenge_id, row.send_number];
    if (state === 'failed' && job.failedReason === STALLED_TOO_OFTEN) {
      await insertDeliveryAttempt(db, {
        challenge_id: challengeId,
        send_number: sendNumber,
        channel: row.channel,
        provider: 'unknown',
        attempt: job.attemptsStarted,
        outcome: 'temporary_failure',
        error_code: 'stalled',
        error_message: null,
        provider_message_id: null,
        duration_ms: 0,
      });
      await moveDelivery(db, challengeId, sendNumber, 'stalled', { lastError: 'stalled' });
      return 'stalled_recorded';
    }
    if (state === 'failed') {
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      return 'revived';
    }
    const providerMessageId = (job.returnvalue as { providerMessageId?: unknown } | null)?.providerMessageId;
    if (state === 'completed' && (typeof providerMessageId === 'string' || providerMessageId === null)) {
      await moveDelivery(db, challengeId, sendNumber, 'sent_recorded', { providerMessageId });
      return 'sent_recorded';
    }
    return null;
  }

  async function reconcileOnce(): Promise<number> {
    if (options.queuesReady?.() === false) return 0;
    const quietMs = (options.reconcile?.quietSeconds ?? 60) * 1000;
    const rows = await findQuietDispatchedSends(db, new Date(Date.now() - quietMs), batchSize);
    const repaired: Record<string, number> = {};
    for (const row of rows) {
      const repair = await reconcileJob(row, await queues[row.channel].getJob(row.job_id));
      if (repair !== null) repaired[repair] = (repaired[repair] ?? 0) + 1;
    }
    const total = Object.values(repaired).reduce((sum, count) => sum + count, 0);
    if (total > 0) log.warn(repaired, 'silent sends repaired: jobs lost, failed or finished without a record');
    return total;
  }
  const reconcileTimer = setInterval(() => {
    reconcileOnce().catch((error: Error) => log.warn({ err: { message: error.message } }, 'reconcile failed'));
  }, options.reconcile?.intervalMs ?? 30_000);
  reconcileTimer.unref();

  function resumeDeferred(): void {
    releaseDeferredOutbox(db).then(
      (released) => {
        if (released > 0) log.info({ released }, 'queue is back: relaying deferred rows now');
        nudge();
      },
      (error: Error) => log.warn({ err: { message: error.message } }, 'could not release deferred rows'),
    );
  }

  return {
    nudge,
    drainOnce,
    reconcileOnce,
    resumeDeferred,
    async stop() {
      stopped = true;
      clearInterval(timer);
      clearInterval(reconcileTimer);
      await chain;
    },
  };
}
