/**
 * The delays between a webhook's attempts, as multiples of the first one: with the default 5 s,
 * 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h and 8 h, eleven attempts in 23 h 42 min.
 * An endpoint down for a day still gets every event when it is back; past that the job fails and
 * stays in the queue's failed set, the dead letter, where an operator can retry it.
 */
const MULTIPLES = [1, 6, 24, 120, 360, 720, 1440, 2880, 5760, 5760] as const;

/** The delay before each retry, scaled from the first (WEBHOOK_RETRY_FIRST_DELAY_MS). */
export function retryDelays(firstDelayMs: number): number[] {
  return MULTIPLES.map((multiple) => multiple * firstDelayMs);
}

/**
 * The wait before retry number `attemptsMade` (1 for the first retry), less up to a tenth at
 * random: endpoints that come back are not hit by every replica's retries in the same instant,
 * and jitter never stretches the schedule past its last delay.
 */
export function retryDelayMs(delays: readonly number[], attemptsMade: number, random = Math.random): number {
  const delay = delays[Math.min(Math.max(attemptsMade, 1), delays.length) - 1] ?? 0;
  return Math.round(delay * (1 - random() * 0.1));
}
