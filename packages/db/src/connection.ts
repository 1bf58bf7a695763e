import { Kysely, PostgresDialect } from 'kysely';
import { type MigrationResultSet, Migrator, NO_MIGRATIONS } from 'kysely/migration';
import pg from 'pg';
import type { Database } from './database.ts';
import { migrations } from './migrations/index.ts';
import { preparedStatementPool, unnamedStatementPool } from './prepared-pool.ts';
import { TransactionPoolerAdapter, TransactionPoolerDialect } from './transaction-pooler.ts';

// bigint (int8) columns come back as strings by default; ours are ids and counts that fit.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => value);

export interface DbOptions {
  url: string;
  /** Pool size per process. */
  poolSize?: number;
  /** Bound on each statement, so a stalled database turns into an error, not a hung request. */
  statementTimeoutMs?: number;
  /** Bound on waiting for a pool connection or a new connection. */
  connectionTimeoutMs?: number;
  /**
   * How long Postgres lets a session sit idle inside a transaction before it ends the session.
   * A client that gives up on a stalled connection closes its socket, but when the network
   * between them is what stalled, Postgres never hears of it and would keep the transaction,
   * and its row locks, for as long as TCP keepalive takes (two hours by default). The outbox
   * relay claims rows with `FOR UPDATE SKIP LOCKED`: rows locked by such a ghost would be
   * skipped by every relay, and their messages never sent. Default 10 s: above the longest wait
   * inside one of our transactions (the relay's bounded queue add).
   */
  idleInTransactionTimeoutMs?: number;
  applicationName?: string;
  /**
   * How long a pooled connection may sit unused before the pool closes it. Default 60 s, not pg's
   * 10 s: a new connection is a new Postgres backend, whose first statements on each partitioned
   * table load every partition's catalogue entries and plan from scratch (8 ms for a lookup that
   * takes 1.5 ms on the second call), so a replica that reopened its whole pool after every lull
   * of ten seconds paid that on the first sign-ins after it. The pool never holds more than
   * `poolSize`, so keeping them open costs no connection the budget did not already count.
   */
  idleTimeoutMs?: number;
  /**
   * 'none' (default): Postgres itself or a session-mode pooler; named prepared statements, the
   * timeouts sent as connection settings. 'transaction': a transaction-mode pooler (PgBouncer
   * pool_mode=transaction, RDS Proxy, Supavisor), which keeps no session for a client between
   * transactions: unnamed statements, the timeouts set inside each transaction
   * (transaction-pooler.ts).
   */
  pooler?: 'none' | 'transaction';
}

const IDLE_TIMEOUT_MS = 60_000;

/** The services' sessions never JIT-compile a statement (sent as the connection's `options`). */
const NO_JIT = '-c jit=off';

export function createDb(options: DbOptions): Kysely<Database> {
  if (options.pooler === 'transaction') return createPooledDb(options);
  const statementTimeoutMs = options.statementTimeoutMs ?? 5000;
  const pool = newPool(options, {
    statement_timeout: statementTimeoutMs,
    query_timeout: statementTimeoutMs + 1000,
    idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs ?? 10_000,
    // No JIT compilation: it pays off for long analytical queries, never for statements that take
    // a millisecond, and a planner's overestimate past jit_above_cost turns one into 300 ms of CPU.
    options: NO_JIT,
    // A transaction's BEGIN and its write-behind statements are written with the statement after
    // them instead of on their own (prepared-pool.ts); every other query still waits its turn.
    pipeline: true,
  });
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: preparedStatementPool(pool) }) });
}

function createPooledDb(options: DbOptions): Kysely<Database> {
  const statementTimeoutMs = options.statementTimeoutMs ?? 5000;
  // No statement_timeout or idle_in_transaction_session_timeout at start-up: PgBouncer refuses
  // start-up parameters it does not track, and would not carry them to the server connection that
  // runs the next transaction anyway. application_name it tracks and sets per client.
  const pool = newPool(options, {
    // The one bound on statements outside a transaction that needs nothing from the server.
    query_timeout: statementTimeoutMs + 1000,
  });
  const dialect = new TransactionPoolerDialect(
    { pool: unnamedStatementPool(pool) },
    { statementTimeoutMs, idleInTransactionTimeoutMs: options.idleInTransactionTimeoutMs ?? 10_000 },
  );
  return new Kysely<Database>({ dialect });
}

/** The pool of either mode: what both set from `options`, plus the mode's own `settings`. */
function newPool(options: DbOptions, settings: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 2000,
    idleTimeoutMillis: options.idleTimeoutMs ?? IDLE_TIMEOUT_MS,
    application_name: options.applicationName ?? 'otp',
    ...settings,
  });
  // An idle client that loses its connection emits 'error' on the pool; without a listener that
  // would crash the process. The next query gets a fresh connection.
  pool.on('error', () => {});
  return pool;
}

export interface MigrationOutcome {
  applied: string[];
}

function outcome({ error, results }: MigrationResultSet): MigrationOutcome {
  if (error !== undefined) throw error instanceof Error ? error : new Error(String(error));
  return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}

function migrator(db: Kysely<Database>): Migrator {
  return new Migrator({ db, provider: { getMigrations: async () => migrations } });
}

/**
 * Runs `step` with a migrator. Through a transaction pooler the whole run is one transaction of
 * ours, holding the transaction-scoped lock (TransactionPoolerAdapter); a failed migration throws
 * inside it, so nothing of the run is kept. Otherwise Kysely's own flow, as it always was.
 */
async function runMigrator(
  db: Kysely<Database>,
  step: (migrator: Migrator) => Promise<MigrationResultSet>,
): Promise<MigrationOutcome> {
  if (!(db.getExecutor().adapter instanceof TransactionPoolerAdapter)) return outcome(await step(migrator(db)));
  return db.transaction().execute(async (trx) => outcome(await step(migrator(trx))));
}

/** Runs every pending migration; the same code runs in tests, `pnpm db:migrate` and compose. */
export async function migrateToLatest(db: Kysely<Database>): Promise<MigrationOutcome> {
  return runMigrator(db, (m) => m.migrateToLatest());
}

/**
 * Runs the pending migrations that sort before `name`, not `name` itself: the test of a migration
 * that converts rows seeds them in the schema before it, then runs `migrateToLatest`.
 */
export async function migrateToBefore(db: Kysely<Database>, name: string): Promise<MigrationOutcome> {
  if (!(name in migrations)) throw new Error(`no migration named ${name}`);
  const earlier = Object.keys(migrations)
    .filter((other) => other < name)
    .sort()
    .at(-1);
  return runMigrator(db, (m) => m.migrateTo(earlier ?? NO_MIGRATIONS));
}

/** True when Postgres answers a trivial query; used by readiness checks. */
export async function pingDb(db: Kysely<Database>): Promise<boolean> {
  try {
    await db.selectNoFrom((eb) => eb.val(1).as('one')).execute();
    return true;
  } catch {
    return false;
  }
}
