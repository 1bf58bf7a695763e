// `pnpm db:migrate`: applies pending migrations to DATABASE_URL (read from the environment or .env).
import type { Kysely } from 'kysely';
import { commandDatabaseSettings } from './cli-database.ts';
import { createDb, migrateToLatest } from './connection.ts';
import type { Database } from './database.ts';
import { findEmailIdentityGroups } from './email-identity.repository.ts';

/** Says how many accounts the email normal form could not take over: they wait for an operator. */
async function reportEmailIdentity(db: Kysely<Database>): Promise<void> {
  const groups = await findEmailIdentityGroups(db);
  if (groups.length === 0) return;
  const accounts = groups.reduce((sum, group) => sum + group.accounts.length, 0);
  process.stdout.write(
    `email addresses: ${accounts} account(s) on ${groups.length} address(es) wait for \`pnpm accounts:conflicts\` (docs/operating.md, Upgrade notes)\n`,
  );
}

const { url, pooler } = commandDatabaseSettings();
const db = createDb({ url, pooler, poolSize: 1, statementTimeoutMs: 60_000, applicationName: 'otp-migrate' });
try {
  const { applied } = await migrateToLatest(db);
  process.stdout.write(
    applied.length === 0 ? 'migrations: up to date\n' : `migrations applied: ${applied.join(', ')}\n`,
  );
} catch (error) {
  process.stderr.write(`migration failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
try {
  if (process.exitCode !== 1) await reportEmailIdentity(db);
} catch (error) {
  // The migrations are in; a failed count must not fail the release.
  process.stderr.write(`email address check failed: ${(error as Error).message}\n`);
} finally {
  await db.destroy();
}
