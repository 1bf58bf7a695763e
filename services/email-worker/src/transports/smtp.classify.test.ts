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

  // nodemailer's errors as smtp-connection builds them: `command` is the step in flight.
  it('says the server certainly did not take the message only when it failed before the message', () => {
    const cases: Array<[string, Record<string, unknown>, boolean]> = [
      ['refused connection', { code: 'ESOCKET', originalCode: 'ECONNREFUSED', command: 'CONN' }, true],
      ['unknown host', { code: 'EDNS', command: 'CONN' }, true],
      ['connect timeout', { code: 'ETIMEDOUT', timeoutType: 'CONNECT_TIMEOUT', command: 'CONN' }, true],
      ['greeting timeout', { code: 'ETIMEDOUT', timeoutType: 'GREETING_TIMEOUT', command: 'CONN' }, true],
      [
        'refused greeting',
        { code: 'EPROTOCOL', command: 'CONN', responseCode: 421, message: 'Invalid greeting. response=421 busy' },
        true,
      ],
      ['4yz to EHLO', { code: 'ECONNECTION', command: 'EHLO', responseCode: 421 }, true],
      ['535 to AUTH', { code: 'EAUTH', command: 'AUTH PLAIN', responseCode: 535 }, true],
      ['4yz to MAIL FROM', { code: 'EENVELOPE', command: 'MAIL FROM', responseCode: 451 }, true],
      ['4yz to RCPT TO', { code: 'EENVELOPE', command: 'RCPT TO', responseCode: 452 }, true],
      ['4yz to the DATA command', { code: 'EENVELOPE', command: 'DATA', responseCode: 451 }, true],
      ['send on a closed connection', { code: 'ECONNECTION', command: 'API' }, true],
      ['4yz to the end of the message', { code: 'EMESSAGE', command: 'DATA', responseCode: 451 }, false],
      ['socket timeout', { code: 'ETIMEDOUT', timeoutType: 'SOCKET_TIMEOUT', command: 'CONN' }, false],
      ['connection closed', { code: 'ECONNECTION', command: 'CONN' }, false],
      ['421 then closed', { code: 'ECONNECTION', command: 'CONN', responseCode: 421 }, false],
      ['connection reset', { code: 'ESOCKET', originalCode: 'ECONNRESET', command: 'CONN' }, false],
      ['unexpected reply', { code: 'EPROTOCOL', command: 'CONN', responseCode: 421 }, false],
      ['anything else', {}, false],
    ];
    for (const [name, failure, notAccepted] of cases) {
      expect(classifySmtpError(failure).notAccepted, name).toBe(notAccepted);
    }
    expect(classifySmtpError(new Error('something else')).notAccepted).toBe(false);
  });
});
