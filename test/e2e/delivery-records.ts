import type { Database, Kysely } from '@otp/db';

/** What the workers and the gateway recorded for a challenge: its delivery, and every attempt. */
export async function deliveryRecords(db: Kysely<Database>, challengeId: string) {
  const [challenge, attempts] = await Promise.all([
    db
      .selectFrom('otp_challenges')
      .select(['status', 'delivery_status', 'delivery_last_error', 'delivery_attempts', 'delivery_updated_at'])
      .where('id', '=', challengeId)
      .executeTakeFirst(),
    db
      .selectFrom('delivery_attempts')
      .select(['attempt', 'outcome', 'error_code', 'provider_message_id', 'created_at'])
      .where('challenge_id', '=', challengeId)
      .orderBy('id')
      .execute(),
  ]);
  return { challenge, attempts };
}
