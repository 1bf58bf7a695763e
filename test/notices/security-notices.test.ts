import { findNotification } from '@otp/db';
import { JOB_NAMES, normalizeEmail, redisTarget } from '@otp/domain';
import { createSmtpSender, startWorker as startEmailWorker } from '@otp/email-worker';
import {
  bearer,
  del,
  deliveredSecret,
  loginTokens,
  pinClock,
  post,
  refresh,
  registerUser,
  totpAt,
  userWithTotp,
  useTestGateway,
  verify,
} from '@otp/gateway/testing';
import { loadCatalogue } from '@otp/messages';
import { startWorker as startSmsWorker } from '@otp/sms-worker';
import { type ReceivedMail, type SmtpSink, startSmtpSink, useFixture } from '@otp/testkit';
import type { Job } from 'bullmq';
import { describe, expect, it, vi } from 'vitest';

// Security notices end to end: an account change in the gateway, the outbox, the relay, the real
// email worker, an SMTP server.
describe('security notices', () => {
  const { gateway, database } = useTestGateway();
  const workerSettings = () => ({
    db: gateway.deps.db,
    redisUrl: redisTarget(gateway.config),
    prefix: gateway.config.QUEUE_PREFIX,
    keyRing: gateway.ring,
    log: gateway.deps.log,
    concurrency: 2,
    limiter: { max: 100, duration: 1000 },
    lockDurationMs: 30_000,
    stalledIntervalMs: 30_000,
    closeTimeoutMs: 5000,
    writeBackTimeoutMs: 5000,
  });
  const sink = useFixture<SmtpSink>(
    'smtp sink',
    () => startSmtpSink(),
    (started) => started.close(),
  );
  useFixture(
    'email worker',
    async () =>
      startEmailWorker({
        ...workerSettings(),
        appName: 'Acme',
        catalogue: loadCatalogue({ defaultLocale: 'en' }),
        sender: createSmtpSender({ url: sink().url, from: 'Acme <no-reply@acme.test>' }),
      }),
    (worker) => worker.close(),
  );
  const smsSent: string[] = [];
  useFixture(
    'sms worker',
    async () =>
      startSmsWorker({
        ...workerSettings(),
        appName: 'Acme',
        catalogue: loadCatalogue({ defaultLocale: 'en' }),
        webOtpDomain: 'acme.test',
        sender: {
          provider: 'fake',
          async send(message) {
            smsSent.push(message.text);
            return { providerMessageId: `sms-${smsSent.length}` };
          },
        },
      }),
    (worker) => worker.close(),
  );

  /** The notices mailed to `email` so far. */
  const noticesTo = (email: string) =>
    sink().messages.filter((mail) => mail.to.includes(normalizeEmail(email)) && mail.headers['x-otp-notification-id']);

  /** Relays the outbox and waits for `count` notices to `email` to have arrived. */
  async function waitForNotices(email: string, count: number): Promise<ReceivedMail[]> {
    await gateway.deps.relay.drainOnce();
    const deadline = Date.now() + 15_000;
    while (noticesTo(email).length < count && Date.now() < deadline) {
      await sink()
        .waitForMail(normalizeEmail(email), { after: sink().messages.length, timeoutMs: 1000 })
        .catch(() => {});
    }
    return noticesTo(email);
  }

  /** The account's notices, once none is queued any more (the worker records "sent" just after the mail arrives). */
  async function templates(userId: string) {
    const read = () =>
      database.db
        .selectFrom('notifications')
        .select(['template', 'status'])
        .where('user_id', '=', userId)
        .orderBy('created_at')
        .execute();
    const deadline = Date.now() + 10_000;
    let rows = await read();
    while (rows.some((row) => row.status === 'queued') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      rows = await read();
    }
    return rows;
  }

  function expectNoSecret(mail: ReceivedMail, ...secrets: string[]) {
    const all = `${mail.subject}\n${mail.text}\n${mail.html}`;
    for (const secret of secrets) expect(all).not.toContain(secret);
    // No six-digit run (a code) anywhere; the only digits are the date, time and masked phone.
    expect(all.replace(/style="[^"]*"/g, '')).not.toMatch(/\d{6}/);
  }

  it('regenerated recovery codes: one notice, no code in it', async () => {
    const at = pinClock(gateway);
    const user = await userWithTotp(gateway, at, 'notice-rc');
    const regenerated = await post(
      gateway.app,
      '/v1/me/recovery-codes',
      { code: totpAt(user.secret, at) },
      bearer(user.accessToken),
    );
    expect(regenerated.status).toBe(200);
    // Enabling the factor sent one notice, the regeneration another.
    const mails = await waitForNotices(user.email, 2);
    // Two workers' slots: the two may arrive in either order.
    expect(mails.map((mail) => mail.subject).sort()).toEqual([
      'A sign-in method was turned on for your Acme account',
      'New recovery codes for your Acme account',
    ]);
    const codes = [...user.recoveryCodes, ...(regenerated.body.recoveryCodes as string[])];
    for (const mail of mails) expectNoSecret(mail, user.secret, ...codes);
    expect(mails.find((mail) => mail.subject.startsWith('New recovery codes'))?.text).toContain(
      'The old codes no longer work',
    );
    expect(await templates(user.userId)).toEqual([
      { template: 'factor-changed', status: 'sent' },
      { template: 'recovery-codes-regenerated', status: 'sent' },
    ]);
  });

  it('a factor enrolled, enabled and removed: notices for enabled and removed only', async () => {
    const at = pinClock(gateway);
    const user = await userWithTotp(gateway, at, 'notice-factor');
    const removed = await del(gateway.app, '/v1/me/totp', { code: totpAt(user.secret, at) }, bearer(user.accessToken));
    expect(removed.status).toBe(204);
    const mails = await waitForNotices(user.email, 2);
    expect(mails.map((mail) => mail.text.match(/an authenticator app was (\w+ ?\w*)\./)?.[1]).sort()).toEqual([
      'removed',
      'turned on',
    ]);
    for (const mail of mails) {
      expectNoSecret(mail, user.secret, ...user.recoveryCodes);
      expect(mail.text).toContain('change your password');
      expect(mail.text).toContain('contact Acme support');
    }
    expect((await templates(user.userId)).map((row) => row.template)).toEqual(['factor-changed', 'factor-changed']);
  });

  it('a refresh token used twice: one session-revoked notice, however often it comes back', async () => {
    const { email, userId } = await registerUser(gateway, 'notice-reuse');
    const { refreshToken } = await loginTokens(gateway, email);
    expect((await refresh(gateway, refreshToken)).status).toBe(200);
    const reused = await refresh(gateway, refreshToken);
    expect(reused.status).toBe(401);
    // Presented again: the family is revoked already, so no second notice (no mailbox flood).
    expect((await refresh(gateway, refreshToken)).status).toBe(401);
    const mails = await waitForNotices(email, 1);
    expect(mails).toHaveLength(1);
    expect(mails[0]?.subject).toBe('We signed out a session of your Acme account');
    expectNoSecret(mails[0] as ReceivedMail, refreshToken);
    expect(await templates(userId)).toEqual([{ template: 'session-revoked', status: 'sent' }]);
  });

  it('a new phone verified: one notice showing the number masked, never in full', async () => {
    const { email, userId } = await registerUser(gateway, 'notice-phone');
    const { accessToken } = await loginTokens(gateway, email);
    const requested = await post(gateway.app, '/v1/me/phone', { phone: '+14155550161' }, bearer(accessToken));
    const challengeId = String(requested.body.challengeId);
    const { code } = await deliveredSecret(gateway, challengeId);
    expect((await verify(gateway, challengeId, code)).status).toBe(200);

    const mails = await waitForNotices(email, 1);
    expect(mails).toHaveLength(1);
    const mail = mails[0] as ReceivedMail;
    expect(mail.subject).toBe('A new phone number was added to your Acme account');
    expect(mail.text).toContain('Phone: +*******0161');
    expect(mail.html).toContain('+*******0161');
    expectNoSecret(mail, '4155550161', code);
    expect(await templates(userId)).toEqual([{ template: 'phone-changed', status: 'sent' }]);
    const [event] = await database.db
      .selectFrom('security_events')
      .select('details')
      .where('user_id', '=', userId)
      .where('type', '=', 'phone.changed')
      .execute();
    expect(event?.details).toEqual({ replaced: false });
  });

  it('an account without a verified email gets no notice, and the change still happens', async () => {
    // Signed up by SMS code: a verified phone, no email at all.
    const phone = '+14155550162';
    const requested = await post(gateway.app, '/v1/otp/challenges', { channel: 'sms', to: phone, purpose: 'login' });
    const challengeId = String(requested.body.challengeId);
    const { code } = await deliveredSecret(gateway, challengeId);
    const signedIn = await verify(gateway, challengeId, code);
    expect(signedIn.status).toBe(200);
    const userId = (signedIn.body.user as { id: string }).id;
    const { refreshToken } = signedIn.body.tokens as { refreshToken: string };
    expect((await refresh(gateway, refreshToken)).status).toBe(200);
    expect((await refresh(gateway, refreshToken)).status).toBe(401);

    // The reuse was handled (family revoked, audited) and nothing was queued to anyone.
    const revoked = await database.db
      .selectFrom('refresh_tokens')
      .select('revoked_at')
      .where('user_id', '=', userId)
      .execute();
    expect(revoked.length).toBeGreaterThan(0);
    expect(revoked.every((row) => row.revoked_at !== null)).toBe(true);
    const audited = await database.db
      .selectFrom('security_events')
      .select('type')
      .where('user_id', '=', userId)
      .where('type', '=', 'token.reuse_detected')
      .execute();
    expect(audited).toHaveLength(1);
    expect(await templates(userId)).toEqual([]);
  });

  it('a notice job whose notification is sent already is skipped: no second email', async () => {
    const { email, userId } = await registerUser(gateway, 'notice-dup');
    const { refreshToken } = await loginTokens(gateway, email);
    await refresh(gateway, refreshToken);
    await refresh(gateway, refreshToken);
    const [mail] = await waitForNotices(email, 1);
    const notificationId = String(mail?.headers['x-otp-notification-id']);
    expect(await templates(userId)).toEqual([{ template: 'session-revoked', status: 'sent' }]);
    expect(await findNotification(database.db, notificationId)).toMatchObject({ status: 'sent', user_id: userId });

    const row = await database.db
      .selectFrom('delivery_outbox')
      .select('job_data')
      .where('notification_id', '=', notificationId)
      .executeTakeFirstOrThrow();
    // The same notice again, as a duplicate job would bring it (a re-add after Redis lost the first).
    const again = await gateway.inspect.email.add(JOB_NAMES.sendNotice, row.job_data, {
      jobId: `notice.${notificationId}.again`,
    });
    expect(await settled(again)).toEqual({ state: 'completed', value: { skipped: 'already_sent' } });
    expect(noticesTo(email)).toHaveLength(1);
  });

  it('a notice the SMTP server rejects for good is recorded failed, with its error', async () => {
    const { email, userId } = await registerUser(gateway, 'notice-rejected');
    const { refreshToken } = await loginTokens(gateway, email);
    await refresh(gateway, refreshToken);
    sink().failNext(1, 550);
    expect((await refresh(gateway, refreshToken)).status).toBe(401);
    await gateway.deps.relay.drainOnce();
    await vi.waitFor(
      async () => {
        const [row] = await database.db.selectFrom('notifications').selectAll().where('user_id', '=', userId).execute();
        expect(row).toMatchObject({ status: 'failed', last_error: 'smtp_550', attempts: 1, sent_at: null });
      },
      { timeout: 15_000, interval: 50 },
    );
    expect(noticesTo(email)).toHaveLength(0);
  });

  it('the SMS worker refuses a notice job as invalid_payload', async () => {
    const { email } = await registerUser(gateway, 'notice-sms');
    const { refreshToken } = await loginTokens(gateway, email);
    await refresh(gateway, refreshToken);
    await refresh(gateway, refreshToken);
    const [mail] = await waitForNotices(email, 1);
    const row = await database.db
      .selectFrom('delivery_outbox')
      .select('job_data')
      .where('notification_id', '=', String(mail?.headers['x-otp-notification-id']))
      .executeTakeFirstOrThrow();
    const sentBefore = smsSent.length;
    const job = await gateway.inspect.sms.add(JOB_NAMES.sendNotice, row.job_data, {
      jobId: 'notice.on-sms',
      attempts: 3,
    });
    expect(await settled(job)).toEqual({ state: 'failed', value: 'invalid_payload' });
    expect(smsSent).toHaveLength(sentBefore);
  });

  /** Waits for a job to complete or fail (its state in Redis), with its return value or reason. */
  async function settled(job: Job): Promise<{ state: string; value: unknown }> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const state = await job.getState();
      if (state === 'completed' || state === 'failed' || Date.now() > deadline) {
        const fresh = await (job.queueName === 'sms' ? gateway.inspect.sms : gateway.inspect.email).getJob(
          String(job.id),
        );
        return { state, value: state === 'failed' ? fresh?.failedReason : fresh?.returnvalue };
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
});
