import { createHistoryPartitions } from '@otp/db';
import { parseExposition, sampleValue } from '@otp/testkit';
import { beforeEach, describe, expect, it } from 'vitest';
import { deliveredCode } from '../../testing/delivered-code.ts';
import { verify } from '../../testing/flows.ts';
import { useTestGateway, useTestReplica } from '../../testing/gateway.fixture.ts';
import { numbersIn, OPEN_LIMITS, requestAll, setClock, tally } from './sms-testing.ts';

// The conversion breaker on two replicas: ranges and countries whose codes nobody verifies are
// suspended; pending challenges count for nothing; verified ones keep a range open.
describe('the conversion breaker', () => {
  const env = {
    ...OPEN_LIMITS,
    SMS_ALLOWED_COUNTRIES: 'GB,FR,DE',
    OTP_TTL_SECONDS: '60',
    SMS_RANGE_CONVERSION_SAMPLE: '4',
    SMS_COUNTRY_CONVERSION_SAMPLE: '10',
    SMS_MIN_CONVERSION: '0.5',
    SMS_SUSPEND_SECONDS: '600',
    // The tests sweep when they mean to.
    SMS_BREAKER_INTERVAL_MS: '3600000',
  };
  const primary = useTestGateway({ env });
  const replica = useTestReplica(primary, env);
  const replicas = [primary, replica];
  const { database } = primary;
  let at: Date;

  beforeEach(async () => {
    at = new Date(Date.now() + 10 * 86_400_000);
    setClock(replicas, at);
    // Ten days on, past the partitions a fresh database has: the history's days for that clock.
    await createHistoryPartitions(database.db, at, 2);
  });

  /** Moves both replicas' clocks on; returns the new time. */
  const later = (seconds: number) => {
    at = new Date(at.getTime() + seconds * 1000);
    setClock(replicas, at);
    return at;
  };

  /** Both replicas sweep at once; returns the trips. */
  const sweep = async () => (await Promise.all(replicas.map(({ gateway }) => gateway.deps.breaker.runOnce()))).flat();

  it('suspends a range whose codes nobody verifies, not while they are pending, and lets it go after the suspension', async () => {
    expect(tally(await requestAll(replicas, numbersIn('+447400', 4, 'GB')))).toEqual({ '202': 4 });
    // Codes on their way count for nothing: a burst of real users cannot trip it.
    expect(await sweep()).toEqual([]);
    later(61);
    const trips = await sweep();
    expect(trips).toEqual([
      { scope: 'range', key: '44-7400', verified: 0, sample: 4, until: new Date(at.getTime() + 600_000) },
    ]);

    const refused = await requestAll(replicas, numbersIn('+447400', 2, 'GB', 13, 100));
    expect(tally(refused)).toEqual({ '503 channel_suspended': 2 });
    expect(refused[0]?.headers['retry-after']).toBe('600');
    // Another range of the country is not suspended.
    expect(tally(await requestAll(replicas, numbersIn('+447700', 1, 'GB')))).toEqual({ '202': 1 });

    const events = await database.db
      .selectFrom('security_events')
      .selectAll()
      .where('type', '=', 'sms.suspended')
      .execute();
    expect(events).toHaveLength(1);
    expect(events[0]?.details).toMatchObject({
      scope: 'range',
      key: '44-7400',
      verified: 0,
      sample: 4,
      minConversion: 0.5,
    });

    const families = parseExposition((await primary.gateway.ops.inject({ url: '/metrics' })).body);
    expect(sampleValue(families, 'otp_sms_suspended', { kind: 'range', service: 'gateway' })).toBe(1);
    const trippedHere = (gateway: typeof primary.gateway) =>
      gateway.ops.inject({ url: '/metrics' }).then(
        (r) =>
          sampleValue(parseExposition(r.body), 'otp_sms_breaker_trips_total', {
            kind: 'range',
            service: 'gateway',
          }) ?? 0,
      );
    // One trip, by whichever replica judged it.
    expect((await trippedHere(primary.gateway)) + (await trippedHere(replica.gateway))).toBe(1);

    later(600);
    expect(tally(await requestAll(replicas, numbersIn('+447400', 1, 'GB', 13, 200)))).toEqual({ '202': 1 });
  });

  it('keeps a range open while enough of its codes are verified', async () => {
    const answers = await requestAll(replicas, numbersIn('+447812', 4, 'GB'));
    expect(tally(answers)).toEqual({ '202': 4 });
    for (const answer of answers.slice(0, 2)) {
      const id = String(answer.body.challengeId);
      expect((await verify(primary.gateway, id, await deliveredCode(primary.gateway, id))).status).toBe(200);
    }
    later(61);
    expect((await sweep()).filter((trip) => trip.key === '44-7812')).toEqual([]);
    expect(tally(await requestAll(replicas, numbersIn('+447812', 1, 'GB', 13, 100)))).toEqual({ '202': 1 });
  });

  it('suspends a country whose codes nobody verifies, over ranges too small to trip on their own', async () => {
    // Ten French challenges over five ranges: two each, never a full range sample of four.
    const numbers = ['+33612', '+33623', '+33634', '+33645', '+33656'].flatMap((prefix) =>
      numbersIn(prefix, 2, 'FR', 12),
    );
    expect(tally(await requestAll(replicas, numbers))).toEqual({ '202': 10 });
    later(61);
    const trips = await sweep();
    expect(trips.map((trip) => `${trip.scope} ${trip.key}`)).toEqual(['country FR']);
    expect(tally(await requestAll(replicas, numbersIn('+33699', 2, 'FR', 12)))).toEqual({ '503 channel_suspended': 2 });
    expect(tally(await requestAll(replicas, numbersIn('+4915112', 1, 'DE', 14)))).toEqual({ '202': 1 });
  });
});
