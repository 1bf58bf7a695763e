import { sql } from '@otp/db';
import { createTestDatabase, type TestDatabase } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

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
});
