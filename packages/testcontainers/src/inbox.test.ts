import { describe, expect, it } from 'vitest';
import { codeInEmail, codeInSms } from './inbox.ts';

describe('reading codes from delivered messages', () => {
  it('takes the run of exactly code-length digits from an email', () => {
    const text = 'Your Acme sign-in code is 04291733.\nIt is valid for 10 minutes.';
    expect(codeInEmail(text, 8)).toBe('04291733');
    expect(codeInEmail(text, 6)).toBeUndefined();
    expect(codeInEmail('no code here, 2026', 6)).toBeUndefined();
  });

  it('takes the code of the WebOTP line that ends an SMS', () => {
    expect(codeInSms('Your Acme code is 123456. It expires in 10 minutes.\n\n@otp.example.com #123456')).toBe('123456');
    expect(codeInSms('no WebOTP line 123456')).toBeUndefined();
  });
});
