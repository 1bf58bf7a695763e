import { resolve } from 'node:path';
import { createHookSender, type DeliverySender, senderForProviders } from '@otp/delivery';
import type { Logger } from '@otp/runtime';
import type { Registry } from 'prom-client';
import type { EmailWorkerConfig } from '../config.ts';
import { createDevOutboxEmailSender } from './dev-outbox.sender.ts';
import { createSmtpSender } from './smtp.sender.ts';

/**
 * The providers of EMAIL_PROVIDERS in order, failing over between them (docs/providers.md). None
 * configured: the dev outbox, so the system runs with no mail server.
 */
export function createEmailSender(config: EmailWorkerConfig, log: Logger, registry?: Registry): DeliverySender {
  const senders = config.providers.map((provider) =>
    provider.name === 'hook'
      ? createHookSender({ url: provider.url, secret: provider.secret })
      : createSmtpSender({ url: provider.url, from: config.MAIL_FROM, provider: provider.name }),
  );
  return senderForProviders(senders, {
    channel: 'email',
    breaker: { failures: config.PROVIDER_BREAKER_FAILURES, cooldownMs: config.PROVIDER_BREAKER_COOLDOWN_MS },
    log,
    registry,
    none: () => {
      const dir = resolve(config.DEV_OUTBOX_DIR);
      log.warn({ dir }, 'no email provider is configured: emails are written to the dev outbox, not sent');
      return createDevOutboxEmailSender({ dir, from: config.MAIL_FROM, log });
    },
  });
}
