import { describe, expect, it } from 'vitest';
import { ConfigError, hashTagOf, redisConfigProblems, redisTarget } from './config.ts';

const base = { REDIS_TLS: false, QUEUE_PREFIX: '{otp}' };

function problemsOf(config: Parameters<typeof redisTarget>[0]): string[] {
  try {
    redisTarget(config);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('the Redis target', () => {
  it('is the one server of REDIS_URL when neither a cluster nor Sentinels are set', () => {
    expect(redisTarget({ ...base, REDIS_URL: 'redis://h:6379' })).toEqual({ kind: 'single', url: 'redis://h:6379' });
  });

  it('is the cluster of REDIS_CLUSTER_NODES, REDIS_URL ignored and not required, with the credentials and TLS', () => {
    const target = {
      kind: 'cluster',
      nodes: [
        { host: 'a', port: 7000 },
        { host: 'b.example', port: 7001 },
      ],
      tls: true,
    };
    expect(redisTarget({ ...base, REDIS_CLUSTER_NODES: 'a:7000,b.example:7001', REDIS_TLS: true })).toEqual(target);
    expect(
      redisTarget({
        ...base,
        REDIS_URL: 'redis://ignored:6379',
        REDIS_CLUSTER_NODES: 'a:7000',
        REDIS_USERNAME: 'otp',
        REDIS_PASSWORD: 'pw',
      }),
    ).toEqual({ kind: 'cluster', nodes: [{ host: 'a', port: 7000 }], username: 'otp', password: 'pw', tls: false });
  });

  it('is the Sentinel-managed master named REDIS_SENTINEL_NAME', () => {
    expect(redisTarget({ ...base, REDIS_SENTINELS: 's1:26379,s2:26379', REDIS_SENTINEL_NAME: 'mymaster' })).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
      name: 'mymaster',
      tls: false,
    });
  });

  it("takes the Sentinels' own password apart from the servers', and refuses it without Sentinels", () => {
    expect(
      redisTarget({
        ...base,
        REDIS_SENTINELS: 's1:26379',
        REDIS_SENTINEL_NAME: 'mymaster',
        REDIS_SENTINEL_PASSWORD: 'sentinel-pw',
        REDIS_PASSWORD: 'server-pw',
      }),
    ).toEqual({
      kind: 'sentinel',
      sentinels: [{ host: 's1', port: 26379 }],
      name: 'mymaster',
      sentinelPassword: 'sentinel-pw',
      password: 'server-pw',
      tls: false,
    });
    expect(problemsOf({ ...base, REDIS_URL: 'redis://h', REDIS_SENTINEL_PASSWORD: 'pw' })).toEqual([
      'REDIS_SENTINEL_PASSWORD: only with REDIS_SENTINELS',
    ]);
  });

  it('refuses a cluster and Sentinels together, naming both', () => {
    expect(
      problemsOf({ ...base, REDIS_CLUSTER_NODES: 'a:7000', REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_NAME: 'm' }),
    ).toEqual(['REDIS_CLUSTER_NODES, REDIS_SENTINELS: set only one of them (a cluster or a Sentinel-managed master)']);
  });

  it('refuses Sentinels without a master name, naming REDIS_SENTINEL_NAME', () => {
    expect(problemsOf({ ...base, REDIS_SENTINELS: 's:26379' })).toEqual([
      'REDIS_SENTINEL_NAME: required when REDIS_SENTINELS is set',
    ]);
  });

  it('refuses a cluster with a queue prefix that is no hash tag, and no Redis at all', () => {
    expect(problemsOf({ ...base, QUEUE_PREFIX: 'otp', REDIS_CLUSTER_NODES: 'a:7000' })).toEqual([
      'QUEUE_PREFIX: must contain a {hash tag} with REDIS_CLUSTER_NODES, e.g. {otp}',
    ]);
    expect(redisConfigProblems(base)).toEqual([
      'REDIS_URL: required but not set (or set REDIS_CLUSTER_NODES or REDIS_SENTINELS)',
    ]);
    // One server needs no hash tag: a prefix without one keeps working as before.
    expect(redisConfigProblems({ ...base, QUEUE_PREFIX: 'otp', REDIS_URL: 'redis://h' })).toEqual([]);
  });

  it('reads the hash tag of a prefix as Redis Cluster does', () => {
    expect(hashTagOf('{otp}')).toBe('otp');
    expect(hashTagOf('app:{otp}:x')).toBe('otp');
    expect(hashTagOf('{}otp')).toBeUndefined();
    expect(hashTagOf('{}{otp}')).toBeUndefined();
    expect(hashTagOf('otp')).toBeUndefined();
  });
});
