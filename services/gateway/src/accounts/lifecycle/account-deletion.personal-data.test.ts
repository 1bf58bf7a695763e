import { insertDeliveryAttempt } from '@otp/db';
import {
  deliveryJobId,
  isNoticeSecret,
  maskEmail,
  maskPhone,
  normalizeEmail,
  noticeEnvelopeContext,
  noticeJobId,
  open,
  recipientHash,
} from '@otp/domain';
import { describe, expect, it } from 'vitest';
import { login } from '../../testing/accounts.ts';
import { deliveredSecret } from '../../testing/delivered-code.ts';
import { del, pinClock, totpAt, userWithTotp } from '../../testing/factors.ts';
import { requestCode, verify } from '../../testing/flows.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { bearer, post } from '../../testing/gateway.harness.ts';
import { findInDatabase, findInRedis } from '../../testing/personal-data.ts';

const PHONE = '+14155550187';

describe('DELETE /v1/me leaves no personal data of the account', () => {
  const { gateway, database } = useTestGateway();

  it('finds the address, phone and id in no table and no Redis key afterwards, but in the last notice', async () => {
    const at = pinClock(gateway);
    const user = await userWithTotp(gateway, at, 'del-everything');
    const email = normalizeEmail(user.email);
    const { userId, accessToken } = user;

    // A verified phone (a phone-changed notice, an SMS challenge of the account)...
    const phone = await post(gateway.app, '/v1/me/phone', { phone: PHONE }, bearer(accessToken));
    const phoneChallenge = String(phone.body.challengeId);
    const { code: phoneCode } = await deliveredSecret(gateway, phoneChallenge);
    expect((await verify(gateway, phoneChallenge, phoneCode)).status).toBe(200);
    // ...a wrong password (an audit row with the client's address and agent)...
    expect((await login(gateway, user.email, 'not the password')).status).toBe(401);
    // ...and codes to both addresses asked for by someone not signed in, one with an attempt.
    const byEmail = await requestCode(gateway, { channel: 'email', to: user.email, purpose: 'login' });
    const bySms = await requestCode(gateway, { channel: 'sms', to: PHONE, purpose: 'login' });
    await insertDeliveryAttempt(database.db, {
      challenge_id: bySms.id,
      send_number: 1,
      channel: 'sms',
      provider: 'twilio',
      attempt: 1,
      outcome: 'sent',
      error_code: null,
      error_message: null,
      provider_message_id: 'SM0123',
      duration_ms: 12,
    });
    await gateway.deps.relay.drainOnce();
    const earlierNotices = await database.db
      .selectFrom('notifications')
      .select('id')
      .where('user_id', '=', userId)
      .execute();
    expect(earlierNotices.length).toBeGreaterThan(0);
    const sends = [
      { queue: gateway.inspect.sms, jobId: deliveryJobId(phoneChallenge, 1) },
      { queue: gateway.inspect.email, jobId: deliveryJobId(byEmail.id, 1) },
      { queue: gateway.inspect.sms, jobId: deliveryJobId(bySms.id, 1) },
      ...earlierNotices.map(({ id }) => ({ queue: gateway.inspect.email, jobId: noticeJobId(id) })),
    ];
    for (const { queue, jobId } of sends) expect(await queue.getJob(jobId), jobId).toBeDefined();

    const hashes = [
      recipientHash(gateway.deps.keys.codeHmacKey, 'email', email),
      recipientHash(gateway.deps.keys.codeHmacKey, 'sms', PHONE),
    ];
    const needles = [email, PHONE, PHONE.slice(1), userId, ...hashes.map((hash) => hash.toString('hex'))];
    // The search works: before the deletion every needle is somewhere.
    const before = await findInDatabase(database.db, needles);
    for (const needle of needles)
      expect(
        before.some((found) => found.needle === needle),
        needle,
      ).toBe(true);

    const deleted = await del(gateway.app, '/v1/me', { code: totpAt(user.secret, at) }, bearer(accessToken));
    expect(deleted.status, String(deleted.body.code)).toBe(204);
    gateway.deps.clock = undefined;
    await gateway.deps.relay.drainOnce();

    // The one thing left is the account's id in the webhook events (user.deleted, and those before
    // it not yet relayed): the application is told which of its accounts went by the id it holds.
    // They hold no address and no hash, and the purge removes them (relayed, after the retention;
    // never relayed, after a week).
    const left = await findInDatabase(database.db, needles);
    expect(left.filter((found) => found.where !== 'event_outbox' || found.needle !== userId)).toEqual([]);
    const webhookEvents = await database.db.selectFrom('event_outbox').select(['type', 'data']).execute();
    expect(webhookEvents.find((event) => event.type === 'user.deleted')?.data).toMatchObject({ userId, by: 'user' });

    // What stays: the audit rows, anonymised, and the last notice, whose row names no account.
    const last = await database.db
      .selectFrom('notifications')
      .selectAll()
      .where('template', '=', 'account-deleted')
      .executeTakeFirstOrThrow();
    expect(last.user_id).toBeNull();
    const audit = await database.db
      .selectFrom('security_events')
      .select(['type', 'details'])
      .where('type', '=', 'user.deleted')
      .executeTakeFirstOrThrow();
    expect(audit.details).toMatchObject({ by: 'user', sessions: 1, factors: 1, challenges: 4, deliveryAttempts: 1 });

    // Redis: no job of a removed challenge or notice is left; the one job that holds anything of
    // the person is the last notice, whose clear fields hold the address masked and whose
    // envelope holds it sealed (opened here as the email worker would).
    for (const { queue, jobId } of sends) expect(await queue.getJob(jobId), jobId).toBeUndefined();
    expect(await findInRedis(gateway, [email, PHONE, PHONE.slice(1), userId])).toEqual([]);
    const masked = await findInRedis(gateway, [maskEmail(email), maskPhone(PHONE)]);
    expect(masked.map((found) => found.where)).toEqual([
      `${gateway.config.QUEUE_PREFIX}:email:${noticeJobId(last.id)}`,
    ]);
    const lastJob = await gateway.inspect.email.getJob(noticeJobId(last.id));
    const sealed = open(gateway.ring, String(lastJob?.data.envelope), noticeEnvelopeContext(last.id));
    expect(isNoticeSecret(sealed) && sealed.to).toBe(email);
  });
});
