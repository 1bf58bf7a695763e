import { type Database, type Kysely, lockUserForFirstFactor, sql, upsertUserForEmailSignIn } from '@otp/db';
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
      VALUES (${emailOf(count)}, now(), 'en', ${disabled ? new Date() : null}::timestamptz)
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
  const emailOf = (n: number) => `lock-${n}@example.com`;
  const localeOf = async (id: string) =>
    (await sql<{ locale: string }>`SELECT locale FROM users WHERE id = ${id}::uuid`.execute(database.db)).rows[0]
      ?.locale;

  /**
   * Takes the sign-in's lock with `lock` in a transaction held open, then disables the account from
   * another session: the disable's backend must wait on the row's lock until the sign-in commits.
   */
  async function expectDisableToWait(id: string, lock: (trx: Kysely<Database>) => Promise<unknown>): Promise<void> {
    let releaseSignIn: () => void = () => {};
    const signInHolds = new Promise<void>((resolve) => {
      releaseSignIn = resolve;
    });
    let locked: () => void = () => {};
    const lockTaken = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const signIn = database.db.transaction().execute(async (trx) => {
      await lock(trx);
      locked();
      await signInHolds;
    });
    await lockTaken;
    let disabled = false;
    const disable = sql`UPDATE users SET disabled_at = now() WHERE id = ${id}::uuid`.execute(database.db).then(() => {
      disabled = true;
    });
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
    expect(disabled).toBe(false);
    releaseSignIn();
    await Promise.all([signIn, disable]);
    expect(disabled).toBe(true);
  }

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
    await expectDisableToWait(id, (trx) => lockUserForFirstFactor(trx, id, 'de'));
  });
  describe("an email sign-in's upsert, which takes the same lock", () => {
    const challengeId = '01a24ac2-0000-7000-8000-000000000001';

    it('creates the account with the locale, and says it created it and that it has no factor', async () => {
      count += 1;
      const upserted = await upsertUserForEmailSignIn(database.db, emailOf(count), challengeId, 'fr');
      expect(upserted).toMatchObject({ created: true, account: { email: emailOf(count), has_factors: false } });
      expect(upserted?.account.email_verified_at).toBeInstanceOf(Date);
      expect(await localeOf(upserted?.account.id as string)).toBe('fr');
      // Only what the sign-in reads: no password hash, no other column.
      expect(Object.keys(upserted?.account ?? {}).sort()).toEqual([
        'disabled_at',
        'email',
        'email_verified_at',
        'has_factors',
        'id',
        'phone',
        'phone_verified_at',
      ]);
    });

    it('sets the locale of an existing account without a factor', async () => {
      const id = await account('none');
      const upserted = await upsertUserForEmailSignIn(database.db, emailOf(count), challengeId, 'de');
      expect(upserted).toMatchObject({ created: false, account: { id, has_factors: false, disabled_at: null } });
      expect(await localeOf(id)).toBe('de');
    });

    it('leaves the locale of an account with an enabled factor, and says it has one', async () => {
      const id = await account('enabled');
      const upserted = await upsertUserForEmailSignIn(database.db, emailOf(count), challengeId, 'de');
      expect(upserted).toMatchObject({ created: false, account: { id, has_factors: true } });
      expect(await localeOf(id)).toBe('en');
    });

    it('counts a factor whose enrolment is not finished as none', async () => {
      const id = await account('pending');
      expect(await upsertUserForEmailSignIn(database.db, emailOf(count), challengeId, 'fr')).toMatchObject({
        account: { has_factors: false },
      });
      expect(await localeOf(id)).toBe('fr');
    });

    it("leaves a disabled account's locale and answers its disable", async () => {
      const id = await account('none', true);
      const upserted = await upsertUserForEmailSignIn(database.db, emailOf(count), challengeId, 'de');
      expect(upserted?.account.disabled_at).toBeInstanceOf(Date);
      expect(await localeOf(id)).toBe('en');
    });

    it('changes nothing and answers undefined for a registration another challenge must prove', async () => {
      count += 1;
      await sql`
        INSERT INTO users (email, locale, registration_challenge_id)
        VALUES (${emailOf(count)}, 'en', ${'01a24ac2-0000-7000-8000-0000000000ff'}::uuid)`.execute(database.db);
      expect(await upsertUserForEmailSignIn(database.db, emailOf(count), challengeId, 'de')).toBeUndefined();
      const { rows } = await sql<{ locale: string; email_verified_at: Date | null }>`
        SELECT locale, email_verified_at FROM users WHERE email = ${emailOf(count)}`.execute(database.db);
      expect(rows[0]).toEqual({ locale: 'en', email_verified_at: null });
    });

    it('holds the row to the commit: a disable waits for the sign-in that upserted first', async () => {
      const id = await account('none');
      const email = emailOf(count);
      await expectDisableToWait(id, (trx) => upsertUserForEmailSignIn(trx, email, challengeId, 'de'));
    });
  });
});
