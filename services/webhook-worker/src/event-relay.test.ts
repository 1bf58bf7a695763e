import { randomUUID } from 'node:crypto';
import { insertEvents } from '@otp/db';
import { WEBHOOK_QUEUE, webhookJobId } from '@otp/domain';
import { createLogger } from '@otp/runtime';
import { startTcpProxy, type TcpProxy, testRedisUrl, uniqueQueuePrefix, useTestDatabase } from '@otp/testkit';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseWebhookEndpoints } from './config.ts';
import { startEventReconciler } from './event-reconciler.ts';
import { startEventRelay } from './event-relay.ts';

// The relay between the events outbox and the `webhooks` queue, with Redis behind a proxy the
// test cuts: events wait in Postgres, deferred, and are relayed once Redis is back.
const database = useTestDatabase();
const log = createLogger({ service: 'event-relay-test', level: 'silent' });
const prefix = uniqueQueuePrefix();
const endpoints = parseWebhookEndpoints(
  JSON.stringify([
    { url: 'http://127.0.0.1:9/all', secret: `whsec_${Buffer.alloc(32, 7).toString('base64')}`, events: ['*'] },
    {
      url: 'http://127.0.0.1:9/sign-ins',
      secret: `whsec_${Buffer.alloc(32, 8).toString('base64')}`,
      events: ['user.signed_in'],
    },
  ]),
  false,
);
let proxy: TcpProxy;
let queue: Queue;
let direct: Queue;

beforeAll(async () => {
  const redis = new URL(testRedisUrl());
  proxy = await startTcpProxy({ host: redis.hostname, port: Number(redis.port || 6379) });
  const through = new URL(testRedisUrl());
  through.hostname = proxy.host;
  through.port = String(proxy.port);
  queue = new Queue(WEBHOOK_QUEUE, {
    connection: { url: through.toString(), maxRetriesPerRequest: 1, enableOfflineQueue: false } as never,
    prefix,
  });
  queue.on('error', () => {});
  direct = new Queue(WEBHOOK_QUEUE, { connection: { url: testRedisUrl() } as never, prefix });
});

afterAll(async () => {
  await queue?.close().catch(() => {});
  await direct?.close();
  await proxy?.close();
});

describe('the event relay', () => {
  it('adds one job per event and endpoint that takes it, and defers events while Redis is away', async () => {
    const relay = startEventRelay({
      db: database.db,
      queue,
      endpoints,
      log,
      intervalMs: 60_000,
      batchSize: 100,
      jobOptions: { attempts: 3 },
      enqueueTimeoutMs: 500,
    });
    try {
      await relay.drainOnce();
      proxy.cut();
      const signIn = randomUUID();
      const created = randomUUID();
      await insertEvents(database.db, [
        { id: signIn, type: 'user.signed_in', occurredAt: new Date(), data: { userId: 'u-1' } },
        { id: created, type: 'user.created', occurredAt: new Date(), data: { userId: 'u-1' } },
      ]);
      expect(await relay.drainOnce()).toBe(0);
      const deferred = await database.db
        .selectFrom('event_outbox')
        .select(['status', 'relay_attempts', 'last_error', 'available_at'])
        .execute();
      expect(deferred).toHaveLength(2);
      for (const row of deferred) {
        expect(row).toMatchObject({ status: 'pending', relay_attempts: 1 });
        expect(row.last_error).toEqual(expect.any(String));
        expect(row.available_at.getTime()).toBeGreaterThan(Date.now());
      }

      proxy.restore();
      // The queue's connection comes back on its own schedule: until then a pass defers again.
      await vi.waitFor(
        async () => {
          await database.db.updateTable('event_outbox').set({ available_at: new Date() }).execute();
          expect(await relay.drainOnce()).toBe(2);
        },
        { timeout: 15_000, interval: 200 },
      );
      const [all, signIns] = endpoints as [(typeof endpoints)[0], (typeof endpoints)[0]];
      const jobs = await direct.getJobs(['waiting']);
      expect(jobs.map((job) => job.id).sort()).toEqual(
        [webhookJobId(signIn, all.id), webhookJobId(created, all.id), webhookJobId(signIn, signIns.id)].sort(),
      );
      const rows = await database.db.selectFrom('event_outbox').select('status').execute();
      expect(rows.map((row) => row.status)).toEqual(['dispatched', 'dispatched']);
      // Relayed again (a relay that died before its mark): the same ids, no new job.
      await database.db
        .updateTable('event_outbox')
        .set({ status: 'pending' } as never)
        .execute();
      await relay.drainOnce();
      expect(await direct.getJobCounts('waiting')).toEqual({ waiting: 3 });
    } finally {
      await relay.stop();
    }
  });

  it('adds again, under the same id, the jobs of relayed events that Redis lost, and only those', async () => {
    const redis = new Redis(testRedisUrl());
    const relay = startEventRelay({
      db: database.db,
      queue: direct,
      endpoints,
      log,
      intervalMs: 60_000,
      batchSize: 100,
      jobOptions: { attempts: 3 },
    });
    const reconciler = startEventReconciler({
      db: database.db,
      queue: direct,
      redis,
      endpoints,
      log,
      intervalMs: 60_000,
      windowSeconds: 900,
      batchSize: 100,
      jobOptions: { attempts: 3 },
    });
    try {
      const id = randomUUID();
      await insertEvents(database.db, [
        { id, type: 'user.signed_in', occurredAt: new Date(), data: { userId: 'u-2' } },
      ]);
      await relay.drainOnce();
      const [all, signIns] = endpoints as [(typeof endpoints)[0], (typeof endpoints)[0]];
      expect(await reconciler.runOnce()).toBe(0);
      // Redis forgets one of the event's two jobs (a restart without persistence).
      await direct.remove(webhookJobId(id, signIns.id));
      expect(await direct.getJob(webhookJobId(id, signIns.id))).toBeUndefined();
      expect(await reconciler.runOnce()).toBe(1);
      expect((await direct.getJob(webhookJobId(id, signIns.id)))?.data).toMatchObject({
        eventId: id,
        type: 'user.signed_in',
      });
      expect((await direct.getJob(webhookJobId(id, all.id)))?.id).toBe(webhookJobId(id, all.id));
      expect(await reconciler.runOnce()).toBe(0);
    } finally {
      await relay.stop();
      await reconciler.stop();
      redis.disconnect();
    }
  });
});
