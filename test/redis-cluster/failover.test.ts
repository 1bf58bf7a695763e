import { uniqueQueuePrefix } from '@otp/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAILOVER_SETTINGS, throughFailover } from '../e2e/code-stream.ts';
import { type RunningSystem, startSystem } from '../e2e/system.ts';
import { type RedisClusterUnderTest, startRedisCluster } from './cluster.ts';

// Failovers during a steady stream of code requests, of the master that holds the queues' slot:
// first its replica is told CLUSTER FAILOVER (a planned switch), then the master of that slot is
// killed (its replica takes over after the node timeout), while the gateway accepts codes and the
// email worker delivers them. Every accepted code must still arrive; duplicates are counted and
// printed (delivery is at least once), lost ones fail the test.
const prefix = uniqueQueuePrefix();
let cluster: RedisClusterUnderTest;
let system: RunningSystem;

beforeAll(async () => {
  cluster = await startRedisCluster();
  system = await startSystem(FAILOVER_SETTINGS.gateway, {
    ...FAILOVER_SETTINGS.everyService,
    REDIS_CLUSTER_NODES: cluster.nodes,
    QUEUE_PREFIX: prefix,
  });
});

afterAll(async () => {
  try {
    expect(await system?.stop()).toEqual([0, 0, 0]);
  } finally {
    await cluster?.stop();
  }
});

interface ClusterNode {
  id: string;
  port: number;
  role: 'master' | 'slave';
  masterId: string;
  slots: Array<[number, number]>;
}

async function clusterNodes(port: number): Promise<ClusterNode[]> {
  const redis = new Redis({ host: '127.0.0.1', port });
  try {
    const text = String(await redis.cluster('NODES'));
    return text
      .trim()
      .split('\n')
      .map((line) => {
        const [id, address, flags, masterId, , , , , ...slots] = line.split(' ');
        return {
          id: id as string,
          port: Number(address?.split('@')[0]?.split(':')[1]),
          role: flags?.includes('master') ? 'master' : 'slave',
          masterId: masterId as string,
          slots: slots
            .filter((range) => !range.startsWith('['))
            .map((range) => range.split('-').map(Number) as [number, number])
            .map(([from, to]) => [from, to ?? from] as [number, number]),
        };
      });
  } finally {
    redis.disconnect();
  }
}

/** The master that holds the queues' slot now, and its replica. */
async function queueMaster(): Promise<{ master: ClusterNode; replica: ClusterNode }> {
  const alive = cluster.ports[0] as number;
  const probe = new Redis({ host: '127.0.0.1', port: alive });
  const slot = Number(await probe.cluster('KEYSLOT', prefix));
  probe.disconnect();
  const nodes = await clusterNodes(alive);
  const master = nodes.find((node) => node.role === 'master' && node.slots.some(([a, b]) => a <= slot && slot <= b));
  const replica = nodes.find((node) => node.role === 'slave' && node.masterId === master?.id);
  if (master === undefined || replica === undefined) throw new Error('no master and replica for the queue slot');
  return { master, replica };
}

/** Resolves once the node on `port` says it is a master. */
async function untilMaster(port: number): Promise<void> {
  const node = new Redis({ host: '127.0.0.1', port });
  try {
    for (let i = 0; ; i++) {
      const role = (await node.role()) as unknown[];
      if (role[0] === 'master') return;
      if (i > 300) throw new Error(`the node on ${port} did not take over within 30 s`);
      await pause(100);
    }
  } finally {
    node.disconnect();
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Streams code requests through a failover that `fail` makes happen to the queues' master, then
 * checks that the queues live on the promoted replica and that no command crossed slots.
 */
async function streamThrough(name: string, fail: (master: ClusterNode, replica: ClusterNode) => Promise<void>) {
  const report = await throughFailover(system, `redis cluster ${name}`, async () => {
    const { master, replica } = await queueMaster();
    await fail(master, replica);
    await untilMaster(replica.port);
    return { from: master.port, to: replica.port };
  });
  // The queues live on the promoted replica now, and the services kept using them there.
  const promoted = new Redis({ host: '127.0.0.1', port: report.failover.to });
  try {
    expect((await promoted.keys(`${prefix}:email:*`)).length).toBeGreaterThan(0);
  } finally {
    promoted.disconnect();
  }
  expect(system.logs().filter((line) => line.includes('CROSSSLOT'))).toEqual([]);
}

describe("Redis Cluster failovers of the queues' master", () => {
  it('CLUSTER FAILOVER on its replica loses no accepted code', async () => {
    await streamThrough('CLUSTER FAILOVER', async (_master, replica) => {
      const promoted = new Redis({ host: '127.0.0.1', port: replica.port });
      try {
        await promoted.cluster('FAILOVER');
      } finally {
        promoted.disconnect();
      }
    });
  }, 120_000);

  it('a killed master loses no accepted code', async () => {
    await streamThrough('master killed', (master) => cluster.kill(master.port));
  }, 120_000);
});
