import type { Database, Kysely } from '@otp/db';
import { settlesWithin } from '@otp/delivery';
import { isWebhookJobData, STALLED_TOO_OFTEN, WEBHOOK_QUEUE, type WebhookJobData } from '@otp/domain';
import {
  createMetricsRegistry,
  createProducerRedis,
  createWorkerRedis,
  type Logger,
  type RedisWhere,
  type Registry,
  type Tracing,
} from '@otp/runtime';
import { DelayedError, type Job, type JobsOptions, Queue, UnrecoverableError, Worker } from 'bullmq';
import type { WebhookEndpointConfig } from './config.ts';
import { type EndpointStates, watchEndpointStates } from './endpoint-states.ts';
import { type EventReconciler, startEventReconciler } from './event-reconciler.ts';
import { type EventRelay, startEventRelay } from './event-relay.ts';
import { createHostLimiter } from './host-limiter.ts';
import { retryDelayMs } from './retry-schedule.ts';
import { createWebhookMetrics } from './webhook.metrics.ts';
import { sendWebhook } from './webhook.sender.ts';

export interface WebhookWorkerDeps {
  db: Kysely<Database>;
  /** A redis:// URL or a RedisTarget (`redisTarget(config)`: one server, a cluster, Sentinel). */
  redisUrl: RedisWhere;
  prefix: string;
  log: Logger;
  endpoints: readonly WebhookEndpointConfig[];
  metricsRegistry?: Registry;
  /** BullMQ's telemetry when tracing (default: none): spans for each job added and processed. */
  tracing?: Tracing;
  concurrency: number;
  timeoutMs: number;
  hostRateLimit: number;
  /** The delay before each retry (`retryDelays`); their number sets the attempts. */
  retryDelaysMs: readonly number[];
  relayIntervalMs: number;
  relayBatchSize: number;
  /** How often, and how far back, relayed events are checked for jobs Redis lost. */
  reconcileIntervalMs?: number;
  reconcileWindowSeconds?: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  closeTimeoutMs?: number;
  /** How often the disabled endpoints are read from Postgres. */
  stateRefreshMs?: number;
}

export interface WebhookWorker {
  worker: Worker;
  relay: EventRelay;
  reconciler: EventReconciler;
  states: EndpointStates;
  isRunning(): boolean;
  close(): Promise<void>;
}

/** A job's return value, stored in Redis. */
export interface WebhookJobResult {
  status: number;
}

/**
 * The webhook worker: a relay that moves events from the events outbox to the `webhooks` queue,
 * and a BullMQ worker that delivers each job to its endpoint, signed. A delivery that fails is
 * tried again on the retry schedule (about 24 hours by default); after the last it stays in the
 * queue's failed set, the dead letter. An endpoint answering 410 Gone is disabled for every
 * replica (Postgres) until an operator enables it again; its jobs then fail at once, into the dead
 * letter, where they can be retried.
 */
export function startWebhookWorker(deps: WebhookWorkerDeps): WebhookWorker {
  const log = deps.log.child({ queue: WEBHOOK_QUEUE });
  const byId = new Map(deps.endpoints.map((endpoint) => [endpoint.id, endpoint]));
  const hosts = new Map(deps.endpoints.map((endpoint) => [endpoint.id, new URL(endpoint.url).host]));
  const connection = createWorkerRedis(deps.redisUrl, log, 'webhooks-worker');
  // The relay's adds and the limiter fail fast while Redis is away: the relay defers its rows,
  // a delivery fails into its retry.
  const producer = createProducerRedis(deps.redisUrl, log, 'webhooks-relay');
  const telemetry = deps.tracing?.queueTelemetry === undefined ? {} : { telemetry: deps.tracing.queueTelemetry };
  const queue = new Queue(WEBHOOK_QUEUE, { connection: producer, prefix: deps.prefix, ...telemetry });
  const states = watchEndpointStates({ db: deps.db, log, intervalMs: deps.stateRefreshMs ?? 2000 });
  const limiter = createHostLimiter(producer, { prefix: deps.prefix, perSecond: deps.hostRateLimit });
  const metrics = createWebhookMetrics(deps.metricsRegistry ?? createMetricsRegistry('webhook-worker'), {
    db: deps.db,
    endpoints: deps.endpoints,
    states,
  });
  const attempts = deps.retryDelaysMs.length + 1;
  const jobOptions: JobsOptions = {
    attempts,
    backoff: { type: 'webhook' },
    // Delivered jobs go after an hour (longer than the reconciler looks back, which takes a job
    // still there for one delivered); failed ones are the dead letter and stay two weeks.
    removeOnComplete: { age: 3600, count: 1_000_000 },
    removeOnFail: { age: 14 * 86_400, count: 100_000 },
  };

  async function deliver(job: Job<WebhookJobData, WebhookJobResult>, token?: string): Promise<WebhookJobResult> {
    const data: unknown = job.data;
    if (!isWebhookJobData(data)) throw new UnrecoverableError('invalid_job');
    const endpoint = byId.get(data.endpointId);
    const jobLog = log.child({ jobId: job.id, eventId: data.eventId, type: data.type, endpoint: data.endpointId });
    // Removed from WEBHOOK_ENDPOINTS since the job was queued: nowhere to send it.
    if (endpoint === undefined) throw new UnrecoverableError('endpoint_not_configured');
    if (states.isDisabled(endpoint.id)) {
      metrics.delivery(endpoint.id, 'disabled');
      throw new UnrecoverableError('endpoint_disabled');
    }
    const waitMs = await limiter.take(hosts.get(endpoint.id) as string);
    if (waitMs > 0) {
      // Over the host's rate: back to the delayed set until its next window, without using an attempt.
      await job.moveToDelayed(Date.now() + waitMs + Math.floor(Math.random() * 100), token);
      throw new DelayedError();
    }
    const started = performance.now();
    const outcome = await sendWebhook(endpoint, data, { timeoutMs: deps.timeoutMs });
    const seconds = (performance.now() - started) / 1000;
    if (outcome.kind === 'delivered') {
      metrics.delivery(endpoint.id, 'delivered', seconds);
      jobLog.debug({ status: outcome.status, attempt: job.attemptsMade + 1 }, 'webhook delivered');
      return { status: outcome.status };
    }
    if (outcome.kind === 'gone') {
      metrics.delivery(endpoint.id, 'gone', seconds);
      if (await states.disable(endpoint, 'http_410')) {
        jobLog.error(
          { alert: 'webhook_endpoint_disabled', origin: endpoint.origin },
          'webhook endpoint answered 410 Gone: disabled until `ops webhook-endpoint enable` names it',
        );
      }
      throw new UnrecoverableError('endpoint_gone');
    }
    const final = job.attemptsMade + 1 >= attempts;
    metrics.delivery(endpoint.id, final ? 'dead_letter' : 'retry', seconds);
    jobLog.warn(
      { code: outcome.code, attempt: job.attemptsMade + 1, final },
      final ? 'webhook failed: no attempts left, kept in the dead letter' : 'webhook failed: will retry',
    );
    throw new Error(outcome.code);
  }

  const worker = new Worker<WebhookJobData, WebhookJobResult>(WEBHOOK_QUEUE, deliver, {
    connection,
    prefix: deps.prefix,
    ...telemetry,
    autorun: false,
    concurrency: deps.concurrency,
    lockDuration: deps.lockDurationMs ?? 30_000,
    stalledInterval: deps.stalledIntervalMs ?? 30_000,
    maxStalledCount: 1,
    settings: { backoffStrategy: (attemptsMade: number) => retryDelayMs(deps.retryDelaysMs, attemptsMade) },
  });
  let lastError = { message: '', at: 0 };
  worker.on('error', (error) => {
    const now = Date.now();
    if (error.message === lastError.message && now - lastError.at < 5000) return;
    lastError = { message: error.message, at: now };
    log.error({ err: { name: error.name, message: error.message } }, 'worker error');
  });
  queue.on('error', (error) => log.error({ err: { name: error.name, message: error.message } }, 'queue error'));
  worker.on('failed', (job, error) => {
    // A job whose worker died twice: BullMQ fails it without our processor having a say.
    if (job !== undefined && error.message === STALLED_TOO_OFTEN && isWebhookJobData(job.data)) {
      metrics.delivery(job.data.endpointId, 'dead_letter');
      log.warn({ jobId: job.id, eventId: job.data.eventId }, 'webhook job stalled too often: kept in the dead letter');
    }
  });
  const relay = startEventRelay({
    db: deps.db,
    queue,
    endpoints: deps.endpoints,
    log: log.child({ component: 'event-relay' }),
    intervalMs: deps.relayIntervalMs,
    batchSize: deps.relayBatchSize,
    jobOptions,
  });
  const reconciler = startEventReconciler({
    db: deps.db,
    queue,
    redis: producer,
    endpoints: deps.endpoints,
    log: log.child({ component: 'event-reconciler' }),
    intervalMs: deps.reconcileIntervalMs ?? 5000,
    windowSeconds: deps.reconcileWindowSeconds ?? 900,
    batchSize: Math.max(deps.relayBatchSize, 500),
    jobOptions,
  });
  // The first deliveries already know which endpoints are disabled.
  states
    .refresh()
    .catch((error: Error) => log.warn({ err: { message: error.message } }, 'could not read endpoint states'))
    .then(() => worker.run())
    .catch((error: Error) => log.error({ err: { message: error.message } }, 'worker stopped'));

  let closing: Promise<void> | undefined;
  async function close(): Promise<void> {
    await relay.stop();
    await reconciler.stop();
    states.stop();
    if (!(await settlesWithin(worker.close(), deps.closeTimeoutMs ?? 20_000))) {
      log.warn('in-flight deliveries did not finish in time: force-closing');
      await settlesWithin(worker.close(true), 5000);
    }
    await settlesWithin(queue.close(), 5000);
    connection.disconnect();
    producer.disconnect();
    log.info('worker closed');
  }
  return {
    worker,
    relay,
    reconciler,
    states,
    isRunning: () => worker.isRunning(),
    close: () => {
      closing ??= close();
      return closing;
    },
  };
}
