import { NOTICE_TEMPLATES } from '@otp/domain';
import { describe, expect, it } from 'vitest';
import { createNoticeEmailTemplates } from './notice.templates.ts';

const at = '2026-12-05T01:02:03.000Z';
const render = createNoticeEmailTemplates({ appName: 'Acme' });

describe('security notice email templates', () => {
  it('says what happened, when, and what to do if it was not you, in text and HTML', () => {
    for (const template of NOTICE_TEMPLATES) {
      const message = render[template]({ locale: 'en', facts: { at } });
      expect(message.subject).toContain('Acme');
      for (const body of [message.text, message.html ?? '']) {
        expect(body).toContain('When: 2026-12-05 01:02 UTC');
        // Someone who changed the password locked the reader out: that notice says to reset it.
        // The old address of a moved account, and a deleted account, have nothing to sign in to.
        const ifNotYou: Partial<Record<(typeof NOTICE_TEMPLATES)[number], string>> = {
          'password-changed': 'If this was not you, reset your password now',
          'email-changed': 'If this was not you, someone who could sign in to your account has moved it',
          'account-deleted': 'If this was not you, contact Acme support',
        };
        expect(body).toContain(
          ifNotYou[template] ?? 'If this was not you, sign in to Acme now and change your password',
        );
        expect(body).toContain('contact Acme support');
      }
    }
  });

  it('names the device and network of a new sign-in, the masked phone, the factor and its change', () => {
    const signIn = render['new-sign-in']({
      locale: 'en',
      facts: { at, userAgent: 'Mozilla/5.0 (X11; Linux)', network: '2001:db8:1:2::/64' },
    });
    expect(signIn.text).toContain('Device: Mozilla/5.0 (X11; Linux)');
    expect(signIn.text).toContain('Network: 2001:db8:1:2::/64');
    expect(render['phone-changed']({ locale: 'en', facts: { at, phoneMasked: '+********2671' } }).text).toContain(
      'Phone: +********2671',
    );
    const factor = render['factor-changed']({ locale: 'en', facts: { at, factorKind: 'totp', change: 'removed' } });
    expect(factor.subject).toBe('A sign-in method was removed for your Acme account');
    expect(factor.text).toContain('an authenticator app was removed');
  });

  it('carries no digits beyond the time and the masked phone: no code can hide in it', () => {
    for (const template of NOTICE_TEMPLATES) {
      const message = render[template]({ locale: 'xx-YY', facts: { at } });
      const withoutTime = `${message.subject}\n${message.text}`.replaceAll('2026-12-05 01:02', '');
      expect(withoutTime).not.toMatch(/\d{4,}/);
    }
  });

  it('says how the password changed and how many other sign-ins ended', () => {
    const reset = render['password-changed']({ locale: 'en', facts: { at, how: 'reset', sessionsRevoked: 3 } });
    expect(reset.subject).toBe('The password of your Acme account was changed');
    expect(reset.text).toContain('The password was reset, with a code sent to this address, for your Acme account.');
    expect(reset.text).toContain('3 other sign-ins were ended with it.');
    const first = render['password-changed']({ locale: 'en', facts: { at, how: 'first', sessionsRevoked: 0 } });
    expect(first.text).toContain('A password was set for your Acme account.');
    expect(first.text).not.toContain('ended');
  });

  it('tells the old address where the account went, masked; says a deletion is the last message; names what a factor reset removed', () => {
    const moved = render['email-changed']({ locale: 'en', facts: { at, emailMasked: 'a***@new.example' } });
    expect(moved.subject).toBe('The email address of your Acme account was changed');
    expect(moved.text).toContain('New address: a***@new.example');
    expect(moved.text).toContain('This address no longer signs in to it');
    const deleted = render['account-deleted']({ locale: 'en', facts: { at } });
    expect(deleted.subject).toBe('Your Acme account was deleted');
    expect(deleted.text).toContain('This is the last message you get about it.');
    const reset = render['factors-reset']({ locale: 'en', facts: { at } });
    expect(reset.subject).toBe('The sign-in methods of your Acme account were reset');
    expect(reset.text).toContain('removed the authenticator apps, hardware tokens and recovery codes');
  });

  it('escapes a client-chosen user agent in the HTML body', () => {
    const message = render['new-sign-in']({ locale: 'en', facts: { at, userAgent: '<script>x</script>' } });
    expect(message.html).toContain('&lt;script&gt;x&lt;/script&gt;');
    expect(message.html).not.toContain('<script>');
  });
});
