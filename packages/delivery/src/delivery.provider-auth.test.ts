import { Writable } from 'node:stream';
import { listDeliveryAttempts } from '@otp/db';
import type { TestDatabase } from '@otp/testkit';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryError } from './delivery.error.ts';
import {
  type DeliveryFixture,
  type DeliveryTestBed,
  type RecordingSender,
  startDeliveryTestBed,
} from './testing/index.ts';

// Bad provider credentials are our configuration, not the recipient's fault: the queue pauses
// (for every replica) and an alert is logged, instead of every job burning its attempts.
const PAUSE_MS = 400;
const logLines: string[] = [];
let bed: DeliveryTestBed;
let database: TestDatabase;
let fixture: DeliveryFixture;
let sender: RecordingSender;

beforeAll(async () => {
  const capture = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  bed = await startDeliveryTestBed({
    worker: { log: pino({ level: 'info' }, capture), concurrency: 1, authFailurePauseMs: PAUSE_MS },
  });
  ({ database, fixture, sender } = bed);
});

afterAll(async () => {
  await bed?.close();
});

describe('provider authentication failure', () => {
  it('pauses the queue, alerts, keeps the attempt, and sends once the provider accepts again', async () => {
    const challenge = await fixture.seedChallenge({ to: 'auth@example.com' });
    sender.failNext(new DeliveryError('provider_auth', 'smtp_auth'));
    // attempts: 1, so an ordinary temporary failure would have failed the job for good.
    const outcome = await fixture.finished(await fixture.enqueue(challenge, { attempts: 1 }));

    expect(outcome.state).toBe('completed');
    const rows = await listDeliveryAttempts(database.db, challenge.id);
    expect(rows).toMatchObject([
      { outcome: 'temporary_failure', error_code: 'smtp_auth' },
      { outcome: 'sent', error_code: null },
    ]);
    // The queue really paused: the retry came no sooner than the pause asked.
    const [failed, sent] = rows.map((row) => row.created_at.getTime()) as [number, number];
    expect(sent - failed).toBeGreaterThanOrEqual(PAUSE_MS - 50);

    const alerts = logLines.map((line) => JSON.parse(line)).filter((entry) => entry.alert === 'provider_auth_failed');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ level: 50, code: 'smtp_auth', pauseMs: PAUSE_MS });
  });
});
