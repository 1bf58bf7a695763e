import { resolve } from 'node:path';
import { createBreakerGauge, createHookSender, createProviderChain, type DeliverySender } from '@otp/delivery';
import type { Logger } from '@otp/runtime';
import type { Registry } from 'prom-client';
import type { SmsWorkerConfig } from '../config.ts';
import { createDevOutboxSmsSender } from './dev-outbox.sender.ts';
import { createTwilioSender } from './twilio.sender.ts';

/**
 * The providers of SMS_PROVIDERS in order, behind one sender that fails over between them
 * (docs/providers.md); one provider is used as it is. None configured: the dev outbox, so the
 * system runs with no SMS provider.
 */
export function createSmsSender(
  config: SmsWorkerConfig,
  log: Logger,
  /** The worker's metrics registry: with several providers, their breakers' gauge goes there. */
  registry?: Registry,
): DeliverySender {
  if (config.providers.length === 0) {
    const dir = resolve(config.DEV_OUTBOX_DIR);
    log.warn({ dir }, 'no SMS provider is configured: SMS are written to the dev outbox, not sent');
    return createDevOutboxSmsSender({ dir, log });
  }
  const senders = config.providers.map((provider) =>
    provider.name === 'hook'
      ? createHookSender({ url: provider.url, secret: provider.secret })
      : createTwilioSender(provider.twilio),
  );
  const names = config.providers.map(({ name }) => name);
  return createProviderChain(senders, {
    failures: config.PROVIDER_BREAKER_FAILURES,
    cooldownMs: config.PROVIDER_BREAKER_COOLDOWN_MS,
    log,
    ...(registry === undefined || names.length < 2
      ? {}
      : { onBreakerChange: createBreakerGauge(registry, { channel: 'sms', providers: names }) }),
  });
}
