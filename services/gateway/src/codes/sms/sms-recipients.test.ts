import { describe, expect, it } from 'vitest';
import { loginTokens, registerUser } from '../../testing/accounts.ts';
import { rowCounts } from '../../testing/bad-input.ts';
import { useTestGateway, useTestReplica } from '../../testing/gateway.fixture.ts';
import { bearer, post } from '../../testing/gateway.harness.ts';
import { numbersIn, OPEN_LIMITS, requestAll, smsJobs, tally } from './sms-testing.ts';

// Where SMS may go, on two replicas of one deployment: refused on the request path, one answer
// for every reason, nothing written and nothing queued.
describe('SMS recipients allowed by country and number type', () => {
  const env = { ...OPEN_LIMITS, SMS_ALLOWED_COUNTRIES: 'GB,FR' };
  const primary = useTestGateway({ env });
  const replica = useTestReplica(primary, env);
  const { gateway, database } = primary;

  const refused = {
    'a country off the list (US mobile)': '+12025550123',
    'a country off the list (DE mobile)': '+4915112345678',
    'UK premium rate': '+449098790123',
    'US toll free': '+18005550100',
    'UK fixed line': '+442079460000',
    'satellite (+881, Iridium)': '+881632000000',
    'satellite (+870, Inmarsat)': '+870773111632',
    'international freephone (+800)': '+80012345678',
  };

  it('answers 400 recipient_not_allowed alike for every reason, writing and queueing nothing', async () => {
    const before = await rowCounts(database.db);
    const answers = await requestAll([primary, replica], Object.values(refused));
    const bodies = new Set<string>();
    for (const [index, answer] of answers.entries()) {
      const name = Object.keys(refused)[index];
      expect(answer.status, name).toBe(400);
      expect(answer.body.code, name).toBe('recipient_not_allowed');
      const { instance: _instance, ...rest } = answer.body;
      bodies.add(JSON.stringify(rest));
    }
    // The same body whatever the reason: a bot learns nothing to steer its next number by.
    expect(bodies.size).toBe(1);
    expect(await rowCounts(database.db)).toEqual(before);
    expect(await smsJobs(gateway)).toBe(0);
  });

  it('accepts mobiles of the listed countries on either replica', async () => {
    const numbers = [...numbersIn('+447400', 2, 'GB'), ...numbersIn('+33612', 2, 'FR', 12)];
    expect(tally(await requestAll([primary, replica], numbers))).toEqual({ '202': 4 });
    const rows = await database.db
      .selectFrom('otp_challenges')
      .select(['sms_country', 'sms_range'])
      .where('channel', '=', 'sms')
      .orderBy('sms_range')
      .execute();
    // The range and country are kept, never more of the number than the range's digits.
    expect(rows).toEqual([
      { sms_country: 'FR', sms_range: '33-6120' },
      { sms_country: 'FR', sms_range: '33-6120' },
      { sms_country: 'GB', sms_range: '44-7400' },
      { sms_country: 'GB', sms_range: '44-7400' },
    ]);
  });

  it('holds for a phone number added to an account too', async () => {
    const user = await registerUser(gateway, 'sms-policy');
    const tokens = await loginTokens(gateway, user.email);
    const answer = await post(gateway.app, '/v1/me/phone', { phone: '+449098790123' }, bearer(tokens.accessToken));
    expect(answer.status).toBe(400);
    expect(answer.body.code).toBe('recipient_not_allowed');
    const allowed = await post(gateway.app, '/v1/me/phone', { phone: '+447400123456' }, bearer(tokens.accessToken));
    expect(allowed.status).toBe(202);
  });
});

describe('SMS to every country (*)', () => {
  const primary = useTestGateway({ env: { ...OPEN_LIMITS, SMS_ALLOWED_COUNTRIES: '*' } });

  it('takes any geographic mobile, but never a non-geographic number, nor a premium-rate one', async () => {
    const answers = await requestAll(
      [primary],
      ['+4915112345678', '+12025550123', '+919876543210', '+881632000000', '+449098790123'],
    );
    expect(answers.map((answer) => answer.status)).toEqual([202, 202, 202, 400, 400]);
  });
});

describe('SMS to non-geographic numbers, when allowed', () => {
  const primary = useTestGateway({
    env: { ...OPEN_LIMITS, SMS_ALLOWED_COUNTRIES: 'GB', SMS_ALLOW_NON_GEOGRAPHIC: 'true' },
  });

  it('takes a satellite mobile, still refuses a freephone number by its type', async () => {
    const answers = await requestAll([primary], ['+881632000000', '+80012345678', '+12025550123']);
    expect(answers.map((answer) => `${answer.status} ${answer.body.code ?? ''}`.trim())).toEqual([
      '202',
      '400 recipient_not_allowed',
      '400 recipient_not_allowed',
    ]);
  });
});
