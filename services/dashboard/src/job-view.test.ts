import { DELIVERY_ERROR_CODES } from '@otp/domain';
import { describe, expect, it } from 'vitest';
import { HIDDEN, publicJobData, publicReturnValue, redactFailureText, SEALED } from './job-view.ts';

describe('failed reasons on the board', () => {
  it('shows every delivery error code as it is, and blanks addresses in other text', () => {
    const codes = [...Object.keys(DELIVERY_ERROR_CODES), 'smtp_451', 'smtp_550', 'twilio_21211', 'twilio_30003'];
    for (const code of codes) {
      expect(redactFailureText(code)).toBe(code);
      expect(redactFailureText(`UnrecoverableError: ${code}`)).toBe(`UnrecoverableError: ${code}`);
    }
    expect(redactFailureText('550 no such user someone@example.com')).not.toContain('someone@example.com');
  });
});

describe('job data on the board', () => {
  const clear = {
    challengeId: '0b5e6f8e-4f43-4f5e-9a43-2a4e0d4f7a11',
    sendNumber: 1,
    channel: 'email',
    purpose: 'verify_email',
    locale: 'en',
    toMasked: 'a***@example.com',
    requestedAt: '2026-11-22T10:00:00.000Z',
    expiresAt: '2026-11-22T10:10:00.000Z',
    requestId: 'req-1',
    envelope: 'v1.k1.aaa.bbb.ccc',
  };

  it('shows the version and the template of every contract version, the envelope sealed', () => {
    for (const job of [
      { v: 1, template: 'otp-code', ...clear },
      { v: 2, template: 'otp-code', ...clear },
      { v: 2, template: 'account-exists', ...clear },
    ]) {
      expect(publicJobData(job)).toEqual({ ...job, envelope: SEALED });
    }
  });

  it('hides what an account-exists job must never hold in clear', () => {
    const leaky = { v: 2, template: 'account-exists', ...clear, toMasked: 'ada@example.com', code: '042917' };
    expect(publicJobData(leaky)).toEqual({
      v: 2,
      template: 'account-exists',
      ...clear,
      toMasked: HIDDEN,
      envelope: SEALED,
      hiddenFields: ['code'],
    });
  });

  it('shows the clear fields of a version 3 notice, and hides what one must never hold in clear', () => {
    const notice = {
      v: 3,
      kind: 'notice',
      notificationId: '7d1f3c2a-5b6e-4f70-8a91-b2c3d4e5f607',
      template: 'new-sign-in',
      channel: 'email',
      locale: 'en',
      toMasked: 'a***@example.com',
      requestedAt: '2026-12-05T01:00:00.000Z',
      requestId: 'req-1',
      envelope: 'v1.k1.aaa.bbb.ccc',
    };
    expect(publicJobData(notice)).toEqual({ ...notice, envelope: SEALED });
    const leaky = { ...notice, userAgent: 'Mozilla/5.0', phone: '+14155552671', code: '042917' };
    expect(publicJobData(leaky)).toEqual({ ...notice, envelope: SEALED, hiddenFields: ['userAgent', 'phone', 'code'] });
  });
});

describe('a delivery job return value on the dashboard', () => {
  it('shows the provider message id, with the provider of a chain that took it', () => {
    expect(publicReturnValue({ providerMessageId: 'SM123' })).toEqual({ providerMessageId: 'SM123' });
    expect(publicReturnValue({ providerMessageId: 'SM123', provider: 'hook' })).toEqual({
      providerMessageId: 'SM123',
      provider: 'hook',
    });
    expect(publicReturnValue({ providerMessageId: null, provider: 'smtp-fallback' })).toEqual({
      providerMessageId: null,
      provider: 'smtp-fallback',
    });
  });

  it('hides a provider that is no provider name, or any other field', () => {
    expect(publicReturnValue({ providerMessageId: 'SM123', provider: 'victim@example.org' })).toBe(HIDDEN);
    expect(publicReturnValue({ providerMessageId: 'SM123', to: '+14155550100' })).toBe(HIDDEN);
    expect(publicReturnValue({ providerMessageId: 'SM123', provider: 'hook', to: 'x' })).toBe(HIDDEN);
  });
});
