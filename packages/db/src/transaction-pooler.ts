import {
  CompiledQuery,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  type Kysely,
  PostgresAdapter,
  PostgresDialect,
  type PostgresDialectConfig,
  PostgresDriver,
  sql,
  type TransactionSettings,
} from 'kysely';

/** The bounds a direct connection sets at start-up, here set inside each transaction instead. */
export interface TransactionTimeouts {
  statementTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
}

/**
 * Kysely's Postgres dialect for a transaction-mode pooler (PgBouncer pool_mode=transaction, RDS
 * Proxy, Supavisor), where each transaction may run on a different server connection, shared
 * with other clients. Session settings cannot be relied on there, so:
 * - every transaction starts with `SET LOCAL statement_timeout`,
 *   `SET LOCAL idle_in_transaction_session_timeout` and `SET LOCAL jit = off` (createDb says why),
 *   sent in the same simple-protocol message as BEGIN (no extra round trip), and gone at COMMIT,
 *   so they never leak to another client;
 * - the migration lock is transaction-scoped (see TransactionPoolerAdapter).
 * Statements outside a transaction are bounded by pg's client-side query_timeout (createDb), and
 * server-side by the role's settings (docs/scaling-postgres.md), which should also turn JIT off.
 */
export class TransactionPoolerDialect extends PostgresDialect {
  readonly #config: PostgresDialectConfig;
  readonly #timeouts: TransactionTimeouts;

  constructor(config: PostgresDialectConfig, timeouts: TransactionTimeouts) {
    super(config);
    for (const [name, value] of Object.entries(timeouts)) {
      // They are written into the SQL text: only whole milliseconds may get there.
      if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a whole number of ms`);
    }
    this.#config = config;
    this.#timeouts = timeouts;
  }

  override createDriver(): Driver {
    return new TransactionPoolerDriver(this.#config, this.#timeouts);
  }

  override createAdapter(): DialectAdapter {
    return new TransactionPoolerAdapter();
  }
}

class TransactionPoolerDriver extends PostgresDriver {
  readonly #setLocal: string;

  constructor(config: PostgresDialectConfig, timeouts: TransactionTimeouts) {
    super(config);
    this.#setLocal =
      `set local statement_timeout = ${timeouts.statementTimeoutMs}; ` +
      `set local idle_in_transaction_session_timeout = ${timeouts.idleInTransactionTimeoutMs}; ` +
      'set local jit = off';
  }

  // Kysely's own BEGIN (or START TRANSACTION with the settings), followed by the bounds.
  override async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const begin =
      settings.isolationLevel === undefined && settings.accessMode === undefined
        ? 'begin'
        : [
            'start transaction',
            settings.isolationLevel && `isolation level ${settings.isolationLevel}`,
            settings.accessMode,
          ]
            .filter(Boolean)
            .join(' ');
    await connection.executeQuery(CompiledQuery.raw(`${begin}; ${this.#setLocal}`));
  }
}

/** The key Kysely's PostgresAdapter locks, so a direct `pnpm db:migrate` and one through the pooler exclude each other. */
const MIGRATION_LOCK_ID = '3853314791062309107';

/**
 * Kysely's PostgresAdapter takes the migration lock with the session-level `pg_advisory_lock`
 * before its transaction and releases it after: through a transaction pooler the lock, the
 * migrations and the unlock may each run on a different server connection, and the lock would
 * stay held on one of them. Here it is `pg_advisory_xact_lock` inside the migrations'
 * transaction (migrateToLatest opens it), released by COMMIT or ROLLBACK on the same connection.
 */
export class TransactionPoolerAdapter extends PostgresAdapter {
  override async acquireMigrationLock(db: Kysely<unknown>): Promise<void> {
    if (!db.isTransaction) throw new Error('through a transaction pooler, migrations run inside one transaction');
    await sql`select pg_advisory_xact_lock(${sql.lit(MIGRATION_LOCK_ID)}::bigint)`.execute(db);
  }

  override async releaseMigrationLock(): Promise<void> {
    // Released with the transaction.
  }
}
