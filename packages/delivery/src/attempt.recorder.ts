import { type Database, insertDeliveryAttempt, type Kysely, type NewDeliveryAttempt } from '@otp/db';
import type { AttemptOutcome, Channel, DeliveryErrorCode } from '@otp/domain';

export interface AttemptIdentity {
  challengeId: string;
  sendNumber: number;
  channel: Channel;
  provider: string;
  /** How many times this job has started, this run included. */
  attempt: number;
  /**
   * The challenge's created_at as Postgres printed it (`ChallengeToSend.created_at_key`), once the
   * challenge was read: the attempt rows' partition key. Without it, each insert looks it up by id.
   */
  challengeCreatedAt?: string;
}

export interface AttemptFields {
  errorCode?: DeliveryErrorCode;
  /** Safe text only: a DeliveryError's redacted detail, never raw provider text. */
  errorMessage?: string;
  providerMessageId?: string | null;
  durationMs?: number;
  /** The catalogue locale of the message, once it was rendered. */
  locale?: string;
  /** The provider that took or failed this send, when a chain says which (default: the identity's). */
  provider?: string;
}

export type RecordAttempt = (outcome: AttemptOutcome, fields?: AttemptFields) => Promise<void>;

/** Writes one `delivery_attempts` row per processing of a job, so "was it sent?" needs no Redis. */
export function attemptRecorder(db: Kysely<Database>, identity: AttemptIdentity): RecordAttempt {
  return async (outcome, fields = {}) => {
    await insertDeliveryAttempt(db, attemptRow(identity, outcome, fields));
  };
}

/** The `delivery_attempts` row of one processing (for a statement that writes more than it). */
export function attemptRow(
  identity: AttemptIdentity,
  outcome: AttemptOutcome,
  fields: AttemptFields = {},
): NewDeliveryAttempt {
  return {
    challenge_id: identity.challengeId,
    send_number: identity.sendNumber,
    channel: identity.channel,
    provider: fields.provider ?? identity.provider,
    attempt: identity.attempt,
    outcome,
    error_code: fields.errorCode ?? null,
    error_message: fields.errorMessage ?? null,
    provider_message_id: fields.providerMessageId ?? null,
    duration_ms: Math.round(fields.durationMs ?? 0),
    locale: fields.locale ?? null,
    ...(identity.challengeCreatedAt === undefined ? {} : { challenge_created_at: identity.challengeCreatedAt }),
  };
}
