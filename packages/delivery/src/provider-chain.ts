import type { Logger } from '@otp/runtime';
import { DeliveryError } from './delivery.error.ts';
import { asDeliveryError } from './delivery.failures.ts';
import { type BreakerState, createProviderBreaker, type ProviderBreaker } from './provider-breaker.ts';
import type { DeliverySender, SendContext } from './sender.port.ts';

export interface ProviderChainOptions {
  /** Consecutive temporary failures that open a provider's breaker (PROVIDER_BREAKER_FAILURES). */
  failures: number;
  /** How long an open breaker skips its provider (PROVIDER_BREAKER_COOLDOWN_MS). */
  cooldownMs: number;
  /** A monotonic clock in ms (default `performance.now`); tests move it past the cooldown. */
  now?: () => number;
  /**
   * Providers to skip (an operator's `provider:<name>` kill switch). The pipeline also passes the
   * worker's kill switches with every send (`SendContext`); a provider either one names is skipped.
   */
  isSwitchedOff?: (provider: string) => boolean;
  log: Logger;
  /** Each move of a provider's breaker, e.g. for `otp_delivery_provider_breaker_open`. */
  onBreakerChange?: (provider: string, state: BreakerState) => void;
}

/**
 * A sender over an ordered list of providers (`SMS_PROVIDERS=twilio,hook`): each send goes to the
 * first provider that is not switched off and whose breaker lets it through, and moves on to the
 * next only when the failed one certainly did not take the message (`DeliveryError.notAccepted`),
 * or asked us to stop (429) or refused our credentials, which open its breaker instead of pausing
 * the queue. A permanent failure (a bad recipient) is the message's, not the provider's: thrown
 * as it is, no other provider is tried.
 *
 * An unknown outcome (a timeout or a lost connection after the message was handed over) counts
 * toward the breaker and is thrown: the pipeline retries the job with backoff, and that attempt
 * starts again from the first provider that is available. Trying the next provider at once
 * would send a second message whenever the first did go out. The retry carries that same risk
 * (none of these providers takes an idempotency key: SMTP has none, Twilio's Messages API has
 * none), whichever provider it reaches: at least once is what every retry of an unknown outcome
 * gives, with one provider as with several. What bounds it: the retry waits the backoff; a send
 * recorded sent is never sent again (`sendRefusal`); and a duplicate carries the same code (the
 * code is sealed in the job), so the person gets the same code twice, never two different ones.
 *
 * With one provider the chain is that provider itself: a 429 or refused credentials still pause
 * the queue, as they always have. `provider` of a chain is its providers' names joined with `,`
 * (`twilio,hook`), for what is about no send in particular (a skipped send's row, the metrics'
 * default label); each send names its own provider, in its SendResult or DeliveryError.
 */
export function createProviderChain(providers: DeliverySender[], options: ProviderChainOptions): DeliverySender {
  const [only] = providers;
  if (only === undefined) throw new Error('a provider chain needs at least one provider');
  if (providers.length === 1) return only;
  const names = providers.map((sender) => sender.provider);
  if (new Set(names).size !== names.length) throw new Error(`a provider is named twice in ${names.join(',')}`);
  const now = options.now ?? (() => performance.now());
  const log = options.log.child({ providers: names.join(',') });
  const breakers = new Map<string, ProviderBreaker>(
    names.map((name) => [
      name,
      createProviderBreaker({
        failures: options.failures,
        cooldownMs: options.cooldownMs,
        now,
        onChange: (state) => {
          log[state === 'closed' ? 'info' : 'warn']({ provider: name, state }, `provider breaker ${state}`);
          options.onBreakerChange?.(name, state);
        },
      }),
    ]),
  );
  const switchedOff = (provider: string, context: SendContext | undefined) =>
    options.isSwitchedOff?.(provider) === true || context?.isSwitchedOff?.(provider) === true;

  return {
    provider: names.join(','),
    providers: names,
    async send(message, context) {
      let last: DeliveryError | undefined;
      for (const sender of providers) {
        const breaker = breakers.get(sender.provider) as ProviderBreaker;
        if (switchedOff(sender.provider, context) || !breaker.tryAcquire()) continue;
        let failure: DeliveryError;
        try {
          const result = await sender.send(message, context);
          breaker.succeeded();
          return { ...result, provider: sender.provider };
        } catch (error) {
          failure = asDeliveryError(error, log.child({ provider: sender.provider })).from(sender.provider);
        }
        if (failure.kind === 'permanent') {
          // The provider answered, about this message: it is working.
          breaker.succeeded();
          throw failure;
        }
        if (failure.kind === 'rate_limited' || failure.kind === 'provider_auth') {
          breaker.open(failure.retryAfterMs);
        } else {
          breaker.failed();
          if (!failure.notAccepted) throw failure;
        }
        log.warn(
          { provider: sender.provider, code: failure.code },
          'provider did not take the message: trying the next',
        );
        last = failure;
      }
      // A temporary failure of the last provider tried speaks for itself; a rate limit or refused
      // credentials must not reach the pipeline, which would pause the queue for every provider.
      if (last?.kind === 'temporary') throw last;
      throw new DeliveryError('temporary', 'providers_unavailable', {
        notAccepted: true,
        ...(last === undefined ? {} : { provider: last.provider, detail: last.code }),
      });
    },
    async close() {
      await Promise.all(providers.map((sender) => sender.close?.()));
    },
  };
}
