import { createLogger, type Logger } from '@otp/runtime';

/** One parsed log line. */
export type LogRecord = Record<string, unknown> & { msg?: string };

export interface CapturedLogs {
  /** The service's logger (same redaction as production) writing into `records`. */
  log: Logger;
  readonly records: LogRecord[];
  /** The lines that mention `text` anywhere (a challenge id, a request id). */
  mentioning(text: string): LogRecord[];
}

/** A logger whose JSON lines a test reads back, the way a log shipper would read stdout. */
export function captureLogs(service = 'delivery-test', level = 'debug'): CapturedLogs {
  const records: LogRecord[] = [];
  const log = createLogger({
    service,
    level,
    destination: {
      write(line: string) {
        records.push(JSON.parse(line) as LogRecord);
      },
    },
  });
  return {
    log,
    records,
    mentioning: (text) => records.filter((record) => JSON.stringify(record).includes(text)),
  };
}
