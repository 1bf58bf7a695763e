import { createLogger } from '@otp/runtime';
import { uniqueQueuePrefix } from '@otp/testkit';
import { describe, expect, it } from 'vitest';
import { buildDashboard } from './dashboard.ts';
import { basicHeader, OPERATOR, TEST_AUTH, useTestDashboard } from './testing/index.ts';

// Password guessing: refused sign-ins are counted per client address in Redis; past the limit
// the address is refused with 429 until the window ends, even with the right password.
const dashboard = useTestDashboard({ signInThrottle: { maxFailures: 3, windowSeconds: 60 } });

const WRONG = { authorization: basicHeader(TEST_AUTH.basic.user, 'not-the-password') };
const from = (remoteAddress: string, headers: Record<string, string> = {}) =>
  dashboard.app.inject({ method: 'GET', url: '/api/queues', remoteAddress, headers });

describe('refused dashboard sign-ins', () => {
  it('block the address after the limit, right password or not, and only that address', async () => {
    // Asking without credentials (what a browser does first) is not a failure.
    for (let i = 0; i < 5; i++) expect((await from('198.51.100.7')).statusCode).toBe(401);
    for (let i = 0; i < 3; i++) expect((await from('198.51.100.7', WRONG)).statusCode).toBe(401);

    const blocked = await from('198.51.100.7', OPERATOR);
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json()).toMatchObject({ code: 'sign_in_throttled' });
    const retryAfter = Number(blocked.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // The response says nothing of the password it was sent.
    expect(blocked.body).not.toContain(TEST_AUTH.basic.password);

    // Another address signs in as usual.
    expect((await from('198.51.100.8', OPERATOR)).statusCode).toBe(200);
  });

  it('lets a right sign-in through below the limit', async () => {
    for (let i = 0; i < 2; i++) expect((await from('203.0.113.9', WRONG)).statusCode).toBe(401);
    expect((await from('203.0.113.9', OPERATOR)).statusCode).toBe(200);
  });

  it('behind a trusted proxy, count per forwarded client address', async () => {
    const log = createLogger({ service: 'dashboard-test', level: 'silent' });
    const proxied = await buildDashboard({
      redis: dashboard.redis,
      prefix: uniqueQueuePrefix(),
      auth: TEST_AUTH,
      signInThrottle: { maxFailures: 1, windowSeconds: 60 },
      trustProxy: ['192.0.2.1'],
      log,
    });
    try {
      const via = (client: string, headers: Record<string, string>) =>
        proxied.inject({
          method: 'GET',
          url: '/api/queues',
          remoteAddress: '192.0.2.1',
          headers: { ...headers, 'x-forwarded-for': client },
        });
      expect((await via('203.0.113.20', WRONG)).statusCode).toBe(401);
      expect((await via('203.0.113.20', OPERATOR)).statusCode).toBe(429);
      // Another client behind the same proxy is not blocked by the first one's failures.
      expect((await via('203.0.113.21', OPERATOR)).statusCode).toBe(200);
    } finally {
      await proxied.close();
    }
  });
});
