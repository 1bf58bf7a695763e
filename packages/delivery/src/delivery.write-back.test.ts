import { createDb, type Database, findChallenge, type Kysely, listDeliveryAttempts } from '@otp/db';
import { startTcpProxy, type TcpProxy, type TestDatabase } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryWorker } from './delivery.worker.ts';
import type { DeliverySender } from './sender.port.ts';
import { captureLogs, type DeliveryFixture, type PreparedTestBed, prepareDeliveryTestBed } from './testing/index.ts';

// Once the provider has accepted a message, losing Postgres must not make the job fail and send
// it again: the outcome is written back when Postgres returns.
let bed: PreparedTestBed;
let database: TestDatabase;
let proxy: TcpProxy;
let workerDb: Kysely<Database>;
let fixture: DeliveryFixture;
let worker: DeliveryWorker;
let sends = 0;
const logs = captureLogs('email-worker');

/** Accepts the message, then takes Postgres away from the worker for a while. */
const senderThatLosesPostgres: DeliverySender = {
  provider: 'fake',
  async send() {
    sends += 1;
    proxy.cut();
    setTimeout(() => proxy.restore(), 700);
    return { providerMessageId: `fake-${sends}` };
  },
};

beforeAll(async () => {
  bed = await prepareDeliveryTestBed();
  ({ database, fixture } = bed);
  // The worker reaches Postgres through a proxy the sender can cut; the test reads it directly.
  const url = new URL(database.url);
  proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
  url.hostname = proxy.host;
  url.port = String(proxy.port);
  workerDb = createDb({ url: url.toString(), poolSize: 2, connectionTimeoutMs: 500 });
  worker = await bed.startWorker({
    db: workerDb,
    sender: senderThatLosesPostgres,
    log: logs.log,
    concurrency: 1,
    writeBackTimeoutMs: 10_000,
  });
});

afterAll(async () => {
  // The worker and its own pool go before the bed drops the database they reach.
  await worker?.close();
  await workerDb?.destroy();
  await proxy?.close();
  await bed?.close();
});

describe('Postgres lost after the provider accepted a message', () => {
  it('writes the outcome back once Postgres returns, without sending again', async () => {
    const challenge = await fixture.seedChallenge({ to: 'write-back@example.com' });
    const outcome = await fixture.finished(await fixture.enqueue(challenge, { attempts: 3 }));

    expect(outcome).toEqual({ state: 'completed', value: { providerMessageId: 'fake-1' } });
    expect(sends).toBe(1);
    expect(await findChallenge(database.db, challenge.id)).toMatchObject({
      delivery_status: 'sent',
      delivery_provider_message_id: 'fake-1',
    });
    expect(await listDeliveryAttempts(database.db, challenge.id)).toMatchObject([
      { outcome: 'sent', provider_message_id: 'fake-1' },
    ]);
    // The retries of the write-back are logged with the challenge and the request they belong to.
    const lines = logs.mentioning(challenge.id);
    expect(lines.some((line) => line.msg === 'recording the sent message failed: retrying')).toBe(true);
    const { requestId } = fixture.jobData(challenge);
    for (const line of lines) expect(line).toMatchObject({ challengeId: challenge.id, requestId });
  });
});
