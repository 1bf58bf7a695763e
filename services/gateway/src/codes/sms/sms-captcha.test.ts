import { parseExposition, sampleValue, useSiteverifyFake } from '@otp/testkit';
import { describe, expect, it } from 'vitest';
import { useTestGateway, useTestReplica } from '../../testing/gateway.fixture.ts';
import { post } from '../../testing/gateway.harness.ts';
import { numbersIn, OPEN_LIMITS, requestAll, tally } from './sms-testing.ts';

// CAPTCHA_MODE=adaptive and the SMS counters: once a number range has used half its hourly limit,
// its SMS code requests need the human check, from any client, on either replica.
describe('the adaptive human check and the SMS counters', () => {
  const SECRET = 'captcha-secret-of-the-sms-test';
  const siteverify = useSiteverifyFake({ secret: SECRET });
  const env = () => ({
    ...OPEN_LIMITS,
    SMS_ALLOWED_COUNTRIES: 'GB',
    SMS_RANGE_LIMIT_PER_HOUR: '4',
    CAPTCHA_PROVIDER: 'turnstile',
    CAPTCHA_SECRET: SECRET,
    CAPTCHA_VERIFY_URL: siteverify().url,
    CAPTCHA_MODE: 'adaptive',
  });
  const primary = useTestGateway(() => ({ env: env() }));
  const replica = useTestReplica(primary, env);

  it('asks for the check once the range passed half its limit, and counts the refusals', async () => {
    const [first, second, third] = numbersIn('+447400', 3, 'GB');
    // Every request from another client address: the per-IP counter never asks.
    const ask = (gateway: typeof primary.gateway, to: string | undefined, index: number, extra = {}) =>
      post(
        gateway.app,
        '/v1/otp/challenges',
        { channel: 'sms', to, ...extra },
        { remoteAddress: `203.0.113.${index}` },
      );
    expect(tally(await requestAll([primary, replica], [first as string, second as string]))).toEqual({ '202': 2 });

    const refused = await ask(replica.gateway, third, 3);
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('captcha_required');
    expect((await ask(primary.gateway, third, 4, { captchaToken: 'made-up' })).body.code).toBe('captcha_failed');
    expect((await ask(primary.gateway, third, 5, { captchaToken: siteverify().issue() })).status).toBe(202);
    // Another range is under no pressure.
    expect((await ask(replica.gateway, numbersIn('+447700', 1, 'GB')[0], 6)).status).toBe(202);

    const refusals = async (gateway: typeof primary.gateway, reason: string) =>
      sampleValue(parseExposition((await gateway.ops.inject({ url: '/metrics' })).body), 'otp_sms_refused_total', {
        reason,
        country: 'GB',
        service: 'gateway',
      }) ?? 0;
    expect(await refusals(replica.gateway, 'captcha_required')).toBe(1);
    expect(await refusals(primary.gateway, 'captcha_failed')).toBe(1);
  });
});
