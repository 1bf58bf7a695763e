import type { RedisTarget } from '@otp/domain';
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';

/** A connection to one Redis (direct or through Sentinel) or to a Redis Cluster; BullMQ takes either. */
export type RedisClient = Redis | Cluster;

/** Where to connect: a RedisTarget (`redisTarget(config)`), or a redis:// URL (one server; tests). */
export type RedisWhere = RedisTarget | string;

type Profile = Omit<RedisOptions, 'retryStrategy'> & { retryStrategy: (times: number) => number };

/**
 * One client for `where` with the profile's options: on a cluster the per-node options go in
 * `redisOptions` and the ones ioredis takes only at the cluster level (offline queue,
 * auto-pipelining, reconnection) beside them.
 */
function connect(where: RedisWhere, profile: Profile): RedisClient {
  if (typeof where === 'string') return new Redis(where, profile);
  if (where.kind === 'single') return new Redis(where.url, profile);
  const auth = {
    ...(where.username === undefined ? {} : { username: where.username }),
    ...(where.password === undefined ? {} : { password: where.password }),
    ...(where.tls ? { tls: {} } : {}),
  };
  if (where.kind === 'sentinel') {
    return new Redis({
      ...profile,
      ...auth,
      sentinels: where.sentinels,
      name: where.name,
      ...(where.sentinelPassword === undefined ? {} : { sentinelPassword: where.sentinelPassword }),
      // ioredis drops `tls` behind Sentinel unless told, and reaches the Sentinels with `sentinelTLS`:
      // one switch for both, as a deployment secures its Sentinels and servers alike.
      ...(where.tls ? { enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
    });
  }
  const { enableOfflineQueue, enableAutoPipelining, autoPipeliningIgnoredCommands, retryStrategy, ...perNode } =
    profile;
  return new Cluster(where.nodes, {
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    ...(enableAutoPipelining === undefined ? {} : { enableAutoPipelining, autoPipeliningIgnoredCommands }),
    clusterRetryStrategy: retryStrategy,
    // With TLS, nodes are reached by the names given and announced, not by the addresses those
    // resolve to: a managed cluster's certificates name its hosts (ioredis would check them
    // against the address, and fail). Node still resolves each name when it connects.
    ...(where.tls ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
    redisOptions: { ...perNode, ...auth },
  } satisfies ClusterOptions);
}

/**
 * Connections used on a request path (the gateway's queue producer, rate limits): fail fast
 * instead of queueing commands while Redis is away, so no HTTP request hangs on Redis.
 */
export function createProducerRedis(url: string, log: Logger, name: string): Redis;
export function createProducerRedis(where: RedisWhere, log: Logger, name: string): RedisClient;
export function createProducerRedis(where: RedisWhere, log: Logger, name: string): RedisClient {
  const redis = connect(where, {
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
  });
  logRedisErrors(redis, log, name);
  return redis;
}

/**
 * Connections for BullMQ workers: wait for Redis for as long as it takes (BullMQ requires
 * maxRetriesPerRequest null for the blocking commands a worker uses).
 */
export function createWorkerRedis(url: string, log: Logger, name: string): Redis;
export function createWorkerRedis(where: RedisWhere, log: Logger, name: string): RedisClient;
export function createWorkerRedis(where: RedisWhere, log: Logger, name: string): RedisClient {
  const redis = connect(where, {
    maxRetriesPerRequest: null,
    connectionName: name,
    retryStrategy: (times) => Math.max(Math.min(Math.exp(times), 20_000), 1000),
  });
  logRedisErrors(redis, log, name);
  return redis;
}

// An ioredis client without an 'error' listener crashes the process on the first network error.
function logRedisErrors(redis: RedisClient, log: Logger, name: string): void {
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

/**
 * True when Redis answers PING within a second; used by readiness checks. On a cluster, every
 * master must answer and the cluster must be ready (slots known): a missing master's slots hold
 * queue keys too.
 */
export async function pingRedis(redis: RedisClient): Promise<boolean> {
  const pings =
    redis instanceof Cluster
      ? redis.status === 'ready'
        ? redis.nodes('master').map((node) => node.ping())
        : [Promise.resolve('not ready')]
      : [redis.ping()];
  try {
    const answers = await Promise.race([
      Promise.all(pings),
      new Promise<string[]>((resolve) => setTimeout(() => resolve(['timeout']), 1000).unref()),
    ]);
    return answers.length > 0 && answers.every((answer) => answer === 'PONG');
  } catch {
    return false;
  }
}

/**
 * Redis's `maxmemory-policy`, or undefined when the server does not let us read it (managed
 * services often disable CONFIG). On a cluster each master the client knows is asked (CONFIG is
 * per node) and the first policy other than noeviction is the answer; undefined when any master
 * does not answer. (The client holds no connection to replicas; see guardAgainstEviction.)
 */
export async function evictionPolicy(redis: RedisClient): Promise<string | undefined> {
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  try {
    const policies = await Promise.all(
      nodes.map(async (node) => ((await node.config('GET', 'maxmemory-policy')) as string[])[1]),
    );
    if (policies.length === 0 || policies.includes(undefined)) return undefined;
    return policies.find((policy) => policy !== 'noeviction') ?? 'noeviction';
  } catch {
    return undefined;
  }
}

/**
 * Refuses to run against a Redis that may evict keys: BullMQ loses jobs and locks when Redis
 * evicts ("noeviction is the only setting that guarantees the correct behaviour of the queues").
 * Checked on every (re)connection, since a Redis can come back with another configuration; the
 * process stops saying how to fix it. On a cluster also each node the client adds later: a
 * replica promoted on failover, or a master added by resharding.
 */
export function guardAgainstEviction(redis: RedisClient, log: Logger, service: string): void {
  const check = (source: Redis | Cluster) => {
    evictionPolicy(source).then((policy) => {
      if (policy === undefined) {
        log.warn('could not read Redis maxmemory-policy (CONFIG disabled?): make sure it is noeviction');
      } else if (policy !== 'noeviction') {
        log.fatal({ policy }, 'Redis may evict keys: refusing to run');
        process.stderr.write(`${service}: ${evictionMessage(policy, redisVariable(redis))}\n`);
        process.exit(78); // EX_CONFIG, as for any other bad configuration
      }
    });
  };
  redis.on('ready', () => check(redis));
  if (redis instanceof Cluster) redis.on('+node', (node: Redis) => check(node));
}

/** The variable that named this client's Redis, for messages that tell what to fix. */
function redisVariable(redis: RedisClient): string {
  if (redis instanceof Cluster) return 'REDIS_CLUSTER_NODES';
  return redis.options.sentinels === null || redis.options.sentinels === undefined ? 'REDIS_URL' : 'REDIS_SENTINELS';
}

/** The message a service stops with when Redis may evict its keys (`variable`: the one that named it). */
export function evictionMessage(policy: string, variable = 'REDIS_URL'): string {
  return (
    `${variable}: Redis runs with maxmemory-policy ${policy}, which can evict queued jobs and their locks. ` +
    'Set it to noeviction (redis-server --maxmemory-policy noeviction, or CONFIG SET maxmemory-policy noeviction ' +
    'and persist it in redis.conf) and start again.'
  );
}
