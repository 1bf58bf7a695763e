import { createLogger, type Logger } from '@otp/runtime';

export interface CapturedLogs {
  /** A logger like the services' own (same redaction), at the most verbose level, into memory. */
  logger(service: string): Logger;
  /** Every line every logger wrote so far. */
  lines(): string[];
}

/** Log capture for tests that must prove what the services never log. */
export function captureLogs(): CapturedLogs {
  const lines: string[] = [];
  const destination = { write: (line: string) => lines.push(line) };
  return {
    logger: (service) => createLogger({ service, level: 'trace', destination }),
    lines: () => [...lines],
  };
}
