import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, type EventType, type EventTypeEntry } from './events.ts';
import { WEBHOOK_EVENT_NAMES, webhookEndpointId, webhookEventsOf, webhookSources } from './webhook-events.ts';

const at = new Date('2026-12-09T10:00:00Z');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('webhookEventsOf', () => {
  it('sends nothing for an event without routes', () => {
    expect(webhookEventsOf('code.failed', { userId: 'u1', details: { reason: 'invalid_code' }, at })).toEqual([]);
  });

  it('carries the details and the account id, with a fresh id per event', () => {
    const details = { challengeId: 'c1', channel: 'email', purpose: 'login', toMasked: 'a***@example.com' };
    const [first] = webhookEventsOf('code.verified', { userId: 'u1', details, at });
    const [second] = webhookEventsOf('code.verified', { userId: 'u1', details, at });
    expect(first).toEqual({
      id: expect.stringMatching(UUID),
      type: 'challenge.verified',
      occurredAt: at,
      data: { userId: 'u1', ...details },
    });
    expect(second?.id).not.toBe(first?.id);
  });

  it('leaves the account id out when there is none', () => {
    const [event] = webhookEventsOf('code.requested', { userId: null, details: { challengeId: 'c1' }, at });
    expect(event?.data).toEqual({ challengeId: 'c1' });
  });

  it('applies a route only when the details meet its `when`', () => {
    const of = (change: string) =>
      webhookEventsOf('factor.changed', { userId: 'u1', details: { kind: 'totp', change }, at }).map((e) => e.type);
    expect(of('enabled')).toEqual(['factor.enabled']);
    expect(of('removed')).toEqual(['factor.disabled']);
    // An enrolment only begun is no public event.
    expect(of('enrolled')).toEqual([]);
  });

  it('merges `add` over the details: the reason the public name does not carry', () => {
    const [event] = webhookEventsOf('session.logged_out', {
      userId: 'u1',
      details: { sessionId: 's1', revoked: 1 },
      at,
    });
    expect(event).toMatchObject({ type: 'session.revoked', data: { userId: 'u1', sessionId: 's1', reason: 'logout' } });
    const [locked] = webhookEventsOf('factor.locked', { userId: 'u1', details: { failures: 3 }, at });
    expect(locked?.data).toEqual({ userId: 'u1', failures: 3, reason: 'factor_lock' });
  });
});

describe('webhookSources', () => {
  it('gives every public type at least one recorded event that sends it', () => {
    const sources = webhookSources();
    for (const name of WEBHOOK_EVENT_NAMES) expect(sources[name].length, name).toBeGreaterThan(0);
    expect(sources['user.created'].sort()).toEqual(['user.created', 'user.registered']);
    expect(sources['challenge.failed']).toEqual(['code.delivery_failed']);
  });

  it('lists only recorded events that exist, under routes to public types', () => {
    const sources = webhookSources();
    expect(Object.keys(sources).sort()).toEqual([...WEBHOOK_EVENT_NAMES].sort());
    for (const types of Object.values(sources)) {
      for (const type of types) {
        const entry: EventTypeEntry = EVENT_TYPES[type as EventType];
        expect(entry.webhook, type).toBeDefined();
      }
    }
  });
});

describe('webhookEndpointId', () => {
  it('is stable for a URL and never shows it', () => {
    const url = 'https://hooks.example.com/in/secret-token';
    expect(webhookEndpointId(url)).toBe(webhookEndpointId(url));
    expect(webhookEndpointId(url)).toMatch(/^ep_[A-Za-z0-9_-]{16}$/);
    expect(webhookEndpointId(url)).not.toContain('secret');
  });
});
