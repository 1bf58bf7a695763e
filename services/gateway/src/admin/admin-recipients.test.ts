import { DeliveryError, type DeliveryWorker } from '@otp/delivery';
import { createRecordingSender, startTestDeliveryWorker } from '@otp/delivery/testing';
import { normalizeEmail } from '@otp/domain';
import { testRedisUrl, useFixture } from '@otp/testkit';
import { describe, expect, it, vi } from 'vitest';
import { adminCall, auditRows } from '../testing/admin.ts';
import { deliveryJob } from '../testing/delivered-code.ts';
import { useTestGateway } from '../testing/gateway.fixture.ts';
import { post, TEST_ADMIN_OPERATOR, uniqueEmail } from '../testing/gateway.harness.ts';

// "Did my code arrive?": the challenges sent to an address, found by its keyed hash, with their
// delivery as a real worker recorded it (an SMTP-shaped sender that refuses the first message).

describe('admin: recipients', () => {
  const { gateway } = useTestGateway({ env: { DELIVERY_BACKOFF_MS: '10' } });
  const sender = createRecordingSender('smtp');
  useFixture(
    'email worker',
    (): Promise<DeliveryWorker> =>
      startTestDeliveryWorker({
        channel: 'email',
        db: gateway.deps.db,
        redisUrl: testRedisUrl(),
        prefix: gateway.config.QUEUE_PREFIX,
        keyRing: gateway.ring,
        sender,
      }),
    (worker) => worker.close(),
  );

  const lookUp = (to: string) => adminCall(gateway, 'GET', `/admin/v1/recipients?to=${encodeURIComponent(to)}`);

  async function requested(to: string): Promise<string> {
    const response = await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to, purpose: 'login' });
    expect(response.status).toBe(202);
    const id = String(response.body.challengeId);
    await deliveryJob(gateway, id); // relayed to the queue, where the worker takes it
    return id;
  }

  it('lists the challenges to an address, newest first, with how their delivery went', async () => {
    const email = uniqueEmail('Lookup');
    const address = normalizeEmail(email);
    sender.failNext(new DeliveryError('permanent', 'smtp_rejected', { detail: `550 no such user <${address}>` }));
    const refused = await requested(email);
    await vi.waitFor(
      async () => expect((await lookUp(email)).body.challenges).toMatchObject([{ delivery: { status: 'failed' } }]),
      {
        timeout: 10_000,
      },
    );
    const delivered = await requested(email);
    await vi.waitFor(
      async () =>
        expect((await lookUp(email)).body.challenges).toMatchObject([
          { id: delivered, delivery: { status: 'sent' } },
          {},
        ]),
      { timeout: 10_000 },
    );

    const answer = await lookUp(` ${email.toUpperCase()} `);
    expect(answer.status).toBe(200);
    expect(answer.body.challenges).toEqual([
      {
        id: delivered,
        purpose: 'login',
        channel: 'email',
        status: 'pending',
        createdAt: expect.any(String),
        delivery: { status: 'sent', attempts: 1, lastError: null, provider: 'smtp', locale: 'en' },
      },
      {
        id: refused,
        purpose: 'login',
        channel: 'email',
        status: 'failed',
        createdAt: expect.any(String),
        delivery: { status: 'failed', attempts: 1, lastError: 'smtp_rejected', provider: 'smtp', locale: 'en' },
      },
    ]);
    // The provider's text (which named the address) is never shown, nor the address recorded.
    expect(answer.text).not.toContain('550');
    const rows = await auditRows(gateway, 'admin.recipient_looked_up');
    expect(rows.at(-1)?.details).toEqual({
      operator: TEST_ADMIN_OPERATOR,
      actor: null,
      channel: 'email',
      recipient: expect.stringContaining('*'),
      found: 2,
    });
    expect(JSON.stringify(rows)).not.toContain(address);
  });

  it('finds nothing for an address never sent to, and answers 400 to a bad one', async () => {
    expect((await lookUp('+14155550123')).body).toEqual({ challenges: [] });
    for (const url of [
      '/admin/v1/recipients',
      '/admin/v1/recipients?to=nobody',
      '/admin/v1/recipients?to=%2B1',
      '/admin/v1/recipients?to=a@b.c&x=1',
    ]) {
      const response = await adminCall(gateway, 'GET', url);
      expect(response.status, url).toBe(400);
      expect(response.body.code).toBe('validation_failed');
    }
  });
});
