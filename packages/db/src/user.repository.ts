import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { FirstFactorLock } from './account-admin.repository.ts';
import { compiledOnce } from './compiled-once.ts';
import type { Database, User } from './database.ts';
import { hasEnabledFactor } from './user-factor.sql.ts';

type Db = Kysely<Database>;

export async function findUserById(db: Db, id: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Sets (or, with null, clears) the account's display name; undefined when the account is gone. */
export async function setUserName(db: Db, id: string, name: string | null): Promise<User | undefined> {
  return db
    .updateTable('users')
    .set({ name, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

export async function findUserByEmail(db: Db, email: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
}

export async function findUserByPhone(db: Db, phone: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where('phone', '=', phone).executeTakeFirst();
}

/** An upserted account, and whether the upsert created it (the first sign-in to its address). */
export interface UpsertedUser {
  user: User;
  created: boolean;
}

// A row the INSERT wrote has no deleting or locking transaction yet (xmax 0); a row the ON
// CONFLICT branch updated carries the updater's id. So the one statement also says which it did.
const wasInserted = sql<boolean>`(xmax = 0)`.as('created');

function upserted({ created, ...user }: User & { created: boolean }): UpsertedUser {
  return { user, created };
}

/**
 * Creates the user for a verified email, or marks an existing one verified. One statement, so two
 * first sign-ins racing for the same address end with one account, and exactly one of them is
 * told it created it.
 */
export async function upsertUserWithVerifiedEmail(db: Db, email: string): Promise<UpsertedUser> {
  const { rows } = await verifiedEmailUpsert(email, sql`true`).execute(db);
  return upserted(rows[0] as User & { created: boolean });
}

/**
 * As `upsertUserWithVerifiedEmail`, unless the address belongs to an account registered without
 * proving it by another challenge than `challengeId` (a registration the caller must claim first):
 * then nothing changes (the row stays locked to the transaction) and the answer is undefined.
 * A sign-in's usual case, a verified account or none, is then one statement instead of a read
 * and a write.
 */
export async function upsertUserWithVerifiedEmailUnlessClaimable(
  db: Db,
  email: string,
  challengeId: string,
): Promise<UpsertedUser | undefined> {
  const { rows } = await verifiedEmailUpsert(email, unlessClaimable(challengeId)).execute(db);
  const row = rows[0];
  return row === undefined ? undefined : upserted(row);
}

/**
 * The condition on an existing account under which an email sign-in's upsert updates it: its
 * address is proven already, or `challengeId` is its registration's own. Otherwise it is a
 * registration another challenge must claim first, and the upsert leaves it alone.
 */
function unlessClaimable(challengeId: string): RawBuilder<boolean> {
  return sql<boolean>`users.email_verified_at IS NOT NULL OR users.registration_challenge_id = ${challengeId}::uuid`;
}

/** An email sign-in's account, as its upsert locked it (`upsertUserForEmailSignIn`). */
export interface SignInUpsert {
  /** The columns the sign-in reads, and whether the account has an enabled second factor. */
  account: FirstFactorLock;
  created: boolean;
}

/**
 * As `upsertUserWithVerifiedEmailUnlessClaimable`, and also what the sign-in's next statement
 * did (`lockUserForFirstFactor`), in this one: it says whether the account has an enabled second
 * factor, and makes `locale` the account's language when it has none and is not disabled (the
 * sign-in then completes in this transaction). The row it returns is locked to the commit: the
 * ON CONFLICT branch locks the row it updates, and a row it inserts is seen by no other
 * transaction before the commit, so a disable is ordered with the sign-in either way. It returns
 * only the columns the sign-in reads (no password hash). For the factor port that keeps its
 * factors in `user_factors` only.
 */
export async function upsertUserForEmailSignIn(
  db: Db,
  email: string,
  challengeId: string,
  locale: string,
): Promise<SignInUpsert | undefined> {
  const { rows } = await signInUpsert(db, email, challengeId, locale);
  const row = rows[0];
  if (row === undefined) return undefined;
  const { created, ...account } = row;
  return { account, created };
}

// Built once (compiledOnce): it runs on every email sign-in.
const signInUpsert = compiledOnce(3, (_db, email: string, challengeId: string, locale: string) => {
  const enabledFactor = hasEnabledFactor(sql.ref('users.id'));
  return sql<FirstFactorLock & { created: boolean }>`
    INSERT INTO users (email, email_verified_at, locale) VALUES (${email}::text, now(), ${locale}::text)
    ON CONFLICT (email) DO UPDATE
      SET email_verified_at = coalesce(users.email_verified_at, now()), updated_at = now(),
        locale = CASE WHEN users.disabled_at IS NULL AND NOT ${enabledFactor} THEN excluded.locale ELSE users.locale END
      WHERE ${unlessClaimable(challengeId)}
    RETURNING id, email, email_verified_at, phone, phone_verified_at, disabled_at, (xmax = 0) AS created,
      ${enabledFactor} AS has_factors`;
});

/**
 * The upsert, its update made only `when` holds. Raw SQL of constant text: a prepared statement,
 * and no query builder on the sign-in path.
 */
function verifiedEmailUpsert(email: string, when: RawBuilder<unknown>) {
  return sql<User & { created: boolean }>`
    INSERT INTO users (email, email_verified_at) VALUES (${email}::text, now())
    ON CONFLICT (email) DO UPDATE
      SET email_verified_at = coalesce(users.email_verified_at, now()), updated_at = now()
      WHERE ${when}
    RETURNING *, (xmax = 0) AS created`;
}

/** As `upsertUserWithVerifiedEmail`, for a phone number proven by an SMS code. */
export async function upsertUserWithVerifiedPhone(db: Db, phone: string): Promise<UpsertedUser> {
  const row = await db
    .insertInto('users')
    .values({ phone, phone_verified_at: sql<Date>`now()` })
    .onConflict((oc) =>
      oc.column('phone').doUpdateSet({
        phone_verified_at: sql<Date>`coalesce(users.phone_verified_at, now())`,
        updated_at: sql<Date>`now()`,
      }),
    )
    .returningAll()
    .returning(wasInserted)
    .executeTakeFirstOrThrow();
  return upserted(row);
}

/** Marks an existing account's email verified (a verify_email code); no account, no change. */
export async function markEmailVerified(db: Db, email: string): Promise<void> {
  await db
    .updateTable('users')
    .set({ email_verified_at: sql<Date>`coalesce(email_verified_at, now())`, updated_at: sql<Date>`now()` })
    .where('email', '=', email)
    .execute();
}

/**
 * Sets a proven address on the account, verified now, unless another account holds it: false
 * then, found by the statement's own check, or by the column's unique index when another account
 * took the address between that check and the write (the transaction is then aborted: the caller
 * throws, 409).
 */
async function setVerifiedAddress(
  db: Db,
  userId: string,
  column: 'email' | 'phone',
  address: string,
): Promise<boolean> {
  const verified =
    column === 'email'
      ? { email: address, email_verified_at: sql<Date>`now()` }
      : { phone: address, phone_verified_at: sql<Date>`now()` };
  try {
    const result = await db
      .updateTable('users')
      .set({ ...verified, updated_at: sql<Date>`now()` })
      .where('id', '=', userId)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('users as other')
              .select('other.id')
              .where(`other.${column}`, '=', address)
              .where('other.id', '<>', userId),
          ),
        ),
      )
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  } catch (error) {
    if ((error as { code?: unknown }).code === '23505') return false;
    throw error;
  }
}

/** Sets the account's verified phone (POST /v1/me/phone's code); false when another account holds it. */
export async function setVerifiedPhone(db: Db, userId: string, phone: string): Promise<boolean> {
  return setVerifiedAddress(db, userId, 'phone', phone);
}

/** Moves the account to a proven email address (a change_email code); false when another account holds it. */
export async function moveUserEmail(db: Db, userId: string, email: string): Promise<boolean> {
  return setVerifiedAddress(db, userId, 'email', email);
}

export interface NewPasswordUser {
  email: string;
  passwordHash: string;
  name: string | null;
}

/**
 * Registers an account with a password. One statement: of two registrations racing for one
 * address, exactly one gets the row; the other (and any existing account) gets undefined.
 */
export async function insertUserWithPassword(db: Db, user: NewPasswordUser): Promise<User | undefined> {
  return db
    .insertInto('users')
    .values({ email: user.email, password_hash: user.passwordHash, name: user.name })
    .onConflict((oc) => oc.column('email').doNothing())
    .returningAll()
    .executeTakeFirst();
}

/**
 * Replaces the password if it is still `expected` (the hash the caller checked the current
 * password against, or null for an account without one): one statement, so of two changes racing
 * from the same password exactly one wins, and a change never overwrites one it did not see.
 * Returns whether it did.
 */
export async function replacePasswordHash(
  db: Db,
  userId: string,
  expected: string | null,
  passwordHash: string,
): Promise<boolean> {
  const result = await db
    .updateTable('users')
    .set({ password_hash: passwordHash, updated_at: sql<Date>`now()` })
    .where('id', '=', userId)
    .where(sql<boolean>`password_hash IS NOT DISTINCT FROM ${expected}`)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** Sets the password whatever it was (a reset, proven by a code to the verified address). */
export async function setPasswordHash(db: Db, userId: string, passwordHash: string): Promise<void> {
  await db
    .updateTable('users')
    .set({ password_hash: passwordHash, updated_at: sql<Date>`now()` })
    .where('id', '=', userId)
    .execute();
}
