import { describe, expect, it } from 'vitest';
import { createResetNoAccountEmailTemplate } from './reset-no-account.template.ts';

describe('reset-no-account email template', () => {
  const render = createResetNoAccountEmailTemplate({ appName: 'Acme' });

  it('says there is no password to reset here, how to register, and that it may be ignored', () => {
    const message = render({ locale: 'en' });
    expect(message.subject).toBe('Password reset for Acme');
    for (const body of [message.text, message.html ?? '']) {
      expect(body).toContain('asked to reset the Acme password of this email address');
      expect(body).toContain('no password to reset');
      expect(body).toContain('register with this address');
      expect(body).toContain('If you did not ask for this, ignore this email.');
    }
  });

  it('carries no code, no digits at all', () => {
    const message = render({ locale: 'en' });
    expect(`${message.subject}\n${message.text}`).not.toMatch(/\d/);
    expect(message.html?.replace(/style="[^"]*"/g, '')).not.toMatch(/\d/);
  });

  it('falls back to English, and escapes the product name in the HTML body', () => {
    expect(render({ locale: 'xx-YY' }).subject).toBe('Password reset for Acme');
    const message = createResetNoAccountEmailTemplate({ appName: '<b>Evil & Co</b>' })({ locale: 'en' });
    expect(message.html).toContain('&lt;b&gt;Evil &amp; Co&lt;/b&gt;');
    expect(message.html).not.toContain('<b>Evil');
  });
});
