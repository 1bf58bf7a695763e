import { findChallenge, listDeliveryAttempts, sql } from '@otp/db';
import { deliveryJobId, STALLED_TOO_OFTEN } from '@otp/domain';
import { testRedisUrl } from '@otp/testkit';
import { type Processor, UnrecoverableError, Worker } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { post, uniqueEmail } from '../../testing/gateway.harness.ts';

// Redis can lose jobs the outbox already marked dispatched (restart without persistence,
// failover). The reconciler finds sends that stayed silent and re-adds the ones whose job is gone.
describe('the outbox reconciler', () => {
  // One attempt per job: a job that throws once is failed, as one that ran out of attempts is.
  const { gateway, database } = useTestGateway({
    env: { RELAY_RECONCILE_AFTER_SECONDS: '30', DELIVERY_ATTEMPTS: '1' },
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
    expect(await gateway.deps.reconciler.reconcileOnce()).toBe(0);
    expect(await gateway.inspect.email.getJob(deliveryJobId(lost, 1))).toBeUndefined();

    await quietFor(lost, 120);
    expect(await gateway.deps.reconciler.reconcileOnce()).toBe(1);
    const readded = await gateway.inspect.email.getJob(deliveryJobId(lost, 1));
    expect(readded?.data).toMatchObject({ challengeId: lost, sendNumber: 1 });
    // The job that was still there is left alone, and a second pass adds nothing.
    expect(await gateway.deps.reconciler.reconcileOnce()).toBe(0);
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

    expect(await gateway.deps.reconciler.reconcileOnce()).toBe(0);
  });

  /** A challenge whose job is the only one in the queue: earlier tests' challenges are expired. */
  async function onlyChallenge(): Promise<string> {
    await sql`UPDATE otp_challenges SET expires_at = now() - interval '1 second'`.execute(database.db);
    await gateway.inspect.email.drain(true);
    const id = await dispatchedChallenge();
    expect(await gateway.inspect.email.getWaitingCount()).toBe(1);
    return id;
  }

  /** Runs the send's job through `processor` with a real BullMQ worker, as a worker would. */
  async function processNext(id: string, processor: Processor): Promise<void> {
    const worker = new Worker('email', processor, {
      connection: { url: testRedisUrl() },
      prefix: gateway.config.QUEUE_PREFIX,
      autorun: false,
    });
    const finished = new Promise((resolve) => {
      worker.on('completed', resolve);
      worker.on('failed', resolve);
    });
    worker.run();
    await finished;
    await worker.close();
    expect(['completed', 'failed']).toContain(
      await (await gateway.inspect.email.getJob(deliveryJobId(id, 1)))?.getState(),
    );
  }

  it('sends back to the queue a job that failed without its worker recording anything', async () => {
    const id = await onlyChallenge();
    // What a worker leaves when Postgres was away on every attempt: a failed job, a silent challenge.
    await processNext(id, async () => {
      throw new Error('connection terminated');
    });
    await quietFor(id, 120);

    expect(await gateway.deps.reconciler.reconcileOnce()).toBe(1);
    const job = await gateway.inspect.email.getJob(deliveryJobId(id, 1));
    expect(await job?.getState()).toBe('waiting');
    expect(job?.attemptsMade).toBe(0);
  });

  it('records the failure of a job that stalled too often when its worker could not', async () => {
    const id = await onlyChallenge();
    await processNext(id, async () => {
      throw new UnrecoverableError(STALLED_TOO_OFTEN);
    });
    await quietFor(id, 120);

    expect(await gateway.deps.reconciler.reconcileOnce()).toBe(1);
    const challenge = await findChallenge(database.db, id);
    expect(challenge).toMatchObject({ status: 'failed', delivery_status: 'failed', delivery_last_error: 'stalled' });
    expect((await listDeliveryAttempts(database.db, id)).map((attempt) => attempt.error_code)).toEqual(['stalled']);
    expect(await (await gateway.inspect.email.getJob(deliveryJobId(id, 1)))?.getState()).toBe('failed');
  });

  it('records as sent a job its worker finished but could not write back', async () => {
    const id = await onlyChallenge();
    await sql`UPDATE otp_challenges SET delivery_status = 'sending' WHERE id = ${id}`.execute(database.db);
    await processNext(id, async () => ({ providerMessageId: '<accepted@smtp.test>' }));
    await quietFor(id, 120);

    expect(await gateway.deps.reconciler.reconcileOnce()).toBe(1);
    const challenge = await findChallenge(database.db, id);
    expect(challenge).toMatchObject({
      delivery_status: 'sent',
      delivery_provider_message_id: '<accepted@smtp.test>',
      delivery_attempts: 1,
    });
    // Recorded: the send is no longer silent, so the next pass leaves it.
    expect(await gateway.deps.reconciler.reconcileOnce()).toBe(0);
  });
});
