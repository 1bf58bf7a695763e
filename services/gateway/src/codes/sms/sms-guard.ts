import {
  type Database,
  findSmsSuspensions,
  type Kysely,
  readSmsCounters,
  type SmsCount,
  type SmsCounterKey,
  takeSmsCounters,
} from '@otp/db';
import {
  normalizePhone,
  PublicError,
  parseCountryBudgets,
  parseCountryList,
  parseNumberTypes,
  type SmsDestination,
  type SmsRecipientPolicy,
  secondsUntil,
  smsDestination,
  smsRefusal,
} from '@otp/domain';
import type { GatewayConfig } from '../../config.ts';
import type { GatewayDeps } from '../../deps.ts';

// The defences of the SMS channel against pumping (toll fraud), in the order a send meets them:
// 1. where SMS may go (country, number type, non-geographic numbers): no database, no Redis;
// 2. the conversion breaker's suspensions of the number's range and country (one indexed read);
// 3. in the transaction that writes the send: one unit of each counter (the range's and the
//    country's hour, the day's budget and the country's), refused past its limit. The counters
//    live in Postgres, next to the send they count: a send is never written without its units,
//    a refused one leaves nothing, and when Postgres is unreachable no send is written at all
//    (503 service_unavailable, like every other write).

export interface SmsRules {
  policy: SmsRecipientPolicy;
  /** Daily budgets of some countries (SMS_DAILY_BUDGET_BY_COUNTRY). */
  countryBudgets: ReadonlyMap<string, number>;
}

const rulesByConfig = new WeakMap<GatewayConfig, SmsRules>();

/** The parsed SMS rules of a configuration (parsed once; the config was checked at start). */
export function smsRules(config: GatewayConfig): SmsRules {
  let rules = rulesByConfig.get(config);
  if (rules === undefined) {
    rules = {
      policy: {
        countries: parseCountryList(config.SMS_ALLOWED_COUNTRIES),
        types: parseNumberTypes(config.SMS_ALLOWED_NUMBER_TYPES),
        allowNonGeographic: config.SMS_ALLOW_NON_GEOGRAPHIC,
      },
      countryBudgets: parseCountryBudgets(config.SMS_DAILY_BUDGET_BY_COUNTRY),
    };
    rulesByConfig.set(config, rules);
  }
  return rules;
}

type Deps = Pick<GatewayDeps, 'config' | 'metrics' | 'db'>;

/**
 * The checks an SMS meets before anything is written, in order: where SMS may go, the operator's
 * kill switches (`sms`, its country, every SMS provider), the conversion breaker's suspensions.
 * Returns the destination the counters are then taken for (`takeSmsSend`).
 */
export async function admitSms(
  deps: Deps & Pick<GatewayDeps, 'killSwitches'>,
  e164: string,
  at: Date,
): Promise<SmsDestination> {
  const destination = allowedSmsDestination(deps, e164);
  const switchedOff = deps.killSwitches.refusal('sms', destination.country);
  if (switchedOff !== null) {
    deps.metrics.sms.refused('channel_suspended', destination.country);
    throw switchedOff;
  }
  await assertSmsNotSuspended(deps, destination, at);
  return destination;
}

/** An email meets only the kill switches (`email`, every email provider). */
export function assertEmailSwitchedOn(deps: Pick<GatewayDeps, 'killSwitches'>): void {
  const switchedOff = deps.killSwitches.refusal('email');
  if (switchedOff !== null) throw switchedOff;
}

/**
 * The destination of an SMS to a normalised number, once the policy allows it; otherwise 400
 * recipient_not_allowed, the same answer whatever the reason (a client learns nothing about why a
 * number is refused that it could use to pick the next one).
 */
export function allowedSmsDestination(deps: Pick<Deps, 'config' | 'metrics'>, e164: string): SmsDestination {
  const destination = smsDestination(e164, deps.config.SMS_RANGE_DIGITS);
  deps.metrics.sms.requested(destination.country);
  const refusal = smsRefusal(smsRules(deps.config).policy, destination);
  if (refusal !== null) throw refuse(deps, 'recipient_not_allowed', destination, {});
  return destination;
}

function refuse(
  deps: Pick<Deps, 'metrics'>,
  code:
    | 'recipient_not_allowed'
    | 'sms_range_limited'
    | 'sms_country_limited'
    | 'sms_budget_exhausted'
    | 'channel_suspended',
  destination: SmsDestination,
  options: { retryAfterSeconds?: number; detail?: string | undefined },
): PublicError {
  deps.metrics.sms.refused(code, destination.country);
  return new PublicError(code, {
    ...(options.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: options.retryAfterSeconds }),
    ...(options.detail === undefined ? {} : { detail: options.detail }),
  });
}

/** 503 channel_suspended while the conversion breaker holds the number's range or country. */
export async function assertSmsNotSuspended(deps: Deps, destination: SmsDestination, at: Date): Promise<void> {
  const suspensions = await findSmsSuspensions(
    deps.db,
    [
      { scope: 'range', key: destination.range },
      { scope: 'country', key: destination.country },
    ],
    at,
  );
  if (suspensions.length === 0) return;
  const until = suspensions.reduce(
    (later, row) => (row.suspended_until !== null && row.suspended_until > later ? row.suspended_until : later),
    at,
  );
  throw refuse(deps, 'channel_suspended', destination, {
    retryAfterSeconds: secondsUntil(until, at),
    detail: 'SMS to this number range or country are suspended for now: too few codes sent there were used',
  });
}

function hourStart(at: Date): Date {
  const start = new Date(at);
  start.setUTCMinutes(0, 0, 0);
  return start;
}

/** Midnight UTC of `at`'s day. */
export function utcDayStart(at: Date): Date {
  const start = new Date(at);
  start.setUTCHours(0, 0, 0, 0);
  return start;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

interface CounterRule {
  key: SmsCounterKey;
  limit: number;
  /** The refusal past the limit, most telling first (see `takeSmsSend`). */
  code: 'sms_budget_exhausted' | 'sms_country_limited' | 'sms_range_limited';
  rank: number;
}

/** The counters one SMS to `destination` at `at` takes a unit of, with their limits. */
function counterRules(config: GatewayConfig, destination: SmsDestination, at: Date): CounterRule[] {
  const hour = hourStart(at);
  const day = utcDayStart(at);
  const rules: CounterRule[] = [
    {
      key: { scope: 'all', key: '*', period: 'day', windowStart: day },
      limit: config.SMS_DAILY_BUDGET,
      code: 'sms_budget_exhausted',
      rank: 0,
    },
    {
      key: { scope: 'country', key: destination.country, period: 'hour', windowStart: hour },
      limit: config.SMS_COUNTRY_LIMIT_PER_HOUR,
      code: 'sms_country_limited',
      rank: 2,
    },
    {
      key: { scope: 'range', key: destination.range, period: 'hour', windowStart: hour },
      limit: config.SMS_RANGE_LIMIT_PER_HOUR,
      code: 'sms_range_limited',
      rank: 3,
    },
  ];
  const countryBudget = smsRules(config).countryBudgets.get(destination.country);
  if (countryBudget !== undefined) {
    rules.push({
      key: { scope: 'country', key: destination.country, period: 'day', windowStart: day },
      limit: countryBudget,
      code: 'sms_budget_exhausted',
      rank: 1,
    });
  }
  return rules;
}

function sameCounter(a: SmsCounterKey, b: SmsCounterKey): boolean {
  return (
    a.scope === b.scope &&
    a.key === b.key &&
    a.period === b.period &&
    a.windowStart.getTime() === b.windowStart.getTime()
  );
}

/**
 * Takes this send's units of the SMS counters in `trx`, the transaction that writes the send, and
 * throws when one is past its limit (the caller's transaction then rolls back, units included).
 * Of several limits passed at once the client is told the one that lasts longest: the day's
 * budget, then the country's, then the range's hour.
 */
export async function takeSmsSend(
  trx: Kysely<Database>,
  deps: Deps,
  destination: SmsDestination,
  at: Date,
): Promise<void> {
  const rules = counterRules(deps.config, destination, at);
  const counts = await takeSmsCounters(
    trx,
    rules.map((rule) => rule.key),
  );
  const passed = rules
    .filter((rule) => (counts.find((count) => sameCounter(count, rule.key))?.count ?? 0) > rule.limit)
    .sort((a, b) => a.rank - b.rank)[0];
  if (passed === undefined) return;
  const ends = new Date(passed.key.windowStart.getTime() + (passed.key.period === 'day' ? DAY_MS : HOUR_MS));
  throw refuse(deps, passed.code, destination, { retryAfterSeconds: secondsUntil(ends, at) });
}

/**
 * Whether the number's range or country has used half its hourly limit (CAPTCHA_MODE=adaptive
 * asks for a human check from then on). Read without taking anything.
 */
export async function smsCountersPastHalf(deps: Deps, destination: SmsDestination, at: Date): Promise<boolean> {
  const rules = counterRules(deps.config, destination, at).filter((rule) => rule.key.period === 'hour');
  const counts: SmsCount[] = await readSmsCounters(
    deps.db,
    rules.map((rule) => rule.key),
  );
  return rules.some((rule) => 2 * (counts.find((count) => sameCounter(count, rule.key))?.count ?? 0) >= rule.limit);
}

/** The destination of a number as typed, or undefined when it is not a valid number. */
function destinationOf(config: GatewayConfig, input: string): SmsDestination | undefined {
  try {
    return smsDestination(normalizePhone(input), config.SMS_RANGE_DIGITS);
  } catch {
    return undefined;
  }
}

/**
 * The adaptive CAPTCHA's probe for an SMS request, from the number as typed: an invalid or
 * refused number is no pressure (its request is refused on its own merits right after).
 */
export async function smsCountersPastHalfFor(deps: Deps, input: string, at: Date): Promise<boolean> {
  const destination = destinationOf(deps.config, input);
  if (destination === undefined || smsRefusal(smsRules(deps.config).policy, destination) !== null) return false;
  return smsCountersPastHalf(deps, destination, at);
}

/** Counts an SMS request the human check refused, by its reason (the error code) and country. */
export function countSmsCaptchaRefusal(deps: Pick<Deps, 'config' | 'metrics'>, input: string, error: unknown): void {
  if (!(error instanceof PublicError) || (error.code !== 'captcha_required' && error.code !== 'captcha_failed')) return;
  const destination = destinationOf(deps.config, input);
  if (destination === undefined) return;
  deps.metrics.sms.requested(destination.country);
  deps.metrics.sms.refused(error.code, destination.country);
}
