import { describe, expect, it } from 'vitest';
import {
  DEFAULT_QUEUE_PREFIX,
  DELIVERY_JOB_VERSION,
  deliveryJobId,
  deliveryJobOptions,
  deliveryJobVersion,
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

  it('accepts a valid version 1 payload and refuses anything else', () => {
    expect(isDeliveryJobData(valid)).toBe(true);
    expect(isDeliveryJobData({ ...valid, v: 3 })).toBe(false);
    expect(isDeliveryJobData({ ...valid, code: '123456' })).toBe(false);
    expect(isDeliveryJobData({ ...valid, to: 'alice@example.com' })).toBe(false);
    expect(isDeliveryJobData({ ...valid, challengeId: 'nope' })).toBe(false);
    expect(isDeliveryJobData({ ...valid, envelope: 'plain text' })).toBe(false);
    expect(isDeliveryJobData({ ...valid, channel: 'pigeon' })).toBe(false);
  });

  it('still reads a version 1 job exactly as the gateway wrote it before version 2', () => {
    // A job of the previous release, as it may sit in Redis while workers are upgraded.
    const written = {
      v: 1,
      challengeId: '0b5e6f8e-4f43-4f5e-9a43-2a4e0d4f7a11',
      sendNumber: 2,
      channel: 'sms',
      template: 'otp-code',
      purpose: 'verify_phone',
      locale: 'pt-BR',
      toMasked: '+*******2671',
      requestedAt: '2026-11-22T10:00:00.000Z',
      expiresAt: '2026-11-22T10:10:00.000Z',
      requestId: 'req-1',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      envelope: 'v1.k1.aaa.bbb.ccc',
    };
    expect(isDeliveryJobData(written)).toBe(true);
  });

  it('reads version 2 with either template, and keeps account-exists out of version 1', () => {
    expect(isDeliveryJobData({ ...valid, v: 2 })).toBe(true);
    expect(isDeliveryJobData({ ...valid, v: 2, template: 'account-exists', purpose: 'verify_email' })).toBe(true);
    expect(isDeliveryJobData({ ...valid, v: 1, template: 'account-exists' })).toBe(false);
    expect(isDeliveryJobData({ ...valid, v: 2, template: 'welcome' })).toBe(false);
    expect(isDeliveryJobData({ ...valid, v: 2, template: 'account-exists', code: '123456' })).toBe(false);
  });

  it('writes the oldest version that carries each template', () => {
    expect(DELIVERY_JOB_VERSION).toEqual({ 'otp-code': 1, 'account-exists': 2, 'reset-no-account': 4 });
  });

  it('carries reset_password and reset-no-account in version 4 only, and writes every reset message as 4', () => {
    const reset = { ...valid, purpose: 'reset_password' };
    expect(isDeliveryJobData({ ...reset, v: 1 })).toBe(false);
    expect(isDeliveryJobData({ ...reset, v: 2 })).toBe(false);
    expect(isDeliveryJobData({ ...reset, v: 4 })).toBe(true);
    expect(isDeliveryJobData({ ...valid, v: 2, template: 'reset-no-account' })).toBe(false);
    expect(isDeliveryJobData({ ...reset, v: 4, template: 'reset-no-account' })).toBe(true);
    expect(deliveryJobVersion('otp-code', 'reset_password')).toBe(4);
    expect(deliveryJobVersion('otp-code', 'login')).toBe(1);
    expect(deliveryJobVersion('account-exists', 'verify_email')).toBe(2);
    expect(isDeliverySecret('reset-no-account', { to: 'a@b.co' })).toBe(true);
    expect(isDeliverySecret('reset-no-account', { to: 'a@b.co', code: '1' })).toBe(false);
  });

  it('seals a code in every otp-code envelope and never in an account-exists one', () => {
    expect(isDeliverySecret('otp-code', { to: 'a@b.co', code: '1' })).toBe(true);
    expect(isDeliverySecret('otp-code', { to: 'a@b.co' })).toBe(false);
    expect(isDeliverySecret('account-exists', { to: 'a@b.co' })).toBe(true);
    expect(isDeliverySecret('account-exists', { to: 'a@b.co', code: '1' })).toBe(false);
    expect(isDeliverySecret('account-exists', { to: 'a@b.co', code: undefined })).toBe(false);
    expect(isDeliverySecret('account-exists', {})).toBe(false);
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
