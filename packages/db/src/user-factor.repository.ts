import { type Kysely, sql } from 'kysely';
import type { Database, FactorKind, UserFactor } from './database.ts';
import { deleteMfaTokens } from './mfa-token.repository.ts';

type Db = Kysely<Database>;

export interface PendingFactor {
  userId: string;
  kind: FactorKind;
  secretEnvelope: string;
  algorithm: string;
  digits: number;
  period: number | null;
  counter: number | null;
}

/**
 * Writes a pending factor of this kind, replacing an earlier pending one (a second enrolment
 * starts over). Undefined when the account already has this kind enabled: that one stays.
 */
export async function upsertPendingFactor(db: Db, factor: PendingFactor): Promise<UserFactor | undefined> {
  const values = {
    secret_envelope: factor.secretEnvelope,
    algorithm: factor.algorithm,
    digits: factor.digits,
    period: factor.period,
    counter: factor.counter,
  };
  return db
    .insertInto('user_factors')
    .values({ user_id: factor.userId, kind: factor.kind, ...values })
    .onConflict((oc) =>
      oc
        .columns(['user_id', 'kind'])
        .doUpdateSet({ ...values, last_step: null, created_at: sql<Date>`now()` } as never)
        .where('user_factors.enabled_at', 'is', null),
    )
    .returningAll()
    .executeTakeFirst();
}

export async function findFactor(db: Db, userId: string, kind: FactorKind): Promise<UserFactor | undefined> {
  return db
    .selectFrom('user_factors')
    .selectAll()
    .where('user_id', '=', userId)
    .where('kind', '=', kind)
    .executeTakeFirst();
}

export async function listEnabledFactors(db: Db, userId: string): Promise<UserFactor[]> {
  // Raw SQL of constant text: every sign-in reads this, and needs no query builder for it.
  const { rows } = await sql<UserFactor>`
    SELECT * FROM user_factors WHERE user_id = ${userId}::uuid AND enabled_at IS NOT NULL ORDER BY kind`.execute(db);
  return rows;
}

/**
 * Records the TOTP step just accepted. The conditional UPDATE is the replay guard across
 * replicas: of two requests with the same code (or an older one), exactly one changes the row.
 */
export async function advanceTotpStep(db: Db, factorId: string, step: number): Promise<boolean> {
  const result = await db
    .updateTable('user_factors')
    .set({ last_step: step })
    .where('id', '=', factorId)
    .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', String(step))]))
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** Moves the HOTP counter past the matched value; true for exactly one of concurrent users of a code. */
export async function advanceHotpCounter(db: Db, factorId: string, matched: number): Promise<boolean> {
  const result = await db
    .updateTable('user_factors')
    .set({ counter: matched + 1 })
    .where('id', '=', factorId)
    .where('counter', '<=', String(matched))
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** Marks a pending factor enabled; false when it was already enabled or is gone. */
export async function enableFactor(db: Db, factorId: string, at: Date): Promise<boolean> {
  const result = await db
    .updateTable('user_factors')
    .set({ enabled_at: at })
    .where('id', '=', factorId)
    .where('enabled_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** Stores the secret sealed again under the current key (key rotation). */
export async function resealFactorSecret(db: Db, factorId: string, secretEnvelope: string): Promise<void> {
  await db.updateTable('user_factors').set({ secret_envelope: secretEnvelope }).where('id', '=', factorId).execute();
}

export async function deleteFactor(db: Db, userId: string, kind: FactorKind): Promise<boolean> {
  const result = await db
    .deleteFrom('user_factors')
    .where('user_id', '=', userId)
    .where('kind', '=', kind)
    .executeTakeFirst();
  return result.numDeletedRows === 1n;
}

/** Counts one failed factor code for the account (one statement, exact across replicas); the new count. */
export async function countFactorFailure(db: Db, userId: string): Promise<number> {
  const row = await db
    .updateTable('users')
    .set((eb) => ({ factor_failures: eb('factor_failures', '+', 1) }))
    .where('id', '=', userId)
    .returning('factor_failures')
    .executeTakeFirst();
  return row?.factor_failures ?? 0;
}

export async function resetFactorFailures(db: Db, userId: string): Promise<void> {
  await db
    .updateTable('users')
    .set({ factor_failures: 0 })
    .where('id', '=', userId)
    .where('factor_failures', '>', 0)
    .execute();
}

/**
 * Removes the account's TOTP/HOTP factors, its recovery codes and its pending MFA steps (an
 * mfaToken names methods that no longer exist), and ends its factor lock: what a claim of an
 * unverified registration and an operator's reset-factors both take away.
 */
export async function removeAllFactors(db: Db, userId: string): Promise<{ factors: number; recoveryCodes: number }> {
  const factors = await db.deleteFrom('user_factors').where('user_id', '=', userId).executeTakeFirst();
  const codes = await db.deleteFrom('recovery_codes').where('user_id', '=', userId).executeTakeFirst();
  await deleteMfaTokens(db, userId);
  await resetFactorFailures(db, userId);
  return { factors: Number(factors.numDeletedRows), recoveryCodes: Number(codes.numDeletedRows) };
}
