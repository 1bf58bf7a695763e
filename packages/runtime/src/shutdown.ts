import type { Logger } from 'pino';

export interface ShutdownOptions {
  log: Logger;
  /** Whole-shutdown deadline; keep it under the orchestrator's grace period. */
  deadlineMs?: number;
}

/**
 * Runs `close` once on SIGTERM or SIGINT, then exits 0; exits 1 if `close` fails or passes the
 * deadline (BullMQ's close has no timeout of its own and can wait forever on a dead Redis).
 * `close` is told which signal came: orchestrators send SIGTERM, a person at a terminal SIGINT.
 */
export function onShutdownSignal(close: (signal: NodeJS.Signals) => Promise<void>, options: ShutdownOptions): void {
  let closing = false;
  const handler = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    options.log.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      options.log.error({ deadlineMs: options.deadlineMs }, 'shutdown deadline passed, exiting');
      process.exit(1);
    }, options.deadlineMs ?? 20_000);
    deadline.unref();
    close(signal).then(
      () => {
        options.log.info('shut down cleanly');
        process.exit(0);
      },
      (error: unknown) => {
        options.log.error({ err: error }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  // `on`, not `once`: a terminal's Ctrl-C can arrive several times (the terminal, concurrently,
  // node --watch); later signals must not kill the process halfway through closing.
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
