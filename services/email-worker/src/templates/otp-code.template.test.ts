import { describe, expect, it } from 'vitest';
import { createOtpCodeEmailTemplate } from './otp-code.template.ts';

const now = new Date('2026-01-01T12:00:00Z');
const input = {
  code: '042917',
  purpose: 'login' as const,
  locale: 'en',
  expiresAt: new Date('2026-01-01T12:10:00Z'),
  now,
};

describe('otp-code email template', () => {
  const render = createOtpCodeEmailTemplate({ appName: 'Acme' });

  it('puts the code, its validity and the "ignore" line in both bodies', () => {
    const message = render(input);
    expect(message.subject).toBe('Your Acme sign-in code');
    for (const body of [message.text, message.html ?? '']) {
      expect(body).toContain('042917');
      expect(body).toContain('valid for 10 minutes');
      expect(body).toContain('If you did not ask for this, ignore this email');
    }
    expect(message.text.indexOf('042917')).toBeLessThan(message.text.indexOf('valid for'));
  });

  it('words the subject for the purpose', () => {
    expect(render({ ...input, purpose: 'verify_email' }).subject).toBe('Confirm your email address for Acme');
    expect(render({ ...input, purpose: 'verify_phone' }).subject).toBe('Your Acme verification code');
  });

  it('words a password reset code as one: a new password, and nothing changes if ignored', () => {
    const message = render({ ...input, purpose: 'reset_password' });
    expect(message.subject).toBe('Your Acme password reset code');
    for (const body of [message.text, message.html ?? '']) {
      expect(body).toContain('choose a new password for Acme');
      expect(body).toContain('your password stays as it is');
      expect(body).not.toContain('nobody can sign in without the code');
    }
  });

  it('says 1 minute, not 0, near the expiry', () => {
    const message = render({ ...input, expiresAt: new Date('2026-01-01T12:00:30Z') });
    expect(message.text).toContain('valid for 1 minute.');
  });

  it('falls back to English for a locale it does not have', () => {
    expect(render({ ...input, locale: 'xx-YY' }).subject).toBe('Your Acme sign-in code');
  });

  it('escapes the product name in the HTML body', () => {
    const message = createOtpCodeEmailTemplate({ appName: '<b>Evil & Co</b>' })(input);
    expect(message.html).toContain('&lt;b&gt;Evil &amp; Co&lt;/b&gt;');
    expect(message.html).not.toContain('<b>Evil');
  });
});
