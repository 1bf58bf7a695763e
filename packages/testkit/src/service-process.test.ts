import { describe, expect, it } from 'vitest';
import { freePort, portRange } from './service-process.ts';

describe('freePort', () => {
  it('draws each vitest worker’s ports from its own slice, below the ephemeral range', () => {
    const slices = ['1', '2', '3', '4', '5', '6', '7', '8'].map((pool) => portRange(pool));
    for (const [i, slice] of slices.entries()) {
      expect(slice.from).toBeGreaterThanOrEqual(20_000);
      expect(slice.to).toBeLessThan(32_768);
      expect(slice.to - slice.from).toBeGreaterThan(1000);
      for (const other of slices.slice(i + 1)) expect(slice.to < other.from || other.to < slice.from).toBe(true);
    }
    expect(portRange('')).toEqual({ from: 20_000, to: 32_767 });
  });

  it('hands out a port of this worker’s slice, never the same one twice', async () => {
    const { from, to } = portRange();
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(from);
      expect(port).toBeLessThanOrEqual(to);
    }
    expect(new Set(ports).size).toBe(ports.length);
  });
});
