import { type Database, findRecipientWindows, type Kysely, type RecipientLimits } from '@otp/db';
import { PublicError, secondsUntil } from '@otp/domain';
import type { GatewayDeps } from '../../deps.ts';

// The message limit of one recipient (a keyed hash of the normalised address), kept on its row
// of `otp_recipient_windows`: OTP_RECIPIENT_LIMIT new challenges and resends within a sliding
// window of OTP_RECIPIENT_WINDOW_SECONDS (the row keeps the time of each).

/** The recipient limits at `at`, from the configuration (what the statements check). */
export function recipientLimits(config: GatewayDeps['config'], at: Date): RecipientLimits {
  return {
    limit: config.OTP_RECIPIENT_LIMIT,
    windowStart: new Date(at.getTime() - config.OTP_RECIPIENT_WINDOW_SECONDS * 1000),
    at,
  };
}

/** The 429 for a recipient refused a message slot, with when the oldest counted message leaves the window. */
export async function recipientRefusal(
  db: Kysely<Database>,
  hash: Buffer,
  limits: RecipientLimits,
  windowSeconds: number,
): Promise<PublicError> {
  const [row] = await findRecipientWindows(db, [hash]);
  const counted = (row?.recent ?? [])
    .filter((time) => time > limits.windowStart)
    .sort((a, b) => a.getTime() - b.getTime());
  // The slot frees when enough of the oldest have aged out to bring the count under the limit.
  const pivot = counted[counted.length - limits.limit] ?? counted[0] ?? limits.at;
  const freesAt = new Date(pivot.getTime() + windowSeconds * 1000);
  return new PublicError('recipient_rate_limited', { retryAfterSeconds: secondsUntil(freesAt, limits.at) });
}
