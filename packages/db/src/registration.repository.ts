import { type Kysely, sql } from 'kysely';
import type { Database, User } from './database.ts';
import { removeAllFactors } from './user-factor.repository.ts';

type Db = Kysely<Database>;

export interface PasswordRegistration {
  email: string;
  passwordHash: string;
  name: string | null;
  /** The catalogue locale of the registration's message: the account's language until it signs in. */
  locale: string;
}

/**
 * What a registration found: `created` a new account; `renewed` an account whose email is not
 * verified yet (its password, name and locale replaced: whoever proves the address decides); `exists` an
 * account whose email is verified (left untouched).
 */
export type RegistrationOutcome = 'created' | 'renewed' | 'exists';

/**
 * Registers an address with a password in one statement: inserts the account, or, when the
 * address has an account whose email is unverified, replaces its password and name. Of
 * registrations racing for one address each sees a consistent row. A verified account is never
 * written: `exists`, with the account.
 */
export async function registerPasswordAccount(
  db: Db,
  registration: PasswordRegistration,
): Promise<{ user: User; outcome: RegistrationOutcome }> {
  const written = await db
    .insertInto('users')
    .values({
      email: registration.email,
      password_hash: registration.passwordHash,
      name: registration.name,
      locale: registration.locale,
    })
    .onConflict((oc) =>
      oc
        .column('email')
        .doUpdateSet({
          password_hash: registration.passwordHash,
          name: registration.name,
          locale: registration.locale,
          updated_at: sql<Date>`now()`,
        })
        .where('users.email_verified_at', 'is', null),
    )
    .returningAll()
    // xmax is 0 on a row this statement inserted, and set on one it updated.
    .returning(sql<boolean>`xmax = 0`.as('inserted'))
    .executeTakeFirst();
  if (written !== undefined) {
    const { inserted, ...user } = written;
    return { user, outcome: inserted ? 'created' : 'renewed' };
  }
  const existing = await db
    .selectFrom('users')
    .selectAll()
    .where('email', '=', registration.email)
    .executeTakeFirstOrThrow();
  return { user: existing, outcome: 'exists' };
}

/** Remembers the verify_email challenge of an unverified account's latest registration. */
export async function setRegistrationChallenge(db: Db, userId: string, challengeId: string): Promise<void> {
  await db.updateTable('users').set({ registration_challenge_id: challengeId }).where('id', '=', userId).execute();
}

export interface RemovedSettings {
  password: boolean;
  phone: boolean;
  factors: number;
  recoveryCodes: number;
  sessions: number;
}

/**
 * Removes what the registrant of an unverified address set: password, name, language, phone,
 * factors, recovery codes, pending MFA steps, and revokes its sessions. For the owner who proves the
 * address with a challenge that was not the registration's own. Run it in their transaction.
 */
export async function removeUnverifiedSettings(db: Db, user: User, at: Date): Promise<RemovedSettings> {
  await db
    .updateTable('users')
    .set({
      password_hash: null,
      name: null,
      locale: null,
      phone: null,
      phone_verified_at: null,
      registration_challenge_id: null,
      updated_at: sql<Date>`now()`,
    })
    .where('id', '=', user.id)
    .execute();
  const { factors, recoveryCodes } = await removeAllFactors(db, user.id);
  // Sessions first: the UPDATE takes each row's lock, as a rotation does (lockSession), so a
  // rotation in flight finishes before this and its successor is revoked below, or waits and
  // finds its session revoked.
  await db
    .updateTable('sessions')
    .set({ revoked_at: at, revoked_reason: 'claimed' })
    .where('user_id', '=', user.id)
    .where('revoked_at', 'is', null)
    .execute();
  const sessions = await db
    .updateTable('refresh_tokens')
    .set({ revoked_at: at })
    .where('user_id', '=', user.id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return {
    password: user.password_hash !== null,
    phone: user.phone !== null,
    factors,
    recoveryCodes,
    sessions: Number(sessions.numUpdatedRows),
  };
}

/**
 * Deletes accounts whose email was never verified and that nobody registered again since
 * `before` (with their challenges, factors and sessions, by cascade). An account verified by its
 * phone is a real account and stays. Each deletion writes `event` to the events outbox in the
 * same statement (its data: the account's `userId` and `event.data`): registration told the
 * webhooks the account was created, so they hear it is gone.
 */
export async function deleteUnverifiedAccounts(
  db: Db,
  before: Date,
  event: { type: string; data: Record<string, unknown> },
): Promise<number> {
  const result = await sql<{ id: string }>`
    WITH gone AS (
      DELETE FROM users
      WHERE email IS NOT NULL AND email_verified_at IS NULL AND phone_verified_at IS NULL
        AND updated_at < ${before}::timestamptz
      RETURNING id
    ), announced AS (
      INSERT INTO event_outbox (id, type, occurred_at, data)
      SELECT gen_random_uuid(), ${event.type}::text, now(),
        jsonb_build_object('userId', gone.id) || ${JSON.stringify(event.data)}::jsonb
      FROM gone
    )
    SELECT id FROM gone`.execute(db);
  return result.rows.length;
}
