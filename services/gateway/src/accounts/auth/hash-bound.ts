import pLimit from 'p-limit';

/** Thrown by `ConcurrencyBound.run` when every slot is busy and the queue is full. */
export class BoundFullError extends Error {
  constructor() {
    super('concurrency bound: all slots busy and the queue is full');
    this.name = 'BoundFullError';
  }
}

export interface ConcurrencyBound {
  /**
   * Runs `work` when a slot is free: at once, or after the calls queued before it (first in,
   * first out). Rejects with BoundFullError, without calling `work`, when `queue` calls already
   * wait. The slot is freed however `work` ends.
   */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Calls running now. */
  readonly running: number;
  /** Calls waiting for a slot. */
  readonly waiting: number;
}

/**
 * p-limit's FIFO limiter with a bound on its queue: a call that finds `concurrency` running and
 * `queue` waiting is refused at once instead of queued. Refusing is the point: a caller told
 * "503, retry in 1 s" costs nothing, one left waiting behind a burst of Argon2 calls holds its
 * socket and memory and times out anyway. The bound is on running + waiting together, since
 * p-limit moves a call from waiting to running a microtask after a slot frees.
 */
export function createConcurrencyBound(options: { concurrency: number; queue: number }): ConcurrencyBound {
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
    throw new RangeError('concurrency must be a positive integer');
  }
  if (!Number.isInteger(options.queue) || options.queue < 0) {
    throw new RangeError('queue must be a non-negative integer');
  }
  const limit = pLimit(options.concurrency);
  const capacity = options.concurrency + options.queue;
  return {
    run<T>(work: () => Promise<T>): Promise<T> {
      if (limit.activeCount + limit.pendingCount >= capacity) return Promise.reject(new BoundFullError());
      return limit(work);
    },
    get running() {
      return limit.activeCount;
    },
    get waiting() {
      return limit.pendingCount;
    },
  };
}
