import { NOTICE_TEMPLATES } from '@otp/domain';
import { loadCatalogue } from '@otp/messages';
import { describe, expect, it } from 'vitest';
import { createEmailTemplates } from './email.templates.ts';

const catalogue = loadCatalogue({ defaultLocale: 'en' });
const render = createEmailTemplates({ catalogue, appName: 'Acme' });
const now = new Date('2026-01-01T12:00:00Z');
const code = {
  code: '042917',
  purpose: 'login' as const,
  locale: 'en',
  expiresAt: new Date('2026-01-01T12:10:00Z'),
  now,
};
const at = '2026-12-05T01:02:03.000Z';
const when = 'When: December 5, 2026 at 01:02 UTC';

describe('otp-code email', () => {
  it('puts the code, its validity and the "ignore" line in both bodies, the code first', () => {
    const message = render['otp-code'](code);
    expect(message.subject).toBe('Your Acme sign-in code');
    expect(message.locale).toBe('en');
    for (const body of [message.text, message.html ?? '']) {
      expect(body).toContain('042917');
      expect(body).toContain('valid for 10 minutes');
      expect(body).toContain('If you did not ask for this, ignore this email');
    }
    expect(message.text.indexOf('042917')).toBeLessThan(message.text.indexOf('valid for'));
  });

  it('words the subject for the purpose, and a reset code as one', () => {
    expect(render['otp-code']({ ...code, purpose: 'verify_email' }).subject).toBe(
      'Confirm your email address for Acme',
    );
    expect(render['otp-code']({ ...code, purpose: 'verify_phone' }).subject).toBe('Your Acme verification code');
    const reset = render['otp-code']({ ...code, purpose: 'reset_password' });
    expect(reset.subject).toBe('Your Acme password reset code');
    for (const body of [reset.text, reset.html ?? '']) {
      expect(body).toContain('choose a new password for Acme');
      expect(body).toContain('your password stays as it is');
      expect(body).not.toContain('nobody can sign in without the code');
    }
  });

  it('says 1 minute, not 0, near the expiry', () => {
    expect(render['otp-code']({ ...code, expiresAt: new Date('2026-01-01T12:00:30Z') }).text).toContain(
      'valid for 1 minute.',
    );
  });

  it('falls back to the default locale for a locale the catalogue does not have, and says which it used', () => {
    const message = render['otp-code']({ ...code, locale: 'xx-YY' });
    expect(message.subject).toBe('Your Acme sign-in code');
    expect(message.locale).toBe('en');
  });

  it('escapes the product name in the HTML body', () => {
    const evil = createEmailTemplates({ catalogue, appName: '<b>Evil & Co</b>' })['otp-code'](code);
    expect(evil.html).toContain('&lt;b&gt;Evil &amp; Co&lt;/b&gt;');
    expect(evil.html).not.toContain('<b>Evil');
  });
});

describe('account-exists and reset-no-account emails', () => {
  it('say how to sign in or register, with no code', () => {
    const exists = render['account-exists']({ locale: 'en' });
    expect(exists.subject).toBe('You already have an account with Acme');
    expect(exists.text).toContain('An account already exists for it, so no new one was created.');
    const none = render['reset-no-account']({ locale: 'en' });
    expect(none.subject).toBe('Password reset for Acme');
    expect(none.text).toContain('there is no password to reset');
    for (const message of [exists, none]) expect(message.text).not.toMatch(/\d{4,}/);
  });
});

describe('security notice emails', () => {
  it('say what happened, when, and what to do if it was not you, in text and HTML', () => {
    const ifNotYou: Partial<Record<(typeof NOTICE_TEMPLATES)[number], string>> = {
      'password-changed': 'If this was not you, reset your password now',
      'email-changed': 'If this was not you, someone who could sign in to your account has moved it',
      'account-deleted': 'If this was not you, contact Acme support',
    };
    for (const template of NOTICE_TEMPLATES) {
      const message = render.notices[template]({ locale: 'en', facts: { at } });
      expect(message.subject).toContain('Acme');
      for (const body of [message.text, message.html ?? '']) {
        expect(body).toContain(when);
        expect(body).toContain(
          ifNotYou[template] ?? 'If this was not you, sign in to Acme now and change your password',
        );
        expect(body).toContain('contact Acme support');
      }
    }
  });

  it('name the device and network of a new sign-in, the masked phone, the factor and its change', () => {
    const signIn = render.notices['new-sign-in']({
      locale: 'en',
      facts: { at, userAgent: 'Mozilla/5.0 (X11; Linux)', network: '2001:db8:1:2::/64' },
    });
    expect(signIn.text).toContain('Device: Mozilla/5.0 (X11; Linux)');
    expect(signIn.text).toContain('Network: 2001:db8:1:2::/64');
    expect(render.notices['new-sign-in']({ locale: 'en', facts: { at } }).text).toContain('Device: unknown');
    expect(
      render.notices['phone-changed']({ locale: 'en', facts: { at, phoneMasked: '+********2671' } }).text,
    ).toContain('Phone: +********2671');
    const factor = render.notices['factor-changed']({
      locale: 'en',
      facts: { at, factorKind: 'totp', change: 'removed' },
    });
    expect(factor.subject).toBe('A sign-in method was removed for your Acme account');
    expect(factor.text).toContain('an authenticator app was removed');
  });

  it('carry no digits beyond the time: no code can hide in them', () => {
    for (const template of NOTICE_TEMPLATES) {
      const message = render.notices[template]({ locale: 'xx-YY', facts: { at } });
      const withoutTime = `${message.subject}\n${message.text}`.replaceAll('December 5, 2026 at 01:02', '');
      expect(withoutTime).not.toMatch(/\d{4,}/);
    }
  });

  it('say how the password changed and how many other sign-ins ended', () => {
    const reset = render.notices['password-changed']({ locale: 'en', facts: { at, how: 'reset', sessionsRevoked: 3 } });
    expect(reset.subject).toBe('The password of your Acme account was changed');
    expect(reset.text).toContain('The password was reset, with a code sent to this address, for your Acme account.');
    expect(reset.text).toContain('3 other sign-ins were ended with it.');
    const first = render.notices['password-changed']({ locale: 'en', facts: { at, how: 'first', sessionsRevoked: 0 } });
    expect(first.text).toContain('A password was set for your Acme account.');
    expect(first.text).not.toContain('ended');
  });

  it('tell the old address where the account went, masked; a deletion is the last message; a factor reset names what went', () => {
    const moved = render.notices['email-changed']({ locale: 'en', facts: { at, emailMasked: 'a***@new.example' } });
    expect(moved.subject).toBe('The email address of your Acme account was changed');
    expect(moved.text).toContain('New address: a***@new.example');
    expect(moved.text).toContain('This address no longer signs in to it');
    const deleted = render.notices['account-deleted']({ locale: 'en', facts: { at } });
    expect(deleted.text).toContain('This is the last message you get about it.');
    const reset = render.notices['factors-reset']({ locale: 'en', facts: { at } });
    expect(reset.text).toContain('removed the authenticator apps, hardware tokens and recovery codes');
  });

  it('escape a client-chosen user agent in the HTML body', () => {
    const message = render.notices['new-sign-in']({ locale: 'en', facts: { at, userAgent: '<script>x</script>' } });
    expect(message.html).toContain('&lt;script&gt;x&lt;/script&gt;');
    expect(message.html).not.toContain('<script>');
  });
});
