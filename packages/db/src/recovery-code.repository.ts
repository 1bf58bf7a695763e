import type { Kysely } from 'kysely';
import type { Database } from './database.ts';

type Db = Kysely<Database>;

/** Replaces the account's recovery codes with a new set (run it in a transaction). */
export async function replaceRecoveryCodes(db: Db, userId: string, codeHashes: Buffer[]): Promise<void> {
  await db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
  if (codeHashes.length === 0) return;
  await db
    .insertInto('recovery_codes')
    .values(codeHashes.map((codeHash) => ({ user_id: userId, code_hash: codeHash })))
    .execute();
}

/** Uses one recovery code up; true for exactly one caller, however many present it at once. */
export async function consumeRecoveryCode(db: Db, userId: string, codeHash: Buffer, at: Date): Promise<boolean> {
  const row = await db
    .updateTable('recovery_codes')
    .set({ used_at: at })
    .where('id', '=', (eb) =>
      eb
        .selectFrom('recovery_codes')
        .select('id')
        .where('user_id', '=', userId)
        .where('code_hash', '=', codeHash)
        .where('used_at', 'is', null)
        .limit(1),
    )
    .where('used_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

export async function countRemainingRecoveryCodes(db: Db, userId: string): Promise<number> {
  const row = await db
    .selectFrom('recovery_codes')
    .select((eb) => eb.fn.countAll<string>().as('remaining'))
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.remaining);
}
