import { once } from 'node:events';
import { createDb } from '@otp/db';
import { redisTarget } from '@otp/domain';
import { createSignInThrottle, type GatewayConfig } from '@otp/gateway';
import { createLogger, createProducerRedis, evictionPolicy, type RedisClient } from '@otp/runtime';
import {
  extractCode,
  freePort,
  startServiceExpectingExit,
  startWebhookReceiver,
  testRedisUrl,
  uniqueQueuePrefix,
  type WebhookReceiver,
} from '@otp/testkit';
import { createHostLimiter } from '@otp/webhook-worker';
import { type Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDashboard } from '../../services/dashboard/src/index.ts';
import { OPERATOR, TEST_AUTH } from '../../services/dashboard/src/testing/index.ts';
import { api, type RunningSystem, startSystem } from '../e2e/system.ts';
import { type RedisClusterUnderTest, startRedisCluster } from './cluster.ts';

// Every Redis use of the system against a Redis Cluster (three masters, one replica each): the
// gateway, the email, SMS and webhook workers as real processes on REDIS_CLUSTER_NODES, then the
// pieces that hold state in Redis through their own code on a cluster client. A command or script
// whose keys span two slots fails on a cluster (CROSSSLOT), so each use working here is the proof.
const LIMIT = 6; // code requests per client IP per minute
const prefix = uniqueQueuePrefix();
const log = createLogger({ service: 'redis-cluster-test', level: 'silent' });
let cluster: RedisClusterUnderTest;
let system: RunningSystem;
let receiver: WebhookReceiver;
let client: RedisClient;
let codeRequests = 0;

const target = () => redisTarget({ REDIS_CLUSTER_NODES: cluster.nodes, REDIS_TLS: false, QUEUE_PREFIX: prefix });

beforeAll(async () => {
  cluster = await startRedisCluster();
  receiver = await startWebhookReceiver({ path: '/all' });
  system = await startSystem(
    { RATE_LIMIT_CODE_REQUESTS_PER_MINUTE: String(LIMIT) },
    // REDIS_URL (the test Redis) stays set and must be ignored.
    { REDIS_CLUSTER_NODES: cluster.nodes, QUEUE_PREFIX: prefix },
    { webhooks: { endpoints: [{ url: receiver.url, secret: receiver.secret, events: ['*'] }] } },
  );
  client = createProducerRedis(target(), log, 'redis-cluster-test');
  if (client.status !== 'ready') await once(client, 'ready');
  // The gateway is ready (200 `degraded`) before its cluster client is; until that client is, the
  // per-IP limit lets requests through uncounted (skipOnError). Start once the gateway says up.
  await waitForGatewayRedis();
});

async function waitForGatewayRedis(timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const body = (await (await fetch(`${system.baseUrl}/health/ready`)).json()) as { checks?: { redis?: string } };
    if (body.checks?.redis === 'up') return;
    if (Date.now() > until) throw new Error('the gateway never reached the cluster');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

afterAll(async () => {
  try {
    client?.disconnect();
    const exitCodes = await system?.stop();
    expect(exitCodes).toEqual([0, 0, 0, 0]);
    expect(system.logs().filter((line) => /CROSSSLOT|reconciliation failed|redis error/i.test(line))).toEqual([]);
  } finally {
    await receiver?.close();
    await cluster?.stop();
  }
});

async function requestCode(to: string): Promise<{ status: number; body: Record<string, unknown> }> {
  codeRequests += 1;
  return api(system, 'POST', '/v1/otp/challenges', { channel: 'email', to });
}

describe('the system on a Redis Cluster', () => {
  it('is ready: the gateway and every worker ping every master', async () => {
    const gateway = await fetch(`${system.baseUrl}/health/ready`);
    expect(gateway.status).toBe(200);
    expect(await gateway.json()).toMatchObject({ status: 'ok', checks: { redis: 'up', postgres: 'up' } });
    for (const url of Object.values(system.opsUrls)) {
      expect((await fetch(`${url}/health/ready`)).status, url).toBe(200);
    }
  });

  it('delivers a requested code by email, and the sign-in reaches the webhook endpoint', async () => {
    const to = `cluster-${Date.now()}@example.com`;
    const requested = await requestCode(to);
    expect(requested.status).toBe(202);
    const code = extractCode((await system.smtp.waitForMail(to, { timeoutMs: 20_000 })).text);
    const verified = await api(system, 'POST', `/v1/otp/challenges/${String(requested.body.challengeId)}/verify`, {
      code,
    });
    expect(verified.status).toBe(200);
    const events = await receiver.waitFor((received) => received.some((event) => event.type === 'user.signed_in'));
    expect(events.every((event) => event.verified)).toBe(true);
    // REDIS_URL was set too, and ignored: the queues are on the cluster, not in that Redis.
    const single = new Redis(testRedisUrl());
    try {
      expect(await single.keys(`${prefix}*`)).toEqual([]);
      // KEYS answers for one node: ask each master. The hash tag puts all of them on one.
      const perMaster = await Promise.all(
        (client as Cluster).nodes('master').map(async (node) => (await node.keys(`${prefix}*`)).length),
      );
      expect(perMaster.filter((count) => count > 0)).toHaveLength(1);
    } finally {
      single.disconnect();
    }
  });

  it('refuses code requests past the per-IP limit, exactly, under parallel requests, and delivers the rest', async () => {
    const left = LIMIT - codeRequests;
    const addresses = Array.from({ length: left + 5 }, (_, index) => `burst-${index}-${Date.now()}@example.com`);
    const answers = await Promise.all(addresses.map((to) => requestCode(to)));
    const accepted = addresses.filter((_, index) => answers[index]?.status === 202);
    expect(accepted).toHaveLength(left);
    expect(answers.filter((answer) => answer.status === 429).map((answer) => answer.body.code)).toEqual(
      Array.from({ length: 5 }, () => 'rate_limited'),
    );
    await Promise.all(accepted.map((to) => system.smtp.waitForMail(to, { timeoutMs: 20_000 })));
  });

  it('counts failed sign-ins exactly under parallel attempts, per address and per network, and gives them back', async () => {
    const db = createDb({ url: system.database.url, poolSize: 1 });
    try {
      const config = {
        QUEUE_PREFIX: prefix,
        SIGN_IN_FAILURE_WINDOW_SECONDS: 60,
        SIGN_IN_FAILURES_PER_ACCOUNT: 4,
        SIGN_IN_FAILURES_PER_IP: 6,
      } as GatewayConfig;
      const throttle = createSignInThrottle({ redis: client, db, log, config });
      const at = new Date();
      const settle = (subjects: Array<{ accountKey: string; ip: string }>) =>
        Promise.allSettled(subjects.map((subject) => throttle.reserve({ ...subject, userId: undefined }, at)));
      const granted = (results: PromiseSettledResult<unknown>[]) =>
        results.filter((result) => result.status === 'fulfilled');

      // One address from ten networks: exactly 4 attempts reach the password check.
      const account = `a${Date.now()}`;
      const byAccount = await settle(
        Array.from({ length: 10 }, (_, index) => ({ accountKey: account, ip: `198.51.100.${index}` })),
      );
      expect(granted(byAccount)).toHaveLength(4);
      for (const result of byAccount.filter((entry) => entry.status === 'rejected')) {
        expect((result as PromiseRejectedResult).reason).toMatchObject({ code: 'sign_in_throttled' });
      }
      // A reservation given back frees one attempt.
      await (granted(byAccount)[0] as PromiseFulfilledResult<{ release(): Promise<void> }>).value.release();
      expect(granted(await settle([{ accountKey: account, ip: '198.51.100.200' }]))).toHaveLength(1);

      // Ten addresses from one network: exactly 6.
      const byNetwork = await settle(
        Array.from({ length: 10 }, (_, index) => ({ accountKey: `n${index}-${Date.now()}`, ip: '203.0.113.9' })),
      );
      expect(granted(byNetwork)).toHaveLength(6);
    } finally {
      await db.destroy();
    }
  });

  it("hands out exactly the webhook host limiter's slots per second", async () => {
    const limiter = createHostLimiter(client, { prefix, perSecond: 7 });
    // Start just after a second turns over, so the burst most likely lands in one window.
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 20));
    const waits = await Promise.all(Array.from({ length: 40 }, () => limiter.take('hooks.example.com')));
    // Redis's clock may turn over during the burst: then the next window grants its own 7.
    expect([7, 14]).toContain(waits.filter((wait) => wait === 0).length);
  });

  it("lists the queues and their jobs on the dashboard's board, and its readiness pings the cluster", async () => {
    const dashboard = await buildDashboard({ redis: client, prefix, auth: TEST_AUTH, log });
    try {
      const response = await dashboard.inject({ method: 'GET', url: '/api/queues', headers: OPERATOR });
      expect(response.statusCode).toBe(200);
      const { queues } = response.json() as { queues: Array<{ name: string; counts: Record<string, number> }> };
      expect(queues.map((queue) => queue.name).sort()).toEqual(['email', 'sms', 'webhooks']);
      const email = queues.find((queue) => queue.name === 'email');
      // Every code this suite had accepted was delivered by a job of this queue.
      expect(email?.counts.completed).toBe(LIMIT);
      expect((await dashboard.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);
    } finally {
      await dashboard.close();
    }
  });

  it('refuses to start when any master of the cluster may evict keys, naming REDIS_CLUSTER_NODES', async () => {
    expect(await evictionPolicy(client)).toBe('noeviction');
    // One master of three: CONFIG is per node, so the guard asks each.
    const masters = (client as Cluster).nodes('master');
    expect(masters).toHaveLength(3);
    const evicting = masters[1] as Redis;
    await evicting.config('SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      expect(await evictionPolicy(client)).toBe('allkeys-lru');
      const port = await freePort();
      const failure = await startServiceExpectingExit({
        name: 'email-worker',
        env: {
          DATABASE_URL: system.database.url,
          REDIS_CLUSTER_NODES: cluster.nodes,
          QUEUE_PREFIX: uniqueQueuePrefix(),
          ENVELOPE_KEYS: `k:${Buffer.alloc(32, 7).toString('base64')}`,
          EMAIL_WORKER_PORT: String(port),
          OPS_HOST: '127.0.0.1',
        },
        readyUrl: `http://127.0.0.1:${port}/health/live`,
        readyTimeoutMs: 15_000,
      });
      expect(failure.code).toBe(78);
      expect(failure.logs).toContain('REDIS_CLUSTER_NODES: Redis runs with maxmemory-policy allkeys-lru');
    } finally {
      await evicting.config('SET', 'maxmemory-policy', 'noeviction');
    }
  });
});
