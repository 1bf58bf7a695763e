import { loadCatalogue } from '@otp/messages';
import { describe, expect, it } from 'vitest';
import { createOtpCodeSmsTemplate, longSmsLocales } from './otp-code.template.ts';

const now = new Date('2026-01-01T12:00:00Z');
const input = {
  code: '007531',
  purpose: 'login' as const,
  locale: 'en',
  expiresAt: new Date('2026-01-01T12:10:00Z'),
  now,
};
const catalogue = loadCatalogue({ defaultLocale: 'en' });
const options = { catalogue, appName: 'Acme', webOtpDomain: 'login.acme.test' };
const render = createOtpCodeSmsTemplate(options);

describe('otp-code SMS template', () => {
  it('says the code and its validity, then a blank line and the WebOTP line last', () => {
    expect(render(input).text).toBe(
      'Your Acme code is 007531. It expires in 10 minutes. Do not share it.\n\n@login.acme.test #007531',
    );
  });

  it('puts the app hash on the line before the WebOTP line when it is set', () => {
    const text = createOtpCodeSmsTemplate({ ...options, appHash: 'FA+9qCX9VSu' })(input).text;
    expect(text.split('\n').slice(-2)).toEqual(['FA+9qCX9VSu', '@login.acme.test #007531']);
  });

  it('says 1 minute near the expiry, and falls back to the default locale for an unknown one', () => {
    const message = render({ ...input, locale: 'zz', expiresAt: new Date('2026-01-01T12:00:10Z') });
    expect(message.text).toContain('It expires in 1 minute.');
    expect(message.locale).toBe('en');
  });

  it('has no subject or HTML', () => {
    const message = render(input);
    expect(message.subject).toBeUndefined();
    expect(message.html).toBeUndefined();
  });

  it('names the locales whose SMS would need a second segment with the settings given', () => {
    expect(longSmsLocales(options)).toEqual([]);
    const long = longSmsLocales({ ...options, appName: 'A'.repeat(64), webOtpDomain: `${'d'.repeat(60)}.example` });
    expect(long.map(({ locale }) => locale)).toContain('en');
    expect(long.every(({ segments }) => segments === 2)).toBe(true);
  });
});
