import { createLogger } from '@otp/runtime';
import { parseExposition, sampleValue, useSiteverifyFake } from '@otp/testkit';
import { describe, expect, it } from 'vitest';
import { PASSWORD } from '../testing/accounts.ts';
import { bad, expectRefusedWithoutWrites, rowCounts } from '../testing/bad-input.ts';
import { resend } from '../testing/flows.ts';
import { useTestGateway, useTestReplica } from '../testing/gateway.fixture.ts';
import { type CallOptions, post, type TestGateway, uniqueEmail } from '../testing/gateway.harness.ts';

// The human check in its default mode (always), at two replicas of one deployment sharing one
// database and one siteverify fake, and what it does when the provider cannot be asked. The other
// modes are in captcha.modes.test.ts.

const SECRET = 'captcha-secret-of-the-test';
const CLIENT: CallOptions = { remoteAddress: '203.0.113.7' };

const askCode = (gateway: TestGateway, extra: Record<string, unknown> = {}, options = CLIENT) =>
  post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: uniqueEmail('captcha'), ...extra }, options);
const register = (gateway: TestGateway, extra: Record<string, unknown> = {}) =>
  post(gateway.app, '/v1/auth/register', { email: uniqueEmail('captcha-reg'), password: PASSWORD, ...extra }, CLIENT);

describe('human check, mode always, at two replicas', () => {
  const siteverify = useSiteverifyFake({ secret: SECRET });
  const env = () => ({
    CAPTCHA_PROVIDER: 'turnstile',
    CAPTCHA_SECRET: SECRET,
    CAPTCHA_VERIFY_URL: siteverify().url,
    CAPTCHA_TIMEOUT_MS: '500',
    RATE_LIMIT_CODE_REQUESTS_PER_MINUTE: '1000',
    OTP_RESEND_COOLDOWN_SECONDS: '0',
  });
  const lines: string[] = [];
  const log = createLogger({ service: 'gateway', level: 'debug', destination: { write: (line) => lines.push(line) } });
  const primary = useTestGateway(() => ({ env: env(), log }));
  const { gateway: replica } = useTestReplica(primary, env);
  const { gateway, database } = primary;

  it('refuses a code request or a registration without a token: 400 captcha_required, nothing written', async () => {
    const callsBefore = siteverify().calls.length;
    for (const target of [gateway, replica]) {
      await expectRefusedWithoutWrites(target, database.db, [
        bad(
          'code request',
          '/v1/otp/challenges',
          { channel: 'email', to: uniqueEmail() },
          { code: 'captcha_required' },
        ),
        bad(
          'sms code request',
          '/v1/otp/challenges',
          { channel: 'sms', to: '+14155550162' },
          { code: 'captcha_required' },
        ),
        bad(
          'empty token',
          '/v1/otp/challenges',
          { channel: 'email', to: uniqueEmail(), captchaToken: '' },
          { code: 'captcha_required' },
        ),
        bad(
          'registration',
          '/v1/auth/register',
          { email: uniqueEmail(), password: PASSWORD },
          { code: 'captcha_required' },
        ),
      ]);
    }
    // A missing token is refused without asking the provider.
    expect(siteverify().calls.length).toBe(callsBefore);
  });

  it('refuses a token the provider refuses: 400 captcha_failed, nothing written', async () => {
    await expectRefusedWithoutWrites(replica, database.db, [
      bad(
        'made-up token',
        '/v1/otp/challenges',
        { channel: 'email', to: uniqueEmail(), captchaToken: 'made-up' },
        { code: 'captcha_failed' },
      ),
      bad(
        'registration',
        '/v1/auth/register',
        { email: uniqueEmail(), password: PASSWORD, captchaToken: 'made-up' },
        { code: 'captcha_failed' },
      ),
      bad('too long', '/v1/otp/challenges', { channel: 'email', to: uniqueEmail(), captchaToken: 'x'.repeat(4097) }),
    ]);
  });

  it('accepts a good token once, at whichever replica: a reused one is captcha_failed', async () => {
    const token = siteverify().issue();
    const accepted = await askCode(gateway, { captchaToken: token });
    expect(accepted.status).toBe(202);
    // The secret and the client's address reach the provider with the token.
    expect(siteverify().calls.at(-1)).toEqual({ secret: SECRET, response: token, remoteip: '203.0.113.7' });

    const before = await rowCounts(database.db);
    const reused = await askCode(replica, { captchaToken: token });
    expect(reused.status).toBe(400);
    expect(reused.body.code).toBe('captcha_failed');
    expect(await rowCounts(database.db)).toEqual(before);
  });

  it('covers registration: a good token registers', async () => {
    const registered = await register(replica, { captchaToken: siteverify().issue() });
    expect(registered.status).toBe(202);
    expect(registered.body.challengeId).toEqual(expect.any(String));
  });

  it('does not cover resends: the challenge was checked when it was requested', async () => {
    const requested = await askCode(gateway, { captchaToken: siteverify().issue() });
    expect(requested.status).toBe(202);
    const callsBefore = siteverify().calls.length;
    const resent = await resend(replica, String(requested.body.challengeId), CLIENT);
    expect(resent.status).toBe(202);
    expect(siteverify().calls.length).toBe(callsBefore);
  });

  it('fails closed when siteverify answers 500 or hangs: 503 service_unavailable with Retry-After, nothing written', async () => {
    const fake = siteverify();
    for (const behaviour of ['error', 'hang'] as const) {
      fake.behaviour = behaviour;
      try {
        const before = await rowCounts(database.db);
        const answers = await Promise.all([
          askCode(gateway, { captchaToken: fake.issue() }),
          register(replica, { captchaToken: fake.issue() }),
        ]);
        for (const answer of answers) {
          expect(answer.status, behaviour).toBe(503);
          expect(answer.body.code, behaviour).toBe('service_unavailable');
          expect(Number(answer.headers['retry-after']), behaviour).toBeGreaterThan(0);
        }
        expect(await rowCounts(database.db)).toEqual(before);
      } finally {
        fake.behaviour = 'normal';
      }
    }
  });

  it('counts every check by outcome in otp_captcha_checks_total', async () => {
    const count = async (outcome: string) => {
      const response = await gateway.ops.inject({ method: 'GET', url: '/metrics' });
      return sampleValue(parseExposition(response.body), 'otp_captcha_checks_total', { outcome });
    };
    const before = {
      passed: await count('passed'),
      required: await count('required'),
      failed: await count('failed'),
      unavailable: await count('unavailable'),
    };
    await askCode(gateway);
    await askCode(gateway, { captchaToken: 'made-up' });
    await askCode(gateway, { captchaToken: siteverify().issue() });
    siteverify().behaviour = 'error';
    try {
      await askCode(gateway, { captchaToken: siteverify().issue() });
    } finally {
      siteverify().behaviour = 'normal';
    }
    expect({
      passed: await count('passed'),
      required: await count('required'),
      failed: await count('failed'),
      unavailable: await count('unavailable'),
    }).toEqual({
      passed: before.passed + 1,
      required: before.required + 1,
      failed: before.failed + 1,
      unavailable: before.unavailable + 1,
    });
  });

  it('never logs a token or the secret', async () => {
    const token = siteverify().issue();
    await askCode(gateway, { captchaToken: token });
    await askCode(gateway, { captchaToken: token });
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.filter((line) => line.includes(token) || line.includes(SECRET))).toEqual([]);
  });
});

describe('human check, when the provider refuses our request or cannot be reached', () => {
  const siteverify = useSiteverifyFake({ secret: SECRET });
  const wrongSecret = useTestGateway(() => ({
    env: { CAPTCHA_PROVIDER: 'hcaptcha', CAPTCHA_SECRET: 'not-the-secret', CAPTCHA_VERIFY_URL: siteverify().url },
  }));
  // Nothing listens on port 1.
  const unreachable = useTestReplica(wrongSecret, {
    CAPTCHA_PROVIDER: 'hcaptcha',
    CAPTCHA_SECRET: SECRET,
    CAPTCHA_VERIFY_URL: 'http://127.0.0.1:1/siteverify',
  });

  it('answers 503 service_unavailable, not captcha_failed, for a secret the provider refuses', async () => {
    const answer = await askCode(wrongSecret.gateway, { captchaToken: siteverify().issue() });
    expect(answer.status).toBe(503);
    expect(answer.body.code).toBe('service_unavailable');
    expect(siteverify().calls.at(-1)?.secret).toBe('not-the-secret');
  });

  it('answers 503 service_unavailable with Retry-After when siteverify is unreachable', async () => {
    const before = await rowCounts(wrongSecret.database.db);
    const answer = await askCode(unreachable.gateway, { captchaToken: 'any' });
    expect(answer.status).toBe(503);
    expect(answer.body.code).toBe('service_unavailable');
    expect(answer.headers['retry-after']).toBe('5');
    expect(await rowCounts(wrongSecret.database.db)).toEqual(before);
  });
});

describe('no human check without CAPTCHA_PROVIDER', () => {
  const { gateway } = useTestGateway({ env: { RATE_LIMIT_CODE_REQUESTS_PER_MINUTE: '1000' } });

  it('accepts requests with or without captchaToken, and ignores it', async () => {
    expect((await askCode(gateway)).status).toBe(202);
    expect((await askCode(gateway, { captchaToken: 'whatever' })).status).toBe(202);
    expect((await register(gateway)).status).toBe(202);
    expect((await register(gateway, { captchaToken: 'whatever' })).status).toBe(202);
  });
});
