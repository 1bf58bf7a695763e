import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { redisTarget } from '@otp/domain';
import {
  createLogger,
  createProducerRedis,
  createWorkerRedis,
  evictionPolicy,
  pingRedis,
  type RedisClient,
} from '@otp/runtime';
import {
  createTestCertificates,
  tlsHandshakeError,
  trustedTestCertificates,
  trustingTls,
  uniqueQueuePrefix,
} from '@otp/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { jobRoundTrip } from '../e2e/job-round-trip.ts';
import { type SentinelTopology, startSentinelTopology } from './sentinel.ts';

// REDIS_SENTINELS: the services' connection factories find the master through real Sentinels
// (redis-server --sentinel) watching a real master, and BullMQ runs a job through it.
const log = createLogger({ service: 'sentinel-test', level: 'silent' });
let topology: SentinelTopology;
const clients: RedisClient[] = [];

beforeAll(async () => {
  topology = await startSentinelTopology();
});

afterAll(async () => {
  for (const client of clients) client.disconnect();
  await topology?.stop();
});

describe('Redis through Sentinel', () => {
  it('reaches the master the Sentinels name: ping, eviction policy and a BullMQ job', async () => {
    const prefix = uniqueQueuePrefix();
    const target = redisTarget({
      // REDIS_URL points nowhere and is ignored.
      REDIS_URL: 'redis://127.0.0.1:1',
      REDIS_SENTINELS: topology.sentinels,
      REDIS_SENTINEL_NAME: topology.name,
      REDIS_TLS: false,
      QUEUE_PREFIX: prefix,
    });
    const producer = createProducerRedis(target, log, 'sentinel-producer');
    const consumer = createWorkerRedis(target, log, 'sentinel-worker');
    clients.push(producer, consumer);
    if (producer.status !== 'ready') await once(producer, 'ready');
    expect(await pingRedis(producer)).toBe(true);
    expect(await evictionPolicy(producer)).toBe('noeviction');

    const trip = await jobRoundTrip(
      { producer, consumer },
      { prefix, queue: 'email', jobId: 'sentinel.1' },
      async (queue) => {
        // The job is in the master Sentinel named.
        const direct = new Redis({ host: '127.0.0.1', port: await topology.masterPort() });
        try {
          expect(await direct.exists(queue.toKey('sentinel.1'))).toBe(1);
        } finally {
          direct.disconnect();
        }
      },
    );
    expect(trip.result).toEqual({ doubled: 42 });
  });
});

describe('Sentinels that require a password', () => {
  it('are reached with REDIS_SENTINEL_PASSWORD, and refuse a client without it', async () => {
    const guarded = await startSentinelTopology({ sentinelPassword: 'sentinel-secret' });
    try {
      const config = {
        REDIS_SENTINELS: guarded.sentinels,
        REDIS_SENTINEL_NAME: guarded.name,
        REDIS_TLS: false,
        QUEUE_PREFIX: uniqueQueuePrefix(),
      };
      const withPassword = createProducerRedis(
        redisTarget({ ...config, REDIS_SENTINEL_PASSWORD: 'sentinel-secret' }),
        log,
        'sentinel-password',
      );
      const without = createProducerRedis(redisTarget(config), log, 'sentinel-no-password');
      clients.push(withPassword, without);
      if (withPassword.status !== 'ready') await once(withPassword, 'ready');
      expect(await pingRedis(withPassword)).toBe(true);
      await withPassword.set(`${config.QUEUE_PREFIX}:probe`, '1');
      const direct = new Redis({ host: '127.0.0.1', port: await guarded.masterPort() });
      try {
        expect(await direct.get(`${config.QUEUE_PREFIX}:probe`)).toBe('1');
      } finally {
        direct.disconnect();
      }
      // Without the Sentinels' password no master is ever named: the client never becomes ready.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(without.status).not.toBe('ready');
      expect(await pingRedis(without)).toBe(false);
    } finally {
      await guarded.stop();
    }
  });
});

describe('Sentinels and servers that speak only TLS and require passwords', () => {
  it('are reached with REDIS_TLS and both passwords: the master found, a BullMQ job run, and nothing without TLS', async () => {
    // The workers trust this CA through NODE_EXTRA_CA_CERTS (trusted-test-ca.global-setup.ts).
    const certificates = trustedTestCertificates();
    const secured = await startSentinelTopology({
      tls: certificates,
      password: 'server-secret',
      sentinelPassword: 'sentinel-secret',
    });
    // Also when the test fails or times out (a `finally` would wait on the hung step).
    onTestFinished(() => secured.stop());
    const prefix = uniqueQueuePrefix();
    const config = {
      REDIS_SENTINELS: secured.sentinels,
      REDIS_SENTINEL_NAME: secured.name,
      REDIS_PASSWORD: 'server-secret',
      REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
      QUEUE_PREFIX: prefix,
    };
    const target = redisTarget({ ...config, REDIS_TLS: true });
    const producer = createProducerRedis(target, log, 'sentinel-tls-producer');
    const consumer = createWorkerRedis(target, log, 'sentinel-tls-worker');
    // Every port listens for TLS only (`port 0`): without REDIS_TLS no Sentinel ever answers.
    const plain = createProducerRedis(redisTarget({ ...config, REDIS_TLS: false }), log, 'sentinel-no-tls');
    clients.push(producer, consumer, plain);
    const refused = new Promise<Error>((resolve) => {
      plain.on('error', (error: Error) => {
        if (error.message.startsWith('All sentinels are unreachable')) resolve(error);
      });
    });
    if (producer.status !== 'ready') await once(producer, 'ready');
    expect(await pingRedis(producer)).toBe(true);

    const trip = await jobRoundTrip(
      { producer, consumer },
      { prefix, queue: 'email', jobId: 'sentinel-tls.1' },
      async (queue) => {
        await producer.set(`${prefix}:probe`, 'over tls');
        // Written to the master the Sentinels name, which takes TLS and the servers' password.
        const direct = new Redis({
          host: '127.0.0.1',
          port: await secured.masterPort(),
          password: 'server-secret',
          ...trustingTls(certificates),
        });
        try {
          expect(await direct.exists(queue.toKey('sentinel-tls.1'))).toBe(1);
          expect(await direct.get(`${prefix}:probe`)).toBe('over tls');
        } finally {
          direct.disconnect();
        }
      },
    );
    expect(trip.result).toEqual({ doubled: 42 });
    // The plain client tried every Sentinel and was named no master.
    await refused;
    expect(plain.status).not.toBe('ready');
    expect(await pingRedis(plain)).toBe(false);
  });
});

describe('TLS certificate verification through Sentinel', () => {
  it('refuses Sentinels whose certificate comes from a CA the process does not trust, and reaches no master', async () => {
    const untrusted = await createTestCertificates('otp-untrusted-sentinel');
    const secured = await startSentinelTopology({ tls: untrusted });
    // Also when the test fails or times out (a `finally` would wait on the hung step).
    onTestFinished(async () => {
      await secured.stop();
      rmSync(untrusted.dir, { recursive: true, force: true });
    });
    const prefix = uniqueQueuePrefix();
    // The services' client checks certificates against the CAs the process trusts (the system's
    // and NODE_EXTRA_CA_CERTS, which holds the suite's trusted CA, not this one).
    const refusing = createProducerRedis(
      redisTarget({
        REDIS_SENTINELS: secured.sentinels,
        REDIS_SENTINEL_NAME: secured.name,
        REDIS_TLS: true,
        QUEUE_PREFIX: prefix,
      }),
      log,
      'sentinel-untrusted-ca',
    );
    clients.push(refusing);
    const [error] = (await once(refusing, 'error')) as [Error];
    expect(error.message).toMatch(/^All sentinels are unreachable/);
    expect(refusing.status).not.toBe('ready');
    expect(await pingRedis(refusing)).toBe(false);
    await expect(refusing.set(`${prefix}:written`, '1')).rejects.toThrow();

    // The topology itself works: a client told to trust that CA reaches the master the Sentinels
    // name, and finds nothing the refused client wrote.
    const direct = new Redis({ host: '127.0.0.1', port: await secured.masterPort(), ...trustingTls(untrusted) });
    try {
      expect(await direct.ping()).toBe('PONG');
      expect(await direct.exists(`${prefix}:written`)).toBe(0);
    } finally {
      direct.disconnect();
    }
    // Why, in Node's words: the client's TLS defaults refuse a Sentinel's chain.
    const [host, port] = (secured.sentinels.split(',')[0] as string).split(':') as [string, string];
    expect(await tlsHandshakeError(host, Number(port))).toBe('SELF_SIGNED_CERT_IN_CHAIN');
  });
});
