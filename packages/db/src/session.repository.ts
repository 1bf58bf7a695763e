import { type Kysely, sql } from 'kysely';
import { compiledOnce } from './compiled-once.ts';
import type { Database, NewRefreshToken, NewSession, RefreshToken, Session } from './database.ts';

type Db = Kysely<Database>;

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
 * The account's sessions that can still be used, most recently used first: not revoked, before
 * their absolute end, and with a refresh token that has not idled out (one that has can never be
 * refreshed again). `currentId`, the caller's own session, is listed whatever its refresh token
 * says: its access token still works.
 */
export async function listLiveSessions(db: Db, userId: string, at: Date, currentId: string | null): Promise<Session[]> {
  return db
    .selectFrom('sessions as s')
    .selectAll('s')
    .where('s.user_id', '=', userId)
    .where('s.revoked_at', 'is', null)
    .where('s.expires_at', '>', at)
    .where((eb) => {
      const refreshable = eb.exists(
        eb
          .selectFrom('refresh_tokens as t')
          .select('t.id')
          .whereRef('t.family_id', '=', 's.id')
          .where('t.revoked_at', 'is', null)
          .where('t.expires_at', '>', at),
      );
      return currentId === null ? refreshable : eb.or([eb('s.id', '=', currentId), refreshable]);
    })
    .orderBy('s.last_used_at', 'desc')
    .orderBy('s.id')
    .execute();
}

/**
 * Revokes every session of the account not revoked yet but `keep` (the caller's own, when a
 * password change keeps it; null: all), and every refresh token of it still live outside `keep`'s
 * family (families from before sessions had rows included). The sessions are locked first, in id order,
 * as a rotation locks its one session (lockSession): a rotation in flight finishes first and its
 * successor is revoked below, one that waited finds its session revoked, and two of these at once
 * take the locks in the same order instead of deadlocking. Call inside a transaction. Returns
 * the ids of the sessions it ended and how many tokens it revoked.
 */
export async function revokeUserSessions(
  trx: Db,
  userId: string,
  at: Date,
  reason: string,
  keep: string | null = null,
): Promise<{ sessionIds: string[]; tokens: number }> {
  let sessions = trx.selectFrom('sessions').select('id').where('user_id', '=', userId).where('revoked_at', 'is', null);
  if (keep !== null) sessions = sessions.where('id', '<>', keep);
  const locked = await sessions.orderBy('id').forUpdate().execute();
  const sessionIds = locked.map((row) => row.id);
  if (sessionIds.length > 0) {
    await trx
      .updateTable('sessions')
      .set({ revoked_at: at, revoked_reason: reason })
      .where('id', 'in', sessionIds)
      .execute();
  }
  let tokens = trx
    .updateTable('refresh_tokens')
    .set({ revoked_at: at })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null);
  if (keep !== null) tokens = tokens.where('family_id', '<>', keep);
  const revoked = await tokens.executeTakeFirst();
  return { sessionIds, tokens: Number(revoked.numUpdatedRows) };
}

export interface DeviceHistory {
  /** Sessions of the account used since `since` on this user agent and network. */
  seenRecently: boolean;
  /** Whether a session used since `since` has no device recorded (started before sessions had rows). */
  unknownRecently: boolean;
  /** Whether the account has any session row at all (kept a year after it ended). */
  signedInBefore: boolean;
}

type SignInSession = NewSession & { amr: string[] | null; user_agent: string | null; client_network: string | null };
type HistoryRow = { seen_recently: boolean; unknown_recently: boolean; signed_in_before: boolean };

// Built once (compiledOnce): it runs on every sign-in.
const sessionWithToken = compiledOnce(
  3,
  (_db, session: SignInSession, token: NewRefreshToken, since: Date) => sql<HistoryRow>`
    WITH history AS (
      SELECT
        coalesce(bool_or(last_used_at > ${since}::timestamptz AND user_agent IS NOT DISTINCT FROM ${session.user_agent}::text
          AND client_network = ${session.client_network}::text), false) AS seen_recently,
        coalesce(bool_or(last_used_at > ${since}::timestamptz AND client_network IS NULL), false) AS unknown_recently,
        count(*) > 0 AS signed_in_before
      FROM sessions WHERE user_id = ${session.user_id}::uuid
    ), session AS (
      INSERT INTO sessions (id, user_id, last_used_at, expires_at, auth_time, amr, user_agent, client_network)
      VALUES (${session.id}::uuid, ${session.user_id}::uuid, ${session.last_used_at}::timestamptz,
        ${session.expires_at}::timestamptz, ${session.auth_time}::timestamptz, ${session.amr}::text[],
        ${session.user_agent}::text, ${session.client_network}::text)
    ), token AS (
      INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at, family_expires_at, revoked_at, replaced_by)
      VALUES (${token.id}::uuid, ${token.user_id}::uuid, ${token.family_id}::uuid, ${token.token_hash}::bytea,
        ${token.expires_at}::timestamptz, ${token.family_expires_at}::timestamptz, NULL, NULL)
    )
    SELECT * FROM history`,
);

/**
 * A sign-in's rows in ONE statement: the session, its first refresh token, and what the account's
 * sessions said about the device before it (the new-device check). Every part of a statement
 * reads the same snapshot, taken before its writes, so the history never counts the new session.
 * One round trip on the sign-in path, built once (compiledOnce).
 */
export async function insertSessionWithToken(
  db: Db,
  session: SignInSession,
  token: NewRefreshToken,
  since: Date,
): Promise<DeviceHistory> {
  const { rows } = await sessionWithToken(db, session, token, since);
  const row = rows[0] as HistoryRow;
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
