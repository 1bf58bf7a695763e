import { describe, expect, it } from 'vitest';
import { newChallengeId } from './challenge-id.ts';

/** The millisecond a version 7 id's first 48 bits say. */
const timeOf = (id: string) => new Date(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16));

describe('challenge ids', () => {
  it('are version 7 UUIDs that say the millisecond they were made', () => {
    const at = new Date('2026-12-06T23:59:59.999Z');
    const id = newChallengeId(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(timeOf(id)).toEqual(at);
  });

  it('differ in their random part when made in the same millisecond, and sort by time', () => {
    const at = new Date();
    const ids = new Set(Array.from({ length: 1000 }, () => newChallengeId(at)));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(timeOf(id)).toEqual(at);
    const later = newChallengeId(new Date(at.getTime() + 1));
    for (const id of ids) expect(id < later).toBe(true);
  });
});
