import { randomBytes } from 'node:crypto';
import {
  createDb,
  createHistoryPartitions,
  type Database,
  dropExpiredHistoryPartitions,
  type Kysely,
  listHistoryPartitions,
  migrateToLatest,
  sql,
} from '@otp/db';
import { createTestDatabase, type PgBouncer, startPgBouncer, type TestDatabase } from '@otp/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// What DATABASE_POOLER=transaction is for, against a real PgBouncer in transaction mode with one
// server connection per database, so every client's transactions share it: the default mode's
// start-up parameters and named prepared statements fail there, the transaction mode works, keeps
// its timeouts inside each transaction, and migrates under a lock that cannot outlive it.
let database: TestDatabase;
let bouncer: PgBouncer;
const opened: Array<Kysely<Database>> = [];
const open = (db: Kysely<Database>) => {
  opened.push(db);
  return db;
};
const through = (options: Partial<Parameters<typeof createDb>[0]> = {}) =>
  open(createDb({ url: bouncer.url, pooler: 'transaction', poolSize: 4, ...options }));
const lookup = (db: Kysely<Database>, id: string) => db.selectFrom('users').select('id').where('id', '=', id).execute();
const ID = '00000000-0000-4000-8000-000000000001';

beforeAll(async () => {
  database = await createTestDatabase();
  bouncer = await startPgBouncer({ upstreamUrl: database.url, poolSize: 1 });
});

afterAll(async () => {
  await Promise.allSettled(opened.map((db) => db.destroy()));
  await bouncer?.stop();
  await database?.drop();
});

describe('DATABASE_POOLER=none through PgBouncer in transaction mode', () => {
  it('cannot connect: PgBouncer refuses the timeouts sent as start-up parameters', async () => {
    const db = open(createDb({ url: bouncer.url, pooler: 'none', poolSize: 1 }));
    await expect(lookup(db, ID)).rejects.toThrow(/unsupported startup parameter: statement_timeout/);
  });

  it('breaks on named prepared statements once two clients share a server connection', async () => {
    // Named statements as the default mode's pool sends them (prepared-pool.ts), from two clients
    // without the start-up parameters, to reach the next failure.
    const clients = [new pg.Client(bouncer.url), new pg.Client(bouncer.url)];
    try {
      await Promise.all(clients.map((client) => client.connect()));
      const named = { name: 'k-lookup', text: 'select id from users where id = $1', values: [ID] };
      await clients[0]?.query(named); // prepared on the one server connection
      // The other client prepares it under the same name on that same server connection.
      await expect(clients[1]?.query(named)).rejects.toMatchObject({ code: '42P05' }); // duplicate_prepared_statement
    } finally {
      await Promise.allSettled(clients.map((client) => client.end()));
    }
  });
});

describe('DATABASE_POOLER=transaction through PgBouncer in transaction mode', () => {
  it('runs parameterised statements and transactions from many clients on one server connection', async () => {
    const db = through();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        index % 2 === 0
          ? lookup(db, ID)
          : db.transaction().execute(async (trx) => {
              await lookup(trx, ID);
              return sql<{ n: number }>`select ${index}::int as n`.execute(trx).then((r) => r.rows);
            }),
      ),
    );
    expect(results.filter((rows) => rows.length === 1).map((rows) => rows[0])).toEqual(
      Array.from({ length: 10 }, (_, i) => ({ n: 2 * i + 1 })),
    );
  });

  it('sets the timeouts (and JIT off) inside each transaction, and they do not outlive it on the shared connection', async () => {
    const db = through({ statementTimeoutMs: 1234, idleInTransactionTimeoutMs: 4321 });
    const inside = await db.transaction().execute(async (trx) => {
      const statement = await sql<{ statement_timeout: string }>`show statement_timeout`.execute(trx);
      const idle = await sql<{
        idle_in_transaction_session_timeout: string;
      }>`show idle_in_transaction_session_timeout`.execute(trx);
      const jit = await sql<{ jit: string }>`show jit`.execute(trx);
      return [
        statement.rows[0]?.statement_timeout,
        idle.rows[0]?.idle_in_transaction_session_timeout,
        jit.rows[0]?.jit,
      ];
    });
    expect(inside).toEqual(['1234ms', '4321ms', 'off']);
    // Outside a transaction the same (only) server connection no longer has them.
    const after = await sql<{ statement_timeout: string }>`show statement_timeout`.execute(db);
    expect(after.rows[0]?.statement_timeout).not.toBe('1234ms');
  });

  it('bounds a stalled statement inside a transaction on the server', async () => {
    const db = through({ statementTimeoutMs: 200 });
    const stalled = db.transaction().execute((trx) => sql`select pg_sleep(5)`.execute(trx));
    await expect(stalled).rejects.toMatchObject({ code: '57014' }); // query_canceled by statement_timeout
  });

  it('bounds a statement outside a transaction on the client (query_timeout)', async () => {
    const db = through({ statementTimeoutMs: 200 });
    await expect(sql`select pg_sleep(5)`.execute(db)).rejects.toThrow(/Query read timeout/);
  });

  it('ends a transaction left idle (a ghost) on the server, releasing its locks', async () => {
    const db = through({ idleInTransactionTimeoutMs: 300 });
    const ghost = await db.startTransaction().execute();
    const pid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(ghost)).rows[0]?.pid;
    const alive = async () =>
      (await sql<{ n: string }>`select count(*) as n from pg_stat_activity where pid = ${pid}`.execute(database.db))
        .rows[0]?.n === '1';
    const deadline = Date.now() + 10_000;
    while ((await alive()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await alive()).toBe(false);
    await ghost
      .rollback()
      .execute()
      .catch(() => {});
  });

  it('keeps the history partitions (create ahead, drop old) from two replicas at once, each in one transaction', async () => {
    const replicas = [through(), through()];
    const at = new Date(Date.now() + 30 * 86_400_000);
    const created = await Promise.all(replicas.map((db) => createHistoryPartitions(db, at, 7)));
    // The advisory lock is the transaction's: the replicas take turns, and the second finds them made.
    expect(created.sort((a, b) => a - b)[0]).toBe(0);
    expect(created[1]).toBeGreaterThan(0);
    const later = new Date(at.getTime() + 400 * 86_400_000);
    const dropped = await Promise.all(replicas.map((db) => dropExpiredHistoryPartitions(db, later, later, later)));
    expect(dropped.map((d) => d.challengeDays).sort((a, b) => a - b)[0]).toBe(0);
    expect(await listHistoryPartitions(database.db, 'otp_challenges')).toEqual([]);
    // Back to a week ahead of now, for the tests after this one.
    await createHistoryPartitions(replicas[0] as Kysely<Database>, new Date(), 7);
  });

  it('takes the migration lock for the transaction only, so no server connection keeps it', async () => {
    const db = through();
    const { adapter } = db.getExecutor();
    const options = { lockTable: 'kysely_migration_lock', lockRowId: 'migration_lock' };
    const advisoryLocks = async () =>
      (
        await sql<{ n: string }>`
          select count(*) as n from pg_locks
          where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())`.execute(
          database.db,
        )
      ).rows[0]?.n;
    await expect(adapter.acquireMigrationLock(db, options)).rejects.toThrow(/inside one transaction/);
    const during = await db.transaction().execute(async (trx) => {
      await adapter.acquireMigrationLock(trx, options);
      return advisoryLocks();
    });
    expect(during).toBe('1');
    expect(await advisoryLocks()).toBe('0');
  });

  it('migrates through the pooler, one migrator at a time, and leaves no lock behind', async () => {
    const name = `otp_test_bouncer_${randomBytes(4).toString('hex')}`;
    await sql.raw(`create database ${name}`).execute(database.db);
    const url = new URL(bouncer.url);
    url.pathname = `/${name}`;
    try {
      const migrators = [0, 1].map(() => open(createDb({ url: url.toString(), pooler: 'transaction', poolSize: 1 })));
      const outcomes = await Promise.all(migrators.map((db) => migrateToLatest(db)));
      const applied = outcomes.map((outcome) => outcome.applied.length).sort((a, b) => a - b);
      // The lock serialises them: one applies every migration, the other finds none pending.
      expect(applied[0]).toBe(0);
      expect(applied[1]).toBeGreaterThan(10);
      const locks = await sql<{ n: string }>`
        select count(*) as n from pg_locks
        where locktype = 'advisory' and database = (select oid from pg_database where datname = ${name})`.execute(
        database.db,
      );
      expect(locks.rows[0]?.n).toBe('0');
      await Promise.all(migrators.map((db) => db.destroy()));
    } finally {
      await sql.raw(`drop database if exists ${name} with (force)`).execute(database.db);
    }
  });
});
