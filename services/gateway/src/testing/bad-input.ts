import type { Database, Kysely } from '@otp/db';
import { expect } from 'vitest';
import type { TestGateway } from './gateway.harness.ts';

const TABLES = [
  'users',
  'refresh_tokens',
  'mfa_tokens',
  'security_events',
  'otp_challenges',
  'delivery_outbox',
  'notifications',
  'user_factors',
  'recovery_codes',
] as const;

/** Rows per table that a request could write to. */
export async function rowCounts(db: Kysely<Database>): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of TABLES) {
    const row = await db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .executeTakeFirstOrThrow();
    counts[table] = Number(row.count);
  }
  return counts;
}

export interface BadInput {
  name: string;
  /** POST unless said otherwise. */
  method?: 'POST' | 'PATCH';
  url: string;
  /** A value is sent as JSON; a string is sent as is. */
  body: unknown;
  code: string;
  status: number;
  contentType?: string;
  authorization?: string;
}

/** A bad-input case; the expected answer defaults to 400 validation_failed. */
export function bad(
  name: string,
  url: string,
  body: unknown,
  expected: Partial<Pick<BadInput, 'code' | 'status' | 'contentType' | 'authorization' | 'method'>> = {},
): BadInput {
  return { name, url, body, code: 'validation_failed', status: 400, ...expected };
}

/** Sends every case and expects its problem+json answer; then that no table changed. */
export async function expectRefusedWithoutWrites(gateway: TestGateway, db: Kysely<Database>, cases: BadInput[]) {
  const before = await rowCounts(db);
  for (const item of cases) {
    const headers: Record<string, string> = { 'content-type': item.contentType ?? 'application/json' };
    if (item.authorization !== undefined) headers.authorization = item.authorization;
    const response = await gateway.app.inject({
      method: item.method ?? 'POST',
      url: item.url,
      headers,
      payload: typeof item.body === 'string' ? item.body : JSON.stringify(item.body),
    });
    expect(response.statusCode, item.name).toBe(item.status);
    expect(response.headers['content-type'], item.name).toMatch(/^application\/problem\+json/);
    expect((JSON.parse(response.body) as { code: string }).code, item.name).toBe(item.code);
  }
  expect(await rowCounts(db)).toEqual(before);
}
