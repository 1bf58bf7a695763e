import type { Database, Kysely } from '@otp/db';
import { oldestPendingEventAgeSeconds } from '@otp/db';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { WebhookEndpointConfig } from './config.ts';
import type { EndpointStates } from './endpoint-states.ts';

/** What a delivery came to, as `otp_webhook_deliveries_total{outcome}`. */
export type DeliveryOutcome = 'delivered' | 'retry' | 'dead_letter' | 'gone' | 'disabled';

export interface WebhookMetrics {
  delivery(endpointId: string, outcome: DeliveryOutcome, seconds?: number): void;
}

/**
 * The webhook worker's metrics (docs/metrics.md). Endpoints are labelled by id, never by URL (a
 * path may hold a token); their number is what the operator configured, so the labels are bounded.
 */
export function createWebhookMetrics(
  registry: Registry,
  options: { db: Kysely<Database>; endpoints: readonly WebhookEndpointConfig[]; states: EndpointStates },
): WebhookMetrics {
  const deliveries = new Counter({
    name: 'otp_webhook_deliveries_total',
    help: 'Webhook deliveries by endpoint and outcome (delivered, retry, dead_letter, gone, disabled)',
    labelNames: ['endpoint', 'outcome'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'otp_webhook_delivery_duration_seconds',
    help: 'Time from the request to the answer of one webhook delivery, by endpoint',
    labelNames: ['endpoint'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  new Gauge({
    name: 'otp_webhook_endpoint_disabled',
    help: '1 while a configured endpoint is disabled (it answered 410 Gone; `ops webhook-endpoint enable` ends it)',
    labelNames: ['endpoint'],
    registers: [registry],
    collect() {
      for (const endpoint of options.endpoints) {
        this.set({ endpoint: endpoint.id }, options.states.isDisabled(endpoint.id) ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'otp_webhook_outbox_oldest_pending_seconds',
    help: 'Age of the oldest event the relay has not moved to the webhooks queue yet',
    registers: [registry],
    async collect() {
      this.set(await oldestPendingEventAgeSeconds(options.db));
    },
  });
  return {
    delivery(endpointId, outcome, seconds) {
      deliveries.inc({ endpoint: endpointId, outcome });
      if (seconds !== undefined) duration.observe({ endpoint: endpointId }, seconds);
    },
  };
}
