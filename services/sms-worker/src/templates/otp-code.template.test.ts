import { describe, expect, it } from 'vitest';
import { createOtpCodeSmsTemplate } from './otp-code.template.ts';

const now = new Date('2026-01-01T12:00:00Z');
const input = {
  code: '007531',
  purpose: 'login' as const,
  locale: 'en',
  expiresAt: new Date('2026-01-01T12:10:00Z'),
  now,
};
const render = createOtpCodeSmsTemplate({ appName: 'Acme', webOtpDomain: 'login.acme.test' });

describe('otp-code SMS template', () => {
  it('says the code and its validity, then a blank line and the WebOTP line last', () => {
    expect(render(input).text).toBe(
      'Your Acme code is 007531. It expires in 10 minutes. Do not share it.\n\n@login.acme.test #007531',
    );
  });

  it('says 1 minute near the expiry, and falls back to English for an unknown locale', () => {
    const text = render({ ...input, locale: 'zz', expiresAt: new Date('2026-01-01T12:00:10Z') }).text;
    expect(text).toContain('It expires in 1 minute.');
  });

  it('has no subject or HTML', () => {
    const message = render(input);
    expect(message.subject).toBeUndefined();
    expect(message.html).toBeUndefined();
  });
});
