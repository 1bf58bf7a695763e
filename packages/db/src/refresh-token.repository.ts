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
 * Retires a live token in favour of its successor: one conditional UPDATE, so of several
 * concurrent refreshes with the same token exactly one changes the row and gets the old row back;
 * the others get undefined (and are treated as reuse by the caller).
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

/** Revokes every token of a family still live (logout, or reuse of a retired token). */
export async function revokeRefreshFamily(db: Db, familyId: string, at: Date): Promise<number> {
  const result = await db
    .updateTable('refresh_tokens')
    .set({ revoked_at: at })
    .where('family_id', '=', familyId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Deletes tokens whose family ended before `before` (the purge schedule). */
export async function deleteEndedRefreshTokens(db: Db, before: Date): Promise<number> {
  const result = await db
    .deleteFrom('refresh_tokens')
    .where(sql<boolean>`least(expires_at, family_expires_at) < ${before}`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
