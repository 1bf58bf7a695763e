// `pnpm db:migrate`: applies pending migrations to DATABASE_URL (read from the environment or .env).
import { existsSync } from 'node:fs';
import { createDb, migrateToLatest } from './connection.ts';

if (existsSync('.env')) process.loadEnvFile('.env');
const url = process.env.DATABASE_URL;
if (url === undefined || url === '') {
  process.stderr.write('DATABASE_URL: required but not set\n');
  process.exit(1);
}
const db = createDb({ url, poolSize: 1, statementTimeoutMs: 60_000, applicationName: 'otp-migrate' });
try {
  const { applied } = await migrateToLatest(db);
  process.stdout.write(
    applied.length === 0 ? 'migrations: up to date\n' : `migrations applied: ${applied.join(', ')}\n`,
  );
} catch (error) {
  process.stderr.write(`migration failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await db.destroy();
}
