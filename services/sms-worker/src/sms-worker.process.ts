// The SMS worker process, imported by main.ts once tracing has started. All behaviour lives in
// startWorker (worker.ts); this file wires it.
import { runWorkerProcess } from '@otp/delivery';
import type { Tracing } from '@otp/runtime';
import { parseSmsWorkerConfig } from './config.ts';
import { longSmsLocales, type SmsTemplateOptions } from './templates/otp-code.template.ts';
import { createSmsSender } from './transports/sms-sender.factory.ts';
import { startWorker } from './worker.ts';

export async function runSmsWorker(tracing: Tracing): Promise<void> {
  await runWorkerProcess({
    tracing,
    service: 'sms-worker',
    parseConfig: parseSmsWorkerConfig,
    port: (config) => config.SMS_WORKER_PORT,
    concurrency: (config) => config.SMS_CONCURRENCY,
    describe: (config) => ({
      providers: config.providers.length === 0 ? 'dev-outbox' : config.providers.map(({ name }) => name).join(','),
    }),
    start: (config, common) => {
      const templates: SmsTemplateOptions = {
        catalogue: config.catalogue,
        appName: config.APP_NAME,
        webOtpDomain: config.WEBOTP_DOMAIN,
        appHash: config.SMS_APP_HASH,
      };
      for (const { locale, segments } of longSmsLocales(templates)) {
        common.log.warn(
          { locale, segments, file: config.catalogue.file('sms', 'otp-code', locale) },
          'a code SMS in this locale can take more than one segment (each one is paid): shorten its wording, APP_NAME or WEBOTP_DOMAIN',
        );
      }
      return startWorker({
        ...common,
        ...templates,
        sender: createSmsSender(config, common.log, common.metricsRegistry),
        concurrency: config.SMS_CONCURRENCY,
        limiter: { max: config.SMS_RATE_LIMIT_MAX, duration: config.SMS_RATE_LIMIT_DURATION_MS },
      });
    },
  });
}
