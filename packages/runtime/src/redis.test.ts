import type { RedisTarget } from '@otp/domain';
import { Cluster, Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';
import { createProducerRedis, createWorkerRedis, type RedisClient } from './redis.ts';

// The connection profiles keep their options whatever the target: on a cluster ioredis takes some
// at the cluster level and the rest per node (redisOptions). Nothing listens on port 1, and
// nothing here waits for a connection.
const log = createLogger({ service: 'redis-profile-test', level: 'silent' });
const made: RedisClient[] = [];
const cluster: Extract<RedisTarget, { kind: 'cluster' }> = {
  kind: 'cluster',
  nodes: [{ host: '127.0.0.1', port: 1 }],
  tls: false,
};

afterEach(() => {
  for (const client of made.splice(0)) client.disconnect();
});

describe('the Redis connection profiles', () => {
  it('fail fast on a cluster as on one server: no offline queue, auto-pipelining, a command timeout', () => {
    const single = createProducerRedis('redis://127.0.0.1:1', log, 'p');
    const clustered = createProducerRedis({ ...cluster, username: 'otp', password: 'pw' }, log, 'p');
    made.push(single, clustered);
    expect(single).toBeInstanceOf(Redis);
    expect(clustered).toBeInstanceOf(Cluster);
    const options = (clustered as Cluster).options;
    expect(options).toMatchObject({
      enableOfflineQueue: false,
      enableAutoPipelining: true,
      autoPipeliningIgnoredCommands: single.options.autoPipeliningIgnoredCommands,
    });
    expect(options.redisOptions).toMatchObject({
      commandTimeout: 1000,
      maxRetriesPerRequest: 1,
      connectionName: 'p',
      username: 'otp',
      password: 'pw',
    });
  });

  it('wait on a cluster as on one server: maxRetriesPerRequest null for BullMQ workers', () => {
    const clustered = createWorkerRedis({ ...cluster, tls: true }, log, 'w') as Cluster;
    made.push(clustered);
    expect(clustered.options.redisOptions).toMatchObject({ maxRetriesPerRequest: null, tls: {} });
  });

  it('reach a Sentinel-managed master by its name', () => {
    const sentinel = createProducerRedis(
      { kind: 'sentinel', sentinels: [{ host: '127.0.0.1', port: 1 }], name: 'otp-master', tls: false },
      log,
      's',
    ) as Redis;
    made.push(sentinel);
    expect(sentinel.options).toMatchObject({ name: 'otp-master', enableOfflineQueue: false, commandTimeout: 1000 });
    expect(sentinel.options.sentinelPassword).toBeUndefined();
    expect(sentinel.options.sentinelTLS).toBeUndefined();
  });

  it("behind Sentinels, keep the Sentinels' password apart and secure both hops with REDIS_TLS", () => {
    const sentinel = createWorkerRedis(
      {
        kind: 'sentinel',
        sentinels: [{ host: '127.0.0.1', port: 1 }],
        name: 'otp-master',
        sentinelPassword: 'sentinel-pw',
        password: 'server-pw',
        tls: true,
      },
      log,
      's',
    ) as Redis;
    made.push(sentinel);
    expect(sentinel.options).toMatchObject({
      sentinelPassword: 'sentinel-pw',
      password: 'server-pw',
      tls: {},
      sentinelTLS: {},
      enableTLSForSentinelMode: true,
      maxRetriesPerRequest: null,
    });
  });
});
