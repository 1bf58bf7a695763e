import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths pino blanks out in every service: a second line of defence behind the rule that codes,
 * secrets, tokens and full addresses are never put in a log line in the first place.
 */
export const REDACT_PATHS = [
  'code',
  '*.code',
  'to',
  '*.to',
  'email',
  '*.email',
  'phone',
  '*.phone',
  'password',
  '*.password',
  'secret',
  '*.secret',
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  'refreshToken',
  '*.refreshToken',
  'captchaToken',
  '*.captchaToken',
  'envelope',
  '*.envelope',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-twilio-signature"]',
  'res.headers["set-cookie"]',
];

export interface LoggerOptions {
  service: string;
  level: string;
  /** Where the JSON lines go (default stdout); tests pass a stream to read them back. */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const settings = {
    level: options.level,
    base: { service: options.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  return options.destination === undefined ? pino(settings) : pino(settings, options.destination);
}
