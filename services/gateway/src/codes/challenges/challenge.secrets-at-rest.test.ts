import { Writable } from 'node:stream';
import { type Database, type Kysely, sql } from '@otp/db';
import { testRedisUrl } from '@otp/testkit';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveredCode, deliveryJob } from '../../testing/delivered-code.ts';
import { requestCode, resend, verify, wrongCode } from '../../testing/flows.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';

/** Every (table, column) of a text-like type in the schema, and how often `needle` appears in it. */
async function textColumnsContaining(db: Kysely<Database>, needle: string): Promise<string[]> {
  const columns = await sql<{ table_name: string; column_name: string }>`
    SELECT table_name, column_name FROM information_schema.columns
    WHERE table_schema = 'public' AND data_type IN ('text', 'jsonb', 'json', 'character varying')`.execute(db);
  const hits: string[] = [];
  for (const { table_name, column_name } of columns.rows) {
    const found = await sql<{ n: string }>`
      SELECT count(*) AS n FROM ${sql.table(table_name)}
      WHERE position(${needle} in ${sql.ref(column_name)}::text) > 0`.execute(db);
    if (found.rows[0]?.n !== '0') hits.push(`${table_name}.${column_name}`);
  }
  return hits;
}

describe('no clear code or address at rest, in jobs or in logs', () => {
  let redis: Redis;
  const lines: string[] = [];
  const email = `grace.hopper.${Date.now()}@example.com`;
  const phone = '+14155550199';

  // No redaction here: the rule is that secrets never reach a log call at all.
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const { gateway, database } = useTestGateway({
    env: { OTP_RESEND_COOLDOWN_SECONDS: '0' },
    log: pino({ level: 'trace' }, sink),
  });

  beforeAll(async () => {
    redis = new Redis(testRedisUrl());
  });

  afterAll(async () => {
    redis?.disconnect();
  });

  it('keeps codes and addresses out of Redis, every text column and every log line', async () => {
    const byEmail = await requestCode(gateway, { channel: 'email', to: email });
    const bySms = await requestCode(gateway, { channel: 'sms', to: '+1 415 555 0199' });
    await resend(gateway, byEmail.id);
    const secondCode = await deliveredCode(gateway, byEmail.id, 2);
    const codes = [byEmail.code, bySms.code, secondCode];
    const secrets = [...codes, email, phone, phone.slice(1)];

    for (const [id, send, queue] of [
      [byEmail.id, 1, 'email'],
      [byEmail.id, 2, 'email'],
      [bySms.id, 1, 'sms'],
    ] as const) {
      const job = await deliveryJob(gateway, id, send);
      expect(job.data.toMasked).toMatch(/\*\*\*/);
      // The fields BullMQ keeps text in (numeric fields like timestamps could hold six digits by chance).
      const raw = await redis.hgetall(`${gateway.config.QUEUE_PREFIX}:${queue}:${job.id}`);
      const stored = ['name', 'data', 'failedReason', 'stacktrace', 'returnvalue']
        .map((field) => raw[field] ?? '')
        .join('\n');
      expect(stored).toContain(id);
      for (const secret of secrets) expect(stored).not.toContain(secret);
    }

    for (const secret of secrets) expect(await textColumnsContaining(database.db, secret)).toEqual([]);

    // Failures, a lock and a success, so every security event is logged.
    await verify(gateway, bySms.id, wrongCode(bySms.code));
    expect((await verify(gateway, bySms.id, bySms.code)).status).toBe(200);
    for (let i = 0; i < 5; i++) await verify(gateway, byEmail.id, wrongCode(byEmail.code, secondCode));
    for (const code of codes) expect(await textColumnsContaining(database.db, code)).toEqual([]);

    const events = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry.event);
    const names = new Set(events.map((entry) => entry.event));
    expect(names).toEqual(
      // user.created: the SMS sign-in was the number's first, and created its account.
      new Set([
        'code.requested',
        'code.resent',
        'code.failed',
        'code.locked',
        'code.verified',
        'user.created',
        'sign_in.succeeded',
      ]),
    );
    for (const entry of events) {
      if (String(entry.event).startsWith('code.')) {
        expect(entry).toMatchObject({ challengeId: expect.any(String), channel: expect.any(String), purpose: 'login' });
      }
      expect(typeof entry.requestId).toBe('string');
    }
    const everything = lines.join('\n');
    for (const secret of secrets) expect(everything).not.toContain(secret);
  });
});
