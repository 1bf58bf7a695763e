/**
 * The Redis scripts of the failed sign-in limits. Each touches exactly one key (numberOfKeys 1),
 * so each runs in one hash slot and works unchanged on Redis Cluster; the account and the network
 * of an attempt are two keys and so two scripts, never one transaction.
 */
export interface OneKeyScript {
  numberOfKeys: 1;
  lua: string;
}

/**
 * Counts an attempt unless the count is at the limit, atomically: of N concurrent calls against
 * a limit L, exactly min(N, L) are counted. The window starts with the first attempt.
 * KEYS[1]: the count. ARGV[1]: the limit. ARGV[2]: the window in seconds.
 * Returns {1, ttl} when counted, {0, ttl} when refused (ttl: seconds until the window ends).
 */
export const RESERVE_ATTEMPT: OneKeyScript = {
  numberOfKeys: 1,
  lua: `
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count >= tonumber(ARGV[1]) then
  return {0, redis.call('TTL', KEYS[1])}
end
redis.call('INCR', KEYS[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return {1, ttl}
`,
};

/**
 * Gives back one counted attempt (never below zero); the last one deletes the key, so the next
 * attempt starts a new window. KEYS[1]: the count. Returns the count left.
 */
export const RELEASE_ATTEMPT: OneKeyScript = {
  numberOfKeys: 1,
  lua: `
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count <= 1 then
  redis.call('DEL', KEYS[1])
  return 0
end
return redis.call('DECR', KEYS[1])
`,
};
