// `pnpm db:migrate`: applies pending migrations to DATABASE_URL (read from the environment or .env).
import { existsSync } from 'node:fs';
import { ConfigError, DatabasePooler, PostgresUrl, parseConfig } from '@otp/domain';
import type { Kysely } from 'kysely';
import Type from 'typebox';
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

// ENV_FILE names another file than .env (empty: none), as for the services.
const envFile = process.env.ENV_FILE ?? '.env';
if (envFile !== '' && existsSync(envFile)) process.loadEnvFile(envFile);
let url: string;
let pooler: 'none' | 'transaction';
try {
  // Checked as the services check it; DATABASE_URL_FILE works here too.
  ({ DATABASE_URL: url, DATABASE_POOLER: pooler } = parseConfig(
    Type.Object({ DATABASE_URL: PostgresUrl, DATABASE_POOLER: DatabasePooler }),
    process.env,
  ));
} catch (error) {
  process.stderr.write(`${error instanceof ConfigError ? error.problems.join('\n') : String(error)}\n`);
  process.exit(1);
}
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
