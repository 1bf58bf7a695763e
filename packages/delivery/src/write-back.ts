import type { Logger } from '@otp/runtime';

/** Runs `write` until it succeeds or `timeoutMs` has passed (backoff 100 ms doubling to 5 s). */
export async function writeBack(write: () => Promise<void>, timeoutMs: number, log: Logger): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 100; ; delay = Math.min(delay * 2, 5000)) {
    try {
      await write();
      return true;
    } catch (error) {
      if (Date.now() + delay > deadline) {
        log.error({ err: { message: (error as Error).message } }, 'sent, but the outcome could not be recorded');
        return false;
      }
      log.warn(
        { err: { message: (error as Error).message }, retryInMs: delay },
        'recording the sent message failed: retrying',
      );
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
