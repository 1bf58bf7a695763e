import type { Channel, DeliveryErrorCode, DeliveryOutcomeKind } from '@otp/domain';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { BreakerState } from './provider-breaker.ts';

/** The `otp_sends_total{outcome}` label of each kind of the domain's delivery error table. */
export const SEND_OUTCOME_OF_KIND = {
  temporary: 'temporary_failure',
  permanent: 'permanent_failure',
  rate_limited: 'rate_limited',
  /** The provider refused our credentials: the queue pauses. */
  provider_auth: 'provider_auth_failure',
  /** BullMQ failed the job after its worker died twice holding it. */
  stalled: 'stalled',
  skipped: 'skipped',
} as const satisfies Record<DeliveryOutcomeKind, string>;

/**
 * Codes counted under their own name rather than their kind's, worth an alert apart: the job
 * broke the queue contract (`invalid_payload`); an unexpected error around the send, retried
 * (`worker_error`).
 */
export const OWN_SEND_OUTCOMES = ['invalid_payload', 'worker_error'] as const satisfies readonly DeliveryErrorCode[];

/**
 * How one processing of a delivery job ended, as `otp_sends_total{outcome}`: `sent`, the label
 * of an error's kind, one of the codes above, or `held` (a kill switch put it back to wait).
 * `sent`, `temporary_failure`, `permanent_failure`, `rate_limited` and `skipped` are also the
 * outcomes of `delivery_attempts` rows; the others have no row of their own (or share
 * `temporary_failure`).
 */
export type SendOutcome =
  | 'sent'
  | 'held'
  | (typeof SEND_OUTCOME_OF_KIND)[DeliveryOutcomeKind]
  | (typeof OWN_SEND_OUTCOMES)[number];

/** The worker's counters, a dependency of the pipeline so tests read them from their own registry. */
export interface DeliveryMetrics {
  readonly registry: Registry;
  /** `provider`: the one that took or failed the send, when a chain says (default: the worker's). */
  send(outcome: SendOutcome, provider?: string): void;
  /** From the request being accepted (job data `requestedAt`) to the provider accepting the message. */
  delivered(requestedAt: Date, acceptedAt: Date, provider?: string): void;
}

// From a fast SMTP relay (well under a second) to a queue that waited out a provider rate limit
// or retries (minutes); a code lives ten minutes by default.
const LATENCY_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

export function createDeliveryMetrics(
  registry: Registry,
  labels: { channel: Channel; provider: string },
): DeliveryMetrics {
  const sends = new Counter({
    name: 'otp_sends_total',
    help: 'Processings of delivery jobs by outcome (sent, temporary_failure, permanent_failure, rate_limited, skipped, ...)',
    labelNames: ['channel', 'provider', 'outcome'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'otp_delivery_latency_seconds',
    help: 'Time from the code request being accepted to the provider accepting the message',
    labelNames: ['channel', 'provider'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  return {
    registry,
    send: (outcome, provider = labels.provider) => sends.inc({ ...labels, provider, outcome }),
    delivered: (requestedAt, acceptedAt, provider = labels.provider) => {
      // Clocks of the gateway and the worker may disagree a little: never a negative latency.
      const seconds = Math.max(0, (acceptedAt.getTime() - requestedAt.getTime()) / 1000);
      latency.observe({ ...labels, provider }, seconds);
    },
  };
}

/**
 * `otp_delivery_provider_breaker_open{channel,provider}` on the worker's registry: 1 while a
 * provider of the chain is skipped or only tried by one send (open, half-open), 0 when closed.
 * Returns the chain's `onBreakerChange`. Each worker process reports its own breakers
 * (provider-breaker.ts says why they are per process): `max by (provider)` over replicas shows
 * a provider some replica skips.
 */
export function createBreakerGauge(
  registry: Registry,
  labels: { channel: Channel; providers: readonly string[] },
): (provider: string, state: BreakerState) => void {
  const gauge = new Gauge({
    name: 'otp_delivery_provider_breaker_open',
    help: "1 while a provider's circuit breaker is open or half-open in this worker (the chain skips it), 0 when closed",
    labelNames: ['channel', 'provider'] as const,
    registers: [registry],
  });
  for (const provider of labels.providers) gauge.set({ channel: labels.channel, provider }, 0);
  return (provider, state) => gauge.set({ channel: labels.channel, provider }, state === 'closed' ? 0 : 1);
}
