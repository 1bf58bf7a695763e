import { sql } from '@otp/db';
import { deliveryJobId } from '@otp/domain';
import { createTestDatabase, type TestDatabase } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post, startTestGateway, type TestGateway, uniqueEmail } from '../test/gateway.harness.ts';

// Redis can lose jobs the outbox already marked dispatched (restart without persistence,
// failover). The reconciler finds sends that stayed silent and re-adds the ones whose job is gone.
describe('the outbox reconciler', () => {
  let database: TestDatabase;
  let gateway: TestGateway;

  beforeAll(async () => {
    database = await createTestDatabase();
    gateway = await startTestGateway(database, { env: { RELAY_RECONCILE_AFTER_SECONDS: '30' } });
  });

  afterAll(async () => {
    await gateway?.close();
    await database?.drop();
  });

  async function dispatchedChallenge(): Promise<string> {
    const requested = await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: uniqueEmail('lost') });
    const id = String(requested.body.challengeId);
    await gateway.deps.relay.drainOnce();
    expect(await gateway.inspect.email.getJob(deliveryJobId(id, 1))).toBeDefined();
    return id;
  }

  const quietFor = (id: string, seconds: number) =>
    sql`UPDATE otp_challenges SET delivery_updated_at = now() - make_interval(secs => ${seconds}) WHERE id = ${id}`.execute(
      database.db,
    );

  it('adds again a job lost from Redis once its send has been quiet long enough', async () => {
    const lost = await dispatchedChallenge();
    const kept = await dispatchedChallenge();
    await (await gateway.inspect.email.getJob(deliveryJobId(lost, 1)))?.remove();
    await quietFor(kept, 120);

    // Not quiet for long enough yet: nothing happens.
    expect(await gateway.deps.relay.reconcileOnce()).toBe(0);
    expect(await gateway.inspect.email.getJob(deliveryJobId(lost, 1))).toBeUndefined();

    await quietFor(lost, 120);
    expect(await gateway.deps.relay.reconcileOnce()).toBe(1);
    const readded = await gateway.inspect.email.getJob(deliveryJobId(lost, 1));
    expect(readded?.data).toMatchObject({ challengeId: lost, sendNumber: 1 });
    // The job that was still there is left alone, and a second pass adds nothing.
    expect(await gateway.deps.relay.reconcileOnce()).toBe(0);
  });

  it('leaves alone sends that were delivered, superseded or belong to expired challenges', async () => {
    const sent = await dispatchedChallenge();
    const expired = await dispatchedChallenge();
    for (const id of [sent, expired]) await (await gateway.inspect.email.getJob(deliveryJobId(id, 1)))?.remove();
    await sql`UPDATE otp_challenges SET delivery_status = 'sent' WHERE id = ${sent}`.execute(database.db);
    await sql`UPDATE otp_challenges SET expires_at = now() - interval '1 second' WHERE id = ${expired}`.execute(
      database.db,
    );
    for (const id of [sent, expired]) await quietFor(id, 120);

    expect(await gateway.deps.relay.reconcileOnce()).toBe(0);
  });
});
