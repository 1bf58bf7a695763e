import { createSecretKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PublicError } from './errors.ts';
import { maskEmail, maskPhone, normalizeEmail, normalizePhone, recipientHash } from './recipient.ts';

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return error instanceof PublicError ? error.code : 'other';
  }
  return undefined;
}

describe('normalizeEmail', () => {
  it('trims and lower-cases the domain only', () => {
    expect(normalizeEmail('  Alice.Smith@Example.COM ')).toBe('Alice.Smith@example.com');
    expect(normalizeEmail('bob+otp@sub.example.org')).toBe('bob+otp@sub.example.org');
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
    'alice@@example.com',
    '<alice@example.com>',
  ])('refuses %j with invalid_recipient', (input) => {
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
