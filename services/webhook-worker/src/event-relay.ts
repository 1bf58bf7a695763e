import {
  claimPendingEvents,
  type Database,
  deferEvents,
  type EventOutboxRow,
  type Kysely,
  markEventsDispatched,
} from '@otp/db';
import { WEBHOOK_JOB_NAME, type WebhookEventType, type WebhookJobData, webhookJobId } from '@otp/domain';
import { type Logger, withinTimeout } from '@otp/runtime';
import type { JobsOptions, Queue } from 'bullmq';
import type { WebhookEndpointConfig } from './config.ts';

export interface EventRelayOptions {
  db: Kysely<Database>;
  queue: Queue;
  endpoints: readonly WebhookEndpointConfig[];
  log: Logger;
  intervalMs: number;
  batchSize: number;
  /** Attempts, backoff and retention of every delivery job. */
  jobOptions: JobsOptions;
  /** Bound on one addBulk: BullMQ waits for a connection that never came up otherwise. */
  enqueueTimeoutMs?: number;
}

export interface EventRelay {
  /** Runs one pass now (after any running one); resolves with the number of events relayed. */
  drainOnce(): Promise<number>;
  stop(): Promise<void>;
}

const MAX_DEFER_MS = 30_000;

function wants(endpoint: WebhookEndpointConfig, type: string): boolean {
  return endpoint.events === '*' || endpoint.events.includes(type as WebhookEventType);
}

/** The delivery jobs of one event: one per endpoint that takes its type. */
export function deliveryJobs(row: EventOutboxRow, endpoints: readonly WebhookEndpointConfig[], opts: JobsOptions) {
  return endpoints
    .filter((endpoint) => wants(endpoint, row.type))
    .map((endpoint) => {
      const data: WebhookJobData = {
        v: 1,
        eventId: row.id,
        endpointId: endpoint.id,
        type: row.type as WebhookEventType,
        occurredAt: row.occurred_at.toISOString(),
        data: row.data,
      };
      return { name: WEBHOOK_JOB_NAME, data, opts: { ...opts, jobId: webhookJobId(row.id, endpoint.id) } };
    });
}

/**
 * Moves committed events from the events outbox to the `webhooks` queue: one job per event and
 * endpoint, its id made of both, so adding twice (a relay that died between the add and the mark)
 * adds nothing. The rows stay locked (FOR UPDATE SKIP LOCKED) while their jobs are added, so
 * replicas never relay one event at the same time; they are marked dispatched only once Redis has
 * the jobs, and deferred with a growing delay while Redis refuses them. Every event is marked,
 * also one no endpoint takes: the outbox is not a backlog of events nobody wants.
 */
export function startEventRelay(options: EventRelayOptions): EventRelay {
  const { db, queue, log, batchSize } = options;
  const timeoutMs = options.enqueueTimeoutMs ?? 5000;

  async function drain(): Promise<number> {
    return db.transaction().execute(async (trx) => {
      const rows = await claimPendingEvents(trx, batchSize);
      if (rows.length === 0) return 0;
      const ids = rows.map((row) => row.id);
      const jobs = rows.flatMap((row) => deliveryJobs(row, options.endpoints, options.jobOptions));
      try {
        if (jobs.length > 0) await withinTimeout(queue.addBulk(jobs), timeoutMs, 'the queue');
      } catch (error) {
        const attempts = Math.max(...rows.map((row) => row.relay_attempts));
        const delayMs = Math.min(MAX_DEFER_MS, 1000 * 2 ** Math.min(attempts, 15));
        const reason = String((error as Error).message).slice(0, 200);
        await deferEvents(trx, ids, reason, delayMs);
        log.warn({ deferred: ids.length, delayMs, reason }, 'events deferred: the queue refused them');
        return 0;
      }
      await markEventsDispatched(trx, ids);
      log.debug({ events: ids.length, jobs: jobs.length }, 'events relayed');
      return ids.length;
    });
  }

  // One pass at a time; a full batch means more may be waiting, so the next starts at once.
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  function schedule(delayMs: number): void {
    if (stopped) return;
    timer = setTimeout(() => {
      const pass = running.then(() => drain());
      running = pass.catch(() => 0);
      pass.then(
        (relayed) => schedule(relayed === batchSize ? 0 : options.intervalMs),
        (error: Error) => {
          log.warn({ err: { message: error.message } }, 'event relay pass failed');
          schedule(options.intervalMs);
        },
      );
    }, delayMs);
  }
  schedule(0);

  return {
    drainOnce() {
      const pass = running.then(() => drain());
      running = pass.catch(() => 0);
      return pass;
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
