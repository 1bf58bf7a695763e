import {
  claimPendingOutbox,
  type Database,
  type DeliveryOutboxRow,
  deferOutbox,
  type Kysely,
  markOutboxDispatched,
  releaseDeferredOutbox,
} from '@otp/db';
import { type Logger, outsideTrace } from '@otp/runtime';
import { type OutboxEnqueueOptions, outboxEnqueuer } from './outbox.enqueue.ts';

/** While `queuesReady` says false, rows are deferred without a try. */
export interface OutboxRelayOptions extends OutboxEnqueueOptions {
  db: Kysely<Database>;
  log: Logger;
  /** The timer's period: picks up rows left by a crashed replica and deferred rows. */
  intervalMs: number;
  batchSize: number;
}

export interface OutboxRelay {
  /** Asks for a drain soon; never waits, never throws. */
  nudge(): void;
  /** Runs one drain after any running one; resolves with the number of jobs added. */
  drainOnce(): Promise<number>;
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

/**
 * Moves committed outbox rows to BullMQ. The rows stay locked (FOR UPDATE SKIP LOCKED) while
 * their jobs are added, so replicas never relay the same row at the same time; a row is marked
 * dispatched only once its job is in Redis, and deferred with a growing delay when Redis refused
 * it. Adding twice is harmless: the job id is derived from the challenge and the send number.
 */
export function startOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { db, log, batchSize } = options;
  const enqueue = outboxEnqueuer(options);

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
    // Outside the nudging request's trace: a drain relays the rows of many requests, and each
    // row's job is added in its own request's trace (outbox.enqueue.ts).
    chain = chain.then(() =>
      outsideTrace(async () => {
        queued = false;
        try {
          // A full batch means more may be waiting: keep going rather than wait for the timer.
          if ((await drain()) === batchSize) nudge();
        } catch (error) {
          log.warn({ err: { message: (error as Error).message } }, 'outbox drain failed');
        }
      }),
    );
  }

  function drainOnce(): Promise<number> {
    const run = chain.then(() => drain());
    chain = run.catch(() => 0);
    return run;
  }

  const timer = setInterval(nudge, options.intervalMs);
  timer.unref();

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
    resumeDeferred,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await chain;
    },
  };
}
