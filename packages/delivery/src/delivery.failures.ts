import type { DeliveryFailureCode } from '@otp/domain';
import type { Logger } from '@otp/runtime';
import { DelayedError, type Job, RateLimitError, UnrecoverableError } from 'bullmq';
import type { AttemptFields } from './attempt.recorder.ts';
import { DeliveryError, redactRecipients } from './delivery.error.ts';
import { type DeliveryMetrics, SEND_OUTCOME_OF_KIND } from './delivery.metrics.ts';

/** A temporary failure the pipeline has recorded; BullMQ retries it with backoff. */
export class RetryableDeliveryFailure extends Error {
  constructor(code: DeliveryFailureCode) {
    super(code);
    this.name = 'RetryableDeliveryFailure';
  }
}

/** How a failure is recorded per attempt. */
export type FailureOutcome = 'rate_limited' | 'temporary_failure' | 'permanent_failure';

/**
 * Writes down one failed attempt of a send: a code's attempt row and challenge status, or a
 * notice's `notifications` row. `paused`: the provider asked the whole queue to wait and the job
 * keeps its attempt; `final`: no attempt is left, the send has failed.
 */
export type RecordFailure = (
  outcome: FailureOutcome,
  fields: AttemptFields & { errorCode: DeliveryFailureCode },
  how: { final: boolean; paused: boolean },
) => Promise<void>;

export interface FailureContext {
  log: Logger;
  recordFailure: RecordFailure;
  metrics: DeliveryMetrics;
  durationMs: number;
  /** This run is the job's last allowed attempt: a temporary failure now fails the delivery. */
  lastAttempt: boolean;
  /** The job has started so often (429 after 429) that a rate limit counts as a temporary failure. */
  rateLimitExhausted: boolean;
  /** Pauses the whole queue (every replica) for `ms`. */
  rateLimit(ms: number): Promise<void>;
  /** How long the queue pauses when the provider refuses our credentials. */
  authFailurePauseMs: number;
}

/** What a processor's settings and the job say about a failed run: all of the context but its log and record. */
export function jobFailureContext(
  deps: Pick<FailureContext, 'metrics' | 'rateLimit' | 'authFailurePauseMs'> & { maxRateLimitedStarts: number },
  job: Job,
  startedAt: number,
): Omit<FailureContext, 'log' | 'recordFailure'> {
  return {
    metrics: deps.metrics,
    durationMs: performance.now() - startedAt,
    lastAttempt: job.attemptsMade + 1 >= (job.opts.attempts ?? 1),
    rateLimitExhausted: job.attemptsStarted > deps.maxRateLimitedStarts,
    rateLimit: deps.rateLimit,
    authFailurePauseMs: deps.authFailurePauseMs,
  };
}

const DEFAULT_RETRY_AFTER_MS = 1000;
// A `Retry-After: 0` must not turn into a busy loop against the provider.
const MIN_RETRY_AFTER_MS = 100;

/** Anything a sender threw that is not a DeliveryError is a bug or an unclassified failure: retry it. */
export function asDeliveryError(error: unknown, log: Logger): DeliveryError {
  if (error instanceof DeliveryError) return error;
  const { name, code } = error as { name?: string; code?: string };
  log.error({ err: { name, code, message: redactRecipients(String((error as Error)?.message)) } }, 'sender threw');
  return new DeliveryError('temporary', 'sender_error');
}

/**
 * Records a failed send and returns the error the processor must throw: `UnrecoverableError` (no
 * retry), `RateLimitError` (back to wait, no attempt used) or `RetryableDeliveryFailure` (backoff).
 */
export async function handleFailure(failure: DeliveryError, ctx: FailureContext): Promise<Error> {
  const { code, provider } = failure;
  // `provider`: the one of a chain that failed last (provider-chain.ts); unset for a single sender.
  const fields = {
    errorCode: code,
    errorMessage: failure.detail,
    durationMs: ctx.durationMs,
    ...(provider === undefined ? {} : { provider }),
  };
  // A chain of several providers never throws these two (it opens the provider's breaker and
  // moves on): only a single provider pauses the queue.
  const pauses = failure.kind === 'rate_limited' || failure.kind === 'provider_auth';
  const kind = pauses && ctx.rateLimitExhausted ? 'temporary' : failure.kind;
  const log = provider === undefined ? ctx.log : ctx.log.child({ provider });
  // Counted before the writes below: the provider's answer is a fact even while Postgres is away.
  ctx.metrics.send(SEND_OUTCOME_OF_KIND[kind], provider);

  if (kind === 'provider_auth') {
    await ctx.recordFailure('temporary_failure', fields, { final: false, paused: true });
    // The alert: every replica stops sending on this queue for a while; nothing is lost, the jobs
    // wait (within their challenges' lifetime) until the credentials work again.
    log.error(
      { alert: 'provider_auth_failed', code, pauseMs: ctx.authFailurePauseMs },
      'the provider refused our credentials: pausing the queue; fix the provider configuration',
    );
    await ctx.rateLimit(ctx.authFailurePauseMs);
    return new RateLimitError();
  }

  if (kind === 'rate_limited') {
    const waitMs = Math.max(failure.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS, MIN_RETRY_AFTER_MS);
    await ctx.recordFailure('rate_limited', fields, { final: false, paused: true });
    log.warn({ code, waitMs }, 'provider rate limit: pausing the queue');
    await ctx.rateLimit(waitMs);
    return new RateLimitError();
  }

  const final = kind === 'permanent' || ctx.lastAttempt;
  const outcome = kind === 'permanent' ? 'permanent_failure' : 'temporary_failure';
  await ctx.recordFailure(outcome, fields, { final, paused: false });
  if (kind === 'permanent') {
    log.warn({ code }, 'delivery failed permanently');
    return new UnrecoverableError(code);
  }
  log.warn({ code, final }, final ? 'delivery failed: no attempts left' : 'delivery failed: will retry');
  return new RetryableDeliveryFailure(code);
}

/**
 * What reaches BullMQ (failedReason, stacktrace) is a code, never an arbitrary message: an
 * unexpected error (Postgres down, a bug) is logged here and replaced by `worker_error`, retried.
 * `DelayedError` is not a failure: a kill switch put the job back to wait (kill-switch.hold.ts).
 */
export function sanitizeJobError(error: unknown, log: Logger, metrics: DeliveryMetrics): Error {
  if (
    error instanceof UnrecoverableError ||
    error instanceof RateLimitError ||
    error instanceof DelayedError ||
    error instanceof RetryableDeliveryFailure
  ) {
    return error;
  }
  const { name, code } = error as { name?: string; code?: string };
  metrics.send('worker_error');
  log.error(
    { err: { name, code, message: redactRecipients(String((error as Error)?.message)) } },
    'delivery processing error',
  );
  return new RetryableDeliveryFailure('worker_error');
}

/** A job this worker can never send: failed at once, without retries, and without a record. */
export function refuse(metrics: DeliveryMetrics): never {
  metrics.send('invalid_payload');
  throw new UnrecoverableError('invalid_payload');
}
