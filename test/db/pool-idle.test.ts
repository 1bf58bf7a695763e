// The services' pools keep an unused connection for a minute (connection.ts): a lull of ten
// seconds, pg's own default, must not cost every connection a new Postgres backend.
import { createDb, type Database, type Kysely, sql } from '@otp/db';
import { createTestDatabase, type TestDatabase } from '@otp/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const backendPid = async (db: Kysely<Database>) =>
  (await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(db)).rows[0]?.pid;

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

const opened: Kysely<Database>[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((db) => db.destroy()));
});

describe('pool connections left unused', () => {
  it('keeps its connection through a lull longer than pg’s default 10 s', async () => {
    const db = createDb({ url: database.url, poolSize: 1 });
    opened.push(db);
    const first = await backendPid(db);
    await new Promise((resolve) => setTimeout(resolve, 11_000));
    expect(await backendPid(db)).toBe(first);
  }, 20_000);

  it('closes it after idleTimeoutMs when one is given', async () => {
    const db = createDb({ url: database.url, poolSize: 1, idleTimeoutMs: 100 });
    opened.push(db);
    const first = await backendPid(db);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await backendPid(db)).not.toBe(first);
  });
});
