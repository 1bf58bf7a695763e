import { type Kysely, sql } from 'kysely';
import type { Database, DeliveryAttempt, NewDeliveryAttempt } from './database.ts';

type Db = Kysely<Database>;

/** Every attempt to hand a message to a provider is a row, so "was it sent?" needs no Redis. */
export async function insertDeliveryAttempt(db: Db, row: NewDeliveryAttempt): Promise<void> {
  await db
    .insertInto('delivery_attempts')
    .values({ ...row, challenge_created_at: row.challenge_created_at ?? challengeCreatedAt(row.challenge_id) })
    .execute();
}

/**
 * An attempt's partition key when its writer does not pass it: its challenge's created_at, read
 * from the challenge's row (the partition's foreign key holds it to it). A lookup by id alone, so
 * it probes every day's partition. No challenge: NULL, which no partition takes, so the insert
 * fails as the foreign key to the challenge made it fail before partitioning.
 */
export function challengeCreatedAt(challengeId: string) {
  return sql<string>`(SELECT created_at FROM otp_challenges WHERE id = ${challengeId}::uuid)`;
}

export async function listDeliveryAttempts(db: Db, challengeId: string): Promise<DeliveryAttempt[]> {
  return db.selectFrom('delivery_attempts').selectAll().where('challenge_id', '=', challengeId).orderBy('id').execute();
}
