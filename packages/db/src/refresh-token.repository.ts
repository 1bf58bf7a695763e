import type { Kysely } from 'kysely';
import type { Database, NewRefreshToken } from './database.ts';

type Db = Kysely<Database>;

/** Stores a refresh token by its hash only; the token itself is shown once, to the client. */
export async function insertRefreshToken(db: Db, row: NewRefreshToken): Promise<void> {
  await db.insertInto('refresh_tokens').values(row).execute();
}
