import { findFactor } from '@otp/db';
import { describe, expect, it } from 'vitest';
import { loginTokens, registerUser } from '../../testing/accounts.ts';
import { hotpAt } from '../../testing/factors.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { bearer, post } from '../../testing/gateway.harness.ts';

const { gateway } = useTestGateway();
// RFC 4226's test secret "12345678901234567890" in base32, as a hardware token's seed.
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

async function userWithHotp(secret?: string) {
  const { email, userId } = await registerUser(gateway, 'hotp');
  const { accessToken } = await loginTokens(gateway, email);
  const enrolled = await post(gateway.app, '/v1/me/hotp', secret === undefined ? {} : { secret }, bearer(accessToken));
  expect(enrolled.status, String(enrolled.body.code)).toBe(201);
  const base32 = String(enrolled.body.secret);
  const verified = await post(gateway.app, '/v1/me/hotp/verify', { code: hotpAt(base32, 0) }, bearer(accessToken));
  expect(verified.status).toBe(200);
  expect(verified.body.recoveryCodes).toHaveLength(10);
  const check = (code: string) =>
    post(gateway.app, '/v1/auth/login', { email, password: 'correct horse battery staple' }).then((answer) =>
      post(gateway.app, '/v1/auth/mfa', { mfaToken: String(answer.body.mfaToken), code }),
    );
  return { userId, accessToken, secret: base32, enrolled, check };
}

describe('HOTP (hardware tokens)', () => {
  it('enrols a given secret with an otpauth://hotp URL carrying the counter', async () => {
    const { enrolled, check } = await userWithHotp(RFC_SECRET);
    expect(enrolled.body).toMatchObject({ secret: RFC_SECRET, counter: 0 });
    const url = new URL(String(enrolled.body.otpauthUrl));
    expect(url.host).toBe('hotp');
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      secret: RFC_SECRET,
      counter: '0',
      algorithm: 'SHA1',
      digits: '6',
    });
    // RFC 4226 Appendix D, counter 1 (counter 0 enabled the token).
    expect((await check('287082')).status).toBe(200);
  });

  it('generates a 160-bit secret when none is given', async () => {
    const { secret } = await userWithHotp();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  });

  it('searches the look-ahead window, moves past the match, and never accepts a code twice', async () => {
    const { userId, secret, check } = await userWithHotp();
    expect((await check(hotpAt(secret, 10))).status).toBe(200); // counter 1 + 9: the window's last value
    expect(Number((await findFactor(gateway.deps.db, userId, 'hotp'))?.counter)).toBe(11);
    expect((await check(hotpAt(secret, 10))).body.code).toBe('invalid_factor_code');
    expect((await check(hotpAt(secret, 5))).body.code).toBe('invalid_factor_code'); // skipped: behind the counter
    expect((await check(hotpAt(secret, 21))).body.code).toBe('invalid_factor_code'); // 11 + 10: past the window
    expect((await check(hotpAt(secret, 11))).status).toBe(200);
  });

  it('resynchronises a token that ran past the window with two consecutive codes', async () => {
    const { accessToken, secret, check } = await userWithHotp();
    const resync = (code: string, nextCode: string) =>
      post(gateway.app, '/v1/me/hotp/resync', { code, nextCode }, bearer(accessToken));
    expect((await resync(hotpAt(secret, 40), hotpAt(secret, 42))).body.code).toBe('invalid_factor_code');
    const done = await resync(hotpAt(secret, 40), hotpAt(secret, 41));
    expect(done.body).toEqual({ counter: 42 });
    expect((await resync(hotpAt(secret, 40), hotpAt(secret, 41))).body.code).toBe('invalid_factor_code');
    expect((await check(hotpAt(secret, 42))).status).toBe(200);
  });
});
