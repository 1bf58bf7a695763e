import type { DeliveryOutboxRow } from '@otp/db';
import {
  type Channel,
  type DeliveryJobData,
  type DeliveryJobOptions,
  deliveryJobOptions,
  isDeliveryJobData,
  isNoticeJobData,
  JOB_NAMES,
  type NoticeJobData,
} from '@otp/domain';
import { withTraceparent } from '@otp/runtime';
import type { Queue } from 'bullmq';

export interface OutboxEnqueueOptions {
  queues: Record<Channel, Queue>;
  jobOptions: DeliveryJobOptions;
  /** Bound on one `queue.add`; BullMQ waits for a connection that never came up otherwise. */
  enqueueTimeoutMs?: number;
  /** False while the queues' Redis connection is down: nothing is tried. */
  queuesReady?: () => boolean;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`queue did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Adds an outbox row's job to its channel's queue, for the relay (a committed row) and the
 * reconciler (a job Redis lost). Adding twice is harmless: the job id is derived from the
 * challenge and the send number (a notice's from its notification), and BullMQ ignores an id it
 * already has. The job is added in the trace of the request that wrote the row (its
 * `traceparent`), so BullMQ's spans, and the worker's, belong to that request's trace.
 */
export function outboxEnqueuer(options: OutboxEnqueueOptions): (row: DeliveryOutboxRow) => Promise<void> {
  const timeoutMs = options.enqueueTimeoutMs ?? 2000;
  return async (row) => {
    if (options.queuesReady?.() === false) throw new Error('queue connection is not ready');
    // A code row holds a send (version 1 or 2), a notice row a notice (version 3).
    const valid = row.kind === 'notice' ? isNoticeJobData(row.job_data) : isDeliveryJobData(row.job_data);
    if (!valid) throw new Error('outbox row holds invalid job data');
    const queue = options.queues[row.channel];
    const name = row.kind === 'notice' ? JOB_NAMES.sendNotice : JOB_NAMES.sendCode;
    const { traceparent } = row.job_data as DeliveryJobData | NoticeJobData;
    await withTraceparent(traceparent, () =>
      withTimeout(queue.add(name, row.job_data, deliveryJobOptions(row.job_id, options.jobOptions)), timeoutMs),
    );
  };
}
