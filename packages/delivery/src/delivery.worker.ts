import { type Database, type Kysely, recordNotificationFailure } from '@otp/db';
import {
  type Channel,
  isDeliveryJobData,
  isNoticeJobData,
  type KeyRing,
  QUEUE_NAMES,
  STALLED_TOO_OFTEN,
} from '@otp/domain';
import {
  createMetricsRegistry,
  createWorkerRedis,
  type Logger,
  type RedisWhere,
  type Registry,
  type Tracing,
} from '@otp/runtime';
import { type Job, Queue, Worker } from 'bullmq';
import { redactRecipients } from './delivery.error.ts';
import { sanitizeJobError } from './delivery.failures.ts';
import { createDeliveryMetrics } from './delivery.metrics.ts';
import { createDeliveryProcessor, type DeliveryJobResult } from './delivery.processor.ts';
import { traceDelivery } from './delivery.span.ts';
import { type KillSwitchWatch, startKillSwitchWatch } from './kill-switch.watch.ts';
import type { DeliverySender, MessageRenderers } from './sender.port.ts';
import { recordStalledJob } from './stalled.recorder.ts';

export interface DeliveryWorkerDeps {
  channel: Channel;
  db: Kysely<Database>;
  /** A redis:// URL or a RedisTarget (`redisTarget(config)`: one server, a cluster, Sentinel). */
  redisUrl: RedisWhere;
  /** BullMQ key prefix, the same the producer uses (`{otp}`). */
  prefix: string;
  keyRing: KeyRing;
  sender: DeliverySender;
  /** The channel's templates, by job template; a job naming one not here fails as `invalid_payload`. */
  renderers: MessageRenderers;
  log: Logger;
  /**
   * Where `otp_sends_total` and `otp_delivery_latency_seconds` are registered: the registry the
   * ops server serves at /metrics. Default: a registry of the worker's own that nothing serves.
   */
  metricsRegistry?: Registry;
  /**
   * BullMQ's telemetry when tracing (default: none): one CONSUMER span per processing, in the
   * trace of the request that asked for the send, carrying the delivery's attributes.
   */
  tracing?: Tracing;
  concurrency: number;
  /** Queue-wide: holds across every replica of the worker. */
  limiter: { max: number; duration: number };
  lockDurationMs: number;
  stalledIntervalMs: number;
  /** How long `close()` waits for in-flight jobs before it force-closes (they stall and are retried). */
  closeTimeoutMs: number;
  /** After this many starts of one job (429 after 429), a rate limit counts as a temporary failure. */
  maxRateLimitedStarts?: number;
  /** How long the queue pauses when the provider refuses our credentials (default 60 s). */
  authFailurePauseMs?: number;
  /** How long an accepted send's outcome is retried into Postgres (default 60 s). */
  writeBackTimeoutMs?: number;
  /** How often the kill switches are read from Postgres (default 2 s). */
  killSwitchRefreshMs?: number;
  /** How long a job a kill switch stops waits before it is looked at again (default 10 s). */
  killSwitchHoldMs?: number;
  now?: () => Date;
}

export interface DeliveryWorker {
  readonly worker: Worker<unknown, DeliveryJobResult>;
  /** The kill switches as this worker last read them; `refresh()` reads them now (tests). */
  readonly killSwitches: Pick<KillSwitchWatch, 'off' | 'refresh'>;
  isRunning(): boolean;
  /** Stops taking jobs, lets in-flight ones finish (up to `closeTimeoutMs`), releases connections. */
  close(): Promise<void>;
}

const FORCE_CLOSE_GRACE_MS = 2000;
/** True once `promise` settled (resolved or rejected) within `ms`; false when the time ran out. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    // A close that fails has still finished: whatever it left open is torn down after it.
    const settled = promise.then(
      () => true,
      () => true,
    );
    return await Promise.race([settled, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The fields of every log line about a job: its challenge and the request that asked for it. */
function jobFields(job: Job | undefined): Record<string, unknown> {
  if (job === undefined) return {};
  const data = isDeliveryJobData(job.data)
    ? { challengeId: job.data.challengeId, sendNumber: job.data.sendNumber, requestId: job.data.requestId }
    : isNoticeJobData(job.data)
      ? { notificationId: job.data.notificationId, requestId: job.data.requestId }
      : {};
  return { jobId: job.id, attemptsMade: job.attemptsMade, ...data };
}

/** The challenge id in a delivery job id (`<challengeId>.<sendNumber>`), when it is one. */
function challengeIdOf(jobId: string): string | undefined {
  const match = /^([0-9a-f-]{36})\.\d+$/i.exec(jobId);
  return match?.[1];
}

export function startDeliveryWorker(deps: DeliveryWorkerDeps): DeliveryWorker {
  const queue = QUEUE_NAMES[deps.channel];
  const log = deps.log.child({ queue });
  const connection = createWorkerRedis(deps.redisUrl, log, `${queue}-worker`);
  const worker = new Worker<unknown, DeliveryJobResult>(queue, async (job, token) => processDelivery(job, token), {
    connection,
    prefix: deps.prefix,
    ...(deps.tracing?.queueTelemetry === undefined ? {} : { telemetry: deps.tracing.queueTelemetry }),
    autorun: false,
    concurrency: deps.concurrency,
    limiter: deps.limiter,
    // Chosen on purpose (defaults 30 s and 30 s): the lock is renewed every lockDuration/2 while
    // a send runs, so a slow provider (nodemailer's socket timeout is 30 s) never loses it, and a
    // worker killed mid-send has its job picked up by another within lockDuration +
    // stalledInterval (about a minute), well inside a code's 10-minute life. Shorter values
    // detect a dead worker sooner at the cost of more Redis traffic per worker.
    lockDuration: deps.lockDurationMs,
    stalledInterval: deps.stalledIntervalMs,
    // A job whose worker died twice goes to failed (and is recorded: see the 'failed' handler):
    // a message that crashes its worker does not take the next one down too, for ever.
    maxStalledCount: 1,
  });
  // BullMQ 6 moved the manual rate limit from the worker to the queue (worker.rateLimit is
  // deprecated); this Queue shares the worker's connection and only sets that limit.
  const limiter = new Queue(queue, { connection, prefix: deps.prefix });
  const metrics = createDeliveryMetrics(deps.metricsRegistry ?? createMetricsRegistry(`${queue}-worker`), {
    channel: deps.channel,
    provider: deps.sender.provider,
  });
  const killSwitches = startKillSwitchWatch({
    db: deps.db,
    log: log.child({ component: 'kill-switches' }),
    intervalMs: deps.killSwitchRefreshMs ?? 2000,
  });
  const processJob = createDeliveryProcessor({
    channel: deps.channel,
    db: deps.db,
    keyRing: deps.keyRing,
    sender: deps.sender,
    renderers: deps.renderers,
    log,
    metrics,
    now: deps.now ?? (() => new Date()),
    maxRateLimitedStarts: deps.maxRateLimitedStarts ?? 20,
    // Sets the queue's rate-limit key, which every replica's worker obeys.
    rateLimit: (ms) => limiter.rateLimit(ms),
    authFailurePauseMs: deps.authFailurePauseMs ?? 60_000,
    writeBackTimeoutMs: deps.writeBackTimeoutMs ?? 60_000,
    killSwitches,
    killSwitchHoldMs: deps.killSwitchHoldMs ?? 10_000,
  });
  async function processDelivery(job: Job<unknown, DeliveryJobResult>, token?: string): Promise<DeliveryJobResult> {
    return traceDelivery({ provider: deps.sender.provider, job }, async () => {
      try {
        return await processJob(job, token);
      } catch (error) {
        throw sanitizeJobError(error, log.child(jobFields(job)), metrics);
      }
    });
  }

  // While Redis is away BullMQ reports the same error on every reconnection: one line per 5 s.
  let lastError = { message: '', at: 0 };
  worker.on('error', (error) => {
    const now = Date.now();
    if (error.message === lastError.message && now - lastError.at < 5000) return;
    lastError = { message: error.message, at: now };
    log.error({ err: { name: error.name, message: redactRecipients(error.message) } }, 'worker error');
  });
  limiter.on('error', (error) => {
    log.error({ err: { name: error.name, message: redactRecipients(error.message) } }, 'queue error');
  });
  worker.on('failed', (job, error) => {
    log.warn({ ...jobFields(job), reason: error.message }, 'delivery job failed');
    // BullMQ fails a job whose worker died twice without our processor having a say: record it,
    // so the challenge shows a failed delivery instead of "sending" for ever.
    // (If this record does not land, the gateway's reconciler records it later.)
    if (job !== undefined && error.message === STALLED_TOO_OFTEN && isDeliveryJobData(job.data)) {
      metrics.send('stalled');
      const { challengeId, sendNumber, channel } = job.data;
      const send = { challengeId, sendNumber, channel, provider: deps.sender.provider, attempt: job.attemptsStarted };
      recordStalledJob(deps.db, send).catch((recordError: Error) => {
        log.error({ ...jobFields(job), err: { message: recordError.message } }, 'could not record a stalled job');
      });
    }
    // A notice that stalled too often: its row says failed rather than queued for ever.
    if (job !== undefined && error.message === STALLED_TOO_OFTEN && isNoticeJobData(job.data)) {
      metrics.send('stalled');
      recordNotificationFailure(deps.db, job.data.notificationId, 'stalled', true).catch((recordError: Error) => {
        log.error({ ...jobFields(job), err: { message: recordError.message } }, 'could not record a stalled notice');
      });
    }
  });
  worker.on('stalled', (jobId) => {
    // The event carries only the id: read the job for its request id, so this line can be found
    // with the others about the challenge (the id alone still names the challenge if Redis fails).
    const message = 'delivery job stalled: its worker stopped renewing the lock';
    limiter.getJob(jobId).then(
      (job) => log.warn({ challengeId: challengeIdOf(jobId), ...jobFields(job), jobId }, message),
      () => log.warn({ challengeId: challengeIdOf(jobId), jobId }, message),
    );
  });
  worker.run().catch((error: Error) => {
    log.error({ err: { name: error.name, message: redactRecipients(error.message) } }, 'worker stopped');
  });

  let closing: Promise<void> | undefined;
  async function close(): Promise<void> {
    if (!(await settlesWithin(worker.close(), deps.closeTimeoutMs))) {
      log.warn({ closeTimeoutMs: deps.closeTimeoutMs }, 'in-flight jobs did not finish in time: force-closing');
      await settlesWithin(worker.close(true), FORCE_CLOSE_GRACE_MS);
    }
    await settlesWithin(limiter.close(), FORCE_CLOSE_GRACE_MS);
    await killSwitches.stop();
    await deps.sender.close?.();
    connection.disconnect();
    log.info('worker closed');
  }
  return {
    worker,
    killSwitches,
    isRunning: () => worker.isRunning(),
    close: () => {
      closing ??= close();
      return closing;
    },
  };
}
