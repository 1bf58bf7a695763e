import {
  type Database,
  historyPartitionHorizonSeconds,
  type KillSwitch,
  type Kysely,
  oldestPendingOutboxAgeSeconds,
} from '@otp/db';
import type { Channel, CodeMetricEvent, Purpose } from '@otp/domain';
import { createMetricsRegistry, type Logger, type Registry, withinTimeout } from '@otp/runtime';
import type { Queue } from 'bullmq';
import { Counter, Gauge } from 'prom-client';
import { registerSmsMetrics, type SmsMetrics, type SmsMetricsOptions } from './sms.metrics.ts';

/**
 * The job states counted per queue, as BullMQ 6 names them. It has no `paused` state any more (a
 * paused queue's jobs stay `waiting`), and `waiting-children` is left out: no flows here.
 */
export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'] as const;

/**
 * How a human check (CAPTCHA) of a covered request ended: `passed`; `required` (no token sent);
 * `failed` (the provider refused the token); `unavailable` (the provider could not be asked: 503).
 */
export type CaptchaOutcome = 'passed' | 'required' | 'failed' | 'unavailable';

export interface GatewayMetrics {
  readonly registry: Registry;
  /** Counts a human check of a covered request (http/captcha.ts calls it). */
  captchaCheck(outcome: CaptchaOutcome): void;
  /** Counts a code event (see EVENT_TYPES in the domain package: recordEvent calls it). */
  codeEvent(event: CodeMetricEvent, labels: { channel: Channel; purpose: Purpose }): void;
  /** The SMS defences' counters (sms.metrics.ts). */
  readonly sms: SmsMetrics;
}

export interface GatewayMetricsOptions {
  db: Kysely<Database>;
  queues: Record<Channel, Queue>;
  log: Logger;
  /** Bound on each scrape-time read of Redis or Postgres. */
  collectTimeoutMs: number;
  /** Argon2id calls running and waiting in this process (the password hasher's bound). */
  passwordHashLoad?: () => { running: number; waiting: number };
  /** The SMS budgets and the clock of the SMS gauges. */
  sms: Pick<SmsMetricsOptions, 'dailyBudget' | 'countryBudgets' | 'clock'>;
  /** The kill switches as this replica last read them. */
  killSwitches?: () => readonly KillSwitch[];
  /** Pings Postgres and Redis (as the readiness route does), for `otp_gateway_dependency_up`. */
  dependencies?: () => Promise<{ postgres: boolean; redis: boolean }>;
}

/**
 * The gateway's registry: default process metrics, code events, human checks (the HTTP request
 * durations are added by `instrumentHttp` when the app is built), and two
 * gauges read when Prometheus scrapes: the depth of both delivery queues (every replica reports
 * the same numbers: aggregate with max()) and the age of the oldest pending outbox row. The
 * password hasher's load and the kill switches are taken from this process when scraped.
 */
export function createGatewayMetrics(options: GatewayMetricsOptions): GatewayMetrics {
  const registry = createMetricsRegistry('gateway');
  const { log, collectTimeoutMs } = options;

  const codeEvents = new Counter({
    name: 'otp_code_events_total',
    help: 'Codes requested, verified, failed (wrong code), expired, locked (challenge) and recipient_locked (address), by channel and purpose',
    labelNames: ['event', 'channel', 'purpose'] as const,
    registers: [registry],
  });

  const captchaChecks = new Counter({
    name: 'otp_captcha_checks_total',
    help: 'Human checks (CAPTCHA) of covered requests by outcome: passed, required (no token), failed (token refused), unavailable (siteverify could not be used: 503)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });

  new Gauge({
    name: 'otp_queue_jobs',
    help: 'Delivery jobs per queue and state, read from Redis at scrape time',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      // Stale numbers are worse than none: a queue whose counts cannot be read has no series
      // in this scrape (alert on absent() / the scrape of the Redis exporter, not on zero).
      this.reset();
      await Promise.all(
        Object.entries(options.queues).map(async ([name, queue]) => {
          try {
            const counts = await withinTimeout(queue.getJobCounts(...QUEUE_STATES), collectTimeoutMs, 'queue counts');
            for (const state of QUEUE_STATES) this.set({ queue: name, state }, counts[state] ?? 0);
          } catch (error) {
            log.warn({ queue: name, err: { message: (error as Error).message } }, 'metrics: queue counts unavailable');
          }
        }),
      );
    },
  });

  /** A gauge read from Postgres when scraped, within the collect bound; left out (and logged) when it fails. */
  const databaseGauge = (name: string, help: string, what: string, read: (db: Kysely<Database>) => Promise<number>) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        this.reset();
        try {
          this.set(await withinTimeout(read(options.db), collectTimeoutMs, what));
        } catch (error) {
          log.warn({ err: { message: (error as Error).message } }, `metrics: ${what} unavailable`);
        }
      },
    });

  databaseGauge(
    'otp_outbox_oldest_pending_seconds',
    'Relay lag: age of the oldest outbox row not yet handed to a queue (0 when none is pending)',
    'outbox lag',
    oldestPendingOutboxAgeSeconds,
  );

  databaseGauge(
    'otp_history_partition_horizon_seconds',
    'Seconds until the newest partition of otp_challenges or security_events ends: at 0, codes and audit events can no longer be written (the maintenance keeps a week ahead)',
    'partition horizon',
    historyPartitionHorizonSeconds,
  );

  const { passwordHashLoad } = options;
  if (passwordHashLoad !== undefined) {
    new Gauge({
      name: 'otp_password_hash_calls',
      help: 'Argon2id hashes and verifications in this process: running, and waiting for a slot (PASSWORD_HASH_CONCURRENCY, PASSWORD_HASH_QUEUE)',
      labelNames: ['state'] as const,
      registers: [registry],
      collect() {
        const load = passwordHashLoad();
        this.set({ state: 'running' }, load.running);
        this.set({ state: 'waiting' }, load.waiting);
      },
    });
  }

  const { killSwitches } = options;
  if (killSwitches !== undefined) {
    new Gauge({
      name: 'otp_kill_switch_off',
      help: 'Kill switches as this replica enforces them: 1 switched off (sends refused and held), 0 on again',
      labelNames: ['target'] as const,
      registers: [registry],
      collect() {
        // What the replica acts on, not a fresh read: a replica that cannot read Postgres shows
        // the state it keeps enforcing.
        this.reset();
        for (const row of killSwitches()) this.set({ target: row.target }, row.off ? 1 : 0);
      },
    });
  }

  const { dependencies } = options;
  if (dependencies !== undefined) {
    new Gauge({
      name: 'otp_gateway_dependency_up',
      help: 'Whether Postgres and Redis answer a ping from this replica at scrape time (1 up, 0 down); redis 0 with postgres 1 is the degraded state of /health/ready',
      labelNames: ['dependency'] as const,
      registers: [registry],
      async collect() {
        const up = await dependencies();
        this.set({ dependency: 'postgres' }, up.postgres ? 1 : 0);
        this.set({ dependency: 'redis' }, up.redis ? 1 : 0);
      },
    });
  }

  const sms = registerSmsMetrics(registry, { ...options.sms, db: options.db, log, collectTimeoutMs });

  return {
    registry,
    sms,
    codeEvent: (event, labels) => codeEvents.inc({ event, ...labels }),
    captchaCheck: (outcome) => captchaChecks.inc({ outcome }),
  };
}
