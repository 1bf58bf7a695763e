import type { Entry } from './bot.ts';

// The SMS defences' settings for the simulation: small, so a bot reaches every limit within a
// minute, and the most the provider may be handed under them.

export const LIMITS = {
  allowedCountries: ['GB', 'FR', 'DE', 'US'],
  rangePerHour: 5,
  countryPerHour: 30,
  dailyBudget: 60,
  countryBudgets: { US: 10 } as Record<string, number>,
  rangeSample: 3,
  countrySample: 6,
  minConversion: 0.2,
  /** Short, so the bot's unverified codes end (and the breaker judges them) within the run. */
  ttlSeconds: 20,
};

/** The gateways' environment: the limits above, and X-Forwarded-For believed from loopback. */
export function gatewayEnv(): Record<string, string> {
  return {
    TRUST_PROXY: '127.0.0.1',
    SMS_ALLOWED_COUNTRIES: LIMITS.allowedCountries.join(','),
    SMS_RANGE_LIMIT_PER_HOUR: String(LIMITS.rangePerHour),
    SMS_COUNTRY_LIMIT_PER_HOUR: String(LIMITS.countryPerHour),
    SMS_DAILY_BUDGET: String(LIMITS.dailyBudget),
    SMS_DAILY_BUDGET_BY_COUNTRY: Object.entries(LIMITS.countryBudgets)
      .map(([country, budget]) => `${country}:${budget}`)
      .join(','),
    SMS_RANGE_CONVERSION_SAMPLE: String(LIMITS.rangeSample),
    SMS_COUNTRY_CONVERSION_SAMPLE: String(LIMITS.countrySample),
    SMS_MIN_CONVERSION: String(LIMITS.minConversion),
    SMS_BREAKER_INTERVAL_MS: '250',
    OTP_TTL_SECONDS: String(LIMITS.ttlSeconds),
    // A bot resends as soon as it may; the limits, not the cooldown, are under test.
    OTP_RESEND_COOLDOWN_SECONDS: '0',
  };
}

/**
 * How many clock windows the entries touch: the limits are per UTC hour and the budgets per UTC
 * day, so a run that crosses an hour (a day) may be handed up to twice as much.
 */
export function windows(entries: Entry[]): { hours: number; days: number } {
  const first = Math.min(...entries.map((entry) => entry.sentAt));
  const last = Math.max(...entries.map((entry) => entry.answeredAt));
  const span = (ms: number) => Math.floor(last / ms) - Math.floor(first / ms) + 1;
  return { hours: span(3_600_000), days: span(86_400_000) };
}

/** A country's most SMS in the run: its hourly limit, or its daily budget when that is smaller. */
export function countryCeiling(country: string, span: { hours: number; days: number }): number {
  const budget = LIMITS.countryBudgets[country];
  const hourly = LIMITS.countryPerHour * span.hours;
  return budget === undefined ? hourly : Math.min(hourly, budget * span.days);
}

/**
 * The most SMS the provider may be handed for `entries` (every send the bot asked for, accepted
 * or not): each range gives at most its hourly limit, or what was asked of it when less; each
 * country at most its ceiling; all of it at most the daily budget. Numbers SMS may not go to give
 * nothing.
 */
export function providerBound(entries: Entry[]): number {
  const span = windows(entries);
  const asked = new Map<string, Map<string, number>>();
  for (const entry of entries) {
    if (entry.number !== 'mobile' || !LIMITS.allowedCountries.includes(entry.country)) continue;
    const ranges = asked.get(entry.country) ?? new Map<string, number>();
    ranges.set(entry.range, (ranges.get(entry.range) ?? 0) + 1);
    asked.set(entry.country, ranges);
  }
  let total = 0;
  for (const [country, ranges] of asked) {
    const fromRanges = [...ranges.values()].reduce(
      (sum, count) => sum + Math.min(count, LIMITS.rangePerHour * span.hours),
      0,
    );
    total += Math.min(fromRanges, countryCeiling(country, span));
  }
  return Math.min(total, LIMITS.dailyBudget * span.days);
}
