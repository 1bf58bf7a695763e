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
 * A counting semaphore with a bounded FIFO queue. Written here because the libraries at hand
 * (p-limit, p-queue) queue without a bound, and refusing at once when the queue is full is the
 * point: a caller told "503, retry in 1 s" costs nothing, one left waiting behind a burst of
 * Argon2 calls holds its socket and memory and times out anyway.
 */
export function createConcurrencyBound(options: { concurrency: number; queue: number }): ConcurrencyBound {
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
    throw new RangeError('concurrency must be a positive integer');
  }
  if (!Number.isInteger(options.queue) || options.queue < 0) {
    throw new RangeError('queue must be a non-negative integer');
  }
  let running = 0;
  // Each entry starts one queued call. A plain array: the queue is short (tens), so shift() is cheap.
  const queued: Array<() => void> = [];

  function release(): void {
    const next = queued.shift();
    if (next === undefined) {
      running--;
    } else {
      // The slot passes straight to the next caller: `running` stays the same.
      next();
    }
  }

  async function inSlot<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } finally {
      release();
    }
  }

  return {
    run<T>(work: () => Promise<T>): Promise<T> {
      if (running < options.concurrency) {
        running++;
        return inSlot(work);
      }
      if (queued.length >= options.queue) return Promise.reject(new BoundFullError());
      return new Promise<T>((resolve, reject) => {
        queued.push(() => {
          inSlot(work).then(resolve, reject);
        });
      });
    },
    get running() {
      return running;
    },
    get waiting() {
      return queued.length;
    },
  };
}
