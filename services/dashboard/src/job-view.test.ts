import { DELIVERY_ERROR_CODES } from '@otp/domain';
import { describe, expect, it } from 'vitest';
import { redactFailureText } from './job-view.ts';

describe('failed reasons on the board', () => {
  it('shows every delivery error code as it is, and blanks addresses in other text', () => {
    const codes = [...Object.keys(DELIVERY_ERROR_CODES), 'smtp_451', 'smtp_550', 'twilio_21211', 'twilio_30003'];
    for (const code of codes) {
      expect(redactFailureText(code)).toBe(code);
      expect(redactFailureText(`UnrecoverableError: ${code}`)).toBe(`UnrecoverableError: ${code}`);
    }
    expect(redactFailureText('550 no such user someone@example.com')).not.toContain('someone@example.com');
  });
});
