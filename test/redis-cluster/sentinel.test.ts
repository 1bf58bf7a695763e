import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redisTarget } from '@otp/domain';
import {
  createLogger,
  createProducerRedis,
  createWorkerRedis,
  evictionPolicy,
  pingRedis,
  type RedisClient,
} from '@otp/runtime';
import { freePort, type RedisServer, startRedisServer, uniqueQueuePrefix } from '@otp/testkit';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// REDIS_SENTINELS: the services' connection factories find the master through a real Sentinel
// (redis-server --sentinel) watching a real master, and BullMQ runs a job through it.
const log = createLogger({ service: 'sentinel-test', level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'otp-sentinel-'));
let master: RedisServer;
let sentinel: ChildProcess;
let sentinelPort: number;
const clients: RedisClient[] = [];

beforeAll(async () => {
  master = await startRedisServer(['--maxmemory-policy', 'noeviction']);
  sentinelPort = await freePort();
  const conf = join(dir, 'sentinel.conf');
  // Sentinel rewrites its file, so it lives in a temp dir of its own.
  writeFileSync(
    conf,
    [
      `port ${sentinelPort}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor otp-master 127.0.0.1 ${master.port} 1`,
      'sentinel down-after-milliseconds otp-master 2000',
      '',
    ].join('\n'),
  );
  sentinel = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
  const probe = new Redis({ port: sentinelPort, lazyConnect: true, retryStrategy: () => 100 });
  probe.on('error', () => {}); // refused until Sentinel is up
  try {
    for (let i = 0; ; i++) {
      const answer = await probe.call('SENTINEL', 'get-master-addr-by-name', 'otp-master').catch(() => null);
      if (Array.isArray(answer) && answer[1] === String(master.port)) break;
      if (i > 100) throw new Error('Sentinel did not name the master');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    probe.disconnect();
  }
});

afterAll(async () => {
  for (const client of clients) client.disconnect();
  if (sentinel !== undefined && sentinel.exitCode === null) {
    const exited = once(sentinel, 'exit');
    sentinel.kill('SIGKILL');
    await exited;
  }
  await master?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('Redis through Sentinel', () => {
  it('reaches the master the Sentinels name: ping, eviction policy and a BullMQ job', async () => {
    const prefix = uniqueQueuePrefix();
    const target = redisTarget({
      // REDIS_URL points nowhere and is ignored.
      REDIS_URL: 'redis://127.0.0.1:1',
      REDIS_SENTINELS: `127.0.0.1:${sentinelPort}`,
      REDIS_SENTINEL_NAME: 'otp-master',
      REDIS_TLS: false,
      QUEUE_PREFIX: prefix,
    });
    const producer = createProducerRedis(target, log, 'sentinel-producer');
    const consumer = createWorkerRedis(target, log, 'sentinel-worker');
    const events = createWorkerRedis(target, log, 'sentinel-events');
    clients.push(producer, consumer, events);
    if (producer.status !== 'ready') await once(producer, 'ready');
    expect(await pingRedis(producer)).toBe(true);
    expect(await evictionPolicy(producer)).toBe('noeviction');

    const queue = new Queue('email', { connection: producer, prefix });
    const queueEvents = new QueueEvents('email', { connection: events, prefix });
    const worker = new Worker('email', async (job) => ({ doubled: (job.data as { n: number }).n * 2 }), {
      connection: consumer,
      prefix,
    });
    try {
      await queueEvents.waitUntilReady();
      const job = await queue.add('send', { n: 21 }, { jobId: 'sentinel.1' });
      expect(await job.waitUntilFinished(queueEvents, 10_000)).toEqual({ doubled: 42 });
      // The job is in the master Sentinel named.
      const direct = new Redis(master.url);
      try {
        expect(await direct.exists(queue.toKey('sentinel.1'))).toBe(1);
      } finally {
        direct.disconnect();
      }
    } finally {
      await worker.close();
      await queueEvents.close();
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
});
