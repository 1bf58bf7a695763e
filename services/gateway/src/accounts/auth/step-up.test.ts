import { beforeAll, describe, expect, it } from 'vitest';
import { loginTokens, refresh, registerUser, type SessionTokens } from '../../testing/accounts.ts';
import { del } from '../../testing/factors.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { bearer, get, post } from '../../testing/gateway.harness.ts';

const MAX_AGE = 600;

describe('step-up: changes to how an account signs in need a recent sign-in', () => {
  let email: string;
  let userId: string;
  let stale: SessionTokens;
  const { gateway, database } = useTestGateway();

  beforeAll(async () => {
    ({ email, userId } = await registerUser(gateway, 'step-up'));
    // Signed in 11 minutes ago: the access token is still valid (15 minutes), its sign-in is not recent.
    gateway.deps.clock = () => new Date(Date.now() - (MAX_AGE + 60) * 1000);
    try {
      stale = await loginTokens(gateway, email);
    } finally {
      gateway.deps.clock = undefined;
    }
  });

  type Answer = { status: number; body: Record<string, unknown> };
  const changes: Array<[string, (token: string) => Promise<Answer>]> = [
    ['POST /v1/me/phone', (token) => post(gateway.app, '/v1/me/phone', { phone: '+15005550006' }, bearer(token))],
    ['POST /v1/me/totp', (token) => post(gateway.app, '/v1/me/totp', undefined, bearer(token))],
    ['POST /v1/me/hotp', (token) => post(gateway.app, '/v1/me/hotp', {}, bearer(token))],
    ['POST /v1/me/totp/verify', (token) => post(gateway.app, '/v1/me/totp/verify', { code: '123456' }, bearer(token))],
    ['POST /v1/me/hotp/verify', (token) => post(gateway.app, '/v1/me/hotp/verify', { code: '123456' }, bearer(token))],
    ['DELETE /v1/me/totp', (token) => del(gateway.app, '/v1/me/totp', { code: '123456' }, bearer(token))],
    ['DELETE /v1/me/hotp', (token) => del(gateway.app, '/v1/me/hotp', { code: '123456' }, bearer(token))],
    ['DELETE /v1/me', (token) => del(gateway.app, '/v1/me', {}, bearer(token))],
    ['POST /v1/me/email', (token) => post(gateway.app, '/v1/me/email', { email: 'moved@example.com' }, bearer(token))],
    [
      'POST /v1/me/password',
      (token) => post(gateway.app, '/v1/me/password', { newPassword: 'a new password here' }, bearer(token)),
    ],
    [
      'POST /v1/me/recovery-codes',
      (token) => post(gateway.app, '/v1/me/recovery-codes', { code: '123456' }, bearer(token)),
    ],
  ];

  it.each(changes)('%s answers 401 reauthentication_required to a sign-in older than the limit', async (_, call) => {
    const response = await call(stale.accessToken);
    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({ code: 'reauthentication_required', maxAge: MAX_AGE });
  });

  it('says how in WWW-Authenticate (RFC 9470), changes nothing, and records who was refused', async () => {
    const response = await gateway.app.inject({
      method: 'POST',
      url: '/v1/me/totp',
      headers: bearer(stale.accessToken).headers,
    });
    expect(response.statusCode).toBe(401);
    const challenge = String(response.headers['www-authenticate']);
    expect(challenge).toMatch(/^Bearer error="insufficient_user_authentication"/);
    expect(challenge).toContain(`max_age=${MAX_AGE}`);

    const factors = await database.db.selectFrom('user_factors').select('id').where('user_id', '=', userId).execute();
    expect(factors).toEqual([]);
    const user = await database.db
      .selectFrom('users')
      .select('phone')
      .where('id', '=', userId)
      .executeTakeFirstOrThrow();
    expect(user.phone).toBeNull();
    const refused = await database.db
      .selectFrom('security_events')
      .select('details')
      .where('type', '=', 'session.reauthentication_required')
      .where('user_id', '=', userId)
      .execute();
    expect(refused.map((event) => (event.details as { action: string }).action)).toContain('factor.enrol');
  });

  it('is not satisfied by refreshing: the new access token keeps the old auth_time', async () => {
    const response = await refresh(gateway, stale.refreshToken);
    expect(response.status).toBe(200);
    const refreshed = (response.body as { tokens: SessionTokens }).tokens;
    stale = refreshed;
    expect((await get(gateway.app, '/v1/me', bearer(refreshed.accessToken))).status).toBe(200);
    const change = await post(gateway.app, '/v1/me/totp', undefined, bearer(refreshed.accessToken));
    expect(change.status).toBe(401);
    expect(change.body.code).toBe('reauthentication_required');
  });

  it('is satisfied by signing in again', async () => {
    const fresh = await loginTokens(gateway, email);
    const response = await post(gateway.app, '/v1/me/totp', undefined, bearer(fresh.accessToken));
    expect(response.status).toBe(201);
  });
});
