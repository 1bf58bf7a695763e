import { hashCode } from '@otp/domain';
import { describe, expect, it } from 'vitest';
import { deliveredCode, deliveryJob } from '../../testing/delivered-code.ts';
import { requestCode, resend, verify } from '../../testing/flows.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { get, uniqueEmail } from '../../testing/gateway.harness.ts';

describe('resending a code', () => {
  const limits = { RATE_LIMIT_CODE_REQUESTS_PER_MINUTE: '1000' };
  const { gateway, database } = useTestGateway({ env: limits });
  // One database, so either gateway's relay may move the other's rows: one queue prefix too,
  // or a job could land in a queue the test is not reading.
  const { gateway: noCooldown } = useTestGateway(
    () => ({
      env: {
        ...limits,
        OTP_RESEND_COOLDOWN_SECONDS: '0',
        OTP_MAX_SENDS: '4',
        QUEUE_PREFIX: gateway.config.QUEUE_PREFIX,
      },
    }),
    database,
  );

  it('is refused before the cooldown with 429 resend_too_soon and Retry-After', async () => {
    const requested = await requestCode(gateway, { channel: 'email', to: uniqueEmail() });
    const early = await resend(gateway, requested.id);
    expect(early.status).toBe(429);
    expect(early.body.code).toBe('resend_too_soon');
    const retryAfter = Number(early.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(29);
    expect(retryAfter).toBeLessThanOrEqual(30);
    const sends = await database.db
      .selectFrom('delivery_outbox')
      .select('id')
      .where('challenge_id', '=', requested.id)
      .execute();
    expect(sends).toHaveLength(1);
  });

  it('after the cooldown: 202, a new job for send 2, same expiry, next cooldown', async () => {
    const { id } = await requestCode(gateway, { channel: 'email', to: uniqueEmail() });
    const before = await get(gateway.app, `/v1/otp/challenges/${id}`);
    await database.db
      .updateTable('otp_challenges')
      .set({ resend_available_at: new Date(Date.now() - 1000) })
      .where('id', '=', id)
      .execute();
    const resent = await resend(gateway, id);
    expect(resent.status).toBe(202);
    expect(resent.body.expiresAt).toBe(before.body.expiresAt);
    expect(Date.parse(String(resent.body.resendAvailableAt)) - Date.now()).toBeGreaterThan(28_000);
    const job = await deliveryJob(gateway, id, 2);
    expect(job.id).toBe(`${id}.2`);
    expect(job.data).toMatchObject({ challengeId: id, sendNumber: 2, channel: 'email' });
    expect((await deliveryJob(gateway, id, 1)).id).toBe(`${id}.1`);
  });

  /** A challenge sent three times, with its codes oldest first, all three different. */
  async function sentThreeTimes() {
    const sendThreeTimes = async () => {
      const first = await requestCode(noCooldown, { channel: 'email', to: uniqueEmail() });
      const codes = [first.code];
      for (const send of [2, 3]) {
        expect((await resend(noCooldown, first.id)).status).toBe(202);
        codes.push(await deliveredCode(noCooldown, first.id, send));
      }
      return { id: first.id, codes: codes as [string, string, string] };
    };
    // Codes are drawn independently: if the first equals a later one (p ≈ 2e-6) it is valid
    // again through that send, so take another challenge.
    const challenge = await sendThreeTimes();
    return new Set(challenge.codes).size === 3 ? challenge : sendThreeTimes();
  }

  it('keeps the code of the previous send valid, but not the one before it', async () => {
    const { id, codes } = await sentThreeTimes();
    const [third, second] = codes;
    // The third-newest send's code is refused like any wrong code.
    const stale = await verify(noCooldown, id, third);
    expect(stale.status).toBe(400);
    expect(stale.body.code).toBe('invalid_code');
    expect((await verify(noCooldown, id, second)).status).toBe(200);
  });

  it('holds a challenge stored with three codes (before the rule) to the newest two', async () => {
    const { id, codes } = await sentThreeTimes();
    const [one, two, three] = codes;
    const key = noCooldown.deps.keys.codeHmacKey;
    await database.db
      .updateTable('otp_challenges')
      .set({ code_hashes: [three, two, one].map((code) => hashCode(key, id, code)) })
      .where('id', '=', id)
      .execute();
    expect((await verify(noCooldown, id, one)).body.code).toBe('invalid_code');
    expect((await verify(noCooldown, id, two)).status).toBe(200);
  });

  it('each of the latest two codes works on its own', async () => {
    for (const pick of [1, 2]) {
      const first = await requestCode(noCooldown, { channel: 'email', to: uniqueEmail() });
      const codes = [first.code];
      for (const send of [2, 3]) {
        await resend(noCooldown, first.id);
        codes.push(await deliveredCode(noCooldown, first.id, send));
      }
      expect((await verify(noCooldown, first.id, codes[pick] as string)).status).toBe(200);
    }
  });

  it('stops at the send limit with 429 resend_limit_reached', async () => {
    const { id } = await requestCode(noCooldown, { channel: 'sms', to: '+14155550142' });
    for (let i = 0; i < 3; i++) expect((await resend(noCooldown, id)).status).toBe(202);
    const over = await resend(noCooldown, id);
    expect(over.status).toBe(429);
    expect(over.body.code).toBe('resend_limit_reached');
    const sends = await database.db
      .selectFrom('delivery_outbox')
      .select('send_number')
      .where('challenge_id', '=', id)
      .execute();
    expect(sends.map((row) => row.send_number).sort()).toEqual([1, 2, 3, 4]);
  });

  it('refuses used, expired and unknown challenges', async () => {
    const used = await requestCode(noCooldown, { channel: 'email', to: uniqueEmail() });
    await verify(noCooldown, used.id, used.code);
    expect((await resend(noCooldown, used.id)).body.code).toBe('challenge_used');

    const expired = await requestCode(noCooldown, { channel: 'email', to: uniqueEmail() });
    await database.db
      .updateTable('otp_challenges')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', expired.id)
      .execute();
    const late = await resend(noCooldown, expired.id);
    expect(late.status).toBe(410);
    expect(late.body.code).toBe('challenge_expired');

    const unknown = await resend(noCooldown, '0b5e6f8e-4f43-4f5e-9a43-2a4e0d4f7a11');
    expect(unknown.status).toBe(404);
  });
});
