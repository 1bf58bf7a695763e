import type { DeliverySender, OutgoingMessage } from '@otp/delivery';
import twilio from 'twilio';
import type { TwilioSettings } from '../config.ts';
import { classifyTwilioError } from './twilio.classify.ts';
import { TwilioRequestClient } from './twilio-request.client.ts';

const REQUEST_TIMEOUT_MS = 10_000;

/**
 * The status callback URL of one message: the gateway's webhook plus which challenge and send it
 * is. Twilio signs the full URL, query included, so the gateway can trust both ids.
 */
export function statusCallbackFor(
  baseUrl: string,
  message: Pick<OutgoingMessage, 'challengeId' | 'sendNumber'>,
): string {
  const url = new URL(baseUrl);
  // Every SMS is the send of a challenge (notices are email only).
  url.searchParams.set('challengeId', String(message.challengeId));
  url.searchParams.set('sendNumber', String(message.sendNumber));
  return url.toString();
}

/** Sends SMS with the official twilio SDK (Messages API). */
export function createTwilioSender(settings: TwilioSettings): DeliverySender {
  const client = twilio(settings.accountSid, settings.authToken, {
    httpClient: new TwilioRequestClient({ baseUrl: settings.apiBaseUrl, timeoutMs: REQUEST_TIMEOUT_MS }),
    autoRetry: false,
    // Pinned so TWILIO_LOG_LEVEL=debug in the environment cannot make the SDK print requests.
    logLevel: 'info',
  });
  const sender =
    settings.messagingServiceSid === undefined
      ? { from: settings.from }
      : { messagingServiceSid: settings.messagingServiceSid };
  return {
    provider: 'twilio',
    async send(message) {
      const callback =
        settings.statusCallbackUrl === undefined
          ? {}
          : { statusCallback: statusCallbackFor(settings.statusCallbackUrl, message) };
      const created = await client.messages
        .create({ to: message.to, body: message.text, ...sender, ...callback })
        .catch((error: unknown) => {
          throw classifyTwilioError(error);
        });
      return { providerMessageId: created.sid };
    },
  };
}
