import { beforeAll, describe, expect, it } from 'vitest';
import { login } from '../../testing/accounts.ts';
import { del, pinClock, totpAt, userWithTotp } from '../../testing/factors.ts';
import { requestCode, verify } from '../../testing/flows.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { bearer, get, post } from '../../testing/gateway.harness.ts';

let at: Date;
const LOCKOUT = 4;
const { gateway } = useTestGateway({ env: { FACTOR_LOCKOUT_FAILURES: String(LOCKOUT) } });

beforeAll(async () => {
  at = pinClock(gateway);
});

async function mfaToken(email: string): Promise<string> {
  const answer = await login(gateway, email);
  expect(answer.body).toMatchObject({ mfaRequired: true, methods: ['totp', 'recovery_code'] });
  return String(answer.body.mfaToken);
}

const mfa = (body: Record<string, string>) => post(gateway.app, '/v1/auth/mfa', body);

async function eventsOf(userId: string, type: string): Promise<number> {
  const rows = await gateway.deps.db
    .selectFrom('security_events')
    .select('id')
    .where('user_id', '=', userId)
    .where('type', '=', type)
    .execute();
  return rows.length;
}

describe('the MFA step with an authenticator app', () => {
  it('signs in with password then a TOTP code, and refuses the same code for the next sign-in', async () => {
    const user = await userWithTotp(gateway, at);
    const code = totpAt(user.secret, at, 0);
    const signedIn = await mfa({ mfaToken: await mfaToken(user.email), code });
    expect(signedIn.status).toBe(200);
    expect(signedIn.body.tokens).toHaveProperty('accessToken');
    const replay = await mfa({ mfaToken: await mfaToken(user.email), code });
    expect(replay.body).toMatchObject({ code: 'invalid_factor_code', attemptsRemaining: 4 });
  });

  it('accepts each recovery code once, and /v1/me counts what is left', async () => {
    const user = await userWithTotp(gateway, at);
    const [first] = user.recoveryCodes as [string];
    const used = await mfa({ mfaToken: await mfaToken(user.email), recoveryCode: first.toUpperCase() });
    expect(used.status).toBe(200);
    const again = await mfa({ mfaToken: await mfaToken(user.email), recoveryCode: first });
    expect(again.body.code).toBe('invalid_factor_code');
    const me = await get(gateway.app, '/v1/me', bearer((used.body.tokens as { accessToken: string }).accessToken));
    expect(me.body.recoveryCodesRemaining).toBe(9);
    expect(await eventsOf(user.userId, 'recovery_code.used')).toBe(1);
  });

  it('regenerating recovery codes invalidates the old set', async () => {
    const user = await userWithTotp(gateway, at);
    const renewed = await post(
      gateway.app,
      '/v1/me/recovery-codes',
      { code: totpAt(user.secret, at, 0) },
      bearer(user.accessToken),
    );
    expect(renewed.status).toBe(200);
    const fresh = renewed.body.recoveryCodes as string[];
    expect(fresh).toHaveLength(10);
    expect(fresh.some((code) => user.recoveryCodes.includes(code))).toBe(false);
    const old = await mfa({ mfaToken: await mfaToken(user.email), recoveryCode: user.recoveryCodes[1] as string });
    expect(old.body.code).toBe('invalid_factor_code');
    const current = await mfa({ mfaToken: await mfaToken(user.email), recoveryCode: fresh[0] as string });
    expect(current.status).toBe(200);
  });

  it('allows 5 wrong codes per mfaToken, then the token is spent', async () => {
    const user = await userWithTotp(gateway, at);
    const token = await mfaToken(user.email);
    const wrong = totpAt(user.secret, at, 9);
    // Failures reset on success: a right code in between keeps the account under the lockout.
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      expect((await mfa({ mfaToken: token, code: wrong })).body.attemptsRemaining).toBe(5 - attempt);
    }
    const code = totpAt(user.secret, at, 0);
    expect((await post(gateway.app, '/v1/me/totp/validate', { code }, bearer(user.accessToken))).status).toBe(200);
    for (let attempt = 4; attempt <= 5; attempt += 1) {
      expect((await mfa({ mfaToken: token, code: wrong })).body.attemptsRemaining).toBe(5 - attempt);
    }
    expect((await mfa({ mfaToken: token, code: totpAt(user.secret, at, 1) })).body.code).toBe('invalid_mfa_token');
  });

  it(`locks codes after ${LOCKOUT} consecutive failures until a recovery code is used`, async () => {
    const user = await userWithTotp(gateway, at);
    const wrong = totpAt(user.secret, at, 9);
    for (let attempt = 0; attempt < LOCKOUT; attempt += 1) {
      const answer = await post(gateway.app, '/v1/me/totp/validate', { code: wrong }, bearer(user.accessToken));
      expect(answer.body.code).toBe('invalid_factor_code');
    }
    expect(await eventsOf(user.userId, 'factor.locked')).toBe(1);
    // Locked: even the right code is refused, in the MFA step as at step-up.
    const right = totpAt(user.secret, at, 0);
    expect((await mfa({ mfaToken: await mfaToken(user.email), code: right })).body.code).toBe('factor_locked');
    expect((await post(gateway.app, '/v1/me/totp/validate', { code: right }, bearer(user.accessToken))).body.code).toBe(
      'factor_locked',
    );
    const recovered = await mfa({
      mfaToken: await mfaToken(user.email),
      recoveryCode: user.recoveryCodes[0] as string,
    });
    expect(recovered.status).toBe(200);
    expect((await post(gateway.app, '/v1/me/totp/validate', { code: right }, bearer(user.accessToken))).status).toBe(
      200,
    );
    expect(await eventsOf(user.userId, 'factor.failed')).toBeGreaterThanOrEqual(LOCKOUT + 2);
  });

  it('a code sign-in goes through the same MFA step', async () => {
    const user = await userWithTotp(gateway, at);
    const challenge = await requestCode(gateway, { channel: 'email', to: user.email });
    const verified = await verify(gateway, challenge.id, challenge.code);
    expect(verified.body).toMatchObject({ mfaRequired: true, methods: ['totp', 'recovery_code'] });
    const signedIn = await mfa({ mfaToken: String(verified.body.mfaToken), code: totpAt(user.secret, at, 0) });
    expect(signedIn.status).toBe(200);
  });

  it('removing the factor needs a valid proof, and the account signs in without MFA afterwards', async () => {
    const user = await userWithTotp(gateway, at);
    const wrong = await del(gateway.app, '/v1/me/totp', { code: totpAt(user.secret, at, 9) }, bearer(user.accessToken));
    expect(wrong.body.code).toBe('invalid_factor_code');
    const removed = await del(
      gateway.app,
      '/v1/me/totp',
      { recoveryCode: user.recoveryCodes[0] as string },
      bearer(user.accessToken),
    );
    expect(removed.status).toBe(204);
    expect((await login(gateway, user.email)).body).toHaveProperty('tokens');
    const me = await get(gateway.app, '/v1/me', bearer(user.accessToken));
    expect(me.body).toMatchObject({ factors: { totp: false, hotp: false }, recoveryCodesRemaining: 0 });
  });
});
