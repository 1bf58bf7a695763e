import { describe, expect, it } from 'vitest';
import { minutesValid } from './template.helpers.ts';

describe('minutesValid', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  it('rounds up to whole minutes and never says 0', () => {
    expect(minutesValid(new Date('2026-01-01T00:10:00Z'), now)).toBe(10);
    expect(minutesValid(new Date('2026-01-01T00:09:01Z'), now)).toBe(10);
    expect(minutesValid(new Date('2026-01-01T00:00:20Z'), now)).toBe(1);
    expect(minutesValid(new Date('2025-12-31T23:59:00Z'), now)).toBe(1);
  });
});
