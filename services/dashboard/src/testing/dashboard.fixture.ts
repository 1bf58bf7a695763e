import { once } from 'node:events';
import { createLogger, createProducerRedis } from '@otp/runtime';
import { testRedisUrl, uniqueQueuePrefix, useFixture } from '@otp/testkit';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { buildDashboard, type DashboardDeps } from '../dashboard.ts';
import { TEST_AUTH } from './operator.ts';

export interface TestDashboard {
  app: FastifyInstance;
  /** The dashboard's own Redis connection (connected), to build a second dashboard on. */
  redis: Redis;
  close(): Promise<void>;
}

/** What the test is about; the rest defaults to a silent log, a fresh prefix and `TEST_AUTH`. */
export type TestDashboardOptions = Partial<Omit<DashboardDeps, 'redis'>> & {
  /** The Redis to read (default: the test Redis). */
  redisUrl?: string;
};

/** A dashboard built as `main.ts` builds it, on a connected producer Redis. */
export async function startTestDashboard(options: TestDashboardOptions = {}): Promise<TestDashboard> {
  const { redisUrl = testRedisUrl(), ...deps } = options;
  const log = deps.log ?? createLogger({ service: 'dashboard-test', level: 'silent' });
  const redis = createProducerRedis(redisUrl, log, 'dashboard-test');
  if (redis.status !== 'ready') await once(redis, 'ready');
  const app = await buildDashboard({ prefix: uniqueQueuePrefix(), auth: TEST_AUTH, ...deps, redis, log });
  return {
    app,
    redis,
    async close() {
      await app.close();
      redis.disconnect();
    },
  };
}

/**
 * A dashboard for the tests after this call: built in `beforeAll`, closed in `afterAll`. Its
 * fields are read when used; `options` may be a function, called in `beforeAll`, for what earlier
 * hooks make (a Redis server of the file's own).
 */
export function useTestDashboard(options: TestDashboardOptions | (() => TestDashboardOptions) = {}): TestDashboard {
  const current = useFixture(
    'useTestDashboard()',
    () => startTestDashboard(typeof options === 'function' ? options() : options),
    (dashboard) => dashboard.close(),
  );
  return {
    get app() {
      return current().app;
    },
    get redis() {
      return current().redis;
    },
    close: () => current().close(),
  };
}
