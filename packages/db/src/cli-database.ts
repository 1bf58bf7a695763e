import { existsSync } from 'node:fs';
import { ConfigError, DatabasePooler, PostgresUrl, parseConfig } from '@otp/domain';
import Type from 'typebox';

/**
 * A command's database settings, read and checked as the services read them: ENV_FILE names
 * another file than .env (empty: none), DATABASE_URL may be given as DATABASE_URL_FILE, and a bad
 * or missing value stops the command naming the variable.
 */
export function commandDatabaseSettings(): { url: string; pooler: 'none' | 'transaction' } {
  const envFile = process.env.ENV_FILE ?? '.env';
  if (envFile !== '' && existsSync(envFile)) process.loadEnvFile(envFile);
  try {
    const config = parseConfig(
      Type.Object({ DATABASE_URL: PostgresUrl, DATABASE_POOLER: DatabasePooler }),
      process.env,
    );
    return { url: config.DATABASE_URL, pooler: config.DATABASE_POOLER };
  } catch (error) {
    process.stderr.write(`${error instanceof ConfigError ? error.problems.join('\n') : String(error)}\n`);
    process.exit(1);
  }
}
