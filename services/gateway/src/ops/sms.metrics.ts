import { countSmsSuspensions, type Database, dailySmsCounts, type Kysely } from '@otp/db';
import { type Logger, type Registry, withinTimeout } from '@otp/runtime';
import { Counter, Gauge } from 'prom-client';

/** Why an SMS was refused: the error code the client was given. */
export type SmsRefusal =
  | 'recipient_not_allowed'
  | 'sms_range_limited'
  | 'sms_country_limited'
  | 'sms_budget_exhausted'
  | 'channel_suspended'
  | 'captcha_required'
  | 'captcha_failed';

/** The counters of the SMS defences; `country` is ISO 3166-1 alpha-2, `001` for non-geographic numbers. */
export interface SmsMetrics {
  /** An SMS (new challenge or resend) reached the SMS checks. */
  requested(country: string): void;
  refused(reason: SmsRefusal, country: string): void;
  /** An SMS was accepted and counted against the budget (after its commit). */
  sent(country: string): void;
  verified(country: string): void;
  breakerTripped(kind: 'range' | 'country'): void;
}

export interface SmsMetricsOptions {
  db: Kysely<Database>;
  log: Logger;
  collectTimeoutMs: number;
  dailyBudget: number;
  countryBudgets: ReadonlyMap<string, number>;
  clock: () => Date;
}

/**
 * Counters moved by the requests, and gauges read from Postgres at scrape time: the day's budget
 * left (overall and per budgeted country) and how many ranges and countries are suspended. Every
 * replica reports the same gauges: aggregate them with max().
 */
export function registerSmsMetrics(registry: Registry, options: SmsMetricsOptions): SmsMetrics {
  const { db, log, collectTimeoutMs } = options;
  const counter = (name: string, help: string, labelNames: string[]) =>
    new Counter({ name, help, labelNames, registers: [registry] });
  const requested = counter(
    'otp_sms_requested_total',
    'SMS (new challenges and resends) that reached the SMS checks, by country',
    ['country'],
  );
  const refused = counter('otp_sms_refused_total', 'SMS refused, by reason (the error code) and country', [
    'reason',
    'country',
  ]);
  const sent = counter('otp_sms_sent_total', 'SMS accepted and counted against the budget, by country', ['country']);
  const verified = counter('otp_sms_verified_total', 'SMS codes verified, by country', ['country']);
  const trips = counter('otp_sms_breaker_trips_total', 'Conversion breaker trips (a range or country suspended)', [
    'kind',
  ]);

  const budgets = (): Array<[string, number]> => [['all', options.dailyBudget], ...options.countryBudgets.entries()];
  new Gauge({
    name: 'otp_sms_budget_limit',
    help: 'SMS budget of the UTC day: scope all (SMS_DAILY_BUDGET) or a country (SMS_DAILY_BUDGET_BY_COUNTRY)',
    labelNames: ['scope'] as const,
    registers: [registry],
    collect() {
      for (const [scope, limit] of budgets()) this.set({ scope }, limit);
    },
  });
  new Gauge({
    name: 'otp_sms_budget_remaining',
    help: 'SMS left in the UTC day budget (scope all, or a budgeted country), read from Postgres at scrape time',
    labelNames: ['scope'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      try {
        const day = new Date(options.clock());
        day.setUTCHours(0, 0, 0, 0);
        const counts = await withinTimeout(dailySmsCounts(db, day), collectTimeoutMs, 'sms budget');
        for (const [scope, limit] of budgets()) {
          const used = counts.find((row) =>
            scope === 'all' ? row.scope === 'all' : row.scope === 'country' && row.key === scope,
          );
          this.set({ scope }, Math.max(0, limit - (used?.count ?? 0)));
        }
      } catch (error) {
        log.warn({ err: { message: (error as Error).message } }, 'metrics: sms budget unavailable');
      }
    },
  });
  new Gauge({
    name: 'otp_sms_suspended',
    help: 'Number ranges and countries suspended by the conversion breaker now, by kind',
    labelNames: ['kind'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      try {
        const counts = await withinTimeout(
          countSmsSuspensions(db, options.clock()),
          collectTimeoutMs,
          'sms suspensions',
        );
        this.set({ kind: 'range' }, counts.range);
        this.set({ kind: 'country' }, counts.country);
      } catch (error) {
        log.warn({ err: { message: (error as Error).message } }, 'metrics: sms suspensions unavailable');
      }
    },
  });

  return {
    requested: (country) => requested.inc({ country }),
    refused: (reason, country) => refused.inc({ reason, country }),
    sent: (country) => sent.inc({ country }),
    verified: (country) => verified.inc({ country }),
    breakerTripped: (kind) => trips.inc({ kind }),
  };
}
