import { describe, expect, it } from 'vitest';
import { asReopened, type ChallengeState, challengeRefusal, sendRefusal } from './challenge-usability.ts';

const now = new Date('2026-11-22T10:00:00Z');
const later = new Date('2026-11-22T10:05:00Z');
const earlier = new Date('2026-11-22T09:55:00Z');

function challenge(fields: Partial<ChallengeState> = {}): ChallengeState {
  return {
    status: 'pending',
    expires_at: later,
    attempt_count: 0,
    max_attempts: 5,
    send_count: 1,
    delivery_status: 'queued',
    ...fields,
  };
}

describe('whether a challenge can still be used', () => {
  it('accepts a pending, unexpired challenge with attempts left', () => {
    expect(challengeRefusal(challenge({ attempt_count: 4 }), now)).toBeUndefined();
  });

  it('names why it cannot, a used or locked challenge before an expired one', () => {
    expect(challengeRefusal(undefined, now)).toBe('challenge_missing');
    expect(challengeRefusal(challenge({ status: 'verified', expires_at: earlier }), now)).toBe('challenge_verified');
    expect(challengeRefusal(challenge({ status: 'locked', expires_at: earlier }), now)).toBe('challenge_locked');
    expect(challengeRefusal(challenge({ attempt_count: 5 }), now)).toBe('challenge_locked');
    expect(challengeRefusal(challenge({ status: 'failed' }), now)).toBe('challenge_failed');
    expect(challengeRefusal(challenge({ status: 'failed', expires_at: earlier }), now)).toBe('challenge_failed');
    expect(challengeRefusal(challenge({ expires_at: now }), now)).toBe('challenge_expired');
  });
});

describe('whether a send may go out', () => {
  it('lets the latest send out until the provider has it', () => {
    for (const delivery_status of ['queued', 'sending', 'failed'] as const) {
      expect(sendRefusal(challenge({ delivery_status }), 1, now)).toBeUndefined();
    }
    for (const delivery_status of ['sent', 'delivered', 'undelivered'] as const) {
      expect(sendRefusal(challenge({ delivery_status }), 1, now)).toBe('already_sent');
    }
  });

  it('refuses an older send, a send never made, and any send of an unusable challenge', () => {
    expect(sendRefusal(challenge({ send_count: 2 }), 1, now)).toBe('superseded');
    expect(sendRefusal(challenge({ send_count: 1 }), 2, now)).toBe('unknown_send');
    expect(sendRefusal(challenge({ status: 'verified', send_count: 2 }), 1, now)).toBe('challenge_verified');
    expect(sendRefusal(undefined, 1, now)).toBe('challenge_missing');
  });

  it('judges a failed challenge as the operator retry would leave it: pending again', () => {
    expect(sendRefusal(asReopened(challenge({ status: 'failed', delivery_status: 'failed' })), 1, now)).toBeUndefined();
    const expired = challenge({ status: 'failed', delivery_status: 'failed', expires_at: earlier });
    expect(sendRefusal(asReopened(expired), 1, now)).toBe('challenge_expired');
    expect(asReopened(challenge({ status: 'verified' })).status).toBe('verified');
  });
});
