import { type Kysely, sql } from 'kysely';
import type { Database, NewRefreshToken, NewSession, RefreshToken } from './database.ts';

type Db = Kysely<Database>;

/**
 * Stores a refresh token by its hash only; the token itself is shown once, to the client. With
 * `session`, the session row it starts goes in the same statement (a sign-in: one round trip, in
 * raw SQL of constant text, a prepared statement with no query builder on the sign-in path).
 */
export async function insertRefreshToken(db: Db, row: NewRefreshToken, session?: NewSession): Promise<void> {
  if (session === undefined) {
    await db.insertInto('refresh_tokens').values(row).execute();
    return;
  }
  await sql`
    WITH session AS (
      INSERT INTO sessions (id, user_id, last_used_at, expires_at, auth_time, amr, user_agent, client_network)
      VALUES (${session.id}::uuid, ${session.user_id}::uuid, ${session.last_used_at}::timestamptz,
        ${session.expires_at}::timestamptz, ${session.auth_time}::timestamptz, ${session.amr ?? null}::text[],
        ${session.user_agent ?? null}::text, ${session.client_network ?? null}::text)
    )
    INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at, family_expires_at, revoked_at, replaced_by)
    VALUES (${row.id}::uuid, ${row.user_id}::uuid, ${row.family_id}::uuid, ${row.token_hash}::bytea,
      ${row.expires_at}::timestamptz, ${row.family_expires_at}::timestamptz, ${row.revoked_at ?? null}::timestamptz,
      ${row.replaced_by ?? null}::uuid)
  `.execute(db);
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
