import { describe, expect, it } from 'vitest';
import { login, loginTokens, refresh, registerUser } from '../../testing/accounts.ts';
import { del } from '../../testing/factors.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { bearer } from '../../testing/gateway.harness.ts';

const ROUNDS = 6;

describe('DELETE /v1/me racing sign-ins and refreshes', () => {
  const { gateway, database } = useTestGateway();

  async function leftOf(userId: string) {
    const count = async (table: 'sessions' | 'refresh_tokens' | 'users', column: 'user_id' | 'id') =>
      (await database.db.selectFrom(table).select(column).where(column, '=', userId).execute()).length;
    return {
      users: await count('users', 'id'),
      sessions: await count('sessions', 'user_id'),
      refreshTokens: await count('refresh_tokens', 'user_id'),
    };
  }

  it('a refresh at the same time as the deletion leaves no live session or token', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { email, userId } = await registerUser(gateway, `race-refresh-${round}`);
      const tokens = await loginTokens(gateway, email);
      const [deleted, refreshed] = await Promise.all([
        del(gateway.app, '/v1/me', {}, bearer(tokens.accessToken)),
        refresh(gateway, tokens.refreshToken),
      ]);
      expect(deleted.status, String(deleted.body.code)).toBe(204);
      // Either order is fine: before the deletion (200, and its new tokens die with the account)
      // or after it (401). Never a 500, never a token that outlives the account.
      expect([200, 401], JSON.stringify(refreshed.body)).toContain(refreshed.status);
      if (refreshed.status === 200) {
        const successor = (refreshed.body.tokens as { refreshToken: string }).refreshToken;
        expect((await refresh(gateway, successor)).status).toBe(401);
      }
      expect(await leftOf(userId)).toEqual({ users: 0, sessions: 0, refreshTokens: 0 });
    }
  });

  it('a password sign-in at the same time as the deletion leaves no session behind', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { email, userId } = await registerUser(gateway, `race-login-${round}`);
      const { accessToken } = await loginTokens(gateway, email);
      const [deleted, signedIn] = await Promise.all([
        del(gateway.app, '/v1/me', {}, bearer(accessToken)),
        login(gateway, email),
      ]);
      expect(deleted.status, String(deleted.body.code)).toBe(204);
      expect([200, 401], JSON.stringify(signedIn.body)).toContain(signedIn.status);
      if (signedIn.status === 200) {
        const late = signedIn.body.tokens as { refreshToken: string };
        expect((await refresh(gateway, late.refreshToken)).status).toBe(401);
      }
      expect(await leftOf(userId)).toEqual({ users: 0, sessions: 0, refreshTokens: 0 });
    }
  });

  it('two deletions at once: one deletes, the other finds no account', async () => {
    const { email, userId } = await registerUser(gateway, 'race-twice');
    const { accessToken } = await loginTokens(gateway, email);
    const audit = database.db.selectFrom('security_events').select('id').where('type', '=', 'user.deleted');
    const recordedBefore = (await audit.execute()).length;
    const answers = await Promise.all([
      del(gateway.app, '/v1/me', {}, bearer(accessToken)),
      del(gateway.app, '/v1/me', {}, bearer(accessToken)),
    ]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([204, 401]);
    expect(await leftOf(userId)).toEqual({ users: 0, sessions: 0, refreshTokens: 0 });
    // Audit rows of deleted accounts name none: the one added is this deletion's.
    expect((await audit.execute()).length).toBe(recordedBefore + 1);
  });
});
