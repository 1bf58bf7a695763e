import type { Redis } from 'ioredis';

/**
 * Everything Redis holds under a key prefix, as text: each key's name, its value read by type
 * (strings, hashes, lists, sets, sorted sets with scores, streams) and its DUMP serialisation,
 * so a search over it covers what a person with access to Redis could read.
 */
export async function dumpKeys(redis: Redis, prefix: string): Promise<Map<string, string>> {
  const dumped = new Map<string, string>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    for (const key of keys) dumped.set(key, await readKey(redis, key));
  } while (cursor !== '0');
  return dumped;
}

async function readKey(redis: Redis, key: string): Promise<string> {
  const type = await redis.type(key);
  const parts: unknown[] = [key, type];
  if (type === 'string') parts.push(await redis.get(key));
  else if (type === 'hash') parts.push(await redis.hgetall(key));
  else if (type === 'list') parts.push(await redis.lrange(key, 0, -1));
  else if (type === 'set') parts.push(await redis.smembers(key));
  else if (type === 'zset') parts.push(await redis.zrange(key, 0, -1, 'WITHSCORES'));
  else if (type === 'stream') parts.push(await redis.xrange(key, '-', '+'));
  const dump = await redis.dumpBuffer(key);
  // DUMP is Redis' own binary format; strings inside it stay readable as latin1 unless compressed (LZF).
  parts.push(dump === null ? '' : dump.toString('latin1'));
  return JSON.stringify(parts);
}
