import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    redisUrl: string;
  }
}

/**
 * Once per test run: use TEST_DATABASE_URL / TEST_REDIS_URL when set, otherwise start Postgres and
 * Redis containers with Testcontainers (from the local images of shared/containers) and stop them
 * at the end. Test files reach them through `inject()`.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stops: Array<() => Promise<unknown>> = [];
  let databaseUrl = process.env.TEST_DATABASE_URL;
  let redisUrl = process.env.TEST_REDIS_URL;

  if (databaseUrl === undefined || redisUrl === undefined) {
    process.env.TESTCONTAINERS_HOST_OVERRIDE ??= 'localhost';
    const [{ PostgreSqlContainer }, { RedisContainer }] = await Promise.all([
      import('@testcontainers/postgresql'),
      import('@testcontainers/redis'),
    ]);
    const [postgres, redis] = await Promise.all([
      databaseUrl === undefined
        ? new PostgreSqlContainer('postgres:15-bookworm')
            .withCommand(['postgres', '-c', 'fsync=off', '-c', 'max_connections=300'])
            .start()
        : undefined,
      redisUrl === undefined
        ? new RedisContainer('redis:7-bookworm')
            .withCommand(['redis-server', '--maxmemory-policy', 'noeviction'])
            .start()
        : undefined,
    ]);
    if (postgres !== undefined) {
      databaseUrl = postgres.getConnectionUri();
      stops.push(() => postgres.stop());
    }
    if (redis !== undefined) {
      redisUrl = redis.getConnectionUrl();
      stops.push(() => redis.stop());
    }
    process.stdout.write(`[testkit] containers: postgres ${databaseUrl}, redis ${redisUrl}\n`);
  }

  project.provide('databaseUrl', databaseUrl as string);
  project.provide('redisUrl', redisUrl as string);
  return async () => {
    await Promise.all(stops.map((stop) => stop()));
  };
}
