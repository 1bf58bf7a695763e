import { describe, expect, it } from 'vitest';
import { loginTokens, registerUser } from '../../testing/accounts.ts';
import { bad, expectRefusedWithoutWrites } from '../../testing/bad-input.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { bearer, get, patch } from '../../testing/gateway.harness.ts';

describe('the profile: GET and PATCH /v1/me', () => {
  const { gateway, database } = useTestGateway();

  async function signedIn(label: string) {
    const { email, userId } = await registerUser(gateway, label);
    return { userId, accessToken: (await loginTokens(gateway, email)).accessToken };
  }

  const storedName = async (userId: string) =>
    (await database.db.selectFrom('users').select('name').where('id', '=', userId).executeTakeFirstOrThrow()).name;

  it('shows no name until one is set, stores it trimmed, and removes it with null', async () => {
    const { userId, accessToken } = await signedIn('profile');
    expect((await get(gateway.app, '/v1/me', bearer(accessToken))).body.name).toBeNull();

    const named = await patch(gateway.app, '/v1/me', { name: '  Ada Lovelace 👩‍💻 ' }, bearer(accessToken));
    expect(named.status).toBe(200);
    expect(named.body).toMatchObject({ id: userId, name: 'Ada Lovelace 👩‍💻', emailVerified: true });
    expect((await get(gateway.app, '/v1/me', bearer(accessToken))).body.name).toBe('Ada Lovelace 👩‍💻');
    expect(await storedName(userId)).toBe('Ada Lovelace 👩‍💻');

    const cleared = await patch(gateway.app, '/v1/me', { name: null }, bearer(accessToken));
    expect(cleared.status).toBe(200);
    expect(cleared.body.name).toBeNull();
    expect(await storedName(userId)).toBeNull();

    const events = await database.db
      .selectFrom('security_events')
      .select('details')
      .where('user_id', '=', userId)
      .where('type', '=', 'user.name_changed')
      .orderBy('id')
      .execute();
    // The audit trail says that the name changed, never what it is.
    expect(events.map((event) => event.details)).toEqual([{ cleared: false }, { cleared: true }]);
  });

  it('takes 100 characters, counted as characters, not UTF-16 units', async () => {
    const { accessToken } = await signedIn('profile-long');
    const name = '𝒜'.repeat(100);
    const response = await patch(gateway.app, '/v1/me', { name }, bearer(accessToken));
    expect(response.status).toBe(200);
    expect(response.body.name).toBe(name);
  });

  it('refuses bad names with 400 validation_failed and changes nothing', async () => {
    const { userId, accessToken } = await signedIn('profile-bad');
    expect((await patch(gateway.app, '/v1/me', { name: 'Kept' }, bearer(accessToken))).status).toBe(200);
    const authorization = `Bearer ${accessToken}`;
    const refuse = (name: string, body: unknown) => bad(name, '/v1/me', body, { method: 'PATCH', authorization });
    await expectRefusedWithoutWrites(gateway, database.db, [
      refuse('empty', { name: '' }),
      refuse('only white space', { name: ' \t ' }),
      refuse('101 characters', { name: 'a'.repeat(101) }),
      refuse('a line break', { name: 'Ada\nLovelace' }),
      refuse('a NUL', { name: 'Ada\u0000' }),
      refuse('a DEL', { name: 'Ada\u007f' }),
      refuse('a line separator', { name: 'Ada\u2028' }),
      refuse('a right-to-left override', { name: 'Ada\u202Egnp.exe' }),
      refuse('an isolate', { name: '\u2066Ada' }),
      refuse('a number', { name: 42 }),
      refuse('no name', {}),
      refuse('an unknown field', { name: 'Ada', email: 'x@example.com' }),
      bad('not JSON', '/v1/me', '{"name":', { method: 'PATCH', authorization, code: 'malformed_body' }),
    ]);
    expect(await storedName(userId)).toBe('Kept');
  });

  it('answers 401 without a valid access token', async () => {
    expect((await patch(gateway.app, '/v1/me', { name: 'Ada' })).status).toBe(401);
    expect((await patch(gateway.app, '/v1/me', { name: 'Ada' }, bearer('a.b.c'))).status).toBe(401);
  });
});
