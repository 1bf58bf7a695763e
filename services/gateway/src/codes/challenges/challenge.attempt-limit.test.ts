import type { TestDatabase } from '@otp/testkit';
import { describe, expect, it } from 'vitest';
import { deliveredCode } from '../../testing/delivered-code.ts';
import { requestCode, resend, verify, wrongCode } from '../../testing/flows.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { get, uniqueEmail } from '../../testing/gateway.harness.ts';

async function attemptCount(database: TestDatabase, id: string): Promise<number> {
  const row = await database.db
    .selectFrom('otp_challenges')
    .select('attempt_count')
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  return row.attempt_count;
}

describe('the attempt budget of a challenge', () => {
  // No resend cooldown, so the shared-budget test can resend at once.
  const { gateway, database } = useTestGateway({ env: { OTP_RESEND_COOLDOWN_SECONDS: '0' } });

  it('answers a wrong code with 400 invalid_code and the attempts left', async () => {
    const { id, code } = await requestCode(gateway, { channel: 'email', to: uniqueEmail() });
    const wrong = await verify(gateway, id, wrongCode(code));
    expect(wrong.status).toBe(400);
    expect(wrong.contentType).toMatch(/^application\/problem\+json/);
    expect(wrong.body).toMatchObject({ type: 'about:blank', status: 400, code: 'invalid_code', attemptsRemaining: 4 });
    expect(JSON.stringify(wrong.body)).not.toContain(code);
    expect((await verify(gateway, id, wrongCode(code))).body.attemptsRemaining).toBe(3);
    // The right code still works within the budget.
    expect((await verify(gateway, id, code)).status).toBe(200);
  });

  it('locks the challenge when the budget is used up: even the right code fails after', async () => {
    const { id, code } = await requestCode(gateway, { channel: 'email', to: uniqueEmail() });
    for (const remaining of [4, 3, 2, 1]) {
      const response = await verify(gateway, id, wrongCode(code));
      expect(response.body).toMatchObject({ code: 'invalid_code', attemptsRemaining: remaining });
    }
    const fifth = await verify(gateway, id, wrongCode(code));
    expect(fifth.status).toBe(429);
    expect(fifth.body).toMatchObject({ code: 'too_many_attempts', attemptsRemaining: 0 });

    const right = await verify(gateway, id, code);
    expect(right.status).toBe(429);
    expect(right.body.code).toBe('too_many_attempts');
    expect(right.body).not.toHaveProperty('user');

    const status = await get(gateway.app, `/v1/otp/challenges/${id}`);
    expect(status.body).toMatchObject({ status: 'locked', attemptsRemaining: 0 });
    // A refused attempt is not counted past the budget.
    expect(await attemptCount(database, id)).toBe(5);
    expect((await resend(gateway, id)).body.code).toBe('too_many_attempts');
  });

  it('shares one budget across resends: a new code does not reset the count', async () => {
    const { id, code } = await requestCode(gateway, { channel: 'email', to: uniqueEmail() });
    for (let i = 0; i < 3; i++) await verify(gateway, id, wrongCode(code));
    expect((await resend(gateway, id)).status).toBe(202);
    const second = await deliveredCode(gateway, id, 2);
    const wrong = wrongCode(code, second);

    const fourth = await verify(gateway, id, wrong);
    expect(fourth.body).toMatchObject({ code: 'invalid_code', attemptsRemaining: 1 });
    const fifth = await verify(gateway, id, wrong);
    expect(fifth.body.code).toBe('too_many_attempts');
    expect((await verify(gateway, id, second)).body.code).toBe('too_many_attempts');
  });
});
