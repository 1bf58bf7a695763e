import { resolve } from 'node:path';
import { createHookSender, type DeliverySender, senderForProviders } from '@otp/delivery';
import type { Logger } from '@otp/runtime';
import type { Registry } from 'prom-client';
import type { SmsWorkerConfig } from '../config.ts';
import { createDevOutboxSmsSender } from './dev-outbox.sender.ts';
import { createTwilioSender } from './twilio.sender.ts';

/**
 * The providers of SMS_PROVIDERS in order, failing over between them (docs/providers.md). None
 * configured: the dev outbox, so the system runs with no SMS provider.
 */
export function createSmsSender(config: SmsWorkerConfig, log: Logger, registry?: Registry): DeliverySender {
  const senders = config.providers.map((provider) =>
    provider.name === 'hook'
      ? createHookSender({ url: provider.url, secret: provider.secret })
      : createTwilioSender(provider.twilio),
  );
  return senderForProviders(senders, {
    channel: 'sms',
    breaker: { failures: config.PROVIDER_BREAKER_FAILURES, cooldownMs: config.PROVIDER_BREAKER_COOLDOWN_MS },
    log,
    registry,
    none: () => {
      const dir = resolve(config.DEV_OUTBOX_DIR);
      log.warn({ dir }, 'no SMS provider is configured: SMS are written to the dev outbox, not sent');
      return createDevOutboxSmsSender({ dir, log });
    },
  });
}
