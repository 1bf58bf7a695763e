import type { Kysely } from 'kysely';
import type { Database, DeliveryAttempt, NewDeliveryAttempt } from './database.ts';

type Db = Kysely<Database>;

/** Every attempt to hand a message to a provider is a row, so "was it sent?" needs no Redis. */
export async function insertDeliveryAttempt(db: Db, row: NewDeliveryAttempt): Promise<void> {
  await db.insertInto('delivery_attempts').values(row).execute();
}

export async function listDeliveryAttempts(db: Db, challengeId: string): Promise<DeliveryAttempt[]> {
  return db.selectFrom('delivery_attempts').selectAll().where('challenge_id', '=', challengeId).orderBy('id').execute();
}
