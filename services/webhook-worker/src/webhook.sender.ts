import type { WebhookJobData } from '@otp/domain';
import { Webhook } from 'standardwebhooks';
import type { WebhookEndpointConfig } from './config.ts';

/** What one delivery came to; `code` is a stable name for logs, metrics and failedReason. */
export type SendOutcome =
  | { kind: 'delivered'; status: number }
  /** 410 Gone: the receiver says the endpoint is no more; it is disabled. */
  | { kind: 'gone'; status: 410 }
  /** Anything else: tried again on the schedule. */
  | { kind: 'retry'; code: string; status?: number };

// A receiver's answer is not read past this: it says nothing we use.
const MAX_ANSWER_BYTES = 64 * 1024;
// Network failures surface as a system error code inside fetch's error (undici's `cause`).
const ERROR_CODE = /^[A-Z][A-Z0-9_]{1,47}$/;

/** The body every receiver gets: the event's type, when it happened, and its data. */
export function webhookBody(job: Pick<WebhookJobData, 'type' | 'occurredAt' | 'data'>): string {
  return JSON.stringify({ type: job.type, timestamp: job.occurredAt, data: job.data });
}

async function discardAnswer(response: Response): Promise<void> {
  try {
    const reader = response.body?.getReader();
    if (reader === undefined) return;
    let size = 0;
    while (size <= MAX_ANSWER_BYTES) {
      const { done, value } = await reader.read();
      if (done) return;
      size += value.byteLength;
    }
    await reader.cancel();
  } catch {
    // The status is what counts; a body cut short changes nothing.
  }
}

function failureCode(error: unknown): string {
  if (error instanceof DOMException && error.name === 'TimeoutError') return 'timeout';
  const cause = (error as { cause?: { code?: unknown; errors?: { code?: unknown }[] } } | undefined)?.cause;
  const code = cause?.code ?? cause?.errors?.[0]?.code;
  return typeof code === 'string' && ERROR_CODE.test(code) ? `network_${code}` : 'network';
}

/**
 * POSTs one event to one endpoint, signed per Standard Webhooks: `webhook-id` is the event's id
 * (the same on every retry, so a receiver drops a repeat), `webhook-timestamp` the time of this
 * attempt (a receiver refuses old ones, which stops replays), `webhook-signature` the HMAC of both
 * and the body under the endpoint's secret. Redirects are not followed: they would carry a signed
 * event somewhere the operator did not configure.
 */
export async function sendWebhook(
  endpoint: Pick<WebhookEndpointConfig, 'url' | 'secret'>,
  job: WebhookJobData,
  options: { timeoutMs: number; now?: Date; fetch?: typeof fetch },
): Promise<SendOutcome> {
  const body = webhookBody(job);
  const now = options.now ?? new Date();
  const signature = new Webhook(endpoint.secret).sign(job.eventId, now, body);
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(endpoint.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'otp-webhooks/1',
        'webhook-id': job.eventId,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': signature,
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (error) {
    return { kind: 'retry', code: failureCode(error) };
  }
  await discardAnswer(response);
  if (response.status >= 200 && response.status < 300) return { kind: 'delivered', status: response.status };
  if (response.status === 410) return { kind: 'gone', status: 410 };
  return { kind: 'retry', code: `http_${response.status}`, status: response.status };
}
