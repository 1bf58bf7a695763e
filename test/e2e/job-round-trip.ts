import { once } from 'node:events';
import type { RedisClient } from '@otp/runtime';
import { Queue, Worker } from 'bullmq';

export interface JobRoundTrip {
  /** What the worker returned: `{ doubled: 42 }` when the job went through. */
  result: unknown;
}

/**
 * One BullMQ job through the given connections, as the services use them: added on `producer`
 * (a queue's), processed on `consumer` (a worker's), 21 in and `{ doubled: 42 }` out. It waits
 * on the worker's own `completed` event, not a QueueEvents stream, whose first read may start
 * after a fast job has finished. `inspect` runs while the job is still stored (to look for its
 * key on a server); the queue is emptied and closed after, whatever happens.
 */
export async function jobRoundTrip(
  connections: { producer: RedisClient; consumer: RedisClient },
  options: { prefix: string; queue: string; jobId: string },
  inspect: (queue: Queue) => Promise<void> = async () => {},
): Promise<JobRoundTrip> {
  const queue = new Queue(options.queue, { connection: connections.producer, prefix: options.prefix });
  const worker = new Worker(options.queue, async (job) => ({ doubled: (job.data as { n: number }).n * 2 }), {
    connection: connections.consumer,
    prefix: options.prefix,
  });
  try {
    const completed = once(worker, 'completed');
    await queue.add('double', { n: 21 }, { jobId: options.jobId });
    const [, result] = (await completed) as [unknown, unknown];
    await inspect(queue);
    return { result };
  } finally {
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
  }
}
