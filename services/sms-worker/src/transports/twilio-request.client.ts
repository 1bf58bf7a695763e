import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';

/** A Twilio answer of 429, with the wait the API asked for (Retry-After), raised by the client. */
export class TwilioRateLimitResponse extends Error {
  readonly status = 429;
  readonly code: number | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(code: number | undefined, retryAfterMs: number | undefined) {
    super('twilio_429');
    this.name = 'TwilioRateLimitResponse';
    this.code = code;
    this.retryAfterMs = retryAfterMs;
  }
}

function retryAfterMs(header: unknown): number | undefined {
  if (typeof header !== 'string' || header === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

export interface TwilioRequestClientOptions {
  /** Send every request to this origin (and path prefix) instead of Twilio's (TWILIO_API_BASE_URL). */
  baseUrl?: string;
  /** Per-request and socket timeout. */
  timeoutMs: number;
}

/**
 * The SDK's own RequestClient with two additions: it can swap the origin of each request (the
 * SDK has no base URL option), and it surfaces a 429's Retry-After, which the SDK's
 * RestException drops. Auto-retry stays off: BullMQ is the only retry layer.
 */
export class TwilioRequestClient extends twilio.RequestClient {
  readonly #baseUrl: URL | undefined;

  constructor(options: TwilioRequestClientOptions) {
    super({ timeout: options.timeoutMs, autoRetry: false });
    this.#baseUrl = options.baseUrl === undefined ? undefined : new URL(options.baseUrl);
  }

  override async request<TData>(opts: RequestClient.RequestOptions<TData>) {
    const response = await super.request<TData>({ ...opts, uri: this.#target(opts.uri) });
    if (response.statusCode === 429) {
      const body = (typeof response.body === 'string' ? safeJson(response.body) : response.body) as { code?: unknown };
      const headers = (response as { headers?: Record<string, unknown> }).headers ?? {};
      throw new TwilioRateLimitResponse(
        typeof body?.code === 'number' ? body.code : undefined,
        retryAfterMs(headers['retry-after']),
      );
    }
    return response;
  }

  #target(uri: string): string {
    if (this.#baseUrl === undefined) return uri;
    const original = new URL(uri);
    const prefix = this.#baseUrl.pathname.replace(/\/$/, '');
    return new URL(`${prefix}${original.pathname}${original.search}`, this.#baseUrl.origin).toString();
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
