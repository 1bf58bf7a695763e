import type { Database, Kysely } from '@otp/db';
import type { Channel } from '@otp/domain';
import type { Catalogue } from '@otp/messages';
import type { Logger, RedisClient, Tracing } from '@otp/runtime';
import type { Queue } from 'bullmq';
import type { FactorVerifier } from './accounts/auth/factor.port.ts';
import type { PasswordHasher } from './accounts/auth/password.service.ts';
import type { KillSwitches } from './codes/kill-switches.ts';
import type { OutboxRelay } from './codes/outbox/outbox.relay.ts';
import type { GatewayConfig } from './config.ts';
import type { Drain } from './http/drain.ts';
import type { GatewayKeys } from './keys.ts';
import type { GatewayMetrics } from './ops/gateway.metrics.ts';

// The gateway's dependency type, and nothing that builds it: every folder imports this file, so
// it imports only types (the factory is wiring.ts, imported by main.ts and the test harness).

/** Everything the gateway's routes use, built once in main.ts (or by a test) and passed down. */
export interface GatewayDeps {
  config: GatewayConfig;
  db: Kysely<Database>;
  /** Fail-fast Redis connection: per-IP rate limits and the readiness check. */
  redis: RedisClient;
  /** Delivery queues by channel (producers only). */
  queues: Record<Channel, Queue>;
  /** The operator's kill switches as last read: code requests and resends they stop answer 503. */
  killSwitches: KillSwitches;
  /** Moves outbox rows to the queues; routes nudge it after a commit. */
  relay: Pick<OutboxRelay, 'nudge'>;
  keys: GatewayKeys;
  /**
   * The message catalogue, read once at start: which locales exist, so each send records the
   * catalogue locale it asks for (the workers render it).
   */
  catalogue: Catalogue;
  /** Argon2id hashing of passwords. */
  passwords: PasswordHasher;
  /** Second factors of the MFA step (TOTP, HOTP, recovery codes); unset: no account has one. */
  factors?: FactorVerifier;
  /** Flipped when the replica is told to stop (see http/drain.ts); unset: never drains. */
  drain?: Drain;
  log: Logger;
  /** The registry served at /metrics and the counters the routes move. */
  metrics: GatewayMetrics;
  /** OpenTelemetry, started by main.ts before the rest (disabledTracing unless an OTLP endpoint is set). */
  tracing: Tracing;
  /** Current time; tests may pass their own. */
  clock?: () => Date;
}

/** The current time, from the injected clock when there is one. */
export function now(deps: Pick<GatewayDeps, 'clock'>): Date {
  return deps.clock?.() ?? new Date();
}
