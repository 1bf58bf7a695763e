import {
  countVerificationAttempt,
  createHistoryPartitions,
  type Database,
  Kysely,
  PostgresDialect,
  sql,
} from '@otp/db';
import { createTestDatabase, type TestDatabase } from '@otp/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { challengeRow } from './challenge-row.ts';

// The attempt count runs on every verification, outside a transaction. Its plan's estimated cost
// must stay far below Postgres' jit_above_cost (100,000) however long the history and however many
// partitions: past it, a session that has JIT on (a transaction pooler's, without the role setting
// of docs/scaling-postgres.md) compiles the statement on every call, about 300 ms of CPU. Its
// `attempt` step once joined `target`: estimated 18,797 here, and 119,776 on the bench's history,
// where it did compile; by id it is estimated at about 630 here.
describe("the attempt count's plan", () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  const statements: Array<{ sql: string; parameters: readonly unknown[] }> = [];
  let db: Kysely<Database>;

  beforeAll(async () => {
    database = await createTestDatabase();
    // A month of partitions ahead, and a history of 60,000 rows in today's, analysed.
    await createHistoryPartitions(database.db, new Date(), 30);
    const row = challengeRow();
    await sql`
      INSERT INTO otp_challenges (id, channel, purpose, recipient_hash, recipient_sealed, recipient_masked, locale,
        code_hashes, status, send_count, attempt_count, max_attempts, max_sends, expires_at, resend_available_at,
        delivery_status, delivery_updated_at, created_at)
      SELECT gen_random_uuid(), 'email', 'login', decode(md5(g::text), 'hex'), 'sealed', 'a***@example.org', 'en',
        ARRAY['\\x00'::bytea], 'pending', 1, 0, 5, 5, now() + interval '10 minutes', now(), 'queued', now(), now()
      FROM generate_series(1, 60000) AS g`.execute(database.db);
    await database.db.insertInto('otp_challenges').values(row).execute();
    await sql`ANALYZE`.execute(database.db);
    pool = new pg.Pool({ connectionString: database.url, max: 1 });
    db = new Kysely<Database>({
      dialect: new PostgresDialect({ pool }),
      log: (event) => {
        if (event.level === 'query') statements.push({ sql: event.query.sql, parameters: event.query.parameters });
      },
    });
    const at = new Date();
    await countVerificationAttempt(
      db,
      row.id,
      { maxFailures: 10, failureWindowEndsAt: new Date(at.getTime() + 900_000), at },
      ['login'],
    );
  });
  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
  });

  it('is estimated far below jit_above_cost', async () => {
    const statement = statements.find((s) => s.sql.includes('WITH target AS'));
    expect(statement).toBeDefined();
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query(`EXPLAIN (FORMAT JSON) ${statement?.sql}`, [
        ...(statement?.parameters ?? []),
      ]);
      await client.query('ROLLBACK');
      const cost = (rows[0]['QUERY PLAN'] as Array<{ Plan: { 'Total Cost': number } }>)[0]?.Plan['Total Cost'];
      const partitions = await client.query(
        `SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = 'otp_challenges'::regclass`,
      );
      expect(partitions.rows[0].n).toBeGreaterThan(30);
      expect(cost).toBeLessThan(10_000);
    } finally {
      client.release();
    }
  });
});
