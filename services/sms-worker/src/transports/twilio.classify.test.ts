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

  it('says Twilio certainly did not take the message for an HTTP error answer or a connection never opened', () => {
    const cases: Array<[string, unknown, boolean]> = [
      ['429 with Retry-After', new TwilioRateLimitResponse(20429, 2000), true],
      ['429', { status: 429, code: 20429 }, true],
      ['401', { status: 401, code: 20003 }, true],
      ['503', { status: 503, code: 20500 }, true],
      ['400', { status: 400, code: 21211 }, true],
      ['refused', { code: 'ECONNREFUSED' }, true],
      ['unknown host', { code: 'ENOTFOUND' }, true],
      ['reset after the request', { code: 'ECONNRESET' }, false],
      ['timed out', { code: 'ECONNABORTED' }, false],
      ['timed out (ETIMEDOUT)', { code: 'ETIMEDOUT' }, false],
      ['anything else', new Error('something else'), false],
    ];
    for (const [name, failure, notAccepted] of cases) {
      expect(classifyTwilioError(failure).notAccepted, name).toBe(notAccepted);
    }
  });
});
