import { findNotification, sql } from '@otp/db';
import { noticeJobId } from '@otp/domain';
import { testRedisUrl } from '@otp/testkit';
import { Worker } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { loginTokens, refresh, registerUser } from '../../testing/accounts.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';

// Security notices ride the outbox too: a notice whose job Redis lost, or whose worker could not
// write back that it went out, is repaired like a code's send, against its notifications row.
describe('the outbox reconciler and security notices', () => {
  const { gateway, database } = useTestGateway({
    env: { RELAY_RECONCILE_AFTER_SECONDS: '30', DELIVERY_ATTEMPTS: '1' },
  });

  /** A session-revoked notice (a refresh token used twice), relayed: its notification id. */
  async function dispatchedNotice(): Promise<string> {
    const { email, userId } = await registerUser(gateway, 'reconcile-notice');
    const { refreshToken } = await loginTokens(gateway, email);
    await refresh(gateway, refreshToken);
    expect((await refresh(gateway, refreshToken)).status).toBe(401);
    const { id } = await database.db
      .selectFrom('notifications')
      .select('id')
      .where('user_id', '=', userId)
      .executeTakeFirstOrThrow();
    await gateway.deps.relay.drainOnce();
    expect(await gateway.inspect.email.getJob(noticeJobId(id))).toBeDefined();
    return id;
  }

  const quietFor = (id: string, seconds: number) =>
    sql`UPDATE notifications SET updated_at = now() - make_interval(secs => ${seconds}) WHERE id = ${id}`.execute(
      database.db,
    );

  it('adds again a notice lost from Redis once it has been quiet long enough, and only then', async () => {
    const id = await dispatchedNotice();
    await (await gateway.inspect.email.getJob(noticeJobId(id)))?.remove();

    expect(await gateway.deps.reconciler.reconcileOnce()).toBe(0);
    expect(await gateway.inspect.email.getJob(noticeJobId(id))).toBeUndefined();

    await quietFor(id, 120);
    expect(await gateway.deps.reconciler.reconcileOnce()).toBe(1);
    expect((await gateway.inspect.email.getJob(noticeJobId(id)))?.data).toMatchObject({
      kind: 'notice',
      notificationId: id,
    });
  });

  it('leaves a sent notice alone, and records as sent one its worker finished without writing back', async () => {
    // The earlier notice went out after all: with its job gone and its row quiet, it is left alone.
    await sql`UPDATE notifications SET status = 'sent'`.execute(database.db);
    await gateway.inspect.email.drain(true);
    const id = await dispatchedNotice();
    // Every other job is gone: the worker below takes this notice.
    const jobs = await gateway.inspect.email.getJobs(['waiting']);
    for (const job of jobs) if (job.id !== noticeJobId(id)) await job.remove();
    const worker = new Worker('email', async () => ({ providerMessageId: '<notice@smtp.test>' }), {
      connection: { url: testRedisUrl() },
      prefix: gateway.config.QUEUE_PREFIX,
      autorun: false,
    });
    const finished = new Promise((resolve) => worker.on('completed', resolve));
    worker.run();
    await finished;
    await worker.close();
    await quietFor(id, 120);

    expect(await gateway.deps.reconciler.reconcileOnce()).toBe(1);
    expect(await findNotification(database.db, id)).toMatchObject({
      status: 'sent',
      provider_message_id: '<notice@smtp.test>',
    });
    expect(await gateway.deps.reconciler.reconcileOnce()).toBe(0);
  });
});
