import {
  appendSmsOutcomes,
  claimEndedSmsOutcomes,
  type Database,
  insertSecurityEvent,
  type Kysely,
  type SmsOutcome,
  suspendSms,
} from '@otp/db';
import type { Logger } from '@otp/runtime';
import type { SmsMetrics } from '../../ops/sms.metrics.ts';

// The conversion breaker. People who ask for a code mostly type it in; a bot pumping SMS to
// numbers it earns from never does. Every gateway, on a timer, claims the SMS challenges that
// ended since (verified, locked, or past their expiry unverified; pending ones count for
// nothing, so a burst of real users whose codes are on their way cannot trip it), appends their
// outcomes to their number range's and country's samples, and suspends a range or country whose
// full sample (the latest SMS_RANGE_CONVERSION_SAMPLE / SMS_COUNTRY_CONVERSION_SAMPLE outcomes)
// has a share verified below SMS_MIN_CONVERSION. A trip clears the sample, so after the
// suspension a fresh sample judges it again; outcomes that arrive while it is suspended (codes
// sent before the trip) count towards that next sample.

export interface ConversionBreakerOptions {
  db: Kysely<Database>;
  log: Logger;
  metrics: Pick<SmsMetrics, 'breakerTripped'>;
  intervalMs: number;
  rangeSample: number;
  countrySample: number;
  minConversion: number;
  suspendSeconds: number;
  clock?: () => Date;
}

export interface Trip {
  scope: 'range' | 'country';
  key: string;
  verified: number;
  sample: number;
  until: Date;
}

export interface ConversionBreaker {
  /** One sweep: claims ended outcomes, judges the ranges and countries they touch; returns the trips. */
  runOnce(): Promise<Trip[]>;
  stop(): Promise<void>;
}

/** Ended challenges claimed per statement: a sweep goes on until fewer come back. */
const CLAIM_BATCH = 500;

function groupBy(outcomes: SmsOutcome[], key: (outcome: SmsOutcome) => string): Map<string, boolean[]> {
  const groups = new Map<string, boolean[]>();
  for (const outcome of outcomes) {
    const group = groups.get(key(outcome)) ?? [];
    group.push(outcome.verified);
    groups.set(key(outcome), group);
  }
  return groups;
}

export function startConversionBreaker(options: ConversionBreakerOptions): ConversionBreaker {
  const { db, log } = options;
  const now = () => options.clock?.() ?? new Date();

  async function judge(scope: 'range' | 'country', key: string, outcomes: boolean[], at: Date): Promise<Trip | null> {
    const sample = scope === 'range' ? options.rangeSample : options.countrySample;
    return db.transaction().execute(async (trx) => {
      const kept = await appendSmsOutcomes(trx, scope, key, outcomes, sample);
      if (kept.suspendedUntil !== null && kept.suspendedUntil > at) return null;
      if (kept.outcomes.length < sample) return null;
      const verified = kept.outcomes.filter(Boolean).length;
      if (verified >= options.minConversion * sample) return null;
      const until = new Date(at.getTime() + options.suspendSeconds * 1000);
      await suspendSms(trx, scope, key, until);
      // No request to tie it to: the audit row names the breaker, not a client.
      await insertSecurityEvent(trx, {
        type: 'sms.suspended',
        userId: null,
        ip: null,
        userAgent: null,
        requestId: null,
        details: { scope, key, verified, sample, minConversion: options.minConversion, until: until.toISOString() },
      });
      return { scope, key, verified, sample, until };
    });
  }

  async function runOnce(): Promise<Trip[]> {
    const trips: Trip[] = [];
    for (;;) {
      const at = now();
      const outcomes = await claimEndedSmsOutcomes(db, at, CLAIM_BATCH);
      const judged = [
        ...[...groupBy(outcomes, (o) => o.range)].map(([key, list]) => judge('range', key, list, at)),
        ...[...groupBy(outcomes, (o) => o.country)].map(([key, list]) => judge('country', key, list, at)),
      ];
      for (const trip of await Promise.all(judged)) {
        if (trip === null) continue;
        trips.push(trip);
        options.metrics.breakerTripped(trip.scope);
        log.warn({ event: 'sms.suspended', ...trip, until: trip.until.toISOString() }, 'sms.suspended');
      }
      if (outcomes.length < CLAIM_BATCH) return trips;
    }
  }

  let running: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    // A sweep still running when the timer fires again is left to finish (a slow database).
    if (running !== null) return;
    running = runOnce()
      .catch((error: Error) => log.warn({ err: { message: error.message } }, 'conversion breaker sweep failed'))
      .finally(() => {
        running = null;
      });
  }, options.intervalMs);
  timer.unref();
  return {
    runOnce,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
