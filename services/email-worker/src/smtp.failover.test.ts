import { listDeliveryAttempts } from '@otp/db';
import { createProviderChain } from '@otp/delivery';
import { type DeliveryFixture, type PreparedTestBed, prepareDeliveryTestBed } from '@otp/delivery/testing';
import { loadCatalogue } from '@otp/messages';
import { createLogger } from '@otp/runtime';
import { freePort, type SmtpSink, startSmtpSink, type TestDatabase } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSmtpSender } from './transports/smtp.sender.ts';
import { startWorker } from './worker.ts';

// Failover between two real SMTP servers through the email worker: the primary refusing
// connections certainly did not take the message, so the fallback sends it, once; the primary
// going silent after the whole message was sent may have taken it, so the send stays with it.
let bed: PreparedTestBed;
let database: TestDatabase;
let fixture: DeliveryFixture;
let primary: SmtpSink;
let fallback: SmtpSink;
const log = createLogger({ service: 'email-worker', level: 'silent' });

async function startWithPrimary(primaryUrl: string): Promise<void> {
  const chain = createProviderChain(
    [
      createSmtpSender({ url: primaryUrl, from: 'Acme <no-reply@acme.test>', socketTimeoutMs: 1000 }),
      createSmtpSender({ url: fallback.url, from: 'Acme <no-reply@acme.test>', provider: 'smtp-fallback' }),
    ],
    { failures: 5, cooldownMs: 30_000, log },
  );
  await bed.startWorker({ sender: chain }, (deps) =>
    startWorker({ ...deps, appName: 'Acme', catalogue: loadCatalogue({ defaultLocale: 'en' }) }),
  );
}

const sent = async (challengeId: string) =>
  (await listDeliveryAttempts(database.db, challengeId)).map((row) => [row.outcome, row.provider]);

describe('email failover between SMTP servers', () => {
  beforeAll(async () => {
    bed = await prepareDeliveryTestBed({ channel: 'email' });
    ({ database, fixture } = bed);
    [primary, fallback] = await Promise.all([startSmtpSink(), startSmtpSink()]);
  });

  afterAll(async () => {
    await bed?.close();
    await Promise.all([primary?.close(), fallback?.close()]);
  });

  it('delivers through the fallback when the primary refuses connections, and only there', async () => {
    // Nothing listens on this port: the connection is refused before a byte is sent.
    await startWithPrimary(`smtp://127.0.0.1:${await freePort()}`);
    const challenge = await fixture.seedChallenge({ to: 'refused@example.com' });
    const outcome = await fixture.finished(await fixture.enqueue(challenge));
    expect(outcome.state).toBe('completed');
    expect(fallback.messages.filter((mail) => mail.to.includes('refused@example.com'))).toHaveLength(1);
    expect(await sent(challenge.id)).toEqual([['sent', 'smtp-fallback']]);
    await bed.close();
    bed = await prepareDeliveryTestBed({ channel: 'email' });
    ({ database, fixture } = bed);
  });

  it('does not fail over when the primary times out after the end of DATA: the retry goes to the primary', async () => {
    await startWithPrimary(primary.url);
    primary.hangNext(1);
    const challenge = await fixture.seedChallenge({ to: 'silent@example.com' });
    const outcome = await fixture.finished(await fixture.enqueue(challenge));
    expect(outcome.state).toBe('completed');
    expect(primary.hung).toBe(1);
    expect(fallback.messages.filter((mail) => mail.to.includes('silent@example.com'))).toHaveLength(0);
    expect(primary.messages.filter((mail) => mail.to.includes('silent@example.com'))).toHaveLength(1);
    const attempts = await sent(challenge.id);
    expect(attempts.map(([, provider]) => provider)).toEqual(['smtp', 'smtp']);
    expect(attempts.at(-1)).toEqual(['sent', 'smtp']);
  });
});
