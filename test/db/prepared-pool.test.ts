import type { Writable } from 'node:stream';
import { type Database, Kysely, PostgresDialect, preparedStatementPool, sql, WRITE_BEHIND } from '@otp/db';
import { createTestDatabase, type TestDatabase } from '@otp/testkit';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

describe('prepared statement pool', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('prepares each parameterised statement once per connection and reuses it', async () => {
    await database.db.connection().execute(async (connection) => {
      const lookup = (id: string) => connection.selectFrom('users').select('id').where('id', '=', id).execute();
      await lookup('00000000-0000-4000-8000-000000000001');
      await lookup('00000000-0000-4000-8000-000000000002');
      const prepared = await sql<{ statement: string }>`SELECT statement FROM pg_prepared_statements`.execute(
        connection,
      );
      const lookups = prepared.rows.filter((row) => row.statement.includes('from "users"'));
      expect(lookups).toHaveLength(1);
    });
  });

  it('runs statements without parameters as they are', async () => {
    const result = await sql<{ one: number }>`SELECT 1 AS one`.execute(database.db);
    expect(result.rows).toEqual([{ one: 1 }]);
  });

  it('sends a Date as the instant it names, to the millisecond, whatever the session time zone', async () => {
    const instant = new Date('2026-12-06T23:59:59.987Z');
    await database.db.connection().execute(async (connection) => {
      await sql`SET TIME ZONE 'Pacific/Kiritimati'`.execute(connection);
      const { rows } = await sql<{ at: Date; epoch: string }>`
        SELECT ${instant}::timestamptz AS at, extract(epoch FROM ${instant}::timestamptz)::text AS epoch`.execute(
        connection,
      );
      await sql`RESET TIME ZONE`.execute(connection);
      expect(rows[0]?.at.getTime()).toBe(instant.getTime());
      expect(rows[0]?.epoch).toBe('1796601599.987000');
    });
  });

  it('fails the statement, and only it, for an invalid Date', async () => {
    const invalid = new Date(Number.NaN);
    await expect(sql`SELECT ${invalid}::timestamptz AS at`.execute(database.db)).rejects.toBeInstanceOf(
      pg.DatabaseError,
    );
    const result = await sql<{ one: number }>`SELECT 1 AS one`.execute(database.db);
    expect(result.rows).toEqual([{ one: 1 }]);
  });
});

/**
 * A transaction's BEGIN travels with its first statement, and a write-behind statement with the
 * statement after it (prepared-pool.ts): one pool of one connection in pg's pipeline mode, as
 * createDb makes it, whose socket writes are counted.
 */
describe('prepared statement pool: what a transaction holds back', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  let db: Kysely<Database>;
  let writes = 0;
  const insert = (id: number) => sql`INSERT INTO pipeline_probe (id) VALUES (${id}::int)`;
  const writeBehind = (id: number) => sql`${sql.raw(WRITE_BEHIND)}INSERT INTO pipeline_probe (id) VALUES (${id}::int)`;
  const stored = async () =>
    (await sql<{ id: number }>`SELECT id FROM pipeline_probe ORDER BY id`.execute(database.db)).rows.map((r) => r.id);

  beforeAll(async () => {
    database = await createTestDatabase();
    await sql`CREATE TABLE pipeline_probe (id int PRIMARY KEY)`.execute(database.db);
    pool = new pg.Pool({ connectionString: database.url, max: 1, pipeline: true });
    pool.on('connect', (client) => {
      // Each flush of the socket is one write: a corked group of messages goes as one.
      const stream = (client as unknown as { connection: { stream: Writable } }).connection.stream;
      for (const method of ['_write', '_writev'] as const) {
        const original = stream[method];
        if (original === undefined) continue;
        (stream as unknown as Record<string, unknown>)[method] = function (this: Writable, ...args: unknown[]) {
          writes += 1;
          return (original as (...a: unknown[]) => unknown).apply(this, args);
        };
      }
    });
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: preparedStatementPool(pool) }) });
    await sql`SELECT 1`.execute(db); // connected, so the counts below are the statements' own
  });
  beforeEach(async () => {
    await sql`TRUNCATE pipeline_probe`.execute(database.db);
    writes = 0;
  });
  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
  });

  it('sends BEGIN with the first statement, which runs inside the transaction', async () => {
    const failure = new Error('the work failed');
    await expect(
      db.transaction().execute(async (trx) => {
        await insert(1).execute(trx);
        // Not committed: another connection does not see it.
        expect(await stored()).toEqual([]);
        throw failure;
      }),
    ).rejects.toBe(failure);
    // Rolled back: had BEGIN not been applied before it, the insert would have committed alone.
    expect(await stored()).toEqual([]);
    expect(writes).toBe(2); // BEGIN + INSERT, then ROLLBACK

    writes = 0;
    await db.transaction().execute(async (trx) => {
      await insert(2).execute(trx);
      await insert(3).execute(trx);
    });
    expect(await stored()).toEqual([2, 3]);
    expect(writes).toBe(3); // BEGIN + INSERT, INSERT, COMMIT
  });

  it('sends a write-behind statement with the COMMIT, and commits it with the rest', async () => {
    await db.transaction().execute(async (trx) => {
      await insert(1).execute(trx);
      const behind = await writeBehind(2).execute(trx);
      expect(behind.rows).toEqual([]);
      // The next statement carries it, so the transaction sees it.
      expect((await sql<{ n: number }>`SELECT count(*)::int AS n FROM pipeline_probe`.execute(trx)).rows).toEqual([
        { n: 2 },
      ]);
    });
    expect(await stored()).toEqual([1, 2]);
  });

  it('holds a write-behind statement until the next statement, whose round trip it shares', async () => {
    await db.transaction().execute(async (trx) => {
      await insert(1).execute(trx);
      await writeBehind(2).execute(trx);
    });
    expect(await stored()).toEqual([1, 2]);
    expect(writes).toBe(2); // BEGIN + INSERT, write-behind INSERT + COMMIT
  });

  it("fails the commit with a write-behind statement's error, and keeps nothing of the transaction", async () => {
    const outcome = db.transaction().execute(async (trx) => {
      await insert(1).execute(trx);
      await writeBehind(1).execute(trx); // the same key: a unique violation, known only at the commit
      return 'committed';
    });
    await expect(outcome).rejects.toMatchObject({ code: '23505' });
    expect(await stored()).toEqual([]);
    // The connection was not broken by it: the one connection of the pool serves the next work.
    await db.transaction().execute(async (trx) => {
      await insert(5).execute(trx);
    });
    expect(await stored()).toEqual([5]);
  });

  it('sends nothing for a transaction that ends before its first statement', async () => {
    const failure = new Error('refused before any statement');
    await expect(
      db.transaction().execute(async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(writes).toBe(0);
    // The connection is in no transaction: a statement after it commits on its own.
    await insert(7).execute(db);
    expect(await stored()).toEqual([7]);
  });

  it('runs a write-behind statement at once outside a transaction', async () => {
    await writeBehind(9).execute(db);
    expect(await stored()).toEqual([9]);
  });

  it("rolls back a transaction's held write-behind statement with it", async () => {
    const failure = new Error('the work failed after its write-behind');
    await expect(
      db.transaction().execute(async (trx) => {
        await insert(1).execute(trx);
        await writeBehind(2).execute(trx);
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await stored()).toEqual([]);
  });
});
