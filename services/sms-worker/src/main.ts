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
  start: (config, common) =>
    startWorker({
      ...common,
      sender: createSmsSender(config, common.log),
      appName: config.APP_NAME,
      webOtpDomain: config.WEBOTP_DOMAIN,
      concurrency: config.SMS_CONCURRENCY,
      limiter: { max: config.SMS_RATE_LIMIT_MAX, duration: config.SMS_RATE_LIMIT_DURATION_MS },
    }),
});
