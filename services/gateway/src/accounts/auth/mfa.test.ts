import { describe, expect, it } from 'vitest';
import { login, registerUser } from '../../testing/accounts.ts';
import { requestCode, verify } from '../../testing/flows.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { bearer, get, post } from '../../testing/gateway.harness.ts';
import { testFactors } from '../../testing/test-factors.ts';

describe('the MFA step (with the test factor hook)', () => {
  const factors = testFactors();
  const { gateway, database } = useTestGateway({ factors: factors.verifier, env: { MFA_MAX_ATTEMPTS: '2' } });

  const mfa = (body: Record<string, unknown>) => post(gateway.app, '/v1/auth/mfa', body);

  async function mfaToken(): Promise<{ mfaToken: string; userId: string }> {
    const { email, userId } = await registerUser(gateway, 'mfa');
    factors.enrol(userId, '246810');
    const response = await login(gateway, email);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      outcome: 'mfa_required',
      mfaRequired: true,
      mfaToken: expect.any(String),
      methods: ['totp'],
    });
    expect(response.body).not.toHaveProperty('tokens');
    return { mfaToken: String(response.body.mfaToken), userId };
  }

  it('signs in without the step when the account has no factor', async () => {
    const { email } = await registerUser(gateway, 'no-factor');
    const response = await login(gateway, email);
    expect(response.body).toHaveProperty('tokens');
    expect(response.body).not.toHaveProperty('mfaRequired');
  });

  it('answers {mfaRequired, mfaToken, methods} and redeems the token once with the factor', async () => {
    const { mfaToken: token, userId } = await mfaToken();
    const signedIn = await mfa({ mfaToken: token, code: '246810' });
    expect(signedIn.status).toBe(200);
    expect((signedIn.body.user as { id: string }).id).toBe(userId);
    const tokens = signedIn.body.tokens as { accessToken: string };
    expect((await get(gateway.app, '/v1/me', bearer(tokens.accessToken))).body.id).toBe(userId);

    const again = await mfa({ mfaToken: token, code: '246810' });
    expect(again.status).toBe(401);
    expect(again.body.code).toBe('invalid_mfa_token');
  });

  it('refuses a wrong factor code, then the token once its attempts are used up', async () => {
    const { mfaToken: token } = await mfaToken();
    const wrong = await mfa({ mfaToken: token, code: '111111' });
    expect(wrong.status).toBe(400);
    expect(wrong.body).toMatchObject({ code: 'invalid_factor_code', attemptsRemaining: 1 });
    expect((await mfa({ mfaToken: token, code: '111112' })).body.attemptsRemaining).toBe(0);
    const spent = await mfa({ mfaToken: token, code: '246810' });
    expect(spent.status).toBe(401);
    expect(spent.body.code).toBe('invalid_mfa_token');
  });

  it('refuses unknown, tampered and expired tokens with 401 invalid_mfa_token', async () => {
    const { mfaToken: token } = await mfaToken();
    const tampered = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    for (const candidate of [tampered, 'A'.repeat(43)]) {
      const response = await mfa({ mfaToken: candidate, code: '246810' });
      expect(response.status).toBe(401);
      expect(response.body.code).toBe('invalid_mfa_token');
    }
    gateway.deps.clock = () => new Date(Date.now() + (gateway.config.MFA_TOKEN_TTL_SECONDS + 1) * 1000);
    try {
      expect((await mfa({ mfaToken: token, code: '246810' })).body.code).toBe('invalid_mfa_token');
    } finally {
      gateway.deps.clock = undefined;
    }
  });

  it('puts a code sign-in to an account with a factor through the same step', async () => {
    const { email, userId } = await registerUser(gateway, 'code-mfa');
    factors.enrol(userId, '135790');
    const { id, code } = await requestCode(gateway, { channel: 'email', to: email });
    const verified = await verify(gateway, id, code);
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ mfaRequired: true, methods: ['totp'] });
    expect(verified.body).not.toHaveProperty('tokens');
    const audited = await database.db
      .selectFrom('security_events')
      .select('type')
      .where('user_id', '=', userId)
      .where('type', 'in', ['mfa.required', 'sign_in.succeeded'])
      .execute();
    expect(audited.map((event) => event.type)).toEqual(['mfa.required']);
    const signedIn = await mfa({ mfaToken: verified.body.mfaToken, code: '135790' });
    expect((signedIn.body.user as { id: string }).id).toBe(userId);
  });
});
