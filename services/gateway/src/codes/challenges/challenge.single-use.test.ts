import { describe, expect, it } from 'vitest';
import { requestCode, verify } from '../../testing/flows.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { get, uniqueEmail } from '../../testing/gateway.harness.ts';

describe('a code is good once, for its own challenge, until it expires', () => {
  const { gateway, database } = useTestGateway();

  it('refuses a used code with 410 challenge_used and issues no second session', async () => {
    const { id, code } = await requestCode(gateway, { channel: 'email', to: uniqueEmail() });
    expect((await verify(gateway, id, code)).status).toBe(200);
    const again = await verify(gateway, id, code);
    expect(again.status).toBe(410);
    expect(again.body.code).toBe('challenge_used');
    const tokens = await database.db.selectFrom('refresh_tokens').select('id').execute();
    expect(tokens).toHaveLength(1);
  });

  it("refuses challenge A's code on challenge B, and counts the attempt on B", async () => {
    const email = uniqueEmail('binding');
    const a = await requestCode(gateway, { channel: 'email', to: email });
    let b = await requestCode(gateway, { channel: 'email', to: email });
    // Two challenges draw the same code one time in a million; then take another B.
    if (b.code === a.code) b = await requestCode(gateway, { channel: 'email', to: email });
    const crossed = await verify(gateway, b.id, a.code);
    expect(crossed.status).toBe(400);
    expect(crossed.body).toMatchObject({ code: 'invalid_code', attemptsRemaining: 4 });
    expect((await verify(gateway, a.id, a.code)).status).toBe(200);
  });

  it('refuses an expired challenge with 410 challenge_expired, even with the right code', async () => {
    const { id, code } = await requestCode(gateway, { channel: 'email', to: uniqueEmail('late') });
    await database.db
      .updateTable('otp_challenges')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', id)
      .execute();
    const late = await verify(gateway, id, code);
    expect(late.status).toBe(410);
    expect(late.body.code).toBe('challenge_expired');
    expect((await get(gateway.app, `/v1/otp/challenges/${id}`)).body.status).toBe('expired');
    const row = await database.db
      .selectFrom('otp_challenges')
      .select('attempt_count')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.attempt_count).toBe(0);
  });

  it('answers 404 challenge_not_found for an unknown id', async () => {
    const unknown = await verify(gateway, '7c3c1c1e-8a55-4b8e-9d8b-0d4c0f3a9b22', '123456');
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('challenge_not_found');
  });
});
