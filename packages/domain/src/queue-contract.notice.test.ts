import { describe, expect, it } from 'vitest';
import { open, parseKeyRing, seal } from './envelope.ts';
import {
  isDeliveryJobData,
  isNoticeJobData,
  isNoticeSecret,
  JOB_NAMES,
  NOTICE_JOB_VERSION,
  noticeEnvelopeContext,
  noticeJobId,
} from './queue-contract.ts';

const notificationId = '7d1f3c2a-5b6e-4f70-8a91-b2c3d4e5f607';
const valid = {
  v: 3,
  kind: 'notice',
  notificationId,
  template: 'factor-changed',
  channel: 'email',
  locale: 'en',
  toMasked: 'a***@example.com',
  requestedAt: '2026-12-05T01:00:00.000Z',
  requestId: 'req-1',
  envelope: 'v1.k1.aaa.bbb.ccc',
};
const secret = {
  to: 'alice@example.com',
  facts: { at: '2026-12-05T01:00:00.000Z', factorKind: 'totp', change: 'enabled' },
};

describe('the notice job contract (version 3)', () => {
  it('keeps its job name and a job id BullMQ accepts', () => {
    expect(JOB_NAMES.sendNotice).toBe('send-notice');
    expect(noticeJobId(notificationId)).toBe(`notice.${notificationId}`);
    expect(noticeJobId(notificationId)).not.toContain(':');
  });

  it('accepts a valid notice and refuses unknown fields, other channels and templates', () => {
    expect(isNoticeJobData(valid)).toBe(true);
    expect(isNoticeJobData({ ...valid, to: 'alice@example.com' })).toBe(false);
    expect(isNoticeJobData({ ...valid, code: '123456' })).toBe(false);
    expect(isNoticeJobData({ ...valid, channel: 'sms' })).toBe(false);
    expect(isNoticeJobData({ ...valid, template: 'otp-code' })).toBe(false);
    expect(isNoticeJobData({ ...valid, v: 2 })).toBe(false);
    expect(isNoticeJobData({ ...valid, notificationId: 'nope' })).toBe(false);
  });

  it('carries password-changed only in version 4, so a worker reading version 3 only refuses just that notice', () => {
    expect(isNoticeJobData({ ...valid, template: 'password-changed' })).toBe(false);
    expect(isNoticeJobData({ ...valid, v: 4, template: 'password-changed' })).toBe(true);
    expect(isNoticeJobData({ ...valid, v: 4 })).toBe(true);
    expect(NOTICE_JOB_VERSION['password-changed']).toBe(4);
    expect(NOTICE_JOB_VERSION['factor-changed']).toBe(3);
    expect(
      isNoticeSecret({ to: 'a@example.com', facts: { at: secret.facts.at, how: 'reset', sessionsRevoked: 2 } }),
    ).toBe(true);
    expect(isNoticeSecret({ to: 'a@example.com', facts: { at: secret.facts.at, how: 'stolen' } })).toBe(false);
  });

  it('is no code job: a worker reading versions 1 and 2 only refuses it', () => {
    expect(isDeliveryJobData(valid)).toBe(false);
  });

  it('refuses an envelope holding a code, a token or a full phone number', () => {
    expect(isNoticeSecret(secret)).toBe(true);
    expect(isNoticeSecret({ ...secret, code: '123456' })).toBe(false);
    expect(isNoticeSecret({ ...secret, facts: { ...secret.facts, code: '123456' } })).toBe(false);
    expect(isNoticeSecret({ ...secret, facts: { ...secret.facts, refreshToken: 'abc' } })).toBe(false);
    expect(isNoticeSecret({ to: 'a@example.com', facts: { at: secret.facts.at, phoneMasked: '+********2671' } })).toBe(
      true,
    );
    expect(isNoticeSecret({ to: 'a@example.com', facts: { at: secret.facts.at, phoneMasked: '+14155552671' } })).toBe(
      false,
    );
  });

  it('binds the envelope to its notification', () => {
    const ring = parseKeyRing(`k1:${Buffer.alloc(32, 7).toString('base64')}`);
    const envelope = seal(ring, secret, noticeEnvelopeContext(notificationId));
    expect(open(ring, envelope, noticeEnvelopeContext(notificationId))).toEqual(secret);
    expect(() => open(ring, envelope, noticeEnvelopeContext('0b5e6f8e-4f43-4f5e-9a43-2a4e0d4f7a11'))).toThrow();
  });
});
