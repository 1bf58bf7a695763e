import { describe, expect, it } from 'vitest';
import {
  DELIVERY_ACTORS,
  DELIVERY_TRANSITIONS,
  type DeliveryStatus,
  type DeliveryTransition,
  HANDED_OVER,
  INITIAL_DELIVERY_STATUS,
  mayFollow,
  statusesMovedBy,
  transitionsBetween,
} from './index.ts';
import { DELIVERY_STATUSES } from './queue-contract.ts';

const transitions: Array<[string, DeliveryTransition]> = Object.entries(DELIVERY_TRANSITIONS);

function reachableFrom(start: DeliveryStatus): Set<DeliveryStatus> {
  const seen = new Set<DeliveryStatus>([start]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [, t] of transitions) {
      if (!seen.has(t.to) && t.from.some((from) => seen.has(from))) {
        seen.add(t.to);
        grew = true;
      }
    }
  }
  return seen;
}

describe('the delivery lifecycle', () => {
  it('reaches every status from the one a challenge is created with', () => {
    expect([...reachableFrom(INITIAL_DELIVERY_STATUS)].sort()).toEqual([...DELIVERY_STATUSES].sort());
  });

  it('never lets the provider move a delivery that was delivered (reports come out of order)', () => {
    for (const [name, t] of transitions) {
      if (t.by.includes('provider')) expect(t.from, name).not.toContain('delivered');
    }
    expect(mayFollow('delivered', 'undelivered', 'provider')).toBe(false);
    expect(mayFollow('delivered', 'failed', 'provider')).toBe(false);
    expect(mayFollow('sent', 'delivered', 'provider')).toBe(true);
    expect(mayFollow('undelivered', 'delivered', 'provider')).toBe(true);
  });

  it('says who may move a delivery to which status', () => {
    expect(statusesMovedBy('gateway')).toEqual(['queued']);
    expect(statusesMovedBy('worker').sort()).toEqual(['failed', 'queued', 'sending', 'sent']);
    expect(statusesMovedBy('provider').sort()).toEqual(['delivered', 'failed', 'undelivered']);
    expect(statusesMovedBy('reconciler').sort()).toEqual(['failed', 'sent']);
    expect(statusesMovedBy('operator')).toEqual(['queued']);
    for (const actor of DELIVERY_ACTORS) expect(statusesMovedBy(actor).length).toBeGreaterThan(0);
    expect(mayFollow('sent', 'queued', 'operator')).toBe(false);
    expect(mayFollow('sent', 'queued', 'gateway')).toBe(true);
  });

  it('lets the worker take every send that was not handed over, and no other', () => {
    const takeable = DELIVERY_STATUSES.filter((status) => mayFollow(status, 'sending', 'worker'));
    expect(takeable.sort()).toEqual(DELIVERY_STATUSES.filter((status) => !HANDED_OVER.includes(status)).sort());
  });

  it('keeps a recorded send when a failure or a stall is reported late', () => {
    for (const handedOver of HANDED_OVER) {
      expect(transitionsBetween(handedOver, 'failed', 'worker')).toEqual([]);
      expect(transitionsBetween(handedOver, 'failed', 'reconciler')).toEqual([]);
      expect(transitionsBetween(handedOver, 'queued', 'worker')).toEqual([]);
    }
  });

  it('fails the challenge only on a final failure, and reopens it only on an operator retry', () => {
    const failing = transitions.filter(([, t]) => t.failsChallenge).map(([name]) => name);
    const reopening = transitions.filter(([, t]) => t.reopensChallenge);
    expect(failing.sort()).toEqual(['failed', 'stalled']);
    expect(reopening.map(([name, t]) => [name, t.by])).toEqual([['reopened', ['operator']]]);
  });

  it('counts a provider attempt exactly when the provider was asked', () => {
    const counting = transitions.filter(([, t]) => t.countsAttempt).map(([name]) => name);
    expect(counting.sort()).toEqual(['failed', 'retry_scheduled', 'sent', 'sent_recorded']);
  });
});
