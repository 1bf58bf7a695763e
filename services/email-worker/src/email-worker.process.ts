// The email worker process, imported by main.ts once tracing has started. All behaviour lives
// in startWorker (worker.ts); this file wires it.
import { runWorkerProcess } from '@otp/delivery';
import type { Tracing } from '@otp/runtime';
import { parseEmailWorkerConfig } from './config.ts';
import { createEmailSender } from './transports/email-sender.factory.ts';
import { startWorker } from './worker.ts';

export async function runEmailWorker(tracing: Tracing): Promise<void> {
  await runWorkerProcess({
    tracing,
    service: 'email-worker',
    parseConfig: parseEmailWorkerConfig,
    port: (config) => config.EMAIL_WORKER_PORT,
    concurrency: (config) => config.EMAIL_CONCURRENCY,
    describe: (config) => ({
      providers: config.providers.length === 0 ? 'dev-outbox' : config.providers.map(({ name }) => name).join(','),
    }),
    start: (config, common) =>
      startWorker({
        ...common,
        sender: createEmailSender(config, common.log, common.metricsRegistry),
        appName: config.APP_NAME,
        catalogue: config.catalogue,
        concurrency: config.EMAIL_CONCURRENCY,
        limiter: { max: config.EMAIL_RATE_LIMIT_MAX, duration: config.EMAIL_RATE_LIMIT_DURATION_MS },
      }),
  });
}
