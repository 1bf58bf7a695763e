export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerSettings {
  /** Consecutive temporary failures that open the breaker (PROVIDER_BREAKER_FAILURES, default 5). */
  failures: number;
  /** How long an open breaker skips its provider before one send may try it (PROVIDER_BREAKER_COOLDOWN_MS). */
  cooldownMs: number;
  now: () => number;
  onChange?: (state: BreakerState) => void;
}

/**
 * One provider's circuit breaker: closed (sends go to it), open (skipped until the cooldown is
 * over), half-open (one send tries it: success closes, failure opens it again; the other sends
 * of this worker meanwhile skip it, so a provider that is still down costs one send, not every
 * send that arrived while the first was waiting for its timeout).
 *
 * The state is this worker process's own, in memory, unlike the queue's pauses (which are in
 * Redis for every replica). That is enough: each replica learns a provider is down from its own
 * N failures (a few sends out of many, and each of those moved on to the next provider or was
 * retried), and recovers on its own after the cooldown. Shared state would add a Redis round
 * trip to every send and a new way to fail (a breaker stuck open after a crash, or Redis away
 * while the provider is fine), for a gain of at most N failed tries per replica.
 */
export interface ProviderBreaker {
  state(): BreakerState;
  /**
   * Whether a send may go to the provider now. An open breaker past its cooldown becomes
   * half-open and this send is its one trial (it must report `succeeded` or `failed`).
   */
  tryAcquire(): boolean;
  /** The provider answered (it took the message, or refused it for a reason of the message's own). */
  succeeded(): void;
  /** A temporary failure: counts toward opening. */
  failed(): void;
  /** The provider asked us to stop (429) or refused our credentials: open now, for at least `ms`. */
  open(ms?: number): void;
}

export function createProviderBreaker(settings: BreakerSettings): ProviderBreaker {
  let state: BreakerState = 'closed';
  let consecutiveFailures = 0;
  let openUntil = 0;
  let trialInFlight = false;

  function move(next: BreakerState): void {
    if (next === state) return;
    state = next;
    settings.onChange?.(next);
  }
  function open(ms = settings.cooldownMs): void {
    trialInFlight = false;
    consecutiveFailures = 0;
    openUntil = settings.now() + Math.max(ms, settings.cooldownMs);
    move('open');
  }

  return {
    state: () => state,
    tryAcquire() {
      if (state === 'closed') return true;
      if (state === 'open') {
        if (settings.now() < openUntil) return false;
        move('half_open');
      }
      if (trialInFlight) return false;
      trialInFlight = true;
      return true;
    },
    succeeded() {
      // A send that started before the breaker opened and ends after says nothing about now.
      if (state === 'open') return;
      consecutiveFailures = 0;
      trialInFlight = false;
      move('closed');
    },
    failed() {
      if (state === 'open') return;
      consecutiveFailures += 1;
      if (state === 'half_open' || consecutiveFailures >= settings.failures) open();
    },
    open,
  };
}
