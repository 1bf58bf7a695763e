import { resolve } from 'node:path';
import type { DeliverySender } from '@otp/delivery';
import type { Logger } from '@otp/runtime';
import type { SmsWorkerConfig } from '../config.ts';
import { createDevOutboxSmsSender } from './dev-outbox.sender.ts';
import { createTwilioSender } from './twilio.sender.ts';

/** Twilio when configured; otherwise the dev outbox, so the system runs with no SMS provider. */
export function createSmsSender(config: SmsWorkerConfig, log: Logger): DeliverySender {
  if (config.twilio !== undefined) return createTwilioSender(config.twilio);
  const dir = resolve(config.DEV_OUTBOX_DIR);
  log.warn({ dir }, 'Twilio is not configured: SMS are written to the dev outbox, not sent');
  return createDevOutboxSmsSender({ dir, log });
}
