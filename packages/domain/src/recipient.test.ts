import { createSecretKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PublicError } from './errors.ts';
import { isEmailAddress, maskEmail, maskPhone, normalizeEmail, normalizePhone, recipientHash } from './recipient.ts';

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return error instanceof PublicError ? error.code : 'other';
  }
  return undefined;
}

// Written with escapes where the difference is invisible: \u00fc is ü as one code point,
// u\u0308 is u followed by a combining diaeresis.
describe('normalizeEmail', () => {
  it('trims and lower-cases the whole address, the local part too', () => {
    expect(normalizeEmail('Ada@X.org')).toBe('ada@x.org');
    expect(normalizeEmail('  Alice.Smith@Example.COM ')).toBe('alice.smith@example.com');
    expect(normalizeEmail('bob+otp@sub.example.org')).toBe('bob+otp@sub.example.org');
  });

  it('converts an IDN domain to ASCII (Punycode), whatever its case', () => {
    expect(normalizeEmail('ADA@m\u00fcnchen.de')).toBe('ada@xn--mnchen-3ya.de');
    expect(normalizeEmail('ada@M\u00dcNCHEN.DE')).toBe('ada@xn--mnchen-3ya.de');
    expect(normalizeEmail('ada@XN--MNCHEN-3YA.DE')).toBe('ada@xn--mnchen-3ya.de');
    expect(normalizeEmail('ada@\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444')).toBe('ada@xn--e1afmkfd.xn--p1ai');
  });

  it('gives one form for a composed and a decomposed ü, in the domain and in the local part', () => {
    expect(normalizeEmail('ada@mu\u0308nchen.de')).toBe(normalizeEmail('ada@m\u00fcnchen.de'));
    const composed = normalizeEmail('J\u00fcrgen@example.org');
    expect(normalizeEmail('Ju\u0308rgen@example.org')).toBe(composed);
    expect(normalizeEmail('JU\u0308RGEN@example.org')).toBe(composed);
    expect(composed).toBe('j\u00fcrgen@example.org');
  });

  it('keeps a Unicode local part (RFC 6531), lower-cased, and does not fold compatibility characters (NFC, not NFKC)', () => {
    expect(normalizeEmail('\u00d6LAF@example.org')).toBe('\u00f6laf@example.org');
    expect(normalizeEmail('\u0391\u03b8\u03b7\u03bd\u03ac@example.gr')).toBe(
      '\u03b1\u03b8\u03b7\u03bd\u03ac@example.gr',
    );
    expect(normalizeEmail('\ufb01le@example.org')).toBe('\ufb01le@example.org');
    expect(normalizeEmail('stra\u00dfe@example.de')).toBe('stra\u00dfe@example.de');
  });

  it('is idempotent: a normal form is its own', () => {
    for (const input of ['Ada@X.org', 'ADA@m\u00fcnchen.de', 'Ju\u0308rgen@example.org', '\u0130@example.org']) {
      const once = normalizeEmail(input);
      expect(normalizeEmail(once)).toBe(once);
    }
  });

  it.each([
    '',
    'alice',
    'alice@',
    '@example.com',
    'alice@example',
    'a b@example.com',
    'alice@exa_mple.com',
    `${'a'.repeat(65)}@example.com`,
    `${'\u00e4'.repeat(33)}@example.com`,
    `alice@${'a.'.repeat(125)}com`,
    'alice@@example.com',
    '<alice@example.com>',
    'alice@xn--abc.com',
    'alice\u200b@example.com',
    'alice\u202e@example.com',
    'alice\u0000@example.com',
  ])('refuses %j with invalid_recipient', (input) => {
    expect(codeOf(() => normalizeEmail(input))).toBe('invalid_recipient');
    expect(isEmailAddress(input)).toBe(false);
  });

  // domainToASCII parses a URL host: it would cut these short or decode them, not refuse them.
  it.each([
    'alice@evil.example/x.org',
    'alice@evil.example?x.org',
    'alice@evil.example#x.org',
    'alice@exa%41mple.com',
    'alice@exa\tmple.com',
  ])('refuses %j rather than repair it into another address', (input) => {
    expect(codeOf(() => normalizeEmail(input))).toBe('invalid_recipient');
  });
});

describe('normalizePhone', () => {
  it('gives E.164 for valid international numbers in any common notation', () => {
    expect(normalizePhone('+1 (415) 555-2671')).toBe('+14155552671');
    expect(normalizePhone(' +33 6 12 34 56 78 ')).toBe('+33612345678');
    expect(normalizePhone('+4915112345678')).toBe('+4915112345678');
  });

  it.each(['', '12345', '4155552671', '+999123', '+1555010000', 'not a number', '+1415555267199999'])(
    'refuses %j with invalid_recipient',
    (input) => {
      expect(codeOf(() => normalizePhone(input))).toBe('invalid_recipient');
    },
  );
});

describe('masking', () => {
  it('keeps the first letter and the domain of an email', () => {
    expect(maskEmail('alice@example.com')).toBe('a***@example.com');
  });

  it('shows an IDN domain in Unicode, as the person typed it', () => {
    expect(maskEmail(normalizeEmail('ADA@m\u00fcnchen.de'))).toBe('a***@m\u00fcnchen.de');
  });

  it('keeps a whole first character, never half of a surrogate pair', () => {
    expect(maskEmail(normalizeEmail('\u{1F600}x@example.com'))).toBe('\u{1F600}***@example.com');
  });

  it('keeps only the last four digits of a phone number', () => {
    const masked = maskPhone('+14155552671');
    expect(masked).toBe('+*******2671');
    expect(masked).not.toContain('415555');
  });
});

describe('recipientHash', () => {
  it('depends on key, channel and address', () => {
    const key = createSecretKey(Buffer.alloc(32, 1));
    const a = recipientHash(key, 'email', 'a@example.com');
    expect(a.equals(recipientHash(key, 'email', 'a@example.com'))).toBe(true);
    expect(a.equals(recipientHash(key, 'sms', 'a@example.com'))).toBe(false);
    expect(a.equals(recipientHash(createSecretKey(Buffer.alloc(32, 2)), 'email', 'a@example.com'))).toBe(false);
  });
});
