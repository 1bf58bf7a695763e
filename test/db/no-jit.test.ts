import { createDb, type Database, type Kysely, sql } from '@otp/db';
import { createTestDatabase, type TestDatabase } from '@otp/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The services' sessions never JIT-compile a statement, whatever the server's settings: here the
// database compiles every statement it can (jit on, jit_above_cost 0), and a plain client's plan
// shows the compilation while the services' does not.
describe('JIT off for the services', () => {
  let database: TestDatabase;
  let db: Kysely<Database>;
  const query = 'EXPLAIN (ANALYZE, FORMAT JSON) SELECT sum(x) FROM generate_series(1, 1000) AS x';
  const compiled = (rows: Array<Record<string, unknown>>) => JSON.stringify(rows[0]?.['QUERY PLAN']).includes('"JIT"');

  beforeAll(async () => {
    database = await createTestDatabase();
    const name = new URL(database.url).pathname.slice(1);
    await sql`ALTER DATABASE ${sql.id(name)} SET jit = on`.execute(database.db);
    await sql`ALTER DATABASE ${sql.id(name)} SET jit_above_cost = 0`.execute(database.db);
    db = createDb({ url: database.url, poolSize: 1 });
  });
  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
  });

  it('a plain session of this database compiles the statement (the test can fail)', async () => {
    const client = new pg.Client(database.url);
    await client.connect();
    try {
      expect(compiled((await client.query(query)).rows)).toBe(true);
    } finally {
      await client.end();
    }
  });

  it("the services' default-mode sessions do not, in or out of a transaction", async () => {
    expect(compiled((await sql.raw(query).execute(db)).rows as Array<Record<string, unknown>>)).toBe(false);
    const inTransaction = await db.transaction().execute(async (trx) => (await sql.raw(query).execute(trx)).rows);
    expect(compiled(inTransaction as Array<Record<string, unknown>>)).toBe(false);
    expect((await sql<{ jit: string }>`SHOW jit`.execute(db)).rows[0]?.jit).toBe('off');
  });
});
