import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { login, PASSWORD, refresh, registerUser, type SessionTokens } from '../../testing/accounts.ts';
import { del } from '../../testing/factors.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { bearer, get, post } from '../../testing/gateway.harness.ts';

const MAX_AGE = 600;

describe('the sessions of an account: list, end one, end all', () => {
  const { gateway, database } = useTestGateway();

  interface Device {
    remoteAddress?: string;
    userAgent?: string;
    /** Signed in this long ago (seconds). */
    ago?: number;
  }

  async function signIn(email: string, device: Device = {}): Promise<SessionTokens & { sessionId: string }> {
    if (device.ago !== undefined) {
      const at = new Date(Date.now() - device.ago * 1000);
      gateway.deps.clock = () => at;
    }
    try {
      const response = await login(gateway, email, PASSWORD, {
        headers: { 'user-agent': device.userAgent ?? 'test-agent' },
        ...(device.remoteAddress === undefined ? {} : { remoteAddress: device.remoteAddress }),
      });
      expect(response.status, String(response.body.code)).toBe(200);
      const tokens = response.body.tokens as SessionTokens;
      return { ...tokens, sessionId: sessionIdOf(tokens.accessToken) };
    } finally {
      gateway.deps.clock = undefined;
    }
  }

  const me = (accessToken: string) => get(gateway.app, '/v1/me', bearer(accessToken));
  const list = (accessToken: string) => get(gateway.app, '/v1/me/sessions', bearer(accessToken));
  const end = (accessToken: string, id: string) =>
    del(gateway.app, `/v1/me/sessions/${id}`, undefined, bearer(accessToken));
  const logoutAll = (accessToken: string) => post(gateway.app, '/v1/auth/logout-all', undefined, bearer(accessToken));
  const revokedAt = async (id: string) =>
    (await database.db.selectFrom('sessions').select('revoked_at').where('id', '=', id).executeTakeFirstOrThrow())
      .revoked_at;

  it("lists the account's sessions, marks only the caller's current, and shows networks, never addresses", async () => {
    const { email } = await registerUser(gateway, 'sessions-list');
    const phone = await signIn(email, { remoteAddress: '203.0.113.77', userAgent: 'Phone/1.0' });
    const laptop = await signIn(email, { remoteAddress: '2001:db8:1:2:3:4:5:6', userAgent: 'Laptop/2.0' });
    const stranger = await signIn((await registerUser(gateway, 'sessions-stranger')).email);

    const response = await list(phone.accessToken);
    expect(response.status).toBe(200);
    const sessions = response.body.sessions as Array<Record<string, unknown>>;
    // Most recently used first; the other account's session is not there.
    expect(sessions.map((session) => session.id)).toEqual([laptop.sessionId, phone.sessionId]);
    expect(sessions).toEqual([
      {
        id: laptop.sessionId,
        createdAt: expect.any(String),
        lastUsedAt: expect.any(String),
        userAgent: 'Laptop/2.0',
        ipPrefix: '2001:db8:1:2::/64',
        current: false,
      },
      expect.objectContaining({ userAgent: 'Phone/1.0', ipPrefix: '203.0.113.0/24', current: true }),
    ]);
    expect(JSON.stringify(response.body)).not.toContain('203.0.113.77');
    expect(JSON.stringify(response.body)).not.toContain(stranger.sessionId);
  });

  it('ending another session makes its refresh token and its access tokens fail, and leaves the rest', async () => {
    const { email, userId } = await registerUser(gateway, 'sessions-end');
    const mine = await signIn(email);
    const other = await signIn(email);

    expect((await end(mine.accessToken, other.sessionId)).status).toBe(204);

    expect((await refresh(gateway, other.refreshToken)).body.code).toBe('invalid_refresh_token');
    expect((await me(other.accessToken)).status).toBe(401);
    expect((await me(mine.accessToken)).status).toBe(200);
    expect((await refresh(gateway, mine.refreshToken)).status).toBe(200);
    const after = (await list(mine.accessToken)).body.sessions as Array<{ id: string }>;
    expect(after.map((session) => session.id)).toEqual([mine.sessionId]);
    const events = await database.db
      .selectFrom('security_events')
      .select('details')
      .where('user_id', '=', userId)
      .where('type', '=', 'session.ended_by_user')
      .execute();
    expect(events.map((event) => event.details)).toEqual([{ sessionId: other.sessionId, current: false, revoked: 1 }]);
    // Ending it again changes nothing and still succeeds (a retried request).
    expect((await end(mine.accessToken, other.sessionId)).status).toBe(204);
  });

  it('a refresh racing the end of its session leaves no live token behind', async () => {
    const { email } = await registerUser(gateway, 'sessions-race');
    const mine = await signIn(email);
    const other = await signIn(email);

    const [ended, refreshed] = await Promise.all([
      end(mine.accessToken, other.sessionId),
      refresh(gateway, other.refreshToken),
    ]);

    expect(ended.status).toBe(204);
    if (refreshed.status === 200) {
      const successor = refreshed.body.tokens as SessionTokens;
      expect((await refresh(gateway, successor.refreshToken)).status).toBe(401);
      expect((await me(successor.accessToken)).status).toBe(401);
    } else {
      expect(refreshed.body.code).toBe('invalid_refresh_token');
    }
    expect((await me(other.accessToken)).status).toBe(401);
  });

  it("answers 404 not_found for a session that is not the caller's, and changes nothing", async () => {
    const { email } = await registerUser(gateway, 'sessions-404');
    const mine = await signIn(email);
    const stranger = await signIn((await registerUser(gateway, 'sessions-404-other')).email);

    for (const id of [stranger.sessionId, randomUUID()]) {
      const response = await end(mine.accessToken, id);
      expect(response.status).toBe(404);
      expect(response.body.code).toBe('not_found');
    }
    expect(await revokedAt(stranger.sessionId)).toBeNull();
    expect((await me(stranger.accessToken)).status).toBe(200);
    expect((await refresh(gateway, stranger.refreshToken)).status).toBe(200);
    expect((await end(mine.accessToken, 'not-a-uuid')).body.code).toBe('validation_failed');
  });

  it('ending another session needs a recent sign-in; ending the own one does not', async () => {
    const { email } = await registerUser(gateway, 'sessions-step-up');
    const stale = await signIn(email, { ago: MAX_AGE + 60 });
    const other = await signIn(email);

    const refused = await end(stale.accessToken, other.sessionId);
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ code: 'reauthentication_required', maxAge: MAX_AGE });
    // The same answer whether the id exists or not: a stale token learns nothing.
    expect((await end(stale.accessToken, randomUUID())).body.code).toBe('reauthentication_required');
    expect(await revokedAt(other.sessionId)).toBeNull();

    expect((await end(stale.accessToken, stale.sessionId)).status).toBe(204);
    expect((await me(stale.accessToken)).status).toBe(401);
    expect((await refresh(gateway, stale.refreshToken)).status).toBe(401);
    expect((await me(other.accessToken)).status).toBe(200);
  });

  it("logout-all ends every session of the account, the caller's included, even with an old sign-in", async () => {
    const { email, userId } = await registerUser(gateway, 'sessions-all');
    const caller = await signIn(email, { ago: MAX_AGE + 60 });
    const others = [await signIn(email), await signIn(email)];
    const stranger = await signIn((await registerUser(gateway, 'sessions-all-other')).email);

    // Refreshes of the other sessions race the sign-out: none may leave a live token.
    const [answer, ...refreshes] = await Promise.all([
      logoutAll(caller.accessToken),
      ...others.map((session) => refresh(gateway, session.refreshToken)),
    ]);
    expect(answer.status).toBe(204);

    const successors = refreshes
      .filter((response) => response.status === 200)
      .map((response) => response.body.tokens as SessionTokens);
    for (const tokens of [caller, ...others, ...successors]) {
      expect((await me(tokens.accessToken)).status).toBe(401);
      expect((await refresh(gateway, tokens.refreshToken)).status).toBe(401);
    }
    const live = await database.db
      .selectFrom('refresh_tokens')
      .select('id')
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .execute();
    expect(live).toEqual([]);
    // Another account is not touched.
    expect((await me(stranger.accessToken)).status).toBe(200);
    // Signing in again works, with a new session.
    const again = await signIn(email);
    expect((await list(again.accessToken)).body.sessions).toEqual([expect.objectContaining({ current: true })]);
  });

  it('answers 401 without a valid access token', async () => {
    const anyId = randomUUID();
    expect((await get(gateway.app, '/v1/me/sessions')).status).toBe(401);
    expect((await del(gateway.app, `/v1/me/sessions/${anyId}`, undefined)).status).toBe(401);
    expect((await post(gateway.app, '/v1/auth/logout-all')).status).toBe(401);
    expect((await post(gateway.app, '/v1/auth/logout-all', undefined, bearer('a.b.c'))).status).toBe(401);
  });
});

/** The session id (`sid`) an access token carries. */
function sessionIdOf(accessToken: string): string {
  const payload = accessToken.split('.')[1] ?? '';
  return String((JSON.parse(Buffer.from(payload, 'base64url').toString()) as { sid: unknown }).sid);
}
