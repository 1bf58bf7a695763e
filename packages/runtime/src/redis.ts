import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';

/**
 * Connections used on a request path (the gateway's queue producer, rate limits): fail fast
 * instead of queueing commands while Redis is away, so no HTTP request hangs on Redis.
 */
export function createProducerRedis(url: string, log: Logger, name: string): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    // Commands issued in the same tick (a rate-limit check, the relay's job adds) go out in one
    // socket write: socket writes were a third of the gateway's CPU under load.
    enableAutoPipelining: true,
    // Lua commands that libraries define on their first use (@fastify/rate-limit's, the sign-in
    // throttle's) go out on their own: an auto-pipeline made before such a command was defined
    // lacks it, and ioredis then hands replies to the wrong callers and throws `results[i] is not
    // iterable` outside any request (redis/ioredis#1931; it failed a CI run once).
    autoPipeliningIgnoredCommands: ['rateLimit', 'rateLimitRead', 'signInReserve', 'signInRelease'],
    maxRetriesPerRequest: 1,
    commandTimeout: 1000,
    connectTimeout: 2000,
    connectionName: name,
    retryStrategy: (times) => Math.min(times * 200, 5000),
  } satisfies RedisOptions);
  logRedisErrors(redis, log, name);
  return redis;
}

/**
 * Connections for BullMQ workers: wait for Redis for as long as it takes (BullMQ requires
 * maxRetriesPerRequest null for the blocking commands a worker uses).
 */
export function createWorkerRedis(url: string, log: Logger, name: string): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: null,
    connectionName: name,
    retryStrategy: (times) => Math.max(Math.min(Math.exp(times), 20_000), 1000),
  } satisfies RedisOptions);
  logRedisErrors(redis, log, name);
  return redis;
}

// An ioredis client without an 'error' listener crashes the process on the first network error.
function logRedisErrors(redis: Redis, log: Logger, name: string): void {
  let lastLogged = 0;
  redis.on('error', (error: Error) => {
    const now = Date.now();
    if (now - lastLogged < 5000) return; // one line per 5 s while Redis is down, not hundreds
    lastLogged = now;
    log.error(
      { err: { message: error.message, code: (error as { code?: string }).code }, connection: name },
      'redis error',
    );
  });
}

/** True when Redis answers PING within a second; used by readiness checks. */
export async function pingRedis(redis: Redis): Promise<boolean> {
  try {
    const answer = await Promise.race([
      redis.ping(),
      new Promise<string>((resolve) => setTimeout(() => resolve('timeout'), 1000).unref()),
    ]);
    return answer === 'PONG';
  } catch {
    return false;
  }
}

/**
 * Redis's `maxmemory-policy`, or undefined when the server does not let us read it (managed
 * services often disable CONFIG).
 */
export async function evictionPolicy(redis: Redis): Promise<string | undefined> {
  try {
    const answer = (await redis.config('GET', 'maxmemory-policy')) as string[];
    return answer[1];
  } catch {
    return undefined;
  }
}

/**
 * Refuses to run against a Redis that may evict keys: BullMQ loses jobs and locks when Redis
 * evicts ("noeviction is the only setting that guarantees the correct behaviour of the queues").
 * Checked on every (re)connection, since a Redis can come back with another configuration; the
 * process stops saying how to fix it.
 */
export function guardAgainstEviction(redis: Redis, log: Logger, service: string): void {
  redis.on('ready', () => {
    evictionPolicy(redis).then((policy) => {
      if (policy === undefined) {
        log.warn('could not read Redis maxmemory-policy (CONFIG disabled?): make sure it is noeviction');
      } else if (policy !== 'noeviction') {
        log.fatal({ policy }, 'Redis may evict keys: refusing to run');
        process.stderr.write(`${service}: ${evictionMessage(policy)}\n`);
        process.exit(78); // EX_CONFIG, as for any other bad configuration
      }
    });
  });
}

/** The message a service stops with when Redis may evict its keys. */
export function evictionMessage(policy: string): string {
  return (
    `REDIS_URL: Redis runs with maxmemory-policy ${policy}, which can evict queued jobs and their locks. ` +
    'Set it to noeviction (redis-server --maxmemory-policy noeviction, or CONFIG SET maxmemory-policy noeviction ' +
    'and persist it in redis.conf) and start again.'
  );
}
