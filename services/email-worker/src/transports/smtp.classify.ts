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
  /** nodemailer: the SMTP command in flight ('CONN', 'EHLO', 'MAIL FROM', 'RCPT TO', 'DATA', 'API'...). */
  command?: unknown;
  /** nodemailer: the system error under its own code (ESOCKET over ECONNREFUSED). */
  originalCode?: unknown;
  /** nodemailer: which timeout an ETIMEDOUT was. */
  timeoutType?: unknown;
  message?: unknown;
}

// Timeouts before the session could carry a message: connecting, the greeting, a TLS upgrade.
const SETUP_TIMEOUTS = new Set(['CONNECT_TIMEOUT', 'GREETING_TIMEOUT', 'UPGRADE_TIMEOUT']);
// System errors of a connection that never opened.
const NEVER_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
// Commands before the message: a reply to any of them comes before the server could take it.
// ('DATA' is both the DATA command and the end of the message: told apart by the error code.)
const BEFORE_MESSAGE = /^(EHLO|HELO|LHLO|STARTTLS|AUTH\b.*|MAIL FROM|RCPT TO|DATA|RSET)$/;

/**
 * Whether the server certainly did not take the message, from what nodemailer (10.x,
 * smtp-connection) says of the failure, so a provider chain may try the next server at once:
 * - a reply before the message (a refused greeting, and the replies to EHLO, AUTH, MAIL FROM, RCPT TO, the DATA
 *   command itself, whose refusal nodemailer codes EENVELOPE);
 * - a connection that never opened (refused, DNS), or a timeout while connecting or waiting for
 *   the greeting; an error of `send()` on a connection already closed ('API').
 * Not for the reply to the end of the message (EMESSAGE at 'DATA'): a 4yz there is the server's
 * word after it received the whole message, which a relay or proxy can give after passing it
 * on; kept on the same provider, like an unknown outcome. Nor for a socket timeout or a lost
 * connection ('CONN' with SOCKET_TIMEOUT, ECONNECTION, ECONNRESET): nodemailer reports those
 * without saying how far the transaction got, possibly after the message was written.
 */
function certainlyNotAccepted(failure: SmtpFailure): boolean {
  const { code, command, originalCode, timeoutType, message } = failure;
  if (code === 'EMESSAGE') return false;
  // A refused greeting (421 busy) is also 'CONN': only its text tells it apart. Should nodemailer
  // reword it, this answers false: the send stays on this server, it is never sent twice.
  if (code === 'EPROTOCOL' && typeof message === 'string' && message.startsWith('Invalid greeting')) return true;
  if (typeof command === 'string' && BEFORE_MESSAGE.test(command)) return true;
  if (code === 'EDNS') return true;
  if (code === 'ETIMEDOUT') return typeof timeoutType === 'string' && SETUP_TIMEOUTS.has(timeoutType);
  if (typeof originalCode === 'string' && NEVER_CONNECTED.has(originalCode)) return true;
  if (typeof code === 'string' && NEVER_CONNECTED.has(code)) return true;
  return command === 'API' && code === 'ECONNECTION';
}

/**
 * Maps a nodemailer error to a delivery failure, by reply code (RFC 5321: 4yz transient, 5yz
 * permanent) and connection code. The reply text is kept only as redacted detail.
 */
export function classifySmtpError(error: unknown): DeliveryError {
  const failure = (error ?? {}) as SmtpFailure;
  const { code, responseCode, response } = failure;
  const detail = typeof response === 'string' ? response : typeof code === 'string' ? code : undefined;
  const options = { ...(detail === undefined ? {} : { detail }), notAccepted: certainlyNotAccepted(failure) };
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
