import { randomBytes } from 'node:crypto';
import { createDb, type Database, migrateToBefore, migrateToLatest } from '@otp/db';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { inject } from 'vitest';

export interface TestDatabase {
  /** Connection string of this file's own database. */
  url: string;
  db: Kysely<Database>;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

export interface TestDatabaseOptions {
  /**
   * Migrate only up to the migration before this one, for its test to seed the rows it converts
   * (then `migrateToLatest`). Default: every migration.
   */
  migrateBefore?: string;
}

/**
 * A fresh database for one test file, migrated exactly as production is, so test files run in
 * parallel without seeing each other's rows.
 */
export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const adminUrl = inject('databaseUrl');
  const name = uniqueName('otp_test');
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = createDb({ url: url.toString(), poolSize: 10, applicationName: 'otp-test' });
  if (options.migrateBefore === undefined) await migrateToLatest(db);
  else await migrateToBefore(db, options.migrateBefore);
  return {
    url: url.toString(),
    db,
    async drop() {
      await db.destroy();
      const cleanup = new pg.Client({ connectionString: adminUrl });
      await cleanup.connect();
      try {
        await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await cleanup.end();
      }
    },
  };
}

export function testRedisUrl(): string {
  return inject('redisUrl');
}

/** A BullMQ prefix of this file's own, so queues of parallel test files never meet. */
export function uniqueQueuePrefix(): string {
  return `{${uniqueName('otp-test')}}`;
}

/** A fresh key ring value in the `id:base64` format the services read. */
export function testKeyRing(id = 'test'): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}

/** A random base64 secret of `bytes` bytes (HMAC keys). */
export function testSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64');
}
