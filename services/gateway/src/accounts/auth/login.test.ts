import { describe, expect, it } from 'vitest';
import { login, PASSWORD, registerUser } from '../../testing/accounts.ts';
import { requestCode, verify } from '../../testing/flows.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { bearer, get, uniqueEmail } from '../../testing/gateway.harness.ts';

describe('POST /v1/auth/login', () => {
  const { gateway, database } = useTestGateway({
    env: { SIGN_IN_FAILURES_PER_ACCOUNT: '3', SIGN_IN_FAILURES_PER_IP: '6' },
  });

  it('signs in with the right password and answers the user and a token pair', async () => {
    const { email, userId } = await registerUser(gateway);
    const response = await login(gateway, email, PASSWORD, { remoteAddress: '10.1.0.1' });
    expect(response.status).toBe(200);
    expect(response.body.user).toMatchObject({ id: userId, emailVerified: true });
    const tokens = response.body.tokens as { accessToken: string; tokenType: string; expiresIn: number };
    expect(tokens).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
    expect((await get(gateway.app, '/v1/me', bearer(tokens.accessToken))).body.id).toBe(userId);
  });

  it('answers an unknown email and a wrong password with the same status and body', async () => {
    const { email } = await registerUser(gateway);
    const wrong = await login(gateway, email, 'not the password', { remoteAddress: '10.1.0.2' });
    const unknown = await login(gateway, uniqueEmail('nobody'), 'not the password', { remoteAddress: '10.1.0.2' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.body.code).toBe('invalid_credentials');
    expect(wrong.contentType).toMatch(/^application\/problem\+json/);
  });

  it('refuses a password for an account that signs in with codes only', async () => {
    const email = uniqueEmail('codes-only');
    const { id, code } = await requestCode(gateway, { channel: 'email', to: email });
    expect((await verify(gateway, id, code)).status).toBe(200);
    const response = await login(gateway, email, PASSWORD, { remoteAddress: '10.1.0.3' });
    expect(response.status).toBe(401);
    expect(response.body.code).toBe('invalid_credentials');
  });

  it('signs a code sign-in to a password account into that same account', async () => {
    const { email, userId } = await registerUser(gateway, 'linked');
    const { id, code } = await requestCode(gateway, { channel: 'email', to: email });
    const byCode = await verify(gateway, id, code);
    expect(byCode.status).toBe(200);
    expect((byCode.body.user as { id: string }).id).toBe(userId);
    // The code proved the address, so it is now verified, and the password still works.
    expect((byCode.body.user as { emailVerified: boolean }).emailVerified).toBe(true);
    expect((await login(gateway, email, PASSWORD, { remoteAddress: '10.1.0.4' })).status).toBe(200);
  });

  it('limits failed attempts per account: 429 with Retry-After, even for the right password', async () => {
    const { email } = await registerUser(gateway, 'locked');
    for (let i = 0; i < 3; i++) {
      const address = `10.2.0.${i + 1}`;
      expect((await login(gateway, email, 'wrong password', { remoteAddress: address })).status).toBe(401);
    }
    const refused = await login(gateway, email, PASSWORD, { remoteAddress: '10.2.0.9' });
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('sign_in_throttled');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // Another account from the same addresses is not affected.
    const other = await registerUser(gateway, 'other');
    expect((await login(gateway, other.email, PASSWORD, { remoteAddress: '10.2.0.1' })).status).toBe(200);
  });

  it('limits failed attempts per client IP across addresses', async () => {
    const address = '10.3.0.1';
    for (let i = 0; i < 6; i++) {
      expect((await login(gateway, uniqueEmail('spray'), 'wrong password', { remoteAddress: address })).status).toBe(
        401,
      );
    }
    const { email } = await registerUser(gateway, 'behind-ip');
    const refused = await login(gateway, email, PASSWORD, { remoteAddress: address });
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBeDefined();
    expect((await login(gateway, email, PASSWORD, { remoteAddress: '10.3.0.2' })).status).toBe(200);
  });

  it('writes the audit trail: time, user, IP, user agent and request id, never the password', async () => {
    const { email, userId } = await registerUser(gateway, 'audited');
    const headers = { 'user-agent': 'audit-test/1.0' };
    await login(gateway, email, 'wrong password', { remoteAddress: '10.4.0.1', headers });
    const ok = await login(gateway, email, PASSWORD, { remoteAddress: '10.4.0.1', headers });
    const events = await database.db
      .selectFrom('security_events')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('id')
      .execute();
    // code.verified: registerUser verifies the address with the registration's code first.
    expect(events.map((event) => event.type)).toEqual([
      'user.registered',
      'code.verified',
      'sign_in.failed',
      'sign_in.succeeded',
    ]);
    const succeeded = events[3];
    expect(succeeded).toMatchObject({ ip: '10.4.0.1', user_agent: 'audit-test/1.0' });
    expect(succeeded?.request_id).toBe(ok.headers['x-request-id']);
    expect(succeeded?.created_at).toBeInstanceOf(Date);
    const text = JSON.stringify(events);
    for (const secret of [PASSWORD, 'wrong password', (ok.body.tokens as { refreshToken: string }).refreshToken]) {
      expect(text).not.toContain(secret);
    }
  });
});
