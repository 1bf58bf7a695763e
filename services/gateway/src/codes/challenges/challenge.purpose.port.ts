import type { Database, Kysely } from '@otp/db';
import type { Channel, Purpose } from '@otp/domain';
import type { TSchema } from 'typebox';
import type { RequestContext } from '../../events/request-context.ts';

/** A challenge whose code was right, as the side that applies its purpose sees it. */
export interface VerifiedChallenge {
  id: string;
  channel: Channel;
  purpose: Purpose;
  /** The account that asked for the code (verify_phone from /v1/me/phone, verify_email at registration). */
  userId: string | null;
  /** The normalised address the code went to (opened from the challenge's sealed copy). */
  recipient: string;
  /** The locale its messages were asked in (a code sign-in makes it the account's). */
  locale: string;
  /** The server key that started it (the verification API): then it belongs to no account and changes none. */
  apiKey: string | null;
}

/** What applying a purpose gives: the verify route's answer, and the account it concerns. */
export interface PurposeOutcome {
  answer: unknown;
  userId: string | null;
}

/**
 * The port through which a verified code does something: sign in (login), mark an address
 * verified (verify_email, verify_phone). The accounts side implements it and app.ts hands it to
 * the challenge routes, so the code half never imports the accounts half. `apply` runs inside the
 * transaction that consumed the challenge: a refusal it throws (sign-up disabled, phone taken)
 * rolls the consumption back, and the events it records commit with it.
 */
export interface ChallengePurposes {
  /** The schema of the verify route's 200 answer (for validation and the OpenAPI document). */
  readonly answer: TSchema;
  /**
   * The purposes this side applies. A challenge of another answers 400 validation_failed before
   * its attempt is counted or its code compared: a reset code is never taken as a sign-in, nor a
   * sign-in code as a reset.
   */
  readonly purposes: readonly Purpose[];
  apply(
    trx: Kysely<Database>,
    challenge: VerifiedChallenge,
    context: RequestContext,
    at: Date,
  ): Promise<PurposeOutcome>;
}
