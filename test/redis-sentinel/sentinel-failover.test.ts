import { uniqueQueuePrefix } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAILOVER_SETTINGS, throughFailover } from '../e2e/code-stream.ts';
import { type RunningSystem, startSystem } from '../e2e/system.ts';
import { type SentinelTopology, startSentinelTopology } from './sentinel.ts';

// Issue 23: the system on a Sentinel-managed Redis (one master, one replica, three sentinels)
// while a steady stream of code requests runs; the master is killed mid-stream. Every accepted
// code must reach the SMTP server, and the services must carry on against the promoted replica
// without a restart.
let topology: SentinelTopology;
let system: RunningSystem;

beforeAll(async () => {
  topology = await startSentinelTopology();
  system = await startSystem(FAILOVER_SETTINGS.gateway, {
    ...FAILOVER_SETTINGS.everyService,
    // REDIS_URL (the machine's Redis) stays set and must be ignored.
    REDIS_SENTINELS: topology.sentinels,
    REDIS_SENTINEL_NAME: topology.name,
    QUEUE_PREFIX: uniqueQueuePrefix(),
    LOG_LEVEL: 'warn',
  });
}, 120_000);

afterAll(async () => {
  try {
    await system?.stop();
  } finally {
    await topology?.stop();
  }
});

describe('a Sentinel-managed master killed under a stream of code requests', () => {
  it('delivers every accepted code, and the services follow the new master by themselves', async () => {
    await throughFailover(system, 'sentinel failover', () => topology.killMaster());
    // Every service reports ready against the new master.
    expect((await fetch(`${system.baseUrl}/health/ready`)).status).toBe(200);
    for (const url of Object.values(system.opsUrls)) expect((await fetch(`${url}/health/ready`)).status, url).toBe(200);
  });
});
