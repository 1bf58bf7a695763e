import { uniqueQueuePrefix } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeStream, FAILOVER_SETTINGS, settle } from '../e2e/code-stream.ts';
import { type RunningSystem, startSystem } from '../e2e/system.ts';
import { type SentinelTopology, startSentinelTopology } from './sentinel.ts';

// Issue 23: the system on a Sentinel-managed Redis (one master, one replica, three sentinels)
// while a steady stream of code requests runs; the master is killed mid-stream. Every accepted
// code must reach the SMTP server, and the services must carry on against the promoted replica
// without a restart.
let topology: SentinelTopology;
let system: RunningSystem;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
    const requests = codeStream(system.baseUrl, 40);
    // Traffic before the fault, so jobs are queued and in flight when the master dies.
    while (requests.accepted.length < 30) await pause(100);

    const failover = await topology.killMaster();
    const promotedAt = Date.now();
    // The services must reconnect to the promoted replica on their own: requests are accepted again.
    const enough = Date.now() + 60_000;
    while (requests.acceptedSince(promotedAt) < 30 && Date.now() < enough) await pause(100);
    await requests.stop();

    const report = {
      ...(await settle(system.smtp, requests.accepted, requests.refused())),
      acceptedAfterFailover: requests.acceptedSince(promotedAt),
      failover,
    };
    console.log(`[sentinel failover] ${JSON.stringify(report)}`);
    expect(report.acceptedAfterFailover).toBeGreaterThanOrEqual(30);
    expect(report.lost).toBe(0);
    expect(report.delivered).toBe(report.accepted);
    // At least once: only a job in flight when the master died (concurrency 10) can be sent twice.
    expect(report.duplicates).toBeLessThanOrEqual(10);
    // Every service reports ready against the new master.
    expect((await fetch(`${system.baseUrl}/health/ready`)).status).toBe(200);
    for (const url of Object.values(system.opsUrls)) expect((await fetch(`${url}/health/ready`)).status, url).toBe(200);
  });
});
