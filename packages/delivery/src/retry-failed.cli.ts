// Retries the failed delivery jobs of one queue whose challenges are still valid:
//   pnpm --filter @otp/email-worker retry-failed      (or @otp/sms-worker)
// Reads DATABASE_URL, DATABASE_POOLER, the Redis variables (REDIS_URL, or REDIS_CLUSTER_NODES, or
// REDIS_SENTINELS; docs/scaling-redis.md) and QUEUE_PREFIX from the environment or .env.
import { fileURLToPath } from 'node:url';
import { createDb } from '@otp/db';
import {
  type Channel,
  DatabasePooler,
  PostgresUrl,
  parseConfig,
  QUEUE_NAMES,
  QueuePrefix,
  redisConfigFields,
  redisConfigProblems,
  redisTarget,
  withSecretFiles,
} from '@otp/domain';
import { createLogger, createWorkerRedis, exitOnConfigError, readEnvironment } from '@otp/runtime';
import { Queue } from 'bullmq';
import Type from 'typebox';
import { retryFailedDeliveries } from './retry-failed.ts';

const channel = process.argv[2] as Channel;
if (!(channel in QUEUE_NAMES)) {
  process.stderr.write('usage: retry-failed.cli.ts email|sms\n');
  process.exit(64);
}
const schema = Type.Object(
  withSecretFiles({
    DATABASE_URL: PostgresUrl,
    DATABASE_POOLER: DatabasePooler,
    ...redisConfigFields,
    QUEUE_PREFIX: QueuePrefix,
  }),
);
let config: Type.Static<typeof schema>;
try {
  config = parseConfig(
    schema,
    readEnvironment(['.env', fileURLToPath(new URL('../../../.env', import.meta.url))]),
    redisConfigProblems,
  );
} catch (error) {
  exitOnConfigError('retry-failed', error);
}
const log = createLogger({ service: 'retry-failed', level: 'warn' });
const db = createDb({
  url: config.DATABASE_URL,
  pooler: config.DATABASE_POOLER,
  poolSize: 1,
  applicationName: 'otp-retry-failed',
});
const connection = createWorkerRedis(redisTarget(config), log, 'retry-failed');
const queue = new Queue(QUEUE_NAMES[channel], { connection, prefix: config.QUEUE_PREFIX });
try {
  const { retried, skipped } = await retryFailedDeliveries(db, queue);
  process.stdout.write(`${channel}: ${retried.length} failed job(s) retried, ${skipped.length} left failed\n`);
  for (const { jobId, reason } of skipped) process.stdout.write(`  left failed: ${jobId} (${reason})\n`);
} finally {
  await queue.close();
  connection.disconnect();
  await db.destroy();
}
