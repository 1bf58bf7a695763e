import type { Kysely } from 'kysely';
import type { Database, MfaToken } from './database.ts';

type Db = Kysely<Database>;

export interface NewMfaToken {
  tokenHash: Buffer;
  userId: string;
  maxAttempts: number;
  expiresAt: Date;
  /** The first step's catalogue locale, for the account once the second step completes. */
  locale: string;
  /** The first factor's amr values (RFC 8176), completed by the MFA step. */
  amr: string[];
}

export async function insertMfaToken(db: Db, token: NewMfaToken): Promise<void> {
  await db
    .insertInto('mfa_tokens')
    .values({
      token_hash: token.tokenHash,
      user_id: token.userId,
      max_attempts: token.maxAttempts,
      expires_at: token.expiresAt,
      locale: token.locale,
      amr: token.amr,
    })
    .execute();
}

/**
 * Counts one attempt on a live token, in its own statement (as for codes): concurrent attempts
 * each take one unit of the budget, so no more than max_attempts proofs are ever checked.
 * Undefined when the token is unknown, expired, used or out of attempts.
 */
export async function countMfaAttempt(db: Db, tokenHash: Buffer, at: Date): Promise<MfaToken | undefined> {
  return db
    .updateTable('mfa_tokens')
    .set((eb) => ({ attempt_count: eb('attempt_count', '+', 1) }))
    .where('token_hash', '=', tokenHash)
    .where('consumed_at', 'is', null)
    .where('expires_at', '>', at)
    .where((eb) => eb('attempt_count', '<', eb.ref('max_attempts')))
    .returningAll()
    .executeTakeFirst();
}

/** Uses the token up; true for exactly one caller. */
export async function consumeMfaToken(db: Db, tokenHash: Buffer, at: Date): Promise<boolean> {
  const result = await db
    .updateTable('mfa_tokens')
    .set({ consumed_at: at })
    .where('token_hash', '=', tokenHash)
    .where('consumed_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** Deletes tokens that expired before `before` (the purge schedule). */
export async function purgeExpiredMfaTokens(db: Db, before: Date): Promise<number> {
  const result = await db.deleteFrom('mfa_tokens').where('expires_at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Spends the account's pending mfaTokens: a sign-in begun before a disable or a factor reset cannot finish. */
export async function deleteMfaTokens(db: Db, userId: string): Promise<void> {
  await db.deleteFrom('mfa_tokens').where('user_id', '=', userId).execute();
}
