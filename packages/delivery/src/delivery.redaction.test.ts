import { describe, expect, it } from 'vitest';
import { DeliveryError, redactRecipients } from './delivery.error.ts';

describe('redactRecipients', () => {
  it('removes addresses, phone numbers and codes, and keeps SMTP reply codes', () => {
    expect(redactRecipients('550 5.1.1 <jane.doe@example.com>: Recipient address rejected')).toBe(
      '550 5.1.1 <[address]>: Recipient address rejected',
    );
    expect(redactRecipients("The 'To' number +14155550123 is not a valid phone number.")).toBe(
      "The 'To' number [number] is not a valid phone number.",
    );
    expect(redactRecipients('call +1 (415) 555-0123 now')).toBe('call [number] now');
    expect(redactRecipients('your code 048213 failed')).toBe('your code [number] failed');
  });

  it('bounds the length of what it keeps', () => {
    expect(redactRecipients('x'.repeat(500)).length).toBeLessThanOrEqual(201);
  });
});

describe('DeliveryError', () => {
  it('is its code, whatever detail it carries, and keeps only redacted detail', () => {
    const error = new DeliveryError('permanent', 'twilio_21211', { detail: 'number +14155550123 is invalid' });
    expect(error.message).toBe('twilio_21211');
    expect(error.detail).toBe('number [number] is invalid');
  });
});
