import { sql } from '@otp/db';
import { deliveryJobId, JOB_NAMES } from '@otp/domain';
import { type TestDatabase, testRedisUrl } from '@otp/testkit';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { deliveredCode } from '../../testing/delivered-code.ts';
import { resend } from '../../testing/flows.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { post, uniqueEmail } from '../../testing/gateway.harness.ts';
import { closeRedis, createDeliveryQueues } from '../../wiring.ts';
import { deferDelayMs, startOutboxRelay } from './outbox.relay.ts';

const outboxOf = (database: TestDatabase, challengeId: string) =>
  database.db
    .selectFrom('delivery_outbox')
    .selectAll()
    .where('challenge_id', '=', challengeId)
    .orderBy('send_number')
    .execute();

describe('the outbox relay', () => {
  const { gateway, database } = useTestGateway({ env: { OTP_RESEND_COOLDOWN_SECONDS: '0' } });

  it('adds one job per send, marks the rows dispatched, and a second drain adds nothing', async () => {
    const requested = await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: uniqueEmail() });
    const id = String(requested.body.challengeId);
    expect((await resend(gateway, id)).status).toBe(202);
    await gateway.deps.relay.drainOnce();

    const rows = await outboxOf(database, id);
    expect(rows.map((row) => [row.send_number, row.status, row.job_id])).toEqual([
      [1, 'dispatched', deliveryJobId(id, 1)],
      [2, 'dispatched', deliveryJobId(id, 2)],
    ]);
    for (const row of rows) expect(row.dispatched_at).toBeInstanceOf(Date);
    for (const send of [1, 2]) {
      const job = await gateway.inspect.email.getJob(deliveryJobId(id, send));
      expect(job?.name).toBe(JOB_NAMES.sendCode);
      expect(job?.opts).toMatchObject({ attempts: 6, backoff: { type: 'exponential', delay: 2000 } });
      expect(job?.data).toMatchObject({ v: 1, challengeId: id, sendNumber: send, template: 'otp-code' });
    }
    const counts = await gateway.inspect.email.getJobCounts('waiting', 'delayed');
    expect(await gateway.deps.relay.drainOnce()).toBe(0);
    expect(await gateway.inspect.email.getJobCounts('waiting', 'delayed')).toEqual(counts);

    // A row relayed twice (a crash between the add and the commit) does not make a second job.
    await database.db
      .updateTable('delivery_outbox')
      .set({ status: 'pending' })
      .where('challenge_id', '=', id)
      .execute();
    expect(await gateway.deps.relay.drainOnce()).toBe(2);
    expect(await gateway.inspect.email.getJobCounts('waiting', 'delayed')).toEqual(counts);
  });

  it('drains everything however often it is nudged', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(
        String(
          (await post(gateway.app, '/v1/otp/challenges', { channel: 'sms', to: `+1415555017${i}` })).body.challengeId,
        ),
      );
    }
    for (let i = 0; i < 20; i++) gateway.deps.relay.nudge();
    await gateway.deps.relay.drainOnce();
    const pending = await database.db
      .selectFrom('delivery_outbox')
      .select('id')
      .where('status', '=', 'pending')
      .execute();
    expect(pending).toEqual([]);
    for (const id of ids) expect(await gateway.inspect.sms.getJob(deliveryJobId(id, 1))).toBeDefined();
  });

  it('backs off 1 s, 2 s, 4 s... up to 30 s', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 50].map(deferDelayMs)).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  describe('with Redis unreachable', () => {
    const { gateway: offline } = useTestGateway(
      {
        env: { REDIS_URL: 'redis://127.0.0.1:1', RATE_LIMIT_CODE_REQUESTS_PER_MINUTE: '1' },
        waitForRedis: false,
      },
      database,
    );

    it('gives up on a queue that never answers after enqueueTimeoutMs, and defers', async () => {
      const accepted = await post(offline.app, '/v1/otp/challenges', { channel: 'sms', to: '+14155550166' });
      const id = String(accepted.body.challengeId);
      await offline.deps.relay.drainOnce();
      await sql`UPDATE delivery_outbox SET available_at = now() WHERE challenge_id = ${id}`.execute(database.db);
      const attemptsBefore = (await outboxOf(database, id))[0]?.relay_attempts ?? 0;
      // No readiness hint: the add itself hangs (BullMQ waits for a connection) until the bound.
      const relay = startOutboxRelay({
        db: database.db,
        queues: offline.deps.queues,
        log: offline.deps.log,
        intervalMs: 3_600_000,
        batchSize: 10,
        jobOptions: { attempts: 6, backoffMs: 2000 },
        enqueueTimeoutMs: 200,
      });
      try {
        expect(await relay.drainOnce()).toBe(0);
      } finally {
        await relay.stop();
      }
      const [row] = await outboxOf(database, id);
      expect(row?.status).toBe('pending');
      expect(row?.relay_attempts).toBe(attemptsBefore + 1);
      expect(row?.last_error).toMatch(/did not answer/);
      await database.db.deleteFrom('otp_challenges').where('id', '=', id).execute();
    });

    it('still accepts requests, defers the rows, and relays them once Redis is back', async () => {
      // The per-IP limit (1 per minute here) lives in Redis and lets requests through while it is down.
      const first = await post(offline.app, '/v1/otp/challenges', { channel: 'email', to: uniqueEmail('outage') });
      const second = await post(offline.app, '/v1/otp/challenges', { channel: 'email', to: uniqueEmail('outage') });
      expect([first.status, second.status]).toEqual([202, 202]);
      const ids = [first, second].map((response) => String(response.body.challengeId));

      await offline.deps.relay.drainOnce();
      for (const id of ids) {
        const [row] = await outboxOf(database, id);
        expect(row?.status).toBe('pending');
        expect(row?.relay_attempts).toBeGreaterThanOrEqual(1);
        expect(row?.last_error).toEqual(expect.any(String));
        // Put back for later rather than marked or lost.
        expect(row?.available_at.getTime()).toBeGreaterThan(row?.created_at.getTime() ?? Number.POSITIVE_INFINITY);
      }

      // Redis is back (another replica, or this one after reconnecting): the rows go out.
      await sql`UPDATE delivery_outbox SET available_at = now() WHERE challenge_id IN (${sql.join(ids)})`.execute(
        database.db,
      );
      const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
      const queues = createDeliveryQueues(redis, offline.config.QUEUE_PREFIX, offline.deps.log);
      const relay = startOutboxRelay({
        db: database.db,
        queues,
        log: offline.deps.log,
        intervalMs: 3_600_000,
        batchSize: 10,
        jobOptions: { attempts: 6, backoffMs: 2000 },
      });
      try {
        expect(await relay.drainOnce()).toBe(2);
        for (const id of ids) {
          expect((await outboxOf(database, id))[0]?.status).toBe('dispatched');
          expect(await deliveredCode(offline, id)).toMatch(/^\d{6}$/);
        }
      } finally {
        await relay.stop();
        await Promise.all(Object.values(queues).map((queue) => queue.close()));
        await closeRedis(redis);
      }
    });
  });
});
