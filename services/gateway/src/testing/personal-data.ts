import { type Database, type Kysely, sql } from '@otp/db';
import { expect } from 'vitest';
import type { TestGateway } from './gateway.harness.ts';

/** Where a needle was found: a table's row or a Redis key, as text. */
export interface Finding {
  where: string;
  needle: string;
  text: string;
}

/**
 * Every row of every table of the database, as text (`row::text`), searched for each needle. The
 * tables are read from information_schema when called, so a table added later is searched too.
 */
export async function findInDatabase(db: Kysely<Database>, needles: string[]): Promise<Finding[]> {
  const tables = await sql<{ table_name: string }>`
    SELECT DISTINCT table_name FROM information_schema.columns
    WHERE table_schema = current_schema() ORDER BY table_name
  `.execute(db);
  expect(tables.rows.map((row) => row.table_name)).toContain('users');
  const findings: Finding[] = [];
  for (const { table_name: table } of tables.rows) {
    const rows = await sql<{ text: string }>`SELECT t::text AS text FROM ${sql.table(table)} t`.execute(db);
    for (const { text } of rows.rows) {
      for (const needle of needles) {
        if (text.toLowerCase().includes(needle.toLowerCase())) findings.push({ where: table, needle, text });
      }
    }
  }
  return findings;
}

/** The value of a Redis key as text, whatever its type (string, hash, list, set, sorted set, stream). */
async function redisValue(gateway: TestGateway, key: string): Promise<string> {
  const redis = gateway.deps.redis;
  const type = await redis.type(key);
  if (type === 'string') return String(await redis.get(key));
  if (type === 'hash') return JSON.stringify(await redis.hgetall(key));
  if (type === 'list') return JSON.stringify(await redis.lrange(key, 0, -1));
  if (type === 'set') return JSON.stringify(await redis.smembers(key));
  if (type === 'zset') return JSON.stringify(await redis.zrange(key, 0, -1, 'WITHSCORES'));
  if (type === 'stream') return JSON.stringify(await redis.xrange(key, '-', '+'));
  return type === 'none' ? '' : `<unread type ${type}>`;
}

/**
 * Every Redis key of the gateway's queue prefix (the queues' jobs, events and sets, and the
 * limit counters, whose namespace is the prefix without braces), key and value searched for
 * each needle.
 */
export async function findInRedis(gateway: TestGateway, needles: string[]): Promise<Finding[]> {
  const bare = gateway.config.QUEUE_PREFIX.replace(/[{}]/g, '');
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await gateway.deps.redis.scan(cursor, 'MATCH', `*${bare}*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  expect(keys.length).toBeGreaterThan(0);
  const findings: Finding[] = [];
  for (const key of keys) {
    const text = `${key} ${await redisValue(gateway, key)}`;
    for (const needle of needles) {
      if (text.toLowerCase().includes(needle.toLowerCase())) findings.push({ where: key, needle, text });
    }
  }
  return findings;
}
