import { parseExposition, sampleValue, useProxiedDatabase } from '@otp/testkit';
import { beforeEach, describe, expect, it } from 'vitest';
import { resend } from '../../testing/flows.ts';
import { useTestGateway, useTestReplica } from '../../testing/gateway.fixture.ts';
import { post, uniqueEmail } from '../../testing/gateway.harness.ts';
import { numbersIn, OPEN_LIMITS, requestAll, setClock, smsJobs, tally } from './sms-testing.ts';

// The SMS counters on two replicas of one deployment, under parallel requests: exact limits per
// number range and country per hour, the day's budget, resends counted like new challenges.

/** 10:20:00 UTC of today: 40 minutes left in the hour, 13 h 40 min in the day. */
function tenTwenty(): Date {
  const at = new Date();
  at.setUTCHours(10, 20, 0, 0);
  return at;
}

describe('SMS per number range and per country per hour', () => {
  const env = {
    ...OPEN_LIMITS,
    SMS_ALLOWED_COUNTRIES: 'GB,FR',
    SMS_RANGE_LIMIT_PER_HOUR: '3',
    SMS_COUNTRY_LIMIT_PER_HOUR: '5',
  };
  const primary = useTestGateway({ env });
  const replica = useTestReplica(primary, env);
  const { database } = primary;
  const replicas = [primary, replica];
  let at: Date;

  beforeEach(async () => {
    await database.db.deleteFrom('sms_counters').execute();
    at = tenTwenty();
    setClock(replicas, at);
  });

  it('accepts exactly the range limit of parallel requests across replicas, then 429 sms_range_limited', async () => {
    const answers = await requestAll(replicas, numbersIn('+447400', 10, 'GB'));
    expect(tally(answers)).toEqual({ '202': 3, '429 sms_range_limited': 7 });
    // Until the end of the clock hour: 40 minutes.
    for (const answer of answers.filter((a) => a.status === 429)) expect(answer.headers['retry-after']).toBe('2400');
    const written = await database.db
      .selectFrom('otp_challenges')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('sms_range', '=', '44-7400')
      .executeTakeFirstOrThrow();
    expect(Number(written.count)).toBe(3);

    // Another range of the same country still has room, up to the country's limit (5).
    expect(tally(await requestAll(replicas, numbersIn('+447700', 4, 'GB')))).toEqual({
      '202': 2,
      '429 sms_country_limited': 2,
    });
    // France is another country.
    expect(tally(await requestAll(replicas, numbersIn('+33612', 2, 'FR', 12)))).toEqual({ '202': 2 });

    // The next clock hour starts every count again.
    setClock(replicas, new Date(at.getTime() + 40 * 60_000));
    expect(tally(await requestAll(replicas, numbersIn('+447400', 3, 'GB', 13, 100)))).toEqual({ '202': 3 });
  });

  it('purges the counters of windows that ended over a day ago', async () => {
    await requestAll(replicas, numbersIn('+447400', 1, 'GB', 13, 500));
    const old = new Date(Date.now() - 3 * 86_400_000);
    await database.db
      .insertInto('sms_counters')
      .values({ scope: 'range', key: '44-7400', period: 'hour', window_start: old, count: 7 })
      .execute();
    const outcome = await primary.gateway.deps.purge.runOnce();
    expect(outcome.smsCounters).toBe(1);
    const left = await database.db.selectFrom('sms_counters').select('window_start').execute();
    expect(left.length).toBeGreaterThan(0);
    expect(left.every((row) => row.window_start.getTime() > old.getTime())).toBe(true);
  });

  it('counts every resend, and refuses one past the limit without changing the challenge', async () => {
    const [first] = await requestAll(replicas, numbersIn('+447555', 1, 'GB'));
    expect(first?.status).toBe(202);
    const id = String(first?.body.challengeId);
    expect((await resend(primary.gateway, id)).status).toBe(202);
    expect((await resend(replica.gateway, id)).status).toBe(202);
    const refused = await resend(primary.gateway, id);
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('sms_range_limited');
    const row = await database.db
      .selectFrom('otp_challenges')
      .select('send_count')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.send_count).toBe(3);
    const outbox = await database.db
      .selectFrom('delivery_outbox')
      .select('send_number')
      .where('challenge_id', '=', id)
      .execute();
    expect(outbox.map((r) => r.send_number).sort()).toEqual([1, 2, 3]);
  });
});

describe('the daily SMS budget', () => {
  const env = {
    ...OPEN_LIMITS,
    SMS_ALLOWED_COUNTRIES: 'GB,FR',
    SMS_DAILY_BUDGET: '5',
    SMS_DAILY_BUDGET_BY_COUNTRY: 'FR:2',
  };
  const primary = useTestGateway({ env });
  const replica = useTestReplica(primary, env);
  const replicas = [primary, replica];

  async function scrape() {
    const response = await primary.gateway.ops.inject({ method: 'GET', url: '/metrics' });
    return parseExposition(response.body);
  }

  it('spends exactly the budget across replicas, then answers 503 until the next UTC day; email still works', async () => {
    const at = tenTwenty();
    setClock(replicas, at);
    const france = await requestAll(replicas, numbersIn('+33612', 4, 'FR', 12));
    expect(tally(france)).toEqual({ '202': 2, '503 sms_budget_exhausted': 2 });
    const britain = await requestAll(replicas, numbersIn('+447400', 6, 'GB'));
    expect(tally(britain)).toEqual({ '202': 3, '503 sms_budget_exhausted': 3 });
    // 13 h 40 min to midnight UTC.
    for (const answer of [...france, ...britain].filter((a) => a.status === 503)) {
      expect(answer.headers['retry-after']).toBe(String(13 * 3600 + 40 * 60));
    }
    expect(await smsJobs(primary.gateway)).toBe(5);
    expect(
      (await post(primary.gateway.app, '/v1/otp/challenges', { channel: 'email', to: uniqueEmail() })).status,
    ).toBe(202);

    const families = await scrape();
    expect(sampleValue(families, 'otp_sms_budget_remaining', { scope: 'all', service: 'gateway' })).toBe(0);
    expect(sampleValue(families, 'otp_sms_budget_remaining', { scope: 'FR', service: 'gateway' })).toBe(0);
    expect(sampleValue(families, 'otp_sms_budget_limit', { scope: 'all', service: 'gateway' })).toBe(5);
    // This replica's own counters: its share of the requests.
    const sent = sampleValue(families, 'otp_sms_sent_total', { country: 'GB', service: 'gateway' }) ?? 0;
    const refused =
      sampleValue(families, 'otp_sms_refused_total', {
        reason: 'sms_budget_exhausted',
        country: 'GB',
        service: 'gateway',
      }) ?? 0;
    expect(sent + refused).toBe(3);

    // A new UTC day, a new budget.
    setClock(replicas, new Date(at.getTime() + (13 * 3600 + 40 * 60) * 1000));
    expect(tally(await requestAll(replicas, numbersIn('+447400', 2, 'GB', 13, 50)))).toEqual({ '202': 2 });
  });
});

describe('SMS while the counters cannot be read (Postgres stalled)', () => {
  const { database, proxy, url } = useProxiedDatabase();

  const { gateway } = useTestGateway(
    () => ({
      env: { ...OPEN_LIMITS, DATABASE_URL: url(), DATABASE_TIMEOUT_MS: '500', SMS_ALLOWED_COUNTRIES: 'GB' },
    }),
    database,
  );

  it('answers 503 service_unavailable with Retry-After and sends nothing uncounted', async () => {
    proxy().stall();
    const answer = await post(gateway.app, '/v1/otp/challenges', { channel: 'sms', to: '+447400123456' });
    expect(answer.status).toBe(503);
    expect(answer.body.code).toBe('service_unavailable');
    expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
    proxy().restore();
    expect(await gateway.inspect.sms.getJobCounts()).toMatchObject({ waiting: 0, delayed: 0, active: 0 });
    // Whatever was sent is counted: as many units as sends.
    const sends = await database.db.selectFrom('delivery_outbox').select('id').where('channel', '=', 'sms').execute();
    const units = await database.db.selectFrom('sms_counters').select('count').where('scope', '=', 'all').execute();
    expect(units.reduce((total, row) => total + row.count, 0)).toBe(sends.length);
  });
});
