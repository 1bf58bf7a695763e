import { resolve } from 'node:path';
import type { DeliverySender } from '@otp/delivery';
import type { Logger } from '@otp/runtime';
import type { EmailWorkerConfig } from '../config.ts';
import { createDevOutboxEmailSender } from './dev-outbox.sender.ts';
import { createSmtpSender } from './smtp.sender.ts';

/** SMTP when SMTP_URL is set; otherwise the dev outbox, so the system runs with no mail server. */
export function createEmailSender(config: EmailWorkerConfig, log: Logger): DeliverySender {
  if (config.SMTP_URL !== undefined) return createSmtpSender({ url: config.SMTP_URL, from: config.MAIL_FROM });
  const dir = resolve(config.DEV_OUTBOX_DIR);
  log.warn({ dir }, 'SMTP_URL is not set: emails are written to the dev outbox, not sent');
  return createDevOutboxEmailSender({ dir, from: config.MAIL_FROM, log });
}
