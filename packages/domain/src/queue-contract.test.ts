import { describe, expect, it } from 'vitest';
import {
  DEFAULT_QUEUE_PREFIX,
  deliveryJobId,
  deliveryJobOptions,
  envelopeContext,
  isDeliveryJobData,
  isDeliverySecret,
  JOB_NAMES,
  QUEUE_NAMES,
} from './queue-contract.ts';

const valid = {
  v: 1,
  challengeId: '0b5e6f8e-4f43-4f5e-9a43-2a4e0d4f7a11',
  sendNumber: 1,
  channel: 'email',
  template: 'otp-code',
  purpose: 'login',
  locale: 'en',
  toMasked: 'a***@example.com',
  requestedAt: '2026-11-22T10:00:00.000Z',
  expiresAt: '2026-11-22T10:10:00.000Z',
  envelope: 'v1.k1.aaa.bbb.ccc',
};

describe('the delivery job contract', () => {
  it('keeps the names live jobs depend on', () => {
    expect(QUEUE_NAMES).toEqual({ email: 'email', sms: 'sms' });
    expect(JOB_NAMES.sendCode).toBe('send-code');
    expect(DEFAULT_QUEUE_PREFIX).toBe('{otp}');
  });

  it('accepts a valid payload and refuses anything else', () => {
    expect(isDeliveryJobData(valid)).toBe(true);
    expect(isDeliveryJobData({ ...valid, v: 2 })).toBe(false);
    expect(isDeliveryJobData({ ...valid, code: '123456' })).toBe(false);
    expect(isDeliveryJobData({ ...valid, to: 'alice@example.com' })).toBe(false);
    expect(isDeliveryJobData({ ...valid, challengeId: 'nope' })).toBe(false);
    expect(isDeliveryJobData({ ...valid, envelope: 'plain text' })).toBe(false);
    expect(isDeliveryJobData({ ...valid, channel: 'pigeon' })).toBe(false);
    expect(isDeliverySecret({ to: 'a@b.co', code: '1' })).toBe(true);
    expect(isDeliverySecret({ to: 'a@b.co' })).toBe(false);
  });

  it('derives one job id per send, valid for BullMQ (no colon, not all digits)', () => {
    const id = deliveryJobId(valid.challengeId, 2);
    expect(id).toBe(`${valid.challengeId}.2`);
    expect(id).not.toContain(':');
    expect(id).not.toMatch(/^\d+$/);
    expect(deliveryJobId(valid.challengeId, 1)).not.toBe(id);
    expect(envelopeContext(valid.challengeId, 2)).toContain(id);
  });

  it('retries with exponential backoff and jitter and bounds what Redis keeps', () => {
    const options = deliveryJobOptions('x.1', { attempts: 6, backoffMs: 2000 });
    expect(options).toMatchObject({
      jobId: 'x.1',
      attempts: 6,
      backoff: { type: 'exponential', delay: 2000, jitter: 0.5 },
    });
    expect(options.removeOnComplete.count).toBeGreaterThan(0);
    expect(options.removeOnFail.age).toBeGreaterThan(0);
  });
});
