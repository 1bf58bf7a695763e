import { findNotification } from '@otp/db';
import { describe, expect, it } from 'vitest';
import { DeliveryError } from './delivery.error.ts';
import { retryFailedDeliveries } from './retry-failed.ts';
import { useDeliveryTestBed } from './testing/index.ts';

// Security notices (job version 3) through the pipeline: no challenge, the notifications row is
// the record.
const bed = useDeliveryTestBed();

describe('a notice job', () => {
  it('is sent once and recorded sent, with the provider id and no challenge', async () => {
    const notice = await bed.fixture.seedNotice({ to: 'ada@example.com', template: 'session-revoked' });
    const outcome = await bed.fixture.finished(await bed.fixture.enqueueNotice(notice));
    expect(outcome).toEqual({ state: 'completed', value: { providerMessageId: expect.any(String) } });
    const [message] = bed.sender.sent.filter((sent) => sent.notificationId === notice.id);
    expect(message).toMatchObject({
      to: 'ada@example.com',
      subject: 'session-revoked',
      toMasked: 'a***@example.com',
      purpose: 'session-revoked',
    });
    expect(message?.challengeId).toBeUndefined();
    const row = await findNotification(bed.database.db, notice.id);
    expect(row).toMatchObject({ status: 'sent', attempts: 0, last_error: null });
    expect(row?.provider_message_id).toBe(
      (outcome as { value: { providerMessageId: string } }).value.providerMessageId,
    );
  });

  it('is skipped when its notification is sent already: no second message', async () => {
    const notice = await bed.fixture.seedNotice({ to: 'twice@example.com' });
    expect((await bed.fixture.finished(await bed.fixture.enqueueNotice(notice))).state).toBe('completed');
    const again = await bed.fixture.enqueueNotice(notice, { jobId: `notice.${notice.id}.again` });
    expect(await bed.fixture.finished(again)).toEqual({ state: 'completed', value: { skipped: 'already_sent' } });
    expect(bed.sender.sent.filter((sent) => sent.to === 'twice@example.com')).toHaveLength(1);
  });

  it('counts a temporary failure and is retried; the last failed attempt marks it failed', async () => {
    const retried = await bed.fixture.seedNotice({ to: 'retry@example.com' });
    bed.sender.failNext(new DeliveryError('temporary', 'smtp_451'));
    expect((await bed.fixture.finished(await bed.fixture.enqueueNotice(retried))).state).toBe('completed');
    expect(await findNotification(bed.database.db, retried.id)).toMatchObject({
      status: 'sent',
      attempts: 1,
      last_error: 'smtp_451',
    });

    const exhausted = await bed.fixture.seedNotice({ to: 'gone@example.com' });
    bed.sender.failNext(new DeliveryError('temporary', 'smtp_451'), new DeliveryError('temporary', 'smtp_451'));
    const job = await bed.fixture.enqueueNotice(exhausted, { attempts: 2 });
    expect(await bed.fixture.finished(job)).toEqual({ state: 'failed', reason: 'smtp_451' });
    expect(await findNotification(bed.database.db, exhausted.id)).toMatchObject({ status: 'failed', attempts: 2 });

    // The operator's dead-letter retry sends it again.
    const outcome = await retryFailedDeliveries(bed.database.db, bed.fixture.queue);
    expect(outcome.retried).toContain(job.id);
    expect(await bed.fixture.finished(job)).toMatchObject({ state: 'completed' });
    expect(await findNotification(bed.database.db, exhausted.id)).toMatchObject({ status: 'sent' });
  });

  it('sends password-changed as version 4, and refuses it under version 3, which does not carry it', async () => {
    const notice = await bed.fixture.seedNotice({ to: 'pw@example.com', template: 'password-changed' });
    expect(notice.data.v).toBe(4);
    expect((await bed.fixture.finished(await bed.fixture.enqueueNotice(notice))).state).toBe('completed');
    expect(bed.sender.sent.filter((sent) => sent.to === 'pw@example.com')).toHaveLength(1);

    const mislabelled = await bed.fixture.seedNotice({ to: 'pw-v3@example.com', template: 'password-changed' });
    const outcome = await bed.fixture.finished(
      await bed.fixture.enqueueNotice({ id: mislabelled.id, data: { ...mislabelled.data, v: 3 } }),
    );
    expect(outcome).toEqual({ state: 'failed', reason: 'invalid_payload' });
    expect(bed.sender.sent.filter((sent) => sent.to === 'pw-v3@example.com')).toHaveLength(0);
  });

  it('refuses an envelope holding a code, and sends nothing', async () => {
    const notice = await bed.fixture.seedNotice({
      to: 'code@example.com',
      secret: { to: 'code@example.com', facts: { at: new Date().toISOString() }, code: '042917' },
    });
    const outcome = await bed.fixture.finished(await bed.fixture.enqueueNotice(notice));
    expect(outcome).toEqual({ state: 'failed', reason: 'envelope_unreadable' });
    expect(bed.sender.sent.filter((sent) => sent.to === 'code@example.com')).toHaveLength(0);
    expect(await findNotification(bed.database.db, notice.id)).toMatchObject({
      status: 'failed',
      last_error: 'envelope_unreadable',
    });
  });
});
