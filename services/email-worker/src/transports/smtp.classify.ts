import { DeliveryError } from '@otp/delivery';

// Network-level failures (nodemailer's connection codes and raw socket errors): the server may be
// back in a moment.
const CONNECTION_CODES = new Set([
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'EDNS',
  'ETLS',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPROXY',
]);

interface SmtpFailure {
  code?: unknown;
  responseCode?: unknown;
  response?: unknown;
}

/**
 * Maps a nodemailer error to a delivery failure, by reply code (RFC 5321: 4yz transient, 5yz
 * permanent) and connection code. The reply text is kept only as redacted detail.
 */
export function classifySmtpError(error: unknown): DeliveryError {
  const { code, responseCode, response } = (error ?? {}) as SmtpFailure;
  const detail = typeof response === 'string' ? response : typeof code === 'string' ? code : undefined;
  const options = detail === undefined ? {} : { detail };
  if (typeof responseCode === 'number') {
    // Bad credentials are our configuration, not the recipient: pause the queue and alert.
    if (responseCode === 535 || code === 'EAUTH') return new DeliveryError('provider_auth', 'smtp_auth', options);
    if (responseCode >= 500) return new DeliveryError('permanent', `smtp_${responseCode}`, options);
    if (responseCode >= 400) return new DeliveryError('temporary', `smtp_${responseCode}`, options);
  }
  if (code === 'EAUTH' || code === 'ENOAUTH') return new DeliveryError('provider_auth', 'smtp_auth', options);
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) {
    return new DeliveryError('temporary', 'smtp_connection', options);
  }
  // An address nodemailer cannot even put in an envelope will not get better by retrying.
  if (code === 'EENVELOPE') return new DeliveryError('permanent', 'smtp_envelope', options);
  return new DeliveryError('temporary', 'smtp_error', options);
}
