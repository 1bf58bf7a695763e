import { createLogger } from '@otp/runtime';
import { testRedisUrl } from '@otp/testkit';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { post, uniqueEmail } from '../../testing/gateway.harness.ts';
import { closeRedis, createDeliveryQueues } from '../../wiring.ts';
import { type OutboxRelay, startOutboxRelay } from './outbox.relay.ts';

// Relays run in every gateway replica. SKIP LOCKED must make each row go through exactly one of
// them: three relays draining the same outbox at once add each send once.
describe('relays on several replicas', () => {
  const redisClients: Redis[] = [];
  const relays: OutboxRelay[] = [];
  const { gateway, database } = useTestGateway({
    env: { OTP_RECIPIENT_LIMIT: '1000', RATE_LIMIT_CODE_REQUESTS_PER_MINUTE: '1000' },
  });

  afterAll(async () => {
    await Promise.all(relays.map((relay) => relay.stop()));
    await Promise.all(redisClients.map((redis) => closeRedis(redis)));
  });

  it('relays 60 committed sends exactly once between three relays', async () => {
    // Requests commit their rows; the gateway's own relay is stopped so the three below find them.
    await gateway.deps.relay.stop();
    for (let i = 0; i < 60; i++) {
      expect(
        (await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: uniqueEmail('replica') })).status,
      ).toBe(202);
    }
    const log = createLogger({ service: 'relay-replicas-test', level: 'silent' });
    for (let replica = 0; replica < 3; replica++) {
      const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
      redisClients.push(redis);
      relays.push(
        startOutboxRelay({
          db: gateway.deps.db,
          queues: createDeliveryQueues(redis, gateway.config.QUEUE_PREFIX, log),
          log,
          intervalMs: 3_600_000,
          batchSize: 7,
          jobOptions: { attempts: 3, backoffMs: 100 },
        }),
      );
    }

    // All three drain concurrently, round after round, until the outbox is empty.
    const added: number[] = [0, 0, 0];
    for (let round = 0; round < 20; round++) {
      const counts = await Promise.all(relays.map((relay) => relay.drainOnce()));
      counts.forEach((count, index) => {
        added[index] = (added[index] ?? 0) + count;
      });
      if (counts.every((count) => count === 0)) break;
    }

    expect(added.reduce((sum, count) => sum + count, 0)).toBe(60);
    const pending = await database.db
      .selectFrom('delivery_outbox')
      .select('id')
      .where('status', '=', 'pending')
      .execute();
    expect(pending).toHaveLength(0);
    expect(await gateway.inspect.email.getJobCountByTypes('waiting', 'delayed')).toBe(60);
  });
});
