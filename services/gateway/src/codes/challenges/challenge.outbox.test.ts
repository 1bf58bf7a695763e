import { envelopeContext, isDeliveryJobData, open, parseKeyRing } from '@otp/domain';
import { testKeyRing } from '@otp/testkit';
import { describe, expect, it } from 'vitest';
import { type AccountExistsSend, type CodeSend, deliveryOutboxRow } from './challenge.outbox.ts';

const envelopes = parseKeyRing(testKeyRing());
const challengeId = '0b5e6f8e-4f43-4f5e-9a43-2a4e0d4f7a11';
const fields = {
  challengeId,
  sendNumber: 1,
  channel: 'email' as const,
  purpose: 'verify_email' as const,
  locale: 'en',
  toMasked: 'a***@example.com',
  expiresAt: new Date('2026-11-22T10:10:00.000Z'),
  to: 'ada@example.com',
  requestId: 'req-1',
  requestedAt: new Date('2026-11-22T10:00:00.000Z'),
};

function jobOf(row: { job_data: unknown }) {
  const data = JSON.parse(String(row.job_data));
  expect(isDeliveryJobData(data)).toBe(true);
  return { data, secret: open(envelopes, data.envelope, envelopeContext(challengeId, 1)) };
}

describe('the outbox row of a send', () => {
  it('writes a code as a version 1 otp-code job (read by workers of the previous release too)', () => {
    const row = deliveryOutboxRow(envelopes, { ...fields, code: '042917' });
    const { data, secret } = jobOf(row);

    expect(row).toMatchObject({
      challenge_id: challengeId,
      send_number: 1,
      channel: 'email',
      job_id: `${challengeId}.1`,
    });
    expect(data).toMatchObject({ v: 1, template: 'otp-code', purpose: 'verify_email', toMasked: 'a***@example.com' });
    expect(secret).toEqual({ to: 'ada@example.com', code: '042917' });
    expect(String(row.job_data)).not.toContain('042917');
  });

  it('writes the account-exists email as a version 2 job whose envelope holds the address only', () => {
    const row = deliveryOutboxRow(envelopes, { ...fields, template: 'account-exists' });
    const { data, secret } = jobOf(row);

    expect(data).toMatchObject({ v: 2, template: 'account-exists', channel: 'email', purpose: 'verify_email' });
    expect(secret).toEqual({ to: 'ada@example.com' });
    expect(String(row.job_data)).not.toContain('ada@example.com');
  });

  it('refuses an account-exists send with a code, and a code send without one', () => {
    const withCode = { ...fields, template: 'account-exists', code: '042917' } as unknown as AccountExistsSend;
    expect(() => deliveryOutboxRow(envelopes, withCode)).toThrow('never carries a code');
    const withoutCode = { ...fields } as unknown as CodeSend;
    expect(() => deliveryOutboxRow(envelopes, withoutCode)).toThrow('does not match its template');
  });
});
