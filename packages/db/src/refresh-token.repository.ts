import { type Kysely, sql } from 'kysely';
import type { Database, NewRefreshToken, RefreshToken } from './database.ts';

type Db = Kysely<Database>;

/** Stores a refresh token by its hash only; the token itself is shown once, to the client. */
export async function insertRefreshToken(db: Db, row: NewRefreshToken): Promise<void> {
  await db.insertInto('refresh_tokens').values(row).execute();
}

export async function findRefreshTokenByHash(db: Db, tokenHash: Buffer): Promise<RefreshToken | undefined> {
  return db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

/**
 * Retires a live token in favour of its successor: one conditional UPDATE (the caller holds the
 * session's lock, so no other rotation of the session runs meanwhile); undefined when the token
 * is revoked or expired.
 */
export async function retireRefreshToken(
  db: Db,
  tokenHash: Buffer,
  replacedBy: string,
  at: Date,
): Promise<RefreshToken | undefined> {
  return db
    .updateTable('refresh_tokens')
    .set({ revoked_at: at, replaced_by: replacedBy })
    .where('token_hash', '=', tokenHash)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', at)
    .where('family_expires_at', '>', at)
    .returningAll()
    .executeTakeFirst();
}

/** Deletes tokens whose family ended before `before` (the purge schedule). */
export async function deleteEndedRefreshTokens(db: Db, before: Date): Promise<number> {
  const result = await db
    .deleteFrom('refresh_tokens')
    .where(sql<boolean>`least(expires_at, family_expires_at) < ${before}`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
