import { randomUUID } from 'node:crypto';
import type { NewOtpChallenge } from '@otp/db';

/**
 * A pending email login challenge as the gateway writes one, for tests that write rows through
 * the repositories themselves: ten minutes to live, one send of five, no attempt yet. `fields`
 * override any column; the row's id is returned with it.
 */
export function challengeRow(fields: Partial<NewOtpChallenge> = {}): NewOtpChallenge & { id: string } {
  const id = fields.id ?? randomUUID();
  const now = new Date();
  return {
    channel: 'email',
    purpose: 'login',
    recipient_hash: Buffer.from(id),
    recipient_sealed: 'sealed',
    recipient_masked: 'a***@example.org',
    locale: 'en',
    code_hashes: [Buffer.from('hash')],
    status: 'pending',
    send_count: 1,
    attempt_count: 0,
    max_attempts: 5,
    max_sends: 5,
    expires_at: new Date(now.getTime() + 600_000),
    resend_available_at: now,
    delivery_status: 'queued',
    delivery_updated_at: now,
    ...fields,
    id,
  };
}
