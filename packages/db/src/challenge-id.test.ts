import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { challengeCreatedWithin, newChallengeId } from './challenge-id.ts';

describe('challenge ids', () => {
  it('are version 7 UUIDs that say the millisecond they were made', () => {
    const at = new Date('2026-12-06T23:59:59.999Z');
    const id = newChallengeId(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(challengeCreatedWithin(id)).toEqual({ from: at, to: new Date('2026-12-07T00:00:00.000Z') });
  });

  it('differ in their random part when made in the same millisecond', () => {
    const at = new Date();
    const ids = new Set(Array.from({ length: 1000 }, () => newChallengeId(at)));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(challengeCreatedWithin(id)?.from).toEqual(at);
  });

  it('say nothing for an id that is not version 7 (written before, or by hand)', () => {
    expect(challengeCreatedWithin(randomUUID())).toBeUndefined();
    expect(challengeCreatedWithin('not-a-uuid')).toBeUndefined();
  });
});
