import { type RedisServer, startRedisServer } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATOR, useTestDashboard } from './testing/index.ts';

// Readiness follows Redis: a Redis of this file's own is stopped and started again.
let server: RedisServer;

beforeAll(async () => {
  server = await startRedisServer();
});

afterAll(async () => {
  await server?.stop();
});

const dashboard = useTestDashboard(() => ({ redisUrl: server.url }));

async function get(url: string, headers: Record<string, string> = {}) {
  return dashboard.app.inject({ method: 'GET', url, headers });
}

describe('dashboard health', () => {
  it('is ready while Redis answers, unready while it is down, and ready again when it is back', async () => {
    expect((await get('/health/ready')).json()).toEqual({ status: 'ok', checks: { redis: true } });

    await server.stop();
    // The connection notices the closed socket a moment later.
    await expect
      .poll(async () => (await get('/health/ready')).statusCode, { timeout: 20_000, interval: 100 })
      .toBe(503);
    const down = await get('/health/ready');
    expect(down.json()).toEqual({ status: 'unavailable', checks: { redis: false } });
    expect((await get('/health/live')).statusCode).toBe(200);
    // The board answers an error at once rather than hanging on the missing Redis.
    expect((await get('/api/queues', OPERATOR)).statusCode).toBeGreaterThanOrEqual(500);

    await server.start();
    await expect
      .poll(async () => (await get('/health/ready')).statusCode, { timeout: 20_000, interval: 200 })
      .toBe(200);
    expect((await get('/api/queues', OPERATOR)).statusCode).toBe(200);
  });
});
