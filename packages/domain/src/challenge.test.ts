import { describe, expect, it } from 'vitest';
import { challengeStatus, channelAllowedFor, keepRecentHashes, secondsUntil } from './challenge.ts';

describe('challenge rules', () => {
  const now = new Date('2026-11-22T10:00:00Z');

  it('derives expired from the expiry time for pending challenges only', () => {
    expect(challengeStatus('pending', new Date('2026-11-22T10:00:01Z'), now)).toBe('pending');
    expect(challengeStatus('pending', now, now)).toBe('expired');
    expect(challengeStatus('verified', new Date('2026-11-22T09:00:00Z'), now)).toBe('verified');
  });

  it('verifies an email by email and a phone by SMS', () => {
    expect(channelAllowedFor('verify_email', 'email')).toBe(true);
    expect(channelAllowedFor('verify_email', 'sms')).toBe(false);
    expect(channelAllowedFor('verify_phone', 'sms')).toBe(true);
    expect(channelAllowedFor('verify_phone', 'email')).toBe(false);
    expect(channelAllowedFor('login', 'sms')).toBe(true);
  });

  it('keeps the newest send and the one before it', () => {
    expect(keepRecentHashes('c', ['b', 'a'])).toEqual(['c', 'b']);
    // A challenge written while three were kept drops to two at its next send.
    expect(keepRecentHashes('d', ['c', 'b', 'a'])).toEqual(['d', 'c']);
    expect(keepRecentHashes('b', ['a'])).toEqual(['b', 'a']);
  });

  it('rounds waiting time up to whole seconds, at least one', () => {
    expect(secondsUntil(new Date('2026-11-22T10:00:00.200Z'), now)).toBe(1);
    expect(secondsUntil(new Date('2026-11-22T10:00:29.001Z'), now)).toBe(30);
    expect(secondsUntil(new Date('2026-11-22T09:00:00Z'), now)).toBe(1);
  });
});
