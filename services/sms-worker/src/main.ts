// The SMS worker process. All behaviour lives in startWorker (worker.ts); this file wires it.
import { runWorkerProcess } from '@otp/delivery';
import { parseSmsWorkerConfig } from './config.ts';
import { createSmsSender } from './transports/sms-sender.factory.ts';
import { startWorker } from './worker.ts';

await runWorkerProcess({
  service: 'sms-worker',
  parseConfig: parseSmsWorkerConfig,
  port: (config) => config.SMS_WORKER_PORT,
  concurrency: (config) => config.SMS_CONCURRENCY,
  describe: (config) => ({ provider: config.twilio === undefined ? 'dev-outbox' : 'twilio' }),
  start: (config, { db, log, metrics, tracing }) =>
    startWorker({
      db,
      redisUrl: config.REDIS_URL,
      prefix: config.QUEUE_PREFIX,
      keyRing: config.keyRing,
      sender: createSmsSender(config, log),
      log,
      metricsRegistry: metrics,
      tracing,
      appName: config.APP_NAME,
      webOtpDomain: config.WEBOTP_DOMAIN,
      concurrency: config.SMS_CONCURRENCY,
      limiter: { max: config.SMS_RATE_LIMIT_MAX, duration: config.SMS_RATE_LIMIT_DURATION_MS },
      lockDurationMs: config.WORKER_LOCK_DURATION_MS,
      stalledIntervalMs: config.WORKER_STALLED_INTERVAL_MS,
      closeTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
      authFailurePauseMs: config.PROVIDER_AUTH_PAUSE_MS,
    }),
});
