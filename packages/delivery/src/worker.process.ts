import { createDb, pingDb } from '@otp/db';
import { type KeyRing, type RedisConfig, redisTarget } from '@otp/domain';
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
import type { DeliveryWorker, DeliveryWorkerDeps } from './delivery.worker.ts';
import { SHUTDOWN_GRACE_MS } from './worker.config.ts';

/** What every worker's parsed configuration has (see `workerConfigFields`). */
export interface WorkerProcessConfig extends RedisConfig {
  DATABASE_URL: string;
  DATABASE_POOLER: 'none' | 'transaction';
  LOG_LEVEL: string;
  OPS_HOST: string;
  SHUTDOWN_TIMEOUT_MS: number;
  WORKER_LOCK_DURATION_MS: number;
  WORKER_STALLED_INTERVAL_MS: number;
  PROVIDER_AUTH_PAUSE_MS: number;
  KILL_SWITCH_REFRESH_MS: number;
  KILL_SWITCH_HOLD_MS: number;
  keyRing: KeyRing;
}

/** The part of a worker's deps that every worker takes the same way from its configuration. */
export type CommonWorkerDeps = Pick<
  DeliveryWorkerDeps,
  | 'db'
  | 'redisUrl'
  | 'prefix'
  | 'keyRing'
  | 'log'
  | 'metricsRegistry'
  | 'tracing'
  | 'lockDurationMs'
  | 'stalledIntervalMs'
  | 'closeTimeoutMs'
  | 'authFailurePauseMs'
  | 'killSwitchRefreshMs'
  | 'killSwitchHoldMs'
>;

export interface WorkerProcessOptions<C extends WorkerProcessConfig> {
  service: string;
  /** What the worker's main.ts started before importing the rest (`startTracing`). */
  tracing: Tracing;
  parseConfig(env: Record<string, string | undefined>): C;
  /** The health port and the job concurrency (which sizes the Postgres pool). */
  port(config: C): number;
  concurrency(config: C): number;
  /**
   * Starts the worker with `common` (the clients, with the registry the ops server serves and
   * the tracing, and the settings every worker reads) plus its own sender, template and limits.
   */
  start(config: C, common: CommonWorkerDeps): DeliveryWorker;
  /** Extra fields of the "started" log line. */
  describe?(config: C): Record<string, unknown>;
}

/**
 * The body of a worker's main.ts: reads the configuration (stopping with a message naming each
 * bad variable), creates the clients, starts the worker and its ops server (health and
 * metrics), and closes
 * everything on SIGTERM, in-flight jobs first.
 */
export async function runWorkerProcess<C extends WorkerProcessConfig>(options: WorkerProcessOptions<C>): Promise<void> {
  let config: C;
  try {
    config = options.parseConfig(readEnvironment(['.env', REPOSITORY_ENV_FILE]));
  } catch (error) {
    exitOnConfigError(options.service, error);
  }

  const log = createLogger({ service: options.service, level: config.LOG_LEVEL });
  const db = createDb({
    url: config.DATABASE_URL,
    pooler: config.DATABASE_POOLER,
    poolSize: options.concurrency(config) + 2,
    applicationName: options.service,
  });
  // Readiness pings use a fail-fast connection, so /health/ready answers even while Redis is away.
  const healthRedis = createProducerRedis(redisTarget(config), log, `${options.service}-health`);
  guardAgainstEviction(healthRedis, log, options.service);
  const metrics = createMetricsRegistry(options.service);
  const { tracing } = options;
  const worker = options.start(config, {
    db,
    redisUrl: redisTarget(config),
    prefix: config.QUEUE_PREFIX,
    keyRing: config.keyRing,
    log,
    metricsRegistry: metrics,
    tracing,
    lockDurationMs: config.WORKER_LOCK_DURATION_MS,
    stalledIntervalMs: config.WORKER_STALLED_INTERVAL_MS,
    closeTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    authFailurePauseMs: config.PROVIDER_AUTH_PAUSE_MS,
    killSwitchRefreshMs: config.KILL_SWITCH_REFRESH_MS,
    killSwitchHoldMs: config.KILL_SWITCH_HOLD_MS,
  });
  const ops = await startOpsServer({
    host: config.OPS_HOST,
    port: options.port(config),
    log,
    metrics,
    checks: {
      postgres: () => pingDb(db),
      redis: () => pingRedis(healthRedis),
      worker: async () => worker.isRunning(),
    },
  });
  log.info(
    { ops: ops.url, queuePrefix: config.QUEUE_PREFIX, ...options.describe?.(config) },
    `${options.service} started`,
  );

  onShutdownSignal(
    async () => {
      await worker.close();
      await tracing.shutdown().catch(() => {});
      await ops.close();
      healthRedis.disconnect();
      await db.destroy();
    },
    { log, deadlineMs: config.SHUTDOWN_TIMEOUT_MS + SHUTDOWN_GRACE_MS },
  );
}
