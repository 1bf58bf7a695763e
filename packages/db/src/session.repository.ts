import { type Kysely, sql } from 'kysely';
import type { Database, NewSession, RefreshToken, Session } from './database.ts';

type Db = Kysely<Database>;

export async function insertSession(db: Db, row: NewSession): Promise<void> {
  await db.insertInto('sessions').values(row).execute();
}

export async function findSession(db: Db, id: string): Promise<Session | undefined> {
  return db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * The session row, locked for the rest of the transaction (`FOR UPDATE`). Every change to a
 * session's tokens (rotation, revocation) takes this lock first, so two of them never interleave:
 * a revocation waits for a rotation in flight and then revokes its successor too, and a rotation
 * that waited for a revocation finds the session revoked.
 */
export async function lockSession(trx: Db, id: string): Promise<Session | undefined> {
  return trx.selectFrom('sessions').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

/**
 * Gives a refresh-token family from before sessions had rows (written by the previous release
 * during a rolling upgrade) its session row, device unknown; nothing when it has one.
 */
export async function adoptFamily(trx: Db, token: RefreshToken): Promise<void> {
  await trx
    .insertInto('sessions')
    .values({
      id: token.family_id,
      user_id: token.user_id,
      created_at: token.created_at,
      last_used_at: token.created_at,
      expires_at: token.family_expires_at,
      auth_time: token.created_at,
      user_agent: null,
      client_network: null,
    })
    .onConflict((conflict) => conflict.column('id').doNothing())
    .execute();
}

export async function touchSession(trx: Db, id: string, at: Date): Promise<void> {
  await trx.updateTable('sessions').set({ last_used_at: at }).where('id', '=', id).execute();
}

/**
 * Revokes a session and every refresh token of it still live; call with the row locked
 * (lockSession). Returns how many tokens were revoked.
 */
export async function revokeSession(trx: Db, id: string, at: Date, reason: string): Promise<number> {
  await trx
    .updateTable('sessions')
    .set({ revoked_at: at, revoked_reason: reason })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .execute();
  const result = await trx
    .updateTable('refresh_tokens')
    .set({ revoked_at: at })
    .where('family_id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * Revokes every live session of an account but `keep` (the caller's own, or null for all), and
 * every live refresh token outside `keep`'s family, sessions or not (families from before the
 * sessions table have no row). The sessions first: a refresh holding one's lock finishes before
 * this UPDATE takes it, so the token it issued is live, and revoked, when the second statement
 * runs; a refresh that comes after finds its session revoked. Returns how many sessions ended.
 */
export async function revokeUserSessions(
  trx: Db,
  userId: string,
  at: Date,
  reason: string,
  keep: string | null,
): Promise<number> {
  let sessions = trx
    .updateTable('sessions')
    .set({ revoked_at: at, revoked_reason: reason })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null);
  if (keep !== null) sessions = sessions.where('id', '<>', keep);
  const ended = await sessions.executeTakeFirst();
  let tokens = trx
    .updateTable('refresh_tokens')
    .set({ revoked_at: at })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null);
  if (keep !== null) tokens = tokens.where('family_id', '<>', keep);
  await tokens.execute();
  return Number(ended.numUpdatedRows);
}

export interface DeviceHistory {
  /** Sessions of the account used since `since` on this user agent and network. */
  seenRecently: boolean;
  /** Whether a session used since `since` has no device recorded (started before sessions had rows). */
  unknownRecently: boolean;
  /** Whether the account has any session row at all (kept a year after it ended). */
  signedInBefore: boolean;
}

/** What the account's sessions say about a device: the new-device check's one query. */
export async function deviceHistory(
  db: Db,
  userId: string,
  device: { userAgent: string | null; clientNetwork: string },
  since: Date,
): Promise<DeviceHistory> {
  const recent = sql<boolean>`last_used_at > ${since}`;
  const row = await db
    .selectFrom('sessions')
    .select([
      sql<boolean>`coalesce(bool_or(${recent} AND user_agent IS NOT DISTINCT FROM ${device.userAgent}
        AND client_network = ${device.clientNetwork}), false)`.as('seen_recently'),
      sql<boolean>`coalesce(bool_or(${recent} AND client_network IS NULL), false)`.as('unknown_recently'),
      sql<boolean>`count(*) > 0`.as('signed_in_before'),
    ])
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
  return {
    seenRecently: row.seen_recently,
    unknownRecently: row.unknown_recently,
    signedInBefore: row.signed_in_before,
  };
}

/**
 * Deletes sessions that ended before `before` (their refresh tokens ended with them and go by
 * their own purge).
 * The purge passes a date a year back: ended sessions are what the new-device check remembers.
 */
export async function deleteEndedSessions(db: Db, before: Date): Promise<number> {
  const result = await db
    .deleteFrom('sessions')
    .where(sql<boolean>`coalesce(least(revoked_at, expires_at), expires_at) < ${before}`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
