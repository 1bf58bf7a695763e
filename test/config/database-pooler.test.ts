import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ConfigError, parseConfig } from '@otp/domain';
import { describe, expect, it } from 'vitest';
import { SERVICE_SCHEMAS } from './service-schemas.ts';

// DATABASE_POOLER is read by every service and command that takes DATABASE_URL; a value that is
// neither mode must stop it at start, naming the variable, never run in a mode it did not ask for.
// The commands check DATABASE_URL as the services do too.
function problems(schema: (typeof SERVICE_SCHEMAS)[keyof typeof SERVICE_SCHEMAS], value: string): string[] {
  try {
    parseConfig(schema, { DATABASE_POOLER: value });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('DATABASE_POOLER', () => {
  it.each(Object.entries(SERVICE_SCHEMAS))('is read by the %s, none by default', (_service, schema) => {
    const property = schema.properties.DATABASE_POOLER as { default?: unknown } | undefined;
    expect(property?.default).toBe('none');
    expect(problems(schema, 'transaction').filter((problem) => problem.startsWith('DATABASE_POOLER'))).toEqual([]);
    expect(problems(schema, 'session').filter((problem) => problem.startsWith('DATABASE_POOLER:'))).toHaveLength(1);
  });

  // The commands read their database settings as the services do (cli-database.ts).
  const command = (script: string, env: Record<string, string>) =>
    promisify(execFile)('node', ['--experimental-strip-types', `packages/db/src/${script}`], {
      cwd: new URL('../../', import.meta.url),
      env: { PATH: process.env.PATH ?? '', ENV_FILE: '', ...env },
    });

  it.each(['migrate.cli.ts', 'email-conflicts.cli.ts'])(
    'stops %s at start with a bad value, naming the variable',
    async (script) => {
      const run = command(script, { DATABASE_URL: 'postgres://127.0.0.1:1/none', DATABASE_POOLER: 'session' });
      await expect(run).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/^DATABASE_POOLER: /m) });
    },
  );

  it.each(['migrate.cli.ts', 'email-conflicts.cli.ts'])(
    'stops %s at start with a DATABASE_URL that is no Postgres URL, naming it and not its value',
    async (script) => {
      const run = command(script, { DATABASE_URL: 'mysql://user:hunter2@db/app' });
      await expect(run).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/^DATABASE_URL: /m) });
      await expect(run).rejects.toMatchObject({ stderr: expect.not.stringContaining('hunter2') });
    },
  );
});
