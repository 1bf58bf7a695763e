import { DeliveryError, type DeliverySender } from '@otp/delivery';
import nodemailer from 'nodemailer';
import { mailOptions } from './mail-options.ts';
import { classifySmtpError } from './smtp.classify.ts';

export interface SmtpSenderOptions {
  /** `smtp://user:pass@host:port` or `smtps://...`. */
  url: string;
  /** The From header, e.g. `OTP <no-reply@otp.local>`. */
  from: string;
  /** The name recorded for it (default `smtp`); a second server in a chain is `smtp-fallback`. */
  provider?: string;
  /** How long the socket may stay silent mid-session (default 30 s; tests shorten it). */
  socketTimeoutMs?: number;
}

/** Sends through any SMTP server with a pooled nodemailer transport. */
export function createSmtpSender(options: SmtpSenderOptions): DeliverySender {
  const transport = nodemailer.createTransport(
    {
      pool: true,
      url: options.url,
      // nodemailer's defaults (2 min to connect, 10 min of socket silence) would hold a job far
      // longer than its lock; fail and let the backoff retry instead.
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: options.socketTimeoutMs ?? 30_000,
      // debug logs the SMTP conversation, message content (the code) included: keep it off.
      debug: false,
      logger: false,
    },
    { from: options.from },
  );
  return {
    provider: options.provider ?? 'smtp',
    async send(message) {
      const info = await transport.sendMail(mailOptions(message)).catch((error: unknown) => {
        throw classifySmtpError(error);
      });
      if (info.rejected.length > 0) throw new DeliveryError('permanent', 'smtp_rejected');
      return { providerMessageId: info.messageId };
    },
    async close() {
      transport.close();
    },
  };
}
