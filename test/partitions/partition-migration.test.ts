import {
  claimPendingOutbox,
  createDb,
  type Database,
  dropExpiredHistoryPartitions,
  findChallenge,
  insertDeliveryAttempt,
  type Kysely,
  listHistoryPartitions,
  migrateToLatest,
  sql,
} from '@otp/db';
import { createTestDatabase, type TestDatabase } from '@otp/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countHistory, seededChallengeId, seedHistory } from './seed.ts';

// The migration to partitioned history on a database of over a million rows, as `pnpm db:migrate`
// runs it (createDb, one connection, the migrator's one transaction): each statement timed, the
// migrator's locks sampled from a second connection, and a reader's longest wait measured from a
// third. Prints the tables docs/scaling-postgres.md quotes.
const MIGRATION = '2026_12_11_0001_partitioned_history';
const COUNTS = { challenges: 250_000, securityEvents: 300_000, notices: 2_000 };
const APPLICATION = 'otp-migrate-measured';

describe(`migration ${MIGRATION} on a million rows`, () => {
  let database: TestDatabase;
  let before: Record<string, number>;

  beforeAll(async () => {
    database = await createTestDatabase({ migrateBefore: MIGRATION });
    const seeding = performance.now();
    // Seeding is a few statements of hundreds of thousands of rows each: past the services' 5 s
    // statement bound on a busy machine, so it has a connection of its own with a ten-minute one.
    const seeder = createDb({ url: database.url, poolSize: 1, statementTimeoutMs: 600_000 });
    try {
      await seedHistory(seeder, COUNTS);
      await sql`ANALYZE`.execute(seeder);
      before = await countHistory(seeder);
    } finally {
      await seeder.destroy();
    }
    const total = Object.values(before).reduce((sum, n) => sum + n, 0);
    print(`seeded ${total} rows in ${seconds(performance.now() - seeding)}: ${JSON.stringify(before)}`);
    expect(total).toBeGreaterThanOrEqual(1_000_000);
  });
  afterAll(async () => database?.drop());

  it('migrates holding each lock briefly, keeps every row, and the system reads and writes after', async () => {
    const migrator = createDb({
      url: database.url,
      poolSize: 1,
      statementTimeoutMs: 60_000,
      applicationName: APPLICATION,
    });
    const statements: { sql: string; ms: number }[] = [];
    const sampler = await sampleLocks(database.url);
    const reader = await measureReader(database.url);
    const started = performance.now();
    try {
      await migrateToLatest(migrator.withPlugin(timing(statements)));
    } finally {
      await migrator.destroy();
    }
    const migrationMs = performance.now() - started;
    const waits = await reader.stop();
    const locks = await sampler.stop();

    print(`\nmigration ${MIGRATION}: ${seconds(migrationMs)} in one transaction (the migrator's)`);
    print('\nstatements (the slowest 12; every lock a statement takes is held until the commit):');
    for (const s of [...statements].sort((a, b) => b.ms - a.ms).slice(0, 12)) {
      print(`  ${seconds(s.ms).padStart(8)}  ${s.sql.replace(/\s+/g, ' ').slice(0, 110)}`);
    }
    print('\nlocks held by the migrator on the history tables (sampled every 5 ms; first seen → commit):');
    for (const lock of locks) print(`  ${seconds(lock.heldMs).padStart(8)}  ${lock.mode.padEnd(24)} ${lock.relation}`);
    print(
      `\na reader (SELECT of one challenge by id, every 10 ms): ${waits.count} reads, longest ${seconds(waits.longestMs)}, ` +
        `median ${seconds(waits.medianMs)}`,
    );

    expect(await countHistory(database.db)).toEqual(before);
    const db = database.db;
    expect((await findChallenge(db, seededChallengeId(1234)))?.id).toBe(seededChallengeId(1234));
    await insertDeliveryAttempt(db, {
      challenge_id: seededChallengeId(1234),
      send_number: 1,
      channel: 'email',
      provider: 'smtp',
      attempt: 2,
      outcome: 'sent',
      duration_ms: 1,
    });
    await db.transaction().execute((trx) => claimPendingOutbox(trx, 10));
    expect((await listHistoryPartitions(db, 'otp_challenges')).length).toBeGreaterThanOrEqual(4);

    // Retention afterwards: a year on, every partition of the migrated rows drops whole.
    const dropping = performance.now();
    const later = new Date(Date.now() + 365 * 86_400_000);
    const dropped = await dropExpiredHistoryPartitions(db, later, later, later);
    print(
      `\nretention a year later: ${dropped.challengeDays} day(s) of challenges and ${dropped.securityEventWeeks} week(s) ` +
        `of events dropped in ${seconds(performance.now() - dropping)}`,
    );
    expect(dropped.challengeDays).toBeGreaterThanOrEqual(4);
    const left = await countHistory(db);
    expect([left.otp_challenges, left.delivery_attempts, left.security_events]).toEqual([0, 0, 0]);
  });
});

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(3)} s`;
}

type KyselyPlugin = Parameters<Kysely<Database>['withPlugin']>[0];

/** Times each statement: from Kysely handing it to the driver to its result coming back. */
function timing(into: { sql: string; ms: number }[]): KyselyPlugin {
  const started = new WeakMap<object, { at: number; node: unknown }>();
  return {
    transformQuery(args) {
      started.set(args.queryId, { at: performance.now(), node: args.node });
      return args.node;
    },
    async transformResult(args) {
      const start = started.get(args.queryId);
      if (start !== undefined) {
        into.push({ sql: render(start.node), ms: performance.now() - start.at });
      }
      return args.result;
    },
  };
}

/** A raw statement's text with its identifiers and values in place (for the report only). */
function render(node: unknown): string {
  const n = node as { kind: string; sqlFragments?: readonly string[]; parameters?: readonly unknown[] };
  if (n.kind === 'IdentifierNode') return (node as { name: string }).name;
  if (n.kind === 'ValueNode') return String((node as { value: unknown }).value);
  if (n.kind !== 'RawNode') return n.kind;
  const fragments = n.sqlFragments ?? [];
  return fragments.map((text, i) => (i < fragments.length - 1 ? text + render(n.parameters?.[i]) : text)).join('');
}

/** Samples the migrator's granted relation locks; returns, per lock, how long it was seen held. */
async function sampleLocks(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const seen = new Map<string, { oid: number; mode: string; first: number; last: number }>();
  let running = true;
  const loop = (async () => {
    while (running) {
      const result = await client.query<{ relation: number; mode: string }>(
        `SELECT l.relation, l.mode FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE a.application_name = $1 AND l.locktype = 'relation' AND l.granted`,
        [APPLICATION],
      );
      const now = performance.now();
      for (const row of result.rows) {
        const key = `${row.relation}:${row.mode}`;
        const entry = seen.get(key);
        if (entry === undefined) seen.set(key, { oid: row.relation, mode: row.mode, first: now, last: now });
        else entry.last = now;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      const names = await client.query<{ oid: number; name: string }>(
        'SELECT oid::int AS oid, relname AS name FROM pg_class WHERE oid = ANY($1::oid[])',
        [[...new Set([...seen.values()].map((entry) => entry.oid))]],
      );
      await client.end();
      const name = new Map(names.rows.map((row) => [row.oid, row.name]));
      const history = /^(otp_challenges|delivery_attempts|delivery_outbox|security_events|notifications)(_legacy)?$/;
      return [...seen.values()]
        .map((entry) => ({
          relation: name.get(entry.oid) ?? `(dropped ${entry.oid})`,
          mode: entry.mode,
          heldMs: entry.last - entry.first,
        }))
        .filter((entry) => history.test(entry.relation))
        .sort((a, b) => a.relation.localeCompare(b.relation) || b.heldMs - a.heldMs);
    },
  };
}

/** A reader of one challenge by id every 10 ms while the migration runs: how long each read waited. */
async function measureReader(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const durations: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const at = performance.now();
      await client.query('SELECT id FROM otp_challenges WHERE id = $1', [seededChallengeId(42)]);
      durations.push(performance.now() - at);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await client.end();
      const sorted = [...durations].sort((a, b) => a - b);
      return {
        count: sorted.length,
        longestMs: sorted.at(-1) ?? 0,
        medianMs: sorted[Math.floor(sorted.length / 2)] ?? 0,
      };
    },
  };
}
