import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  createTestDatabase,
  freePort,
  type ServiceProcess,
  startService,
  type TestDatabase,
  testKeyRing,
  testRedisUrl,
  testSecret,
  uniqueQueuePrefix,
} from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Two gateway processes sharing one Postgres and one Redis, as two replicas behind a balancer:
// the failed sign-in limit must hold for a burst split between them.
const PASSWORD = 'correct horse battery staple';
let database: TestDatabase;
const gateways: Array<{ url: string; process: ServiceProcess }> = [];

async function startGateway(env: Record<string, string>): Promise<{ url: string; process: ServiceProcess }> {
  const port = await freePort();
  const service = await startService({
    name: 'gateway',
    env: {
      ...env,
      DATABASE_URL: database.url,
      REDIS_URL: testRedisUrl(),
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      RELAY_INTERVAL_MS: '3600000',
      SHUTDOWN_DRAIN_MS: '0',
    },
    readyUrl: `http://127.0.0.1:${port}/health/live`,
  });
  return { url: `http://127.0.0.1:${port}`, process: service };
}

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
  const row = await database.db
    .selectFrom('security_events')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('type', '=', type)
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

beforeAll(async () => {
  database = await createTestDatabase();
  const env = {
    QUEUE_PREFIX: uniqueQueuePrefix(),
    CODE_HMAC_KEY: testSecret(),
    ENVELOPE_KEYS: testKeyRing('throttle'),
    FACTOR_KEYS: testKeyRing('throttle-factor'),
    JWT_PRIVATE_KEY: generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    SIGN_IN_FAILURES_PER_ACCOUNT: '10',
    // Every request comes from 127.0.0.1: only the per-account limit may decide.
    SIGN_IN_FAILURES_PER_IP: '1000',
    PASSWORD_HASH_QUEUE: '64',
  };
  gateways.push(...(await Promise.all([startGateway(env), startGateway(env)])));
});

afterAll(async () => {
  await Promise.all(gateways.splice(0).map((gateway) => gateway.process.stop('SIGTERM')));
  await database?.drop();
});

describe('failed sign-in limit across two gateway processes', () => {
  it('30 parallel wrong passwords: exactly 10 reach Argon2, 20 are refused, then the right one is refused too', async () => {
    const [first, second] = gateways;
    if (first === undefined || second === undefined) throw new Error('two gateways expected');
    const email = `burst-${randomBytes(4).toString('hex')}@example.com`;
    expect((await call(first.url, '/v1/auth/register', { email, password: PASSWORD })).status).toBe(202);
    // No worker runs here to deliver the verification code: the address is marked verified.
    const user = await database.db
      .updateTable('users')
      .set({ email_verified_at: new Date() })
      .where('email', '=', email)
      .returning('id')
      .executeTakeFirstOrThrow();

    const responses = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        call((i % 2 === 0 ? first : second).url, '/v1/auth/login', { email, password: `wrong ${i}` }),
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
      const refused = await call(gateway.url, '/v1/auth/login', { email, password: PASSWORD });
      expect(refused.status).toBe(429);
      expect(refused.body.code).toBe('sign_in_throttled');
    }
  });
});
