import type { Channel } from '@otp/domain';
import type { Logger } from '@otp/runtime';
import type { Registry } from 'prom-client';
import { createBreakerGauge } from './delivery.metrics.ts';
import { createProviderChain } from './provider-chain.ts';
import type { DeliverySender } from './sender.port.ts';

export interface ProviderListOptions {
  channel: Channel;
  /** PROVIDER_BREAKER_FAILURES and PROVIDER_BREAKER_COOLDOWN_MS. */
  breaker: { failures: number; cooldownMs: number };
  log: Logger;
  /** The worker's metrics registry: with several providers, their breakers' gauge goes there. */
  registry?: Registry | undefined;
  /** The sender when no provider is configured (the dev outbox), made only then. */
  none: () => DeliverySender;
}

/**
 * A worker's sender for its providers in order (EMAIL_PROVIDERS, SMS_PROVIDERS): none configured,
 * `options.none`; one, that provider as it is; several, a chain that fails over between them
 * (provider-chain.ts) with its breakers shown by `otp_delivery_provider_breaker_open`.
 */
export function senderForProviders(providers: DeliverySender[], options: ProviderListOptions): DeliverySender {
  if (providers.length === 0) return options.none();
  const names = providers.map(({ provider }) => provider);
  return createProviderChain(providers, {
    ...options.breaker,
    log: options.log,
    ...(options.registry === undefined || providers.length < 2
      ? {}
      : { onBreakerChange: createBreakerGauge(options.registry, { channel: options.channel, providers: names }) }),
  });
}
