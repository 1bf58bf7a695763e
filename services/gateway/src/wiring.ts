import { createDb } from '@otp/db';
import { type Channel, QUEUE_NAMES, redisTarget } from '@otp/domain';
import type { Catalogue } from '@otp/messages';
import { catalogueFromConfig } from '@otp/messages';
import { createProducerRedis, disabledTracing, type Logger, type RedisClient, type Tracing } from '@otp/runtime';
import { Queue, type Telemetry } from 'bullmq';
import { createPasswordHasher } from './accounts/auth/password.service.ts';
import { authenticatorFactors } from './accounts/factors/authenticator.verifier.ts';
import { startKillSwitches } from './codes/kill-switches.ts';
import { type OutboxReconciler, startOutboxReconciler } from './codes/outbox/outbox.reconciler.ts';
import { type OutboxRelay, startOutboxRelay } from './codes/outbox/outbox.relay.ts';
import { type ConversionBreaker, startConversionBreaker } from './codes/sms/conversion-breaker.ts';
import { smsRules } from './codes/sms/sms-guard.ts';
import type { GatewayConfig } from './config.ts';
import { type GatewayDeps, now } from './deps.ts';
import { createDrain, type Drain } from './http/drain.ts';
import { createGatewayKeys } from './keys.ts';
import { createGatewayMetrics } from './ops/gateway.metrics.ts';
import { dependencyChecks } from './ops/health.routes.ts';
import { type PurgeSchedule, startPurgeSchedule } from './ops/purge.schedule.ts';

// The top of the gateway's import graph: builds the real dependencies and closes them. Only
// main.ts and the package entry (for the test harness) import it.

/** The real deps plus the handles of what runs in the background, for main.ts and tests to stop. */
export interface RunningGatewayDeps extends GatewayDeps {
  relay: OutboxRelay;
  reconciler: OutboxReconciler;
  drain: Drain;
  purge: PurgeSchedule;
  breaker: ConversionBreaker;
}

/** `telemetry`: BullMQ's spans when tracing (`Tracing.queueTelemetry`), carrying the trace to the job. */
export function createDeliveryQueues(
  redis: RedisClient,
  prefix: string,
  log: Logger,
  telemetry?: Telemetry,
): Record<Channel, Queue> {
  const make = (channel: Channel) => {
    const queue = new Queue(QUEUE_NAMES[channel], {
      connection: redis,
      prefix,
      ...(telemetry === undefined ? {} : { telemetry }),
    });
    queue.on('error', (error: Error) => log.error({ err: { message: error.message }, queue: channel }, 'queue error'));
    return queue;
  };
  return { email: make('email'), sms: make('sms') };
}

/**
 * Creates the clients (Postgres pool, one fail-fast Redis connection shared by the rate limiter
 * and the queue producers) and starts the outbox relay, its reconciler, the purge and the
 * kill switches' reader (after its first read). `catalogue`: main.ts reads it with the config;
 * otherwise (tests) it is read here, before any client exists. `tracing`: what main.ts started
 * (tests: none).
 */
export async function createGatewayDeps(
  config: GatewayConfig,
  log: Logger,
  catalogue: Catalogue = catalogueFromConfig(config),
  tracing: Tracing = disabledTracing,
): Promise<RunningGatewayDeps> {
  const keys = await createGatewayKeys(config);
  const db = createDb({
    url: config.DATABASE_URL,
    pooler: config.DATABASE_POOLER,
    applicationName: 'otp-gateway',
    statementTimeoutMs: config.DATABASE_TIMEOUT_MS,
    connectionTimeoutMs: config.DATABASE_TIMEOUT_MS,
  });
  const redis = createProducerRedis(redisTarget(config), log, 'gateway');
  const queues = createDeliveryQueues(redis, config.QUEUE_PREFIX, log, tracing.queueTelemetry);
  const enqueue = {
    queues,
    jobOptions: {
      attempts: config.DELIVERY_ATTEMPTS,
      backoffMs: config.DELIVERY_BACKOFF_MS,
      failedRetentionSeconds: config.DELIVERY_FAILED_RETENTION_SECONDS,
    },
    queuesReady: () => redis.status === 'ready',
  };
  const relay = startOutboxRelay({
    ...enqueue,
    db,
    log: log.child({ component: 'outbox-relay' }),
    intervalMs: config.RELAY_INTERVAL_MS,
    batchSize: config.RELAY_BATCH_SIZE,
  });
  const reconciler = startOutboxReconciler({
    ...enqueue,
    db,
    log: log.child({ component: 'outbox-reconciler' }),
    intervalMs: config.RELAY_RECONCILE_INTERVAL_MS,
    quietSeconds: config.RELAY_RECONCILE_AFTER_SECONDS,
    batchSize: config.RELAY_BATCH_SIZE,
  });
  // Rows refused while Redis was away wait out a backoff of up to 30 s; when Redis is back there
  // is no reason to: relay them at once.
  redis.on('ready', () => relay.resumeDeferred());
  const purge = startPurgeSchedule({
    db,
    log: log.child({ component: 'purge' }),
    intervalMs: config.PURGE_INTERVAL_MS,
    retentionSeconds: config.EXPIRED_RETENTION_SECONDS,
    recipientWindowSeconds: config.OTP_RECIPIENT_WINDOW_SECONDS,
    unverifiedAccountSeconds: config.UNVERIFIED_ACCOUNT_TTL_SECONDS,
    // The sign-in limit's Postgres fallback counts failures over its window: never purge those.
    securityEventSeconds: Math.max(
      config.SECURITY_EVENTS_RETENTION_DAYS * 86_400,
      config.SIGN_IN_FAILURE_WINDOW_SECONDS,
    ),
  });
  await purge.ready;
  const passwords = createPasswordHasher(config);
  const killSwitches = await startKillSwitches({
    db,
    log: log.child({ component: 'kill-switches' }),
    intervalMs: config.KILL_SWITCH_REFRESH_MS,
  });
  const deps: Omit<RunningGatewayDeps, 'breaker'> = {
    config,
    db,
    redis,
    queues,
    relay,
    reconciler,
    purge,
    killSwitches,
    keys,
    catalogue,
    passwords,
    drain: createDrain(),
    log,
    metrics: createGatewayMetrics({
      db,
      queues,
      log: log.child({ component: 'metrics' }),
      collectTimeoutMs: config.METRICS_COLLECT_TIMEOUT_MS,
      passwordHashLoad: passwords.load,
      sms: {
        dailyBudget: config.SMS_DAILY_BUDGET,
        countryBudgets: smsRules(config).countryBudgets,
        // Reads deps at each scrape, so a clock a test sets later applies to the budget's day too.
        clock: () => now(deps),
      },
      killSwitches: killSwitches.switches,
      dependencies: () => dependencyChecks({ db, redis }),
    }),
    tracing,
  };
  const breaker = startConversionBreaker({
    db,
    log: log.child({ component: 'conversion-breaker' }),
    metrics: deps.metrics.sms,
    intervalMs: config.SMS_BREAKER_INTERVAL_MS,
    rangeSample: config.SMS_RANGE_CONVERSION_SAMPLE,
    countrySample: config.SMS_COUNTRY_CONVERSION_SAMPLE,
    minConversion: config.SMS_MIN_CONVERSION,
    suspendSeconds: config.SMS_SUSPEND_SECONDS,
    clock: () => now(deps),
  });
  const running: RunningGatewayDeps = Object.assign(deps, { breaker });
  // Reads deps at each call, so a clock a test sets later applies to factor codes too.
  running.factors = authenticatorFactors(running);
  return running;
}

/** Ends a Redis connection whether or not it ever connected (QUIT needs a live connection). */
export async function closeRedis(redis: RedisClient): Promise<void> {
  if (redis.status === 'ready') {
    await redis.quit().catch(() => redis.disconnect());
  } else {
    redis.disconnect();
  }
}

/**
 * Stops the purge timer, the kill switches' reader, the reconciler and the relay, then closes
 * queues, Redis and the Postgres pool, in that order.
 */
export async function closeGatewayDeps(deps: RunningGatewayDeps): Promise<void> {
  deps.purge.stop();
  await deps.breaker.stop();
  await deps.killSwitches.stop();
  await deps.reconciler.stop();
  await deps.relay.stop();
  await Promise.all(Object.values(deps.queues).map((queue) => queue.close()));
  await closeRedis(deps.redis);
  await deps.db.destroy();
  // Last: the spans of the requests that just finished are exported too.
  await deps.tracing.shutdown().catch(() => {});
}
