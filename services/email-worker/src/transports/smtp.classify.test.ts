import { deliveryErrorEntry } from '@otp/domain';
import { describe, expect, it } from 'vitest';
import { classifySmtpError } from './smtp.classify.ts';

// The codes the classifier gives are the domain's delivery error codes, with the kind its table says.
describe('classifying SMTP failures', () => {
  it('gives each failure a code of the delivery error table, of the kind the table gives it', () => {
    const failures: Array<[unknown, string]> = [
      [{ responseCode: 535, code: 'EAUTH' }, 'smtp_auth'],
      [{ code: 'ENOAUTH' }, 'smtp_auth'],
      [{ responseCode: 550, response: '550 5.1.1 unknown user' }, 'smtp_550'],
      [{ responseCode: 451 }, 'smtp_451'],
      [{ responseCode: 421 }, 'smtp_421'],
      [{ code: 'ECONNECTION' }, 'smtp_connection'],
      [{ code: 'ETIMEDOUT' }, 'smtp_connection'],
      [{ code: 'EENVELOPE' }, 'smtp_envelope'],
      [new Error('something else'), 'smtp_error'],
    ];
    for (const [failure, code] of failures) {
      const classified = classifySmtpError(failure);
      expect(classified.code).toBe(code);
      expect(classified.kind, code).toBe(deliveryErrorEntry(code)?.kind);
    }
  });
});
