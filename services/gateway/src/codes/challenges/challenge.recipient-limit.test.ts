import { sql } from '@otp/db';
import type { TestDatabase } from '@otp/testkit';
import { describe, expect, it } from 'vitest';
import { requestCode, resend } from '../../testing/flows.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { post, uniqueEmail } from '../../testing/gateway.harness.ts';

async function challengeCount(database: TestDatabase): Promise<number> {
  const rows = await database.db.selectFrom('otp_challenges').select('id').execute();
  return rows.length;
}

describe('the per-recipient limit', () => {
  const { gateway, database } = useTestGateway({
    env: { OTP_RECIPIENT_LIMIT: '3', OTP_RECIPIENT_WINDOW_SECONDS: '600', OTP_RESEND_COOLDOWN_SECONDS: '0' },
  });

  it('allows OTP_RECIPIENT_LIMIT messages per window, then 429 until the oldest leaves it', async () => {
    const email = uniqueEmail('limited');
    for (let i = 0; i < 3; i++) {
      const accepted = await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: email });
      expect(accepted.status).toBe(202);
    }
    const before = await challengeCount(database);
    // The same address written differently is the same recipient.
    const over = await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: ` ${email.toLowerCase()}` });
    expect(over.status).toBe(429);
    expect(over.body.code).toBe('recipient_rate_limited');
    const retryAfter = Number(over.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(590);
    expect(retryAfter).toBeLessThanOrEqual(600);
    // A refused request writes nothing.
    expect(await challengeCount(database)).toBe(before);

    // Another recipient is not affected.
    expect((await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: uniqueEmail() })).status).toBe(202);

    // Once the oldest challenge is out of the window, one more is allowed. (The window keeps the
    // creation times oldest first; age the first one past the window.)
    await sql`UPDATE otp_recipient_windows SET recent[1] = recent[1] - interval '601 seconds' WHERE cardinality(recent) = 3`.execute(
      database.db,
    );
    expect((await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: email })).status).toBe(202);
    expect((await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: email })).status).toBe(429);
  });

  it('holds under concurrent requests for one recipient', async () => {
    const email = uniqueEmail('burst');
    const responses = await Promise.all(
      Array.from({ length: 8 }, () => post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: email })),
    );
    expect(responses.filter((response) => response.status === 202)).toHaveLength(3);
    expect(responses.filter((response) => response.body.code === 'recipient_rate_limited')).toHaveLength(5);
  });

  it('counts resends as messages: a resend takes a slot, and past the limit answers 429 recipient_rate_limited', async () => {
    const email = uniqueEmail('resent');
    const { id } = await requestCode(gateway, { channel: 'email', to: email });
    expect((await resend(gateway, id)).status).toBe(202);
    expect((await resend(gateway, id)).status).toBe(202);
    const outbox = () =>
      database.db.selectFrom('delivery_outbox').select('id').where('challenge_id', '=', id).execute();
    expect(await outbox()).toHaveLength(3);

    // Three messages: neither a fourth send nor a new challenge for the address.
    const over = await resend(gateway, id);
    expect(over.status).toBe(429);
    expect(over.body.code).toBe('recipient_rate_limited');
    const retryAfter = Number(over.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(590);
    expect(retryAfter).toBeLessThanOrEqual(600);
    expect((await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: email })).body.code).toBe(
      'recipient_rate_limited',
    );
    // The refused resend wrote nothing: no outbox row, the send count and codes unchanged.
    expect(await outbox()).toHaveLength(3);
    const row = await database.db
      .selectFrom('otp_challenges')
      .select(['send_count', 'code_hashes'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.send_count).toBe(3);
    expect(row.code_hashes).toHaveLength(2);
  });
});
