import { type DeliverySender, writeToDevOutbox } from '@otp/delivery';
import type { Logger } from '@otp/runtime';

export interface DevOutboxOptions {
  /** The outbox root (absolute); SMS go to `<dir>/sms/`. */
  dir: string;
  log: Logger;
}

/** Development delivery when Twilio is not configured: each SMS becomes a `.txt` file. */
export function createDevOutboxSmsSender(options: DevOutboxOptions): DeliverySender {
  return {
    provider: 'dev-outbox',
    async send(message) {
      const content = `To: ${message.to}\n\n${message.text}\n`;
      await writeToDevOutbox({ dir: options.dir, message, extension: 'txt', content, log: options.log });
      return { providerMessageId: null };
    },
  };
}
