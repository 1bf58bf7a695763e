import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, registerUser, type SessionTokens } from '../../testing/accounts.ts';
import { useTestGateway, useTestReplica } from '../../testing/gateway.fixture.ts';
import { bearer, get, post, type TestGateway } from '../../testing/gateway.harness.ts';

describe('sessions: one row per sign-in, sid and auth_time in access tokens', () => {
  let email: string;
  let userId: string;
  const primary = useTestGateway();
  const { gateway, database } = primary;
  // Another replica on the same rows: the race below runs across the two.
  const { gateway: replica } = useTestReplica(primary);

  beforeAll(async () => {
    ({ email, userId } = await registerUser(gateway, 'sessions'));
  });

  // Each call comes from its own address unless told otherwise, so the per-IP limits of the
  // sign-in and refresh routes stay out of the way of what is tested here.
  let hosts = 0;
  const anotherAddress = () => `198.51.${100 + Math.floor(hosts / 250)}.${1 + (hosts++ % 250)}`;

  function refresh(target: TestGateway, refreshToken: string) {
    return target.app
      .inject({ method: 'POST', url: '/v1/auth/refresh', payload: { refreshToken }, remoteAddress: anotherAddress() })
      .then((response) => ({
        status: response.statusCode,
        body: JSON.parse(response.body) as Record<string, unknown>,
      }));
  }

  /** A password sign-in as the given device (user agent, client address). */
  async function signIn(device: { userAgent?: string; ip?: string } = {}): Promise<SessionTokens> {
    const response = await gateway.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { email, password: PASSWORD },
      headers: { 'user-agent': device.userAgent ?? 'sessions-test/1.0' },
      remoteAddress: device.ip ?? anotherAddress(),
    });
    expect(response.statusCode, response.body).toBe(200);
    return (JSON.parse(response.body) as { tokens: SessionTokens }).tokens;
  }

  const claims = (tokens: SessionTokens) => decodeJwt(tokens.accessToken);
  const session = (id: string) =>
    database.db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const liveTokens = async (sessionId: string) =>
    (
      await database.db
        .selectFrom('refresh_tokens')
        .select('id')
        .where('family_id', '=', sessionId)
        .where('revoked_at', 'is', null)
        .execute()
    ).length;
  const newDeviceEvents = async () =>
    (
      await database.db
        .selectFrom('security_events')
        .select('id')
        .where('type', '=', 'sign_in.new_device')
        .where('user_id', '=', userId)
        .execute()
    ).length;

  it('stores the sign-in as a session row and names it in the access token (sid, auth_time)', async () => {
    const before = Math.floor(Date.now() / 1000);
    const tokens = await signIn({ userAgent: 'row-test/2.0', ip: '2001:db8:aa:bb:1:2:3:4' });
    const { sid, auth_time: authTime } = claims(tokens);
    expect(typeof sid).toBe('string');
    expect(authTime).toBeGreaterThanOrEqual(before);
    const row = await session(sid as string);
    expect(row).toMatchObject({
      user_id: userId,
      user_agent: 'row-test/2.0',
      client_network: '2001:db8:aa:bb::',
      revoked_at: null,
    });
    expect(Math.floor(row.auth_time.getTime() / 1000)).toBe(authTime);
    expect(row.last_used_at.getTime()).toBe(row.auth_time.getTime());
  });

  it('keeps sid and auth_time through refreshes, and records when the session was last used', async () => {
    const first = await signIn();
    const { sid, auth_time: authTime } = claims(first);
    const at = new Date(Date.now() + 120_000);
    gateway.deps.clock = () => at;
    let refreshed: SessionTokens;
    try {
      const response = await refresh(gateway, first.refreshToken);
      expect(response.status).toBe(200);
      refreshed = (response.body as { tokens: SessionTokens }).tokens;
    } finally {
      gateway.deps.clock = undefined;
    }
    expect(claims(refreshed)).toMatchObject({ sid, auth_time: authTime });
    expect((await session(sid as string)).last_used_at.getTime()).toBe(at.getTime());
  });

  it('refuses the access tokens of a session that was signed out', async () => {
    const tokens = await signIn();
    expect((await get(gateway.app, '/v1/me', bearer(tokens.accessToken))).status).toBe(200);
    expect((await post(gateway.app, '/v1/auth/logout', { refreshToken: tokens.refreshToken })).status).toBe(204);
    const after = await get(gateway.app, '/v1/me', bearer(tokens.accessToken));
    expect(after.status).toBe(401);
    expect(after.body.code).toBe('unauthorized');
    expect((await session(claims(tokens).sid as string)).revoked_reason).toBe('logout');
  });

  it('never leaves a live successor when a reuse races the rotation it revokes (20 races, two replicas)', async () => {
    for (let round = 0; round < 20; round++) {
      const first = await signIn();
      const sessionId = claims(first).sid as string;
      const second = ((await refresh(gateway, first.refreshToken)).body as { tokens: SessionTokens }).tokens;
      // The owner rotates `second` while a thief replays `first`: the replay revokes the session.
      const [rotation, replay] = await Promise.all([
        refresh(gateway, second.refreshToken),
        refresh(replica, first.refreshToken),
      ]);
      expect(replay.status).toBe(401);
      expect([200, 401]).toContain(rotation.status);
      expect(await liveTokens(sessionId)).toBe(0);
      expect((await session(sessionId)).revoked_reason).toBe('reuse_detected');
      if (rotation.status === 200) {
        // It won the race, so the revocation came after it and took its successor too.
        const successor = (rotation.body as { tokens: SessionTokens }).tokens;
        expect((await refresh(gateway, successor.refreshToken)).status).toBe(401);
        expect((await get(gateway.app, '/v1/me', bearer(successor.accessToken))).status).toBe(401);
      }
    }
  });

  it('lets one of many concurrent refreshes with one token through, and the others revoke the session', async () => {
    const first = await signIn();
    const sessionId = claims(first).sid as string;
    const answers = await Promise.all(Array.from({ length: 8 }, () => refresh(gateway, first.refreshToken)));
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
    expect(answers.filter((answer) => answer.status === 401)).toHaveLength(7);
    expect(await liveTokens(sessionId)).toBe(0);
  });

  it('records sign_in.new_device for a user agent or /64 the account has not used, not for a known one', async () => {
    const device = { userAgent: 'device-test/1.0', ip: '2001:db8:10:20::1' };
    await signIn(device);
    const counted = await newDeviceEvents();
    // The same agent elsewhere in the same /64: known.
    await signIn({ ...device, ip: '2001:db8:10:20:ffff:ffff:ffff:fffe' });
    expect(await newDeviceEvents()).toBe(counted);
    // Another /64, then another user agent: new each time.
    await signIn({ ...device, ip: '2001:db8:10:21::1' });
    expect(await newDeviceEvents()).toBe(counted + 1);
    await signIn({ ...device, userAgent: 'device-test/2.0' });
    expect(await newDeviceEvents()).toBe(counted + 2);
  });

  it('forgets a device 90 days after its last use', async () => {
    const device = { userAgent: 'old-phone/1.0', ip: '203.0.113.50' };
    await signIn(device);
    await signIn(device);
    const counted = await newDeviceEvents();
    await database.db
      .updateTable('sessions')
      .set({ last_used_at: new Date(Date.now() - 91 * 86_400_000) })
      .where('user_agent', '=', 'old-phone/1.0')
      .execute();
    await signIn(device);
    expect(await newDeviceEvents()).toBe(counted + 1);
  });

  it('adopts a family the previous release started without a session row, and rotates it', async () => {
    const refreshToken = randomBytes(32).toString('base64url');
    const familyId = randomUUID();
    const end = new Date(Date.now() + 86_400_000);
    await database.db
      .insertInto('refresh_tokens')
      .values({
        id: randomUUID(),
        user_id: userId,
        family_id: familyId,
        token_hash: createHash('sha256').update(refreshToken).digest(),
        expires_at: end,
        family_expires_at: end,
        revoked_at: null,
        replaced_by: null,
      })
      .execute();
    const response = await refresh(gateway, refreshToken);
    expect(response.status).toBe(200);
    const tokens = (response.body as { tokens: SessionTokens }).tokens;
    expect(claims(tokens).sid).toBe(familyId);
    expect(await session(familyId)).toMatchObject({ user_id: userId, client_network: null, revoked_at: null });
    expect((await get(gateway.app, '/v1/me', bearer(tokens.accessToken))).status).toBe(200);
  });

  it("does not record a new device for an account's first sign-in", async () => {
    const fresh = await registerUser(gateway, 'first-sign-in');
    const response = await gateway.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { email: fresh.email, password: PASSWORD },
      remoteAddress: anotherAddress(),
    });
    expect(response.statusCode).toBe(200);
    const events = await database.db
      .selectFrom('security_events')
      .select('type')
      .where('user_id', '=', fresh.userId)
      .where('type', '=', 'sign_in.new_device')
      .execute();
    expect(events).toEqual([]);
  });
});
