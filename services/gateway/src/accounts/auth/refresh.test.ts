import { beforeAll, describe, expect, it } from 'vitest';
import { loginTokens, refresh, registerUser, type SessionTokens } from '../../testing/accounts.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { post } from '../../testing/gateway.harness.ts';

const DAY = 86_400_000;

describe('refresh-token rotation, reuse detection and logout', () => {
  let email: string;
  const { gateway, database } = useTestGateway();

  beforeAll(async () => {
    email = (await registerUser(gateway, 'refresh')).email;
  });

  async function expectRefused(refreshToken: string) {
    const response = await refresh(gateway, refreshToken);
    expect(response.status).toBe(401);
    expect(response.body.code).toBe('invalid_refresh_token');
  }

  /** Runs `body` with the gateway's clock moved forward. */
  async function later<T>(ms: number, body: () => Promise<T>): Promise<T> {
    gateway.deps.clock = () => new Date(Date.now() + ms);
    try {
      return await body();
    } finally {
      gateway.deps.clock = undefined;
    }
  }

  it('returns a new pair on every refresh and retires the presented token', async () => {
    const first = await loginTokens(gateway, email);
    const response = await refresh(gateway, first.refreshToken);
    expect(response.status).toBe(200);
    const second = (response.body as { tokens: SessionTokens }).tokens;
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(second.accessToken).not.toBe(first.accessToken);
    expect((await refresh(gateway, second.refreshToken)).status).toBe(200);
  });

  it('revokes the whole family when a retired token is presented again', async () => {
    const first = await loginTokens(gateway, email);
    const second = ((await refresh(gateway, first.refreshToken)).body as { tokens: SessionTokens }).tokens;
    const other = await loginTokens(gateway, email);

    await expectRefused(first.refreshToken);
    // The thief's or the victim's copy, whichever comes next, is dead too ...
    await expectRefused(second.refreshToken);
    // ... but another sign-in of the same user is another family and lives on.
    expect((await refresh(gateway, other.refreshToken)).status).toBe(200);
    const reuse = await database.db
      .selectFrom('security_events')
      .select(['type', 'details'])
      .where('type', '=', 'token.reuse_detected')
      .execute();
    expect(reuse.length).toBe(1);
    expect(JSON.stringify(reuse)).not.toContain(first.refreshToken);
  });

  it('lets at most one of several concurrent refreshes with one token through', async () => {
    const { refreshToken } = await loginTokens(gateway, email);
    const answers = await Promise.all([1, 2, 3, 4].map(() => refresh(gateway, refreshToken)));
    expect(answers.filter((answer) => answer.status === 200).length).toBeLessThanOrEqual(1);
    expect(answers.every((answer) => answer.status === 200 || answer.status === 401)).toBe(true);
  });

  it('expires a token unused for the idle lifetime (7 days)', async () => {
    const { refreshToken } = await loginTokens(gateway, email);
    const idle = await later(7 * DAY + 60_000, () => refresh(gateway, refreshToken));
    expect(idle.status).toBe(401);
    const fresh = await loginTokens(gateway, email);
    expect((await later(6 * DAY, () => refresh(gateway, fresh.refreshToken))).status).toBe(200);
  });

  it('ends a family at its absolute lifetime (30 days) however often it was refreshed', async () => {
    let { refreshToken } = await loginTokens(gateway, email);
    for (const day of [6, 12, 18, 24]) {
      const response = await later(day * DAY, () => refresh(gateway, refreshToken));
      expect(response.status, `day ${day}`).toBe(200);
      refreshToken = (response.body as { tokens: SessionTokens }).tokens.refreshToken;
    }
    const ended = await later(30 * DAY + 60_000, () => refresh(gateway, refreshToken));
    expect(ended.status).toBe(401);
  });

  it('logout revokes the family and answers 204, also for an unknown token', async () => {
    const first = await loginTokens(gateway, email);
    const second = ((await refresh(gateway, first.refreshToken)).body as { tokens: SessionTokens }).tokens;
    const out = await post(gateway.app, '/v1/auth/logout', { refreshToken: second.refreshToken });
    expect(out.status).toBe(204);
    await expectRefused(second.refreshToken);
    expect((await post(gateway.app, '/v1/auth/logout', { refreshToken: 'A'.repeat(43) })).status).toBe(204);
  });
});
