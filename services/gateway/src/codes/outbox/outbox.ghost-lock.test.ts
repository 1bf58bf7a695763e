import { claimPendingOutbox, createDb, type Database, type Kysely, sql } from '@otp/db';
import { startTcpProxy, type TcpProxy } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { post, uniqueEmail } from '../../testing/gateway.harness.ts';

// A relay claims outbox rows with FOR UPDATE SKIP LOCKED. If its connection stalls mid-claim
// (the network, not the process), it gives up and closes its socket, but Postgres never hears
// of it: the session would keep the transaction, and skip-locked rows would be skipped by every
// other relay for as long as TCP keepalive takes. The idle-in-transaction timeout ends it.
describe('a relay transaction whose connection stalls for good', () => {
  let proxy: TcpProxy;
  let ghost: Kysely<Database>;
  const { gateway, database } = useTestGateway();

  beforeAll(async () => {
    const url = new URL(database.url);
    proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
    url.hostname = proxy.host;
    url.port = String(proxy.port);
    ghost = createDb({ url: url.toString(), poolSize: 1, statementTimeoutMs: 300, idleInTransactionTimeoutMs: 1000 });
  });

  afterAll(async () => {
    await ghost?.destroy().catch(() => {});
    await proxy?.close();
  });

  it('does not keep its rows locked: another relay claims them once Postgres ends the session', async () => {
    const requested = await post(gateway.app, '/v1/otp/challenges', { channel: 'email', to: uniqueEmail('ghost') });
    const id = String(requested.body.challengeId);
    await gateway.deps.relay.drainOnce();
    // Back to pending and due now, as if its relay had died before adding the job (on a loaded
    // machine the drain may have deferred the row instead, to a later available_at).
    await sql`UPDATE delivery_outbox SET status = 'pending', available_at = now() WHERE challenge_id = ${id}`.execute(
      database.db,
    );

    const stalledRelay = ghost.transaction().execute(async (trx) => {
      const claimed = await claimPendingOutbox(trx, 100);
      expect(claimed.map((row) => row.challenge_id)).toContain(id);
      proxy.stall(); // for good: this session's close never reaches Postgres
      await sql`SELECT 1`.execute(trx);
    });
    await expect(stalledRelay).rejects.toThrow();

    const claimable = () =>
      database.db
        .transaction()
        .execute(async (trx) => (await claimPendingOutbox(trx, 100)).map((row) => row.challenge_id));
    // The gateway's own relay is another relay too: the nudge of the request above may run late
    // on a loaded machine and claim the row first (it was put back to pending), dispatching it.
    const dispatchedByGatewayRelay = async () =>
      (
        await sql<{ status: string }>`SELECT status FROM delivery_outbox WHERE challenge_id = ${id}`.execute(
          database.db,
        )
      ).rows[0]?.status === 'dispatched';
    let claimedByOther: Array<string | null> = [];
    for (let tries = 0; tries < 100 && !claimedByOther.includes(id); tries++) {
      claimedByOther = await claimable();
      if (!claimedByOther.includes(id) && (await dispatchedByGatewayRelay())) claimedByOther = [id];
      if (!claimedByOther.includes(id)) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(claimedByOther).toContain(id);
  });
});
