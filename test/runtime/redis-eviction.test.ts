import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { freePort, startServiceExpectingExit } from '@otp/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evictionPolicy } from '../../packages/runtime/src/redis.ts';

// BullMQ needs a Redis that never evicts keys. A Redis of our own with an evicting policy shows
// that every service refuses to run against it.
let server: ChildProcess;
let url: string;

beforeAll(async () => {
  const port = await freePort();
  url = `redis://127.0.0.1:${port}`;
  server = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--maxmemory-policy',
      'allkeys-lru',
    ],
    { stdio: 'ignore' },
  );
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 100 });
  probe.on('error', () => {}); // refused until the server is up
  for (let i = 0; i < 50; i++) {
    if (
      await probe.ping().then(
        () => true,
        () => false,
      )
    )
      break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  probe.disconnect();
});

afterAll(async () => {
  if (server?.exitCode === null) {
    server.kill('SIGTERM');
    await once(server, 'exit');
  }
});

describe('the Redis eviction guard', () => {
  it('reads the policy', async () => {
    const redis = new Redis(url);
    expect(await evictionPolicy(redis)).toBe('allkeys-lru');
    redis.disconnect();
  });

  it.each(['email-worker', 'sms-worker', 'webhook-worker', 'gateway'] as const)(
    'stops the %s with a message saying how to fix it',
    async (name) => {
      const port = await freePort();
      const env = {
        DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none',
        REDIS_URL: url,
        ENVELOPE_KEYS: `k:${Buffer.alloc(32, 7).toString('base64')}`,
        CODE_HMAC_KEY: Buffer.alloc(32, 8).toString('base64'),
        FACTOR_KEYS: `f:${Buffer.alloc(32, 9).toString('base64')}`,
        SMS_ALLOWED_COUNTRIES: '*',
        JWT_PRIVATE_KEY:
          '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIEnsqwQsmWOmu/y70Ydi4zM3pgKAv0XUbO5QaBYlgRfD\n-----END PRIVATE KEY-----',
        PORT: String(port),
        EMAIL_WORKER_PORT: String(port),
        SMS_WORKER_PORT: String(port),
        WEBHOOK_WORKER_PORT: String(port),
        HOST: '127.0.0.1',
        OPS_HOST: '127.0.0.1',
      };
      const failure = await startServiceExpectingExit({
        name,
        env,
        readyUrl: `http://127.0.0.1:${port}/health/live`,
        // The testkit's bound (45 s), not 10 s: the gateway, the slowest to start, once took longer
        // to start and stop beside the other test files on two cores.
      });
      expect(failure.code).toBe(78);
      expect(failure.logs).toContain('maxmemory-policy allkeys-lru');
      expect(failure.logs).toContain('noeviction');
    },
  );
});
