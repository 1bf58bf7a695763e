import { DeliveryError } from '@otp/delivery';
import { TwilioRateLimitResponse } from './twilio-request.client.ts';

// Errors that are about the recipient and will not change on a retry:
// 21211 invalid 'To', 21408 region not enabled, 21610 unsubscribed (STOP),
// 21612 unroutable, 21614 not a mobile number.
const PERMANENT_CODES = new Set([21211, 21408, 21610, 21612, 21614]);
const DEFAULT_RETRY_AFTER_MS = 1000;
// Errors of a connection that never opened: the request never reached Twilio.
const NEVER_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

interface TwilioFailure {
  status?: unknown;
  code?: unknown;
  message?: unknown;
}

/**
 * Maps what the twilio SDK throws (RestException, network errors) to a delivery failure. Codes
 * come from the HTTP status and Twilio's error code; Twilio's message (which can name the number)
 * is kept only as redacted detail.
 */
export function classifyTwilioError(error: unknown): DeliveryError {
  // An HTTP error answer (429, 5xx, 4xx) carries no message SID: Twilio certainly did not take the
  // message, and a provider chain may try the next provider at once.
  if (error instanceof TwilioRateLimitResponse) {
    return new DeliveryError('rate_limited', 'twilio_429', {
      retryAfterMs: error.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS,
      notAccepted: true,
    });
  }
  const { status, code, message } = (error ?? {}) as TwilioFailure;
  if (typeof status !== 'number') {
    // No HTTP answer. A connection that never opened (refused, DNS) never carried the request;
    // a reset or a timeout may have come after Twilio took it: unknown, so a retry (on Twilio,
    // later) can send a duplicate SMS (at least once, accepted), and no other provider is tried now.
    const network = typeof code === 'string';
    const notAccepted = network && NEVER_CONNECTED.has(code);
    return new DeliveryError(
      'temporary',
      network ? 'twilio_network' : 'twilio_error',
      network ? { detail: code, notAccepted } : {},
    );
  }
  const twilioCode = typeof code === 'number' ? code : undefined;
  // The Twilio code is in the failure's code already; the redaction below would blank it anyway.
  // An error status is an answer without a message: not accepted; anything else is unknown.
  const detail = { detail: `HTTP ${status}: ${String(message ?? '')}`, notAccepted: status >= 400 };
  if (status === 429) {
    return new DeliveryError('rate_limited', 'twilio_429', { retryAfterMs: DEFAULT_RETRY_AFTER_MS, notAccepted: true });
  }
  // Bad credentials are our configuration, not the recipient: pause the queue and alert.
  if (status === 401 || twilioCode === 20003) return new DeliveryError('provider_auth', 'twilio_20003', detail);
  if (status >= 500) return new DeliveryError('temporary', 'twilio_5xx', detail);
  if (twilioCode !== undefined && PERMANENT_CODES.has(twilioCode)) {
    return new DeliveryError('permanent', `twilio_${twilioCode}`, detail);
  }
  if (status >= 400) return new DeliveryError('permanent', `twilio_${twilioCode ?? status}`, detail);
  return new DeliveryError('temporary', 'twilio_error', detail);
}
