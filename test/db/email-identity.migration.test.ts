import { migrateToLatest, sql } from '@otp/db';
import { normalizeEmail } from '@otp/domain';
import { createTestDatabase, type TestDatabase } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The migration to one identity per address, on rows as the previous release wrote them: the
// domain lower-cased, the local part as typed. Escapes where the difference is invisible:
// \u00fc is ü as one code point, u\u0308 is u and a combining diaeresis.
const MIGRATION = '2026_12_04_0002_email_identity';

const SEEDED = {
  adaTyped: 'Ada@example.org', // collides with the next one, which is in the normal form already
  adaNormal: 'ada@example.org',
  bobTyped: 'Bob@example.org', // collides with the next one; neither is in the normal form
  bobShouting: 'BOB@example.org',
  juergenComposed: 'j\u00fcrgen@example.org', // collides with its decomposed spelling
  juergenDecomposed: 'ju\u0308rgen@example.org',
  carol: 'Carol.Smith@example.org', // alone: converted
  dave: 'dave@example.org', // normal already: untouched
  olaf: '\u00d6LAF@example.org', // alone, Unicode: converted in code
  greek: '\u0391\u0398\u0397\u039d\u0391\u03a3@example.gr', // a final sigma: what SQL's lower() gets wrong
} as const;

describe(`migration ${MIGRATION}`, () => {
  let database: TestDatabase;
  const ids = {} as Record<keyof typeof SEEDED | 'phoneOnly', string>;

  beforeAll(async () => {
    database = await createTestDatabase({ migrateBefore: MIGRATION });
    for (const [name, email] of Object.entries(SEEDED)) {
      const row = await database.db
        .insertInto('users')
        .values({ email, updated_at: new Date('2026-01-01T00:00:00Z') })
        .returning('id')
        .executeTakeFirstOrThrow();
      ids[name as keyof typeof SEEDED] = row.id;
    }
    const phone = await database.db
      .insertInto('users')
      .values({ phone: '+14155552671' })
      .returning('id')
      .executeTakeFirstOrThrow();
    ids.phoneOnly = phone.id;
    expect((await migrateToLatest(database.db)).applied[0]).toBe(MIGRATION);
  });
  afterAll(async () => {
    await database?.drop();
  });

  async function emailOf(id: string): Promise<string | null> {
    const row = await database.db.selectFrom('users').select('email').where('id', '=', id).executeTakeFirstOrThrow();
    return row.email;
  }

  it('converts an account alone on its normal form, ASCII in SQL and Unicode in code, as normalizeEmail does', async () => {
    expect(await emailOf(ids.carol)).toBe('carol.smith@example.org');
    expect(await emailOf(ids.olaf)).toBe('\u00f6laf@example.org');
    expect(await emailOf(ids.greek)).toBe('\u03b1\u03b8\u03b7\u03bd\u03b1\u03c2@example.gr');
    for (const name of ['carol', 'olaf', 'greek'] as const) {
      expect(await emailOf(ids[name])).toBe(normalizeEmail(SEEDED[name]));
    }
    const carol = await database.db
      .selectFrom('users')
      .select('updated_at')
      .where('id', '=', ids.carol)
      .executeTakeFirstOrThrow();
    expect(carol.updated_at.getTime()).toBeGreaterThan(Date.parse('2026-01-01T00:00:00Z'));
  });

  it('keeps every account of a collision in its old form, also when none holds the normal form', async () => {
    for (const name of [
      'adaTyped',
      'adaNormal',
      'bobTyped',
      'bobShouting',
      'juergenComposed',
      'juergenDecomposed',
    ] as const) {
      expect(await emailOf(ids[name])).toBe(SEEDED[name]);
    }
  });

  it('leaves addresses in the normal form and accounts without an email alone', async () => {
    expect(await emailOf(ids.dave)).toBe('dave@example.org');
    expect(await emailOf(ids.phoneOnly)).toBeNull();
    const dave = await database.db
      .selectFrom('users')
      .select('updated_at')
      .where('id', '=', ids.dave)
      .executeTakeFirstOrThrow();
    expect(dave.updated_at.toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });

  it('leaves only the colliding accounts out of the normal form', async () => {
    const rows = await sql<{ id: string; email: string }>`SELECT id, email FROM users WHERE email IS NOT NULL`.execute(
      database.db,
    );
    const notNormal = rows.rows.filter((row) => normalizeEmail(row.email) !== row.email).map((row) => row.id);
    expect(notNormal.sort()).toEqual([ids.adaTyped, ids.bobTyped, ids.bobShouting, ids.juergenDecomposed].sort());
  });
});
