// The webhook worker process, imported by main.ts once tracing has started. All behaviour lives
// in startWebhookWorker (webhook.worker.ts); this file wires it.
import { createDb, pingDb } from '@otp/db';
import { redisTarget } from '@otp/domain';
import {
  createLogger,
  createMetricsRegistry,
  createProducerRedis,
  exitOnConfigError,
  guardAgainstEviction,
  onShutdownSignal,
  pingRedis,
  REPOSITORY_ENV_FILE,
  readEnvironment,
  startOpsServer,
  type Tracing,
} from '@otp/runtime';
import { parseWebhookWorkerConfig, type WebhookWorkerConfig } from './config.ts';
import { retryDelays } from './retry-schedule.ts';
import { startWebhookWorker } from './webhook.worker.ts';

const SERVICE = 'webhook-worker';

export async function runWebhookWorker(tracing: Tracing): Promise<void> {
  let config: WebhookWorkerConfig;
  try {
    config = parseWebhookWorkerConfig(readEnvironment(['.env', REPOSITORY_ENV_FILE]));
  } catch (error) {
    exitOnConfigError(SERVICE, error);
  }

  const log = createLogger({ service: SERVICE, level: config.LOG_LEVEL });
  const db = createDb({
    url: config.DATABASE_URL,
    pooler: config.DATABASE_POOLER,
    poolSize: 4,
    applicationName: SERVICE,
  });
  // Readiness pings use a fail-fast connection, so /health/ready answers even while Redis is away.
  const healthRedis = createProducerRedis(redisTarget(config), log, `${SERVICE}-health`);
  guardAgainstEviction(healthRedis, log, SERVICE);
  const metrics = createMetricsRegistry(SERVICE);
  const worker = startWebhookWorker({
    db,
    redisUrl: redisTarget(config),
    prefix: config.QUEUE_PREFIX,
    log,
    endpoints: config.endpoints,
    metricsRegistry: metrics,
    tracing,
    concurrency: config.WEBHOOK_CONCURRENCY,
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    hostRateLimit: config.WEBHOOK_HOST_RATE_LIMIT,
    retryDelaysMs: retryDelays(config.WEBHOOK_RETRY_FIRST_DELAY_MS),
    relayIntervalMs: config.WEBHOOK_RELAY_INTERVAL_MS,
    relayBatchSize: config.WEBHOOK_RELAY_BATCH,
    reconcileIntervalMs: config.WEBHOOK_RECONCILE_INTERVAL_MS,
    reconcileWindowSeconds: config.WEBHOOK_RECONCILE_WINDOW_SECONDS,
    lockDurationMs: config.WORKER_LOCK_DURATION_MS,
    stalledIntervalMs: config.WORKER_STALLED_INTERVAL_MS,
    closeTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  });
  const ops = await startOpsServer({
    host: config.OPS_HOST,
    port: config.WEBHOOK_WORKER_PORT,
    log,
    metrics,
    checks: {
      postgres: () => pingDb(db),
      redis: () => pingRedis(healthRedis),
      worker: async () => worker.isRunning(),
    },
  });
  log.info(
    {
      ops: ops.url,
      queuePrefix: config.QUEUE_PREFIX,
      // Ids and origins only: a URL's path may hold a token.
      endpoints: config.endpoints.map(({ id, origin, events }) => ({ id, origin, events })),
    },
    `${SERVICE} started`,
  );

  onShutdownSignal(
    async () => {
      await worker.close();
      await tracing.shutdown().catch(() => {});
      await ops.close();
      healthRedis.disconnect();
      await db.destroy();
    },
    { log, deadlineMs: config.SHUTDOWN_TIMEOUT_MS + 5000 },
  );
}
