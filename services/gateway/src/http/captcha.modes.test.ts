import { useSiteverifyFake } from '@otp/testkit';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { PASSWORD } from '../testing/accounts.ts';
import { useTestGateway, useTestReplica } from '../testing/gateway.fixture.ts';
import { post, type TestGateway, uniqueEmail } from '../testing/gateway.harness.ts';
import { createHumanCheck, type PressureProbe } from './captcha.ts';
import { registerErrorHandling } from './errors.ts';
import { registerRateLimits } from './rate-limit.plugin.ts';

// The human check's modes other than `always` (captcha.test.ts): `sms` and `adaptive`, each at
// two replicas of one deployment sharing one database, one Redis and one siteverify fake.

const SECRET = 'captcha-secret-of-the-test';

const askCode = (gateway: TestGateway, remoteAddress: string, body: Record<string, unknown> = {}) =>
  post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: uniqueEmail('captcha'), ...body }, { remoteAddress });
const register = (gateway: TestGateway, remoteAddress: string, body: Record<string, unknown> = {}) =>
  post(gateway.app, '/v1/auth/register', { email: uniqueEmail('reg'), password: PASSWORD, ...body }, { remoteAddress });

describe('human check, mode sms', () => {
  const siteverify = useSiteverifyFake({ secret: SECRET });
  const env = () => ({
    CAPTCHA_PROVIDER: 'turnstile',
    CAPTCHA_SECRET: SECRET,
    CAPTCHA_VERIFY_URL: siteverify().url,
    CAPTCHA_MODE: 'sms',
    RATE_LIMIT_CODE_REQUESTS_PER_MINUTE: '1000',
  });
  const primary = useTestGateway(() => ({ env: env() }));
  const { gateway: replica } = useTestReplica(primary, env);
  const { gateway } = primary;

  it('checks SMS code requests only: email codes and registrations need no token', async () => {
    const client = '198.51.100.20';
    expect((await askCode(gateway, client)).status).toBe(202);
    expect((await register(replica, client)).status).toBe(202);

    const sms = { channel: 'sms', to: '+14155550161' };
    const refused = await askCode(replica, client, sms);
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('captcha_required');
    expect((await askCode(gateway, client, { ...sms, captchaToken: 'made-up' })).body.code).toBe('captcha_failed');
    expect((await askCode(replica, client, { ...sms, captchaToken: siteverify().issue() })).status).toBe(202);
  });
});

describe('human check, mode adaptive', () => {
  const siteverify = useSiteverifyFake({ secret: SECRET });
  // Half of 4: the third code request of a client network within a minute needs the check.
  const env = () => ({
    CAPTCHA_PROVIDER: 'recaptcha',
    CAPTCHA_SECRET: SECRET,
    CAPTCHA_VERIFY_URL: siteverify().url,
    CAPTCHA_MODE: 'adaptive',
    RATE_LIMIT_CODE_REQUESTS_PER_MINUTE: '4',
  });
  const primary = useTestGateway(() => ({ env: env() }));
  const { gateway: replica } = useTestReplica(primary, env);
  const { gateway } = primary;

  it("asks for nothing until the client's code requests pass half the limit, counted across replicas", async () => {
    const client = '198.51.100.30';
    expect((await askCode(gateway, client)).status).toBe(202);
    expect((await register(replica, client)).status).toBe(202);

    const refused = await askCode(gateway, client);
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('captcha_required');
    // Another client is not under pressure.
    expect((await askCode(replica, '198.51.100.31')).status).toBe(202);
    // The refused request counted too: this is the fourth, the last one the limit allows.
    expect((await askCode(replica, client, { captchaToken: siteverify().issue() })).status).toBe(202);
    expect((await register(gateway, client, { captchaToken: siteverify().issue() })).body.code).toBe('rate_limited');
  });

  it('covers registration under pressure, and counts an IPv6 client by its /64', async () => {
    expect((await askCode(gateway, '2001:db8:7:1::1')).status).toBe(202);
    expect((await askCode(replica, '2001:db8:7:1::2')).status).toBe(202);
    const refused = await register(gateway, '2001:db8:7:1:ffff::3');
    expect(refused.body.code).toBe('captcha_required');
  });

  it('lets through unchecked at most half the limit of requests arriving at once at both replicas', async () => {
    const client = '198.51.100.40';
    const answers = await Promise.all([gateway, replica, gateway, replica].map((target) => askCode(target, client)));
    const codes = answers.map((answer) => (answer.status === 202 ? 'accepted' : String(answer.body.code)));
    // Each request reads the counter after its own increment, so a race can only ask for more checks.
    expect(codes.filter((code) => code === 'accepted').length).toBeLessThanOrEqual(2);
    expect(codes.filter((code) => code !== 'accepted')).toEqual(codes.filter((code) => code === 'captcha_required'));
  });

  it('holds a reCAPTCHA score under CAPTCHA_MIN_SCORE (0.5) as a failed check', async () => {
    const client = '198.51.100.50';
    await askCode(gateway, client);
    await askCode(gateway, client);
    const low = await askCode(replica, client, { captchaToken: siteverify().issue({ score: 0.3 }) });
    expect(low.body.code).toBe('captcha_failed');
    expect((await askCode(gateway, client, { captchaToken: siteverify().issue({ score: 0.9 }) })).status).toBe(202);
  });

  it("asks when the caller's probe says so, or cannot tell", async () => {
    // A route built as the code routes are, with the probe the SMS limits will pass.
    const app = Fastify();
    registerErrorHandling(app);
    const limits = await registerRateLimits(app, gateway.deps);
    const check = createHumanCheck(gateway.deps, limits);
    let probe: PressureProbe = async () => false;
    app.post('/probe', { onRequest: limits.codeRequests }, async (request) => {
      await check(request, { token: undefined, sends: 'sms', smsPressure: () => probe() });
      return { checked: false };
    });
    try {
      // One request per client, so the client's own counter never passes half the limit.
      const ask = async (remoteAddress: string) =>
        (await app.inject({ method: 'POST', url: '/probe', remoteAddress })).json<{ code?: string }>();
      expect(await ask('198.51.100.61')).toEqual({ checked: false });
      probe = async () => true;
      expect((await ask('198.51.100.62')).code).toBe('captcha_required');
      probe = async () => {
        throw new Error('counters unreadable');
      };
      expect((await ask('198.51.100.63')).code).toBe('captcha_required');
    } finally {
      await app.close();
    }
  });
});

describe('human check, mode adaptive, while Redis is unreachable', () => {
  const siteverify = useSiteverifyFake({ secret: SECRET });
  const { gateway } = useTestGateway(() => ({
    env: {
      REDIS_URL: 'redis://127.0.0.1:1',
      CAPTCHA_PROVIDER: 'turnstile',
      CAPTCHA_SECRET: SECRET,
      CAPTCHA_VERIFY_URL: siteverify().url,
      CAPTCHA_MODE: 'adaptive',
    },
    waitForRedis: false,
  }));

  it('treats a counter it cannot read as pressure: asks for the check (fails closed)', async () => {
    const refused = await askCode(gateway, '198.51.100.70');
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('captcha_required');
    expect((await askCode(gateway, '198.51.100.70', { captchaToken: siteverify().issue() })).status).toBe(202);
  });
});
