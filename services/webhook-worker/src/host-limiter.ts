import type { RedisClient } from '@otp/runtime';

export interface HostLimiter {
  /**
   * Takes one delivery slot for `host` in the current second; resolves with 0 when taken, else
   * with the milliseconds until the next second's window opens.
   */
  take(host: string): Promise<number>;
}

// One key per host holding the window's second (Redis's clock, so replicas whose clocks differ
// still share one window) and its count. A script, so reading the window and counting in it are
// one atomic step: across replicas and concurrent deliveries, exactly `perSecond` slots are handed
// out per host and second. One key: one hash slot on a cluster.
const TAKE_SLOT = `
local now = redis.call('TIME')
local second = tonumber(now[1])
local window = redis.call('HGET', KEYS[1], 's')
local count
if window == false or tonumber(window) ~= second then
  redis.call('HSET', KEYS[1], 's', second, 'n', 1)
  redis.call('PEXPIRE', KEYS[1], 2000)
  count = 1
else
  count = redis.call('HINCRBY', KEYS[1], 'n', 1)
end
if count <= tonumber(ARGV[1]) then return 0 end
return 1000 - math.floor(tonumber(now[2]) / 1000)
`;

type LimiterRedis = RedisClient & { webhookHostSlot(key: string, perSecond: number): Promise<number> };

/** Deliveries per second to one endpoint host, shared by every replica through Redis. */
export function createHostLimiter(redis: RedisClient, options: { prefix: string; perSecond: number }): HostLimiter {
  if (!('webhookHostSlot' in redis)) redis.defineCommand('webhookHostSlot', { numberOfKeys: 1, lua: TAKE_SLOT });
  const limited = redis as LimiterRedis;
  return {
    async take(host) {
      return Number(await limited.webhookHostSlot(`${options.prefix}:webhook-host:${host}`, options.perSecond));
    },
  };
}
