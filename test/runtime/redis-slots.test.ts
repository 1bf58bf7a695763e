import { createSignInThrottle, type GatewayConfig } from '@otp/gateway';
import { createLogger, createWorkerRedis } from '@otp/runtime';
import { testRedisUrl, uniqueQueuePrefix } from '@otp/testkit';
import { createHostLimiter } from '@otp/webhook-worker';
import { Queue, Worker } from 'bullmq';
import calculateSlot from 'cluster-key-slot';
import { type Command, Pipeline, Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { buildDashboard } from '../../services/dashboard/src/index.ts';
import { OPERATOR, TEST_AUTH } from '../../services/dashboard/src/testing/index.ts';

// On a Redis Cluster every command, script, MULTI and explicit pipeline must touch keys of one
// hash slot (else CROSSSLOT, or ioredis refuses the pipeline). Here the real code runs against one
// Redis while every client of this process is watched: each command with more than one key, and
// each pipeline or transaction as a whole, is recorded with its keys, and all must share a slot.
// (test:redis-cluster runs the same code on a real cluster; this names the offending keys.)
interface Group {
  what: string;
  keys: string[];
}
const groups: Group[] = [];
const keysOf = (command: Command) => command.getKeys().map(String);

const sendCommand = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function (this: Redis, command: Command, ...rest: unknown[]) {
  const keys = keysOf(command);
  if (keys.length > 1) groups.push({ what: command.name, keys });
  return (sendCommand as (...args: unknown[]) => unknown).call(this, command, ...rest);
} as typeof sendCommand;
const exec = Pipeline.prototype.exec;
Pipeline.prototype.exec = function (this: Pipeline, ...args: unknown[]) {
  const queued = (this as unknown as { _queue: Command[] })._queue;
  groups.push({ what: `pipeline of ${queued.map((c) => c.name).join(',')}`, keys: queued.flatMap(keysOf) });
  return (exec as (...a: unknown[]) => unknown).apply(this, args);
} as typeof exec;

const log = createLogger({ service: 'redis-slots-test', level: 'silent' });
const prefix = uniqueQueuePrefix();
// Worker profile: no auto-pipelining, so every pipeline recorded is one the code made on purpose.
const redis = createWorkerRedis(testRedisUrl(), log, 'redis-slots-test');

afterAll(async () => {
  await new Queue('email', { connection: redis, prefix }).obliterate({ force: true });
  redis.disconnect();
  Redis.prototype.sendCommand = sendCommand;
  Pipeline.prototype.exec = exec;
});

describe('every multi-key Redis call', () => {
  it('keeps its keys in one hash slot', async () => {
    // BullMQ: add, process (complete and fail), retry, count and read jobs, as the system does.
    const queue = new Queue('email', { connection: redis, prefix });
    await queue.add('send', { n: 1 }, { jobId: 'a.1' });
    await queue.add('send', { n: 2 }, { jobId: 'a.2', attempts: 1 });
    const worker = new Worker(
      'email',
      async (job) => {
        if (job.id === 'a.2') throw new Error('permanent');
        return { sent: true };
      },
      { connection: createWorkerRedis(testRedisUrl(), log, 'redis-slots-worker'), prefix },
    );
    await new Promise<void>((resolve) => {
      let settled = 0;
      const done = () => {
        settled += 1;
        if (settled === 2) resolve();
      };
      worker.on('completed', done);
      worker.on('failed', done);
    });
    await worker.close();
    await (await queue.getJob('a.2'))?.retry();
    await queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed');
    // The webhook reconciler's check for lost jobs: EXISTS of job keys, in one pipeline.
    const pipeline = redis.pipeline();
    for (const id of ['a.1', 'a.2', 'lost.3']) pipeline.exists(queue.toKey(id));
    await pipeline.exec();

    // The gateway's sign-in throttle, the webhook worker's host limiter.
    const config = {
      QUEUE_PREFIX: prefix,
      SIGN_IN_FAILURE_WINDOW_SECONDS: 60,
      SIGN_IN_FAILURES_PER_ACCOUNT: 3,
      SIGN_IN_FAILURES_PER_IP: 3,
    } as GatewayConfig;
    const throttle = createSignInThrottle({ redis, db: undefined as never, log, config });
    const reservation = await throttle.reserve(
      { accountKey: 'ab12', ip: '198.51.100.7', userId: undefined },
      new Date(),
    );
    await reservation.succeeded();
    await createHostLimiter(redis, { prefix, perSecond: 2 }).take('hooks.example.com');

    // The dashboard: its board lists the queues; a refused sign-in is counted (MULTI INCR EXPIRE).
    const dashboard = await buildDashboard({ redis, prefix, auth: TEST_AUTH, log });
    try {
      expect((await dashboard.inject({ method: 'GET', url: '/api/queues', headers: OPERATOR })).statusCode).toBe(200);
      const refused = await dashboard.inject({
        method: 'GET',
        url: '/api/queues',
        headers: { authorization: 'Bearer no' },
      });
      expect(refused.statusCode).toBe(401);
    } finally {
      await dashboard.close();
    }
    await queue.close();

    // The watch saw BullMQ's scripts (many keys each) and the code's pipelines and MULTI.
    expect(groups.some((group) => group.what === 'evalsha' || group.what === 'eval')).toBe(true);
    expect(groups.some((group) => group.what.startsWith('pipeline of multi,incr,expire'))).toBe(true);
    const spanning = groups.filter((group) => new Set(group.keys.map((key) => calculateSlot(key))).size > 1);
    expect(spanning).toEqual([]);
  });
});
