import { fileURLToPath } from 'node:url';
import { createDb, type Database, type Kysely, pingDb } from '@otp/db';
import type { KeyRing } from '@otp/domain';
import {
  createLogger,
  createMetricsRegistry,
  createProducerRedis,
  createTracing,
  evictionMessage,
  exitOnConfigError,
  guardAgainstEviction,
  type Logger,
  onShutdownSignal,
  pingRedis,
  type Registry,
  readEnvironment,
  startOpsServer,
  type Tracing,
} from '@otp/runtime';
import type { DeliveryWorker } from './delivery.worker.ts';
import { SHUTDOWN_GRACE_MS } from './worker.config.ts';

/** What every worker's parsed configuration has (see `workerConfigFields`). */
export interface WorkerProcessConfig {
  DATABASE_URL: string;
  REDIS_URL: string;
  QUEUE_PREFIX: string;
  LOG_LEVEL: string;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
  OPS_HOST: string;
  SHUTDOWN_TIMEOUT_MS: number;
  keyRing: KeyRing;
}

export interface WorkerProcessOptions<C extends WorkerProcessConfig> {
  service: string;
  parseConfig(env: Record<string, string | undefined>): C;
  /** The health port and the job concurrency (which sizes the Postgres pool). */
  port(config: C): number;
  concurrency(config: C): number;
  /**
   * `metrics` is the registry the ops server serves: pass it to the worker as `metricsRegistry`;
   * `tracing` exports spans when OTEL_EXPORTER_OTLP_ENDPOINT is set.
   */
  start(config: C, clients: { db: Kysely<Database>; log: Logger; metrics: Registry; tracing: Tracing }): DeliveryWorker;
  /** Extra fields of the "started" log line. */
  describe?(config: C): Record<string, unknown>;
}

const repositoryEnvFile = fileURLToPath(new URL('../../../.env', import.meta.url));

/**
 * The body of a worker's main.ts: reads the configuration (stopping with a message naming each
 * bad variable), creates the clients, starts the worker and its ops server (health and
 * metrics), and closes
 * everything on SIGTERM, in-flight jobs first.
 */
export async function runWorkerProcess<C extends WorkerProcessConfig>(options: WorkerProcessOptions<C>): Promise<void> {
  let config: C;
  try {
    config = options.parseConfig(readEnvironment(['.env', repositoryEnvFile]));
  } catch (error) {
    exitOnConfigError(options.service, error);
  }

  const log = createLogger({ service: options.service, level: config.LOG_LEVEL });
  const db = createDb({
    url: config.DATABASE_URL,
    poolSize: options.concurrency(config) + 2,
    applicationName: options.service,
  });
  // Readiness pings use a fail-fast connection, so /health/ready answers even while Redis is away.
  const healthRedis = createProducerRedis(config.REDIS_URL, log, `${options.service}-health`);
  guardAgainstEviction(healthRedis, log, (policy) => {
    log.fatal({ policy }, 'Redis may evict keys: refusing to run');
    process.stderr.write(`${options.service}: ${evictionMessage(policy)}\n`);
    process.exit(78);
  });
  const metrics = createMetricsRegistry(options.service);
  const tracing = createTracing({ service: options.service, endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });
  const worker = options.start(config, { db, log, metrics, tracing });
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
