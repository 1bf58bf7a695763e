import { type DeliverySender, writeToDevOutbox } from '@otp/delivery';
import type { Logger } from '@otp/runtime';
import nodemailer from 'nodemailer';
import { mailOptions } from './mail-options.ts';

export interface DevOutboxOptions {
  /** The outbox root (absolute); emails go to `<dir>/email/`. */
  dir: string;
  from: string;
  log: Logger;
}

/**
 * Development delivery when no SMTP server is configured: writes each message, exactly as it
 * would be sent (MIME built by nodemailer's stream transport), to an `.eml` file any mail client
 * opens.
 */
export function createDevOutboxEmailSender(options: DevOutboxOptions): DeliverySender {
  const composer = nodemailer.createTransport(
    { streamTransport: true, buffer: true, newline: 'windows' },
    { from: options.from },
  );
  return {
    provider: 'dev-outbox',
    async send(message) {
      const { message: mime, messageId } = await composer.sendMail(mailOptions(message));
      await writeToDevOutbox({
        dir: options.dir,
        message,
        extension: 'eml',
        content: mime as Buffer,
        log: options.log,
      });
      return { providerMessageId: messageId };
    },
  };
}
