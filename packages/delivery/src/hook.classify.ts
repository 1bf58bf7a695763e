import { DeliveryError } from './delivery.error.ts';

const DEFAULT_RETRY_AFTER_MS = 1000;
// A receiver's Retry-After pauses the whole queue: a wrong or hostile value (a day, a year) must
// not stop every send for that long. Past this, the queue is tried again and asks once more.
const MAX_RETRY_AFTER_MS = 15 * 60_000;

// Failures before the first byte of the request left: no connection (refused, no such host,
// unreachable), undici's connect timeout, or a TLS certificate we refuse. The hook never saw the
// message, so trying it again or elsewhere cannot duplicate it.
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);
const ERROR_CODE = /^[A-Z][A-Z0-9_]{1,47}$/;

/** What the hook answered when it did not take the message (any status but 2xx). */
export interface HookAnswer {
  status: number;
  /** The Retry-After header, if any. */
  retryAfter: string | null;
  /** The message id the body named, if any: the hook may have accepted the message after all. */
  messageId: string | undefined;
}

/** Milliseconds to wait from a Retry-After header (delay-seconds or an HTTP date), bounded. */
export function retryAfterMs(header: string | null, now = Date.now()): number {
  if (header === null || header.trim() === '') return DEFAULT_RETRY_AFTER_MS;
  const seconds = Number(header);
  const date = Date.parse(header);
  const waitMs = Number.isFinite(seconds) ? seconds * 1000 : Number.isNaN(date) ? DEFAULT_RETRY_AFTER_MS : date - now;
  return Math.min(Math.max(0, waitMs), MAX_RETRY_AFTER_MS);
}

/**
 * Maps a send hook's non-2xx answer to a delivery failure. The detail is the status only: the
 * body is the operator's service talking and may echo the address or the code.
 */
export function classifyHookAnswer(answer: HookAnswer): DeliveryError {
  const { status, messageId } = answer;
  const detail = `HTTP ${status}`;
  // A 429 or 5xx naming a message id says the hook may hold the message; otherwise it did not take it.
  const notAccepted = messageId === undefined;
  if (status === 429) {
    return new DeliveryError('rate_limited', 'hook_429', {
      detail,
      retryAfterMs: retryAfterMs(answer.retryAfter),
      notAccepted,
    });
  }
  if (status >= 500) return new DeliveryError('temporary', 'hook_5xx', { detail, notAccepted });
  // The hook refused our signature: our secret and the operator's differ. Pause and alert.
  if (status === 401 || status === 403) {
    return new DeliveryError('provider_auth', 'hook_auth', { detail, notAccepted: true });
  }
  // Any other 4xx, and a redirect (never followed: it would move a signed message elsewhere).
  return new DeliveryError('permanent', 'hook_rejected', { detail, notAccepted: true });
}

/** The system error code inside what fetch threw (undici wraps it in `cause`, sometimes in an AggregateError). */
function systemCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown; errors?: { code?: unknown }[] } } | undefined)?.cause;
  const code = cause?.code ?? cause?.errors?.[0]?.code;
  return typeof code === 'string' && ERROR_CODE.test(code) ? code : undefined;
}

/** Maps what fetch threw (no HTTP answer) to a delivery failure; the detail is the error code only. */
export function classifyHookFailure(error: unknown): DeliveryError {
  if (error instanceof DOMException && error.name === 'TimeoutError') {
    // No answer in time: the hook may have the message; a retry may deliver it twice.
    return new DeliveryError('temporary', 'hook_timeout', { notAccepted: false });
  }
  const code = systemCode(error);
  const detail = code === undefined ? {} : { detail: code };
  if (code !== undefined && NOT_SENT_CODES.has(code)) {
    return new DeliveryError('temporary', 'hook_connection', { ...detail, notAccepted: true });
  }
  // A reset or a closed socket after the request may have been written: unknown.
  return new DeliveryError('temporary', 'hook_network', { ...detail, notAccepted: false });
}
