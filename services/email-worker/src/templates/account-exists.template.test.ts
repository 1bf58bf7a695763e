import { describe, expect, it } from 'vitest';
import { createAccountExistsEmailTemplate } from './account-exists.template.ts';

describe('account-exists email template', () => {
  const render = createAccountExistsEmailTemplate({ appName: 'Acme' });

  it('says an account exists, how to sign in or reset the password, and that it may be ignored', () => {
    const message = render({ locale: 'en' });
    expect(message.subject).toBe('You already have an account with Acme');
    for (const body of [message.text, message.html ?? '']) {
      expect(body).toContain('tried to register with Acme using this email address');
      expect(body).toContain('An account already exists for it');
      expect(body).toContain('use your password, or ask for a sign-in code');
      expect(body).toMatch(/If you forgot your password, use ("|&quot;)Forgot password("|&quot;) in the app/);
      expect(body).toContain('If you did not try to create an account, ignore this email.');
    }
  });

  it('carries no code, no digits at all', () => {
    const message = render({ locale: 'en' });
    expect(`${message.subject}\n${message.text}`).not.toMatch(/\d/);
    // The HTML's only digits are its styling.
    expect(message.html?.replace(/style="[^"]*"/g, '')).not.toMatch(/\d/);
  });

  it('falls back to English for a locale it does not have', () => {
    expect(render({ locale: 'xx-YY' }).subject).toBe('You already have an account with Acme');
  });

  it('escapes the product name in the HTML body', () => {
    const message = createAccountExistsEmailTemplate({ appName: '<b>Evil & Co</b>' })({ locale: 'en' });
    expect(message.html).toContain('&lt;b&gt;Evil &amp; Co&lt;/b&gt;');
    expect(message.html).not.toContain('<b>Evil');
  });
});
