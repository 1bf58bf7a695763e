import { findChallenge, listDeliveryAttempts } from '@otp/db';
import { type DeliveryFixture, type PreparedTestBed, prepareDeliveryTestBed } from '@otp/delivery/testing';
import { loadCatalogue } from '@otp/messages';
import { extractCode, type SmtpSink, startSmtpSink, type TestDatabase } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSmtpSender } from './transports/smtp.sender.ts';
import { startWorker } from './worker.ts';

let bed: PreparedTestBed;
let database: TestDatabase;
let fixture: DeliveryFixture;
let sink: SmtpSink;

beforeAll(async () => {
  bed = await prepareDeliveryTestBed({ channel: 'email' });
  ({ database, fixture } = bed);
  sink = await startSmtpSink();
  const sender = createSmtpSender({ url: sink.url, from: 'Acme <no-reply@acme.test>' });
  await bed.startWorker({ sender }, (deps) =>
    startWorker({ ...deps, appName: 'Acme', catalogue: loadCatalogue({ defaultLocale: 'en' }) }),
  );
});

afterAll(async () => {
  await bed?.close();
  await sink?.close();
});

const mailsTo = (address: string) => sink.messages.filter((mail) => mail.to.includes(address));

describe('email worker against a real SMTP server', () => {
  it('delivers the code email: subject, text and HTML with the code, the send named in a header', async () => {
    const challenge = await fixture.seedChallenge({ to: 'grace@example.com', purpose: 'login' });
    const outcome = await fixture.finished(await fixture.enqueue(challenge));
    const mail = await sink.waitForMail('grace@example.com');

    expect(outcome.state).toBe('completed');
    expect(mail.subject).toBe('Your Acme sign-in code');
    expect(mail.from).toBe('no-reply@acme.test');
    expect(extractCode(mail.text)).toBe(challenge.code);
    expect(mail.html).toContain(challenge.code);
    expect(mail.text).toContain('If you did not ask for this, ignore this email');
    expect(mail.headers['x-otp-challenge-id']).toBe(challenge.id);
    expect(mail.headers['x-otp-send-number']).toBe('1');
    const row = await findChallenge(database.db, challenge.id);
    expect(row).toMatchObject({ delivery_status: 'sent', delivery_attempts: 1 });
    expect(row?.delivery_provider_message_id).toBe(mail.headers['message-id']);
  });

  it('delivers the account-exists email: how to sign in or reset the password, and no code', async () => {
    const challenge = await fixture.seedChallenge({
      to: 'known@example.com',
      template: 'account-exists',
      purpose: 'verify_email',
    });
    const outcome = await fixture.finished(await fixture.enqueue(challenge));
    const mail = await sink.waitForMail('known@example.com');

    expect(outcome.state).toBe('completed');
    expect(mail.subject).toBe('You already have an account with Acme');
    expect(mail.text).toContain('An account already exists for it');
    expect(mail.text).toContain('Forgot password');
    expect(mail.html).toContain('If you did not try to create an account, ignore this email.');
    // No code, nor anything that looks like one, in any part of the mail.
    expect(`${mail.subject}\n${mail.text}`).not.toMatch(/\d/);
    expect(mail.html).not.toContain(challenge.code);
    expect(mail.headers['x-otp-challenge-id']).toBe(challenge.id);
    expect(await findChallenge(database.db, challenge.id)).toMatchObject({ delivery_status: 'sent' });
  });

  it('retries a 451 and delivers once: two attempt rows, one mail', async () => {
    const challenge = await fixture.seedChallenge({ to: 'retry@example.com' });
    sink.failNext(1, 451);
    const outcome = await fixture.finished(await fixture.enqueue(challenge));

    expect(outcome.state).toBe('completed');
    expect(mailsTo('retry@example.com')).toHaveLength(1);
    expect(await listDeliveryAttempts(database.db, challenge.id)).toMatchObject([
      { outcome: 'temporary_failure', error_code: 'smtp_451', provider: 'smtp', locale: 'en' },
      { outcome: 'sent', provider: 'smtp', locale: 'en' },
    ]);
    expect(await findChallenge(database.db, challenge.id)).toMatchObject({
      delivery_status: 'sent',
      delivery_attempts: 2,
    });
  });

  it('fails a 550 at once: one permanent attempt, no retry, the challenge failed', async () => {
    const challenge = await fixture.seedChallenge({ to: 'gone@example.com' });
    sink.failNext(1, 550);
    const job = await fixture.enqueue(challenge, { attempts: 3 });
    const outcome = await fixture.finished(job);

    expect(outcome).toEqual({ state: 'failed', reason: 'smtp_550' });
    expect((await fixture.queue.getJob(job.id as string))?.attemptsMade).toBe(1);
    expect(mailsTo('gone@example.com')).toHaveLength(0);
    expect(await listDeliveryAttempts(database.db, challenge.id)).toMatchObject([
      { outcome: 'permanent_failure', error_code: 'smtp_550' },
    ]);
    expect(await findChallenge(database.db, challenge.id)).toMatchObject({
      status: 'failed',
      delivery_status: 'failed',
      delivery_last_error: 'smtp_550',
    });
  });
});
