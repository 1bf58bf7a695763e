import { findFactor } from '@otp/db';
import { beforeAll, describe, expect, it } from 'vitest';
import { loginTokens, registerUser } from '../../testing/accounts.ts';
import { pinClock, totpAt, userWithTotp } from '../../testing/factors.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { bearer, get, post } from '../../testing/gateway.harness.ts';

let at: Date;
const { gateway } = useTestGateway();

beforeAll(async () => {
  at = pinClock(gateway);
});

describe('TOTP enrolment', () => {
  it('returns a 160-bit base32 secret, a Key Uri Format URL and an SVG QR code; pending until verified', async () => {
    const { email } = await registerUser(gateway, 'enrol');
    const { accessToken } = await loginTokens(gateway, email);
    const enrolled = await post(gateway.app, '/v1/me/totp', undefined, bearer(accessToken));
    expect(enrolled.status).toBe(201);
    const secret = String(enrolled.body.secret);
    expect(secret).toMatch(/^[A-Z2-7]{32}$/); // 32 base32 characters = 160 bits, no padding
    const url = new URL(String(enrolled.body.otpauthUrl));
    expect(url.protocol).toBe('otpauth:');
    expect(url.host).toBe('totp');
    const me = await get(gateway.app, '/v1/me', bearer(accessToken));
    expect(decodeURIComponent(url.pathname)).toBe(`/OTP:${String(me.body.email)}`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      secret,
      issuer: 'OTP',
      algorithm: 'SHA1',
      digits: '6',
      period: '30',
    });
    expect(String(enrolled.body.qrCodeSvg)).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);

    expect(me.body.factors).toEqual({ totp: false, hotp: false });
    // Pending: signing in still needs no second factor.
    expect((await loginTokens(gateway, email)).accessToken).toBeTypeOf('string');
  });

  it('is enabled by its first valid code, which returns 10 distinct recovery codes of at least 64 bits', async () => {
    const user = await userWithTotp(gateway, at);
    expect(user.recoveryCodes).toHaveLength(10);
    expect(new Set(user.recoveryCodes).size).toBe(10);
    for (const code of user.recoveryCodes) expect(code.replaceAll('-', '')).toMatch(/^[a-z2-7]{16}$/); // 80 bits
    const me = await get(gateway.app, '/v1/me', bearer(user.accessToken));
    expect(me.body).toMatchObject({ factors: { totp: true, hotp: false }, recoveryCodesRemaining: 10 });
    const again = await post(gateway.app, '/v1/me/totp', undefined, bearer(user.accessToken));
    expect(again.body.code).toBe('factor_already_enabled');
  });

  it('refuses a wrong first code and stays pending', async () => {
    const { email } = await registerUser(gateway, 'wrong');
    const { accessToken } = await loginTokens(gateway, email);
    const enrolled = await post(gateway.app, '/v1/me/totp', undefined, bearer(accessToken));
    const wrong = totpAt(String(enrolled.body.secret), at, 5);
    const verified = await post(gateway.app, '/v1/me/totp/verify', { code: wrong }, bearer(accessToken));
    expect(verified.body.code).toBe('invalid_factor_code');
    expect((await get(gateway.app, '/v1/me', bearer(accessToken))).body.factors).toEqual({ totp: false, hotp: false });
  });
});

describe('TOTP validation', () => {
  it('accepts one step of drift either side and refuses two', async () => {
    const user = await userWithTotp(gateway, at); // the step before now is used up
    const validate = (code: string) => post(gateway.app, '/v1/me/totp/validate', { code }, bearer(user.accessToken));
    expect((await validate(totpAt(user.secret, at, -2))).body.code).toBe('invalid_factor_code');
    expect((await validate(totpAt(user.secret, at, 2))).body.code).toBe('invalid_factor_code');
    expect((await validate(totpAt(user.secret, at, 0))).body).toEqual({ valid: true });
    expect((await validate(totpAt(user.secret, at, 1))).body).toEqual({ valid: true });
  });

  it('refuses a replay within its step, after its step, and an earlier step once a later one was used', async () => {
    const user = await userWithTotp(gateway, at);
    const validate = (code: string) => post(gateway.app, '/v1/me/totp/validate', { code }, bearer(user.accessToken));
    const code = totpAt(user.secret, at, 0);
    expect((await validate(code)).status).toBe(200);
    expect((await validate(code)).body.code).toBe('invalid_factor_code');
    // The enrolment code (step -1) is older than the last accepted step.
    expect((await validate(totpAt(user.secret, at, -1))).body.code).toBe('invalid_factor_code');
    // After its step: the clock moves on one step; the code is still within drift, and still refused.
    const later = new Date(at.getTime() + 30_000);
    gateway.deps.clock = () => later;
    try {
      expect((await validate(code)).body.code).toBe('invalid_factor_code');
      expect((await validate(totpAt(user.secret, later, 0))).status).toBe(200);
    } finally {
      gateway.deps.clock = () => at;
    }
  });

  it('accepts one of two concurrent uses of the same code', async () => {
    const user = await userWithTotp(gateway, at);
    const code = totpAt(user.secret, at, 0);
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => post(gateway.app, '/v1/me/totp/validate', { code }, bearer(user.accessToken))),
    );
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
    const factor = await findFactor(gateway.deps.db, user.userId, 'totp');
    expect(Number(factor?.last_step)).toBe(Math.floor(at.getTime() / 30_000));
  });
});
