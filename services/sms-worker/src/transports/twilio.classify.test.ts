import { deliveryErrorEntry } from '@otp/domain';
import { describe, expect, it } from 'vitest';
import { classifyTwilioError } from './twilio.classify.ts';
import { TwilioRateLimitResponse } from './twilio-request.client.ts';

// The codes the classifier gives are the domain's delivery error codes, with the kind its table says.
describe('classifying Twilio failures', () => {
  it('gives each failure a code of the delivery error table, of the kind the table gives it', () => {
    const failures: Array<[unknown, string]> = [
      [new TwilioRateLimitResponse(20429, 2000), 'twilio_429'],
      [{ status: 429, code: 20429 }, 'twilio_429'],
      [{ status: 401, code: 20003 }, 'twilio_20003'],
      [{ status: 503, code: 20500 }, 'twilio_5xx'],
      [{ status: 400, code: 21211 }, 'twilio_21211'],
      [{ status: 400, code: 21610 }, 'twilio_21610'],
      [{ status: 404 }, 'twilio_404'],
      [{ code: 'ECONNREFUSED' }, 'twilio_network'],
      [new Error('something else'), 'twilio_error'],
    ];
    for (const [failure, code] of failures) {
      const classified = classifyTwilioError(failure);
      expect(classified.code).toBe(code);
      expect(classified.kind, code).toBe(deliveryErrorEntry(code)?.kind);
    }
  });
});
