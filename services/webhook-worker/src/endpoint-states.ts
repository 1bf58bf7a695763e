import { type Database, disableWebhookEndpoint, findDisabledWebhookEndpoints, type Kysely } from '@otp/db';
import type { Logger } from '@otp/runtime';
import type { WebhookEndpointConfig } from './config.ts';

export interface EndpointStates {
  isDisabled(endpointId: string): boolean;
  /**
   * Disables an endpoint that answered 410 Gone, in Postgres (every replica sees it at its next
   * read) and here at once. True when this call disabled it (the others found it done).
   */
  disable(endpoint: WebhookEndpointConfig, reason: string): Promise<boolean>;
  /** Reads the states now (the operator's command re-enabled one, say). */
  refresh(): Promise<void>;
  stop(): void;
}

/**
 * The disabled endpoints, read from Postgres every `intervalMs`: one read per interval instead of
 * one per delivery. A replica keeps sending to an endpoint another replica has just disabled for
 * at most that long; each of those sends meets the same 410.
 */
export function watchEndpointStates(options: {
  db: Kysely<Database>;
  log: Logger;
  intervalMs: number;
}): EndpointStates {
  let disabled = new Set<string>();
  async function refresh(): Promise<void> {
    disabled = await findDisabledWebhookEndpoints(options.db);
  }
  const timer = setInterval(() => {
    refresh().catch((error: Error) =>
      options.log.warn({ err: { message: error.message } }, 'could not read the webhook endpoint states'),
    );
  }, options.intervalMs);
  timer.unref();
  return {
    isDisabled: (endpointId) => disabled.has(endpointId),
    async disable(endpoint, reason) {
      const changed = await disableWebhookEndpoint(options.db, {
        id: endpoint.id,
        origin: endpoint.origin,
        reason,
        by: 'webhook-worker',
      });
      disabled.add(endpoint.id);
      return changed;
    },
    refresh,
    stop: () => clearInterval(timer),
  };
}
