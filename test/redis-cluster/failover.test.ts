import { uniqueQueuePrefix } from '@otp/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type RunningSystem, startSystem } from '../e2e/system.ts';
import { type RedisClusterUnderTest, startRedisCluster } from './cluster.ts';

// A failover during a steady stream of code requests: the replica of the master that holds the
// queues' slot is told CLUSTER FAILOVER while the gateway accepts codes and the email worker
// delivers them. Every accepted code must still arrive; duplicates are counted and printed
// (delivery is at least once), lost ones fail the test.
const prefix = uniqueQueuePrefix();
let cluster: RedisClusterUnderTest;
let system: RunningSystem;

beforeAll(async () => {
  cluster = await startRedisCluster();
  system = await startSystem(
    { RATE_LIMIT_CODE_REQUESTS_PER_MINUTE: '100000' },
    { REDIS_CLUSTER_NODES: cluster.nodes, QUEUE_PREFIX: prefix },
  );
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

/** Tells the replica of the master holding the queues' slot to take over; resolves once it has. */
async function failOverQueueMaster(): Promise<{ from: number; to: number }> {
  const any = cluster.ports[0] as number;
  const probe = new Redis({ host: '127.0.0.1', port: any });
  const slot = Number(await probe.cluster('KEYSLOT', prefix));
  probe.disconnect();
  const nodes = await clusterNodes(any);
  const master = nodes.find((node) => node.role === 'master' && node.slots.some(([a, b]) => a <= slot && slot <= b));
  const replica = nodes.find((node) => node.role === 'slave' && node.masterId === master?.id);
  if (master === undefined || replica === undefined) throw new Error('no master and replica for the queue slot');
  const promoted = new Redis({ host: '127.0.0.1', port: replica.port });
  try {
    await promoted.cluster('FAILOVER');
    for (let i = 0; ; i++) {
      const role = (await promoted.role()) as unknown[];
      if (role[0] === 'master') break;
      if (i > 100) throw new Error('the replica did not take over');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    promoted.disconnect();
  }
  return { from: master.port, to: replica.port };
}

describe('a Redis Cluster failover', () => {
  it('loses no accepted code: every one is delivered', async () => {
    const accepted: string[] = [];
    let refused = 0;
    let streaming = true;
    const stream = (async () => {
      for (let n = 0; streaming; n++) {
        const to = `failover-${n}-${Date.now()}@example.com`;
        const answer = await api(system, 'POST', '/v1/otp/challenges', { channel: 'email', to });
        if (answer.status === 202) accepted.push(to);
        else refused += 1;
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
    })();
    // Some seconds of steady traffic before and after the failover.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const before = accepted.length;
    const failover = await failOverQueueMaster();
    await new Promise((resolve) => setTimeout(resolve, 4000));
    streaming = false;
    await stream;

    const deliveredTo = async (to: string) =>
      system.smtp.waitForMail(to, { timeoutMs: 60_000 }).then(
        () => true,
        () => false,
      );
    const delivered = await Promise.all(accepted.map(deliveredTo));
    const lost = accepted.filter((_, index) => !delivered[index]);
    const received = new Map<string, number>();
    for (const mail of system.smtp.messages) {
      for (const address of mail.to)
        received.set(address.toLowerCase(), (received.get(address.toLowerCase()) ?? 0) + 1);
    }
    const duplicates = accepted.filter((to) => (received.get(to) ?? 0) > 1).length;
    process.stdout.write(
      `redis cluster failover (master :${failover.from} -> :${failover.to}, after ${before} codes): ` +
        `accepted ${accepted.length}, refused ${refused}, delivered ${delivered.filter(Boolean).length}, ` +
        `duplicates ${duplicates}, lost ${lost.length}\n`,
    );
    expect(accepted.length).toBeGreaterThan(before);
    expect(lost).toEqual([]);
    // The queues live on the promoted replica now, and the services kept using them there.
    const promoted = new Redis({ host: '127.0.0.1', port: failover.to });
    try {
      expect((await promoted.keys(`${prefix}:email:*`)).length).toBeGreaterThan(0);
    } finally {
      promoted.disconnect();
    }
    expect(system.logs().filter((line) => line.includes('CROSSSLOT'))).toEqual([]);
  }, 120_000);
});
