import { randomBytes } from 'node:crypto';
import { countSecurityEventsSince } from '@otp/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSystem, startSystem } from './system.ts';

// Two gateway processes sharing one Postgres and one Redis, as two replicas behind a balancer:
// the failed sign-in limit must hold for a burst split between them.
const PASSWORD = 'correct horse battery staple';
let system: RunningSystem;

async function call(baseUrl: string, path: string, body: unknown) {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>,
  };
}

async function eventCount(type: string, userId: string): Promise<number> {
  // Every event of the test's user: since the epoch.
  return countSecurityEventsSince(system.database.db, type, { userId }, new Date(0));
}

beforeAll(async () => {
  system = await startSystem(
    {
      SIGN_IN_FAILURES_PER_ACCOUNT: '10',
      // Every request comes from 127.0.0.1: only the per-account limit may decide.
      SIGN_IN_FAILURES_PER_IP: '1000',
      PASSWORD_HASH_QUEUE: '64',
    },
    {},
    { gateways: 2 },
  );
}, 120_000);

afterAll(async () => {
  await system?.stop();
});

describe('failed sign-in limit across two gateway processes', () => {
  it('30 parallel wrong passwords: exactly 10 reach Argon2, 20 are refused, then the right one is refused too', async () => {
    const [first, second] = system.baseUrls;
    if (first === undefined || second === undefined) throw new Error('two gateways expected');
    const email = `burst-${randomBytes(4).toString('hex')}@example.com`;
    expect((await call(first, '/v1/auth/register', { email, password: PASSWORD })).status).toBe(202);
    // The verification code is not read here: the address is marked verified.
    const user = await system.database.db
      .updateTable('users')
      .set({ email_verified_at: new Date() })
      .where('email', '=', email)
      .returning('id')
      .executeTakeFirstOrThrow();

    const responses = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        call(i % 2 === 0 ? first : second, '/v1/auth/login', { email, password: `wrong ${i}` }),
      ),
    );
    const statuses = responses.map((response) => response.status);
    console.log(
      `[sign-in throttle] 30 parallel wrong passwords over 2 processes: ${JSON.stringify({
        401: statuses.filter((status) => status === 401).length,
        429: statuses.filter((status) => status === 429).length,
        other: statuses.filter((status) => status !== 401 && status !== 429).length,
      })}`,
    );
    expect(statuses.filter((status) => status === 401)).toHaveLength(10);
    expect(statuses.filter((status) => status === 429)).toHaveLength(20);
    for (const response of responses.filter((r) => r.status === 429)) {
      expect(response.body.code).toBe('sign_in_throttled');
      expect(Number(response.retryAfter)).toBeGreaterThan(0);
    }
    expect(await eventCount('sign_in.failed', user.id)).toBe(10);
    expect(await eventCount('sign_in.throttled', user.id)).toBe(20);

    for (const gateway of [first, second]) {
      const refused = await call(gateway, '/v1/auth/login', { email, password: PASSWORD });
      expect(refused.status).toBe(429);
      expect(refused.body.code).toBe('sign_in_throttled');
    }
  });
});
