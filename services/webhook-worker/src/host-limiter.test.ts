import { testRedisUrl, uniqueQueuePrefix } from '@otp/testkit';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createHostLimiter } from './host-limiter.ts';

const clients = [new Redis(testRedisUrl()), new Redis(testRedisUrl())];

afterAll(() => {
  for (const client of clients) client.disconnect();
});

describe('the per-host delivery limit', () => {
  it('hands out exactly its slots per second to concurrent deliveries of two replicas', async () => {
    const prefix = uniqueQueuePrefix();
    const limiters = clients.map((client) => createHostLimiter(client, { prefix, perSecond: 7 }));
    // Start just after a second turns over, so all 60 land in one window.
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 20));
    const waits = await Promise.all(
      Array.from({ length: 60 }, (_, index) =>
        (limiters[index % 2] as (typeof limiters)[number]).take('hooks.example.com'),
      ),
    );
    const granted = waits.filter((wait) => wait === 0).length;
    // Redis's clock may turn over during the burst: then the next window grants its own 7.
    expect([7, 14]).toContain(granted);
    for (const wait of waits.filter((value) => value > 0)) expect(wait).toBeLessThanOrEqual(1000);
    // Another host has its own count.
    expect(await limiters[0]?.take('other.example.com')).toBe(0);
  });
});
