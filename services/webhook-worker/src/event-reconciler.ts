import { type Database, type EventOutboxRow, type Kysely, sql } from '@otp/db';
import type { Logger, RedisClient } from '@otp/runtime';
import type { JobsOptions, Queue } from 'bullmq';
import type { WebhookEndpointConfig } from './config.ts';
import { deliveryJobs } from './event-relay.ts';

export interface EventReconcilerOptions {
  db: Kysely<Database>;
  queue: Queue;
  /** The queue's connection, to ask for the jobs' keys in one round trip. */
  redis: RedisClient;
  endpoints: readonly WebhookEndpointConfig[];
  log: Logger;
  intervalMs: number;
  /** How far back relayed events are checked; completed jobs must outlive it in Redis. */
  windowSeconds: number;
  batchSize: number;
  jobOptions: JobsOptions;
}

export interface EventReconciler {
  /** One pass now; resolves with the number of jobs added again. */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Puts back the delivery jobs Redis lost. An event is marked relayed once its jobs are in Redis;
 * a Redis that restarts without persistence, or fails over to a replica behind it, forgets them,
 * and nothing else would send those events. Every pass reads a batch of the events relayed within
 * `windowSeconds` (walking the window batch by batch across passes), and adds again, under the
 * same id, each job Redis has no trace of: waiting, delayed, active, completed and failed jobs all
 * keep their key, and completed ones are kept longer than the window, so a delivered event is never
 * sent again. An event older than the window whose jobs Redis lost stays lost: run Redis with
 * persistence (docs/webhooks.md).
 */
export function startEventReconciler(options: EventReconcilerOptions): EventReconciler {
  const { db, queue, log } = options;
  let cursor: { at: Date; id: string } | undefined;

  async function runOnce(): Promise<number> {
    const since = sql<Date>`now() - make_interval(secs => ${options.windowSeconds})`;
    let query = db
      .selectFrom('event_outbox')
      .selectAll()
      .where('status', '=', 'dispatched')
      .where('occurred_at', '>', since)
      .orderBy('occurred_at')
      .orderBy('id')
      .limit(options.batchSize);
    if (cursor !== undefined) {
      const { at, id } = cursor;
      query = query.where((eb) =>
        eb.or([eb('occurred_at', '>', at), eb.and([eb('occurred_at', '=', at), eb('id', '>', id)])]),
      );
    }
    const rows: EventOutboxRow[] = await query.execute();
    const last = rows.at(-1);
    cursor =
      rows.length === options.batchSize && last !== undefined ? { at: last.occurred_at, id: last.id } : undefined;
    const jobs = rows.flatMap((row) => deliveryJobs(row, options.endpoints, options.jobOptions));
    if (jobs.length === 0) return 0;
    const pipeline = options.redis.pipeline();
    for (const job of jobs) pipeline.exists(queue.toKey(job.opts.jobId));
    const found = (await pipeline.exec()) ?? [];
    const lost = jobs.filter((_, index) => found[index]?.[1] === 0);
    if (lost.length === 0) return 0;
    await queue.addBulk(lost);
    log.warn({ jobs: lost.length }, 'webhook jobs Redis had lost were added again');
    return lost.length;
  }

  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const timer = setInterval(() => {
    if (stopped) return;
    running = running.then(runOnce).catch((error: Error) => {
      log.warn({ err: { message: error.message } }, 'webhook reconciliation failed');
    });
  }, options.intervalMs);
  timer.unref();

  return {
    runOnce() {
      const pass = running.then(runOnce);
      running = pass.catch(() => 0);
      return pass;
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
