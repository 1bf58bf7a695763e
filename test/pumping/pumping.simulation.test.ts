import { extractCode, useFixture } from '@otp/testkit';
import { describe, expect, it } from 'vitest';
import { type RunningSystem, startSystem } from '../e2e/system.ts';
import { call } from '../security/attacker.ts';
import {
  breakerCaughtUp,
  countBy,
  drained,
  type Entry,
  gatewayMetric,
  Ledger,
  messagesTo,
  nextClient,
  outcomes,
} from './bot.ts';
import { countryCeiling, gatewayEnv, LIMITS, providerBound, windows } from './limits.ts';
import { ALLOWED_COUNTRIES, countryOf, forbiddenNumbers, mobilesInRange, rangeOf } from './numbers.ts';
import { reportTable } from './report.ts';

// The SMS pumping simulation (`pnpm test:pumping`; figures in docs/sms-fraud.md). A bot that earns
// from every SMS delivered to numbers it controls asks codes for numbers in range after range of
// four allowed countries, for premium-rate, toll-free and satellite numbers and for countries not
// allowed, from a new client address every time, through both gateway replicas, and never types a
// code in. The real processes run it: two gateways, the SMS worker, the Twilio-shaped fake (which
// records what it was handed). Then real users of an allowed country, on a fresh system with the
// same settings, must not notice the defences.

/** The column order of the table. */
const COUNTRIES = ALLOWED_COUNTRIES.map((plan) => plan.country);

/** A fresh system with the simulation's limits (two gateways, the SMS worker, the Twilio fake) and its ledger. */
function useSimulation(): () => { system: RunningSystem; ledger: Ledger } {
  return useFixture(
    'useSimulation()',
    async () => {
      const system = await startSystem(gatewayEnv(), {}, { gateways: 2 });
      return { system, ledger: new Ledger(system.baseUrls) };
    },
    ({ system }) => system.stop().then(() => undefined),
    120_000,
  );
}

describe('SMS pumping: a bot walking number ranges, never verifying', () => {
  const simulation = useSimulation();

  it('hands the provider no more than the range, country and budget limits allow, and nothing it must not', async () => {
    const { system, ledger } = simulation();
    const forbidden = forbiddenNumbers(3);
    const ranges = ALLOWED_COUNTRIES.flatMap((plan) =>
      plan.prefixes.map((prefix) => mobilesInRange(prefix, plan.length, plan.country, 8)),
    );

    // Wave 1, range after range (US first, whose own daily budget is small): three codes, a
    // resend of each once the provider has it (sooner, the worker would skip the superseded
    // send), then four more numbers of the range; a few forbidden numbers alongside.
    for (const [index, numbers] of ranges.entries()) {
      const first = await Promise.all(numbers.slice(0, 3).map((to) => ledger.request(to)));
      const challenges = first.filter((entry) => entry.status === 202);
      await Promise.all(challenges.map((entry) => messagesTo(system, entry.to, 1)));
      await Promise.all(challenges.map((entry) => ledger.resend(entry)));
      const extra = forbidden.filter((_, at) => at % ranges.length === index);
      await Promise.all([
        ...numbers.slice(3, 7).map((to) => ledger.request(to)),
        ...extra.map(({ to, kind }) => ledger.request(to, kind)),
      ]);
    }
    const wave1 = ledger.entries.length;

    // Wave 2, once every code of wave 1 expired unverified and the breaker judged them: one more
    // number in every range.
    await breakerCaughtUp(system, (LIMITS.ttlSeconds + 30) * 1000);
    await Promise.all(ranges.map((numbers) => ledger.request(numbers[7] as string)));

    const accepted = ledger.accepted();
    await drained(system, accepted.length);
    const handed = system.twilio.messages;
    const bound = providerBound(ledger.entries);
    const span = windows(ledger.entries);
    const refusedBy = outcomes(ledger.entries);
    const gauges = {
      budgetLeft: await gatewayMetric(system, 'otp_sms_budget_remaining', { scope: 'all' }, 'max'),
      usBudgetLeft: await gatewayMetric(system, 'otp_sms_budget_remaining', { scope: 'US' }, 'max'),
      rangesSuspended: await gatewayMetric(system, 'otp_sms_suspended', { kind: 'range' }, 'max'),
      countriesSuspended: await gatewayMetric(system, 'otp_sms_suspended', { kind: 'country' }, 'max'),
      rangeTrips: await gatewayMetric(system, 'otp_sms_breaker_trips_total', { kind: 'range' }),
      countryTrips: await gatewayMetric(system, 'otp_sms_breaker_trips_total', { kind: 'country' }),
    };
    console.log(
      [
        `[pumping] ${ledger.entries.length} SMS asked for (${wave1} in wave 1, ${ledger.entries.length - wave1} in ` +
          `wave 2 after the breaker), from ${ledger.entries.length} client addresses; limits: ${LIMITS.rangePerHour}/h ` +
          `per range, ${LIMITS.countryPerHour}/h per country, ${LIMITS.dailyBudget}/day (US ${LIMITS.countryBudgets.US}/day)`,
        reportTable(ledger.entries, handed, COUNTRIES),
        `[pumping] provider handed ${handed.length}, at most ${bound} allowed; by country ` +
          JSON.stringify(Object.fromEntries(countBy(handed, (sms) => countryOf(sms.to)))),
        `[pumping] wave 2: ${JSON.stringify(outcomes(ledger.entries.slice(wave1)))}`,
        `[pumping] metrics (counters summed over both gateways, gauges read once): ${JSON.stringify(gauges)}`,
      ].join('\n'),
    );

    // What the provider saw is what the gateways accepted, no more than the settings allow.
    expect(handed).toHaveLength(accepted.length);
    expect(handed.length).toBeGreaterThan(0);
    expect(handed.length).toBeLessThanOrEqual(bound);
    // ... and each limit held on its own: per range and hour, per country, all of it per day.
    for (const [range, count] of countBy(handed, (sms) => rangeOf(sms.to))) {
      expect(count, range).toBeLessThanOrEqual(LIMITS.rangePerHour * span.hours);
    }
    for (const [country, count] of countBy(handed, (sms) => countryOf(sms.to))) {
      expect(LIMITS.allowedCountries).toContain(country);
      expect(count, country).toBeLessThanOrEqual(countryCeiling(country, span));
    }
    expect(handed.length).toBeLessThanOrEqual(LIMITS.dailyBudget * span.days);
    // No premium, toll-free, satellite or other country's number was ever accepted or handed over.
    const mobiles = new Set(ledger.entries.filter((entry) => entry.number === 'mobile').map((entry) => entry.to));
    expect(handed.filter((sms) => !mobiles.has(sms.to))).toEqual([]);
    const notAllowed = ledger.entries.filter((entry) => entry.number !== 'mobile');
    expect(notAllowed).toHaveLength(forbidden.length);
    expect(notAllowed.every((entry: Entry) => entry.outcome === 'recipient_not_allowed')).toBe(true);

    // Every defence had its turn: the range limit (resends count too), the country limit, the
    // budgets, and the breaker, whose suspensions answer wave 2 before any counter is touched.
    for (const code of ['sms_range_limited', 'sms_country_limited', 'sms_budget_exhausted', 'channel_suspended']) {
      expect(refusedBy[code], `${code} in ${JSON.stringify(refusedBy)}`).toBeGreaterThan(0);
    }
    expect(ledger.entries.some((entry) => entry.kind === 'resend' && entry.outcome === 'sms_range_limited')).toBe(true);
    // Nothing else went wrong: every answer is an acceptance or one of the defences' refusals.
    expect(new Set(ledger.entries.map((entry) => entry.status))).toEqual(new Set([202, 400, 429, 503]));

    // The metrics the alerts read say the same: every refusal by its code, every send, the budget.
    for (const [code, count] of Object.entries(refusedBy)) {
      if (code === 'accepted') continue;
      expect(await gatewayMetric(system, 'otp_sms_refused_total', { reason: code }), code).toBe(count);
    }
    expect(await gatewayMetric(system, 'otp_sms_requested_total')).toBe(ledger.entries.length);
    expect(await gatewayMetric(system, 'otp_sms_sent_total')).toBe(accepted.length);
    if (span.days === 1) expect(gauges.budgetLeft).toBe(LIMITS.dailyBudget - handed.length);
    expect(gauges.rangesSuspended).toBeGreaterThan(0);
  }, 240_000);
});

describe('SMS pumping: real users of an allowed country', () => {
  const simulation = useSimulation();

  it('are never refused, and every code they receive verifies', async () => {
    const { system, ledger } = simulation();
    const gb = ALLOWED_COUNTRIES.find((plan) => plan.country === 'GB');
    if (gb === undefined) throw new Error('no GB plan');
    // Twenty people over eight ranges (at most three a range), four of them asking for a resend:
    // at most four SMS a range and 24 in all, within every limit, as real traffic is.
    const users = Array.from({ length: 20 }, (_, index) => ({
      to: mobilesInRange(gb.prefixes[index % 8] as string, gb.length, 'GB', 3)[Math.floor(index / 8)] as string,
      resend: index % 5 === 0,
      client: nextClient(),
    }));
    const verified = await Promise.all(
      users.map(async (user) => {
        const requested = await ledger.request(user.to, 'mobile', user.client);
        if (requested.status !== 202) return requested.outcome;
        let sends = 1;
        if (user.resend) {
          await messagesTo(system, user.to, 1);
          if ((await ledger.resend(requested, user.client)).status !== 202) return 'resend refused';
          sends = 2;
        }
        const messages = await messagesTo(system, user.to, sends);
        const code = extractCode((messages.at(-1) as { body: string }).body);
        const path = `/v1/otp/challenges/${requested.challengeId}/verify`;
        const gateway = system.baseUrls[sends % system.baseUrls.length] as string;
        const answer = await call(gateway, 'POST', path, { code }, { 'x-forwarded-for': user.client });
        return answer.status === 200 ? 'verified' : `verify ${answer.status} ${String(answer.body.code)}`;
      }),
    );
    await drained(system, ledger.accepted().length);
    await breakerCaughtUp(system, 30_000);
    const suspended = await system.database.db
      .selectFrom('sms_breakers')
      .select(['scope', 'key'])
      .where('suspended_until', 'is not', null)
      .execute();
    console.log(
      [
        `[pumping] real users: ${users.length} people in GB, ${ledger.entries.length} SMS asked for ` +
          `(${users.filter((user) => user.resend).length} resends)`,
        reportTable(ledger.entries, system.twilio.messages, COUNTRIES),
        `[pumping] real users: ${JSON.stringify(Object.fromEntries(countBy(verified, (outcome) => outcome)))}; breaker suspensions: ${suspended.length}`,
      ].join('\n'),
    );

    expect(outcomes(ledger.entries)).toEqual({ accepted: 24 });
    expect(verified.every((outcome) => outcome === 'verified')).toBe(true);
    expect(system.twilio.messages).toHaveLength(24);
    expect(suspended).toEqual([]);
    expect(await gatewayMetric(system, 'otp_sms_verified_total', { country: 'GB' })).toBe(users.length);
    expect(await gatewayMetric(system, 'otp_sms_refused_total')).toBe(0);
  }, 180_000);
});
