// The SMS worker process: reads config, creates clients, starts the worker and its health
// server, and closes everything on SIGTERM. All behaviour lives in startWorker (worker.ts).
import { fileURLToPath } from 'node:url';
import { createDb, pingDb } from '@otp/db';
import { SHUTDOWN_GRACE_MS } from '@otp/delivery';
import {
  createLogger,
  createProducerRedis,
  exitOnConfigError,
  onShutdownSignal,
  pingRedis,
  readEnvironment,
  startOpsServer,
} from '@otp/runtime';
import { parseSmsWorkerConfig, type SmsWorkerConfig } from './config.ts';
import { createSmsSender } from './transports/sms-sender.factory.ts';
import { startWorker } from './worker.ts';

const SERVICE = 'sms-worker';
const rootEnvFile = fileURLToPath(new URL('../../../.env', import.meta.url));

let config: SmsWorkerConfig;
try {
  config = parseSmsWorkerConfig(readEnvironment(['.env', rootEnvFile]));
} catch (error) {
  exitOnConfigError(SERVICE, error);
}

const log = createLogger({ service: SERVICE, level: config.LOG_LEVEL });
const db = createDb({ url: config.DATABASE_URL, poolSize: config.SMS_CONCURRENCY + 2, applicationName: SERVICE });
// Readiness pings use a fail-fast connection, so /health/ready answers even while Redis is away.
const healthRedis = createProducerRedis(config.REDIS_URL, log, `${SERVICE}-health`);

const worker = startWorker({
  db,
  redisUrl: config.REDIS_URL,
  prefix: config.QUEUE_PREFIX,
  keyRing: config.keyRing,
  sender: createSmsSender(config, log),
  log,
  appName: config.APP_NAME,
  webOtpDomain: config.WEBOTP_DOMAIN,
  concurrency: config.SMS_CONCURRENCY,
  limiter: { max: config.SMS_RATE_LIMIT_MAX, duration: config.SMS_RATE_LIMIT_DURATION_MS },
  lockDurationMs: config.WORKER_LOCK_DURATION_MS,
  stalledIntervalMs: config.WORKER_STALLED_INTERVAL_MS,
  closeTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
});

const ops = await startOpsServer({
  host: config.OPS_HOST,
  port: config.SMS_WORKER_PORT,
  log,
  checks: {
    postgres: () => pingDb(db),
    redis: () => pingRedis(healthRedis),
    worker: async () => worker.isRunning(),
  },
});
log.info(
  { ops: ops.url, queuePrefix: config.QUEUE_PREFIX, provider: config.twilio === undefined ? 'dev-outbox' : 'twilio' },
  'SMS worker started',
);

onShutdownSignal(
  async () => {
    await worker.close();
    await ops.close();
    healthRedis.disconnect();
    await db.destroy();
  },
  { log, deadlineMs: config.SHUTDOWN_TIMEOUT_MS + SHUTDOWN_GRACE_MS },
);
