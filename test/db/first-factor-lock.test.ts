import { lockUserForFirstFactor, sql } from '@otp/db';
import { createTestDatabase, type TestDatabase } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The one statement a sign-in makes after its first factor: it locks the account, says whether it
// has an enabled second factor, and makes the sign-in's locale its language only when it has none
// (and is not disabled).
describe('the first factor lock', () => {
  let database: TestDatabase;
  let count = 0;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  async function account(factor: 'enabled' | 'pending' | 'none', disabled = false): Promise<string> {
    count += 1;
    const { rows } = await sql<{ id: string }>`
      INSERT INTO users (email, email_verified_at, locale, disabled_at)
      VALUES (${`lock-${count}@example.com`}, now(), 'en', ${disabled ? new Date() : null}::timestamptz)
      RETURNING id`.execute(database.db);
    const id = (rows[0] as { id: string }).id;
    if (factor !== 'none') {
      await sql`
        INSERT INTO user_factors (user_id, kind, secret_envelope, algorithm, digits, period, enabled_at)
        VALUES (${id}::uuid, 'totp', 'sealed', 'SHA1', 6, 30,
                ${factor === 'enabled' ? new Date() : null}::timestamptz)`.execute(database.db);
    }
    return id;
  }
  const localeOf = async (id: string) =>
    (await sql<{ locale: string }>`SELECT locale FROM users WHERE id = ${id}::uuid`.execute(database.db)).rows[0]
      ?.locale;

  it('sets the locale of an account without a factor, and says it has none', async () => {
    const id = await account('none');
    const locked = await lockUserForFirstFactor(database.db, id, 'de');
    expect(locked).toMatchObject({ id, has_factors: false, disabled_at: null });
    expect(await localeOf(id)).toBe('de');
  });

  it('leaves the locale of an account with an enabled factor (its MFA step sets it), and says it has one', async () => {
    const id = await account('enabled');
    const locked = await lockUserForFirstFactor(database.db, id, 'de');
    expect(locked).toMatchObject({ id, has_factors: true });
    expect(await localeOf(id)).toBe('en');
  });

  it('counts a factor whose enrolment is not finished as none', async () => {
    const id = await account('pending');
    expect(await lockUserForFirstFactor(database.db, id, 'fr')).toMatchObject({ has_factors: false });
    expect(await localeOf(id)).toBe('fr');
  });

  it("leaves a disabled account's locale and answers its disable", async () => {
    const id = await account('none', true);
    const locked = await lockUserForFirstFactor(database.db, id, 'de');
    expect(locked?.disabled_at).toBeInstanceOf(Date);
    expect(await localeOf(id)).toBe('en');
  });

  it('answers undefined for an account that is gone', async () => {
    expect(await lockUserForFirstFactor(database.db, '00000000-0000-4000-8000-00000000dead', 'de')).toBeUndefined();
  });

  it('holds the row to the commit: a disable waits for the sign-in that locked first', async () => {
    const id = await account('enabled');
    let releaseSignIn: () => void = () => {};
    const signInHolds = new Promise<void>((resolve) => {
      releaseSignIn = resolve;
    });
    let locked: () => void = () => {};
    const lockTaken = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const signIn = database.db.transaction().execute(async (trx) => {
      await lockUserForFirstFactor(trx, id, 'de');
      locked();
      await signInHolds;
    });
    await lockTaken;
    let disabledAt: number | undefined;
    const disable = sql`UPDATE users SET disabled_at = now() WHERE id = ${id}::uuid`.execute(database.db).then(() => {
      disabledAt = Date.now();
    });
    // The disable's backend waits on the row's lock, held by the sign-in's transaction.
    await expect
      .poll(
        async () =>
          (
            await sql<{ n: number }>`
              SELECT count(*)::int AS n FROM pg_stat_activity
              WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE users SET disabled_at%'`.execute(database.db)
          ).rows[0]?.n,
        { timeout: 5000 },
      )
      .toBe(1);
    expect(disabledAt).toBeUndefined();
    releaseSignIn();
    await Promise.all([signIn, disable]);
    expect(disabledAt).toBeDefined();
  });
});
