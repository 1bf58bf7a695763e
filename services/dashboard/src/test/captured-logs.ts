import { type Logger, REDACT_PATHS } from '@otp/runtime';
import pino from 'pino';

export interface CapturedLogs {
  /** A logger like the services' own (same redaction), at the most verbose level, into memory. */
  logger(service: string): Logger;
  /** Every line every logger wrote so far. */
  lines(): string[];
}

/** Log capture for tests that must prove what the services never log. */
export function captureLogs(): CapturedLogs {
  const lines: string[] = [];
  const stream = { write: (line: string) => lines.push(line) };
  return {
    logger: (service) =>
      pino(
        {
          level: 'trace',
          base: { service },
          timestamp: pino.stdTimeFunctions.isoTime,
          redact: { paths: REDACT_PATHS, censor: '[redacted]' },
        },
        stream,
      ),
    lines: () => [...lines],
  };
}
