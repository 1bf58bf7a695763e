import { Webhook } from 'standardwebhooks';
import { classifyHookAnswer, classifyHookFailure } from './hook.classify.ts';
import type { DeliverySender, OutgoingMessage } from './sender.port.ts';

export interface HookSenderOptions {
  /** Where to POST each message (checked by `checkHookUrl`). */
  url: string;
  /** The Standard Webhooks secret, `whsec_<base64>` (checked by `checkHookSecret`). */
  secret: string;
  /** Recorded on each attempt row; `hook` unless named. */
  provider?: string;
  /** How long one request may take, answer included; 10 s unless named. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

const DEFAULT_TIMEOUT_MS = 10_000;
// Enough for any JSON answer naming an id; a longer body is not read further.
const MAX_ANSWER_BYTES = 16 * 1024;
// A provider message id as the attempt row keeps it: printable ASCII, bounded.
const MESSAGE_ID = /^[\x21-\x7e]{1,200}$/;

/**
 * The message's id, the same on every retry of one send, so the hook can drop a message it has
 * already taken (Standard Webhooks' `webhook-id` is meant for exactly that).
 */
export function hookMessageId(message: OutgoingMessage): string {
  if (message.challengeId !== undefined && message.sendNumber !== undefined) {
    return `${message.challengeId}.${message.sendNumber}`;
  }
  if (message.notificationId !== undefined) return `notice.${message.notificationId}`;
  throw new Error('a hook message needs a challenge and send number, or a notification');
}

/** The JSON body: what the hook needs to deliver the message, nothing of the pipeline's own. */
function hookPayload(id: string, message: OutgoingMessage) {
  return {
    id,
    channel: message.channel,
    to: message.to,
    purpose: message.purpose ?? null,
    locale: message.locale ?? null,
    ...(message.subject === undefined ? {} : { subject: message.subject }),
    text: message.text,
    ...(message.html === undefined ? {} : { html: message.html }),
  };
}

/** The `id` or `messageId` the hook's JSON answer names, if any; never throws. */
async function answeredMessageId(response: Response): Promise<string | undefined> {
  try {
    const reader = response.body?.getReader();
    if (reader === undefined) return undefined;
    const chunks: Uint8Array[] = [];
    let size = 0;
    while (size <= MAX_ANSWER_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
    if (size > MAX_ANSWER_BYTES) {
      await reader.cancel();
      return undefined;
    }
    const answer = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id?: unknown; messageId?: unknown } | null;
    const id = answer?.id ?? answer?.messageId;
    return typeof id === 'string' && MESSAGE_ID.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Delivers through the operator's own service: each message is an HTTP POST signed per Standard
 * Webhooks. A 2xx means the hook took the message; any other answer or no answer becomes a
 * DeliveryError (`hook.classify.ts`).
 */
export function createHookSender(options: HookSenderOptions): DeliverySender {
  const webhook = new Webhook(options.secret);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const post = options.fetch ?? fetch;
  return {
    provider: options.provider ?? 'hook',
    async send(message) {
      const id = hookMessageId(message);
      const payload = JSON.stringify(hookPayload(id, message));
      // Signed again on each attempt: the timestamp is the attempt's, the id the send's.
      const timestamp = new Date();
      const response = await post(options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'otp-delivery-hook',
          'webhook-id': id,
          'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
          'webhook-signature': webhook.sign(id, timestamp, payload),
        },
        body: payload,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      }).catch((error: unknown) => {
        throw classifyHookFailure(error);
      });
      const messageId = await answeredMessageId(response);
      if (response.status >= 200 && response.status < 300) return { providerMessageId: messageId ?? id };
      throw classifyHookAnswer({ status: response.status, retryAfter: response.headers.get('retry-after'), messageId });
    },
  };
}
