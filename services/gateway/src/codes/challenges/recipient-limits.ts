import {
  type Database,
  findRecipientWindows,
  type Kysely,
  type OtpRecipientWindow,
  type RecipientLimits,
} from '@otp/db';
import { type Channel, normalizeRecipient, PublicError, recipientHash, secondsUntil } from '@otp/domain';
import type { GatewayDeps } from '../../deps.ts';

// The two limits of one recipient (a keyed hash of the normalised address), kept on its row of
// `otp_recipient_windows`:
// - messages: OTP_RECIPIENT_LIMIT new challenges and resends within a sliding window of
//   OTP_RECIPIENT_WINDOW_SECONDS (the row keeps the time of each);
// - wrong codes: OTP_RECIPIENT_MAX_FAILURES within a fixed window of
//   OTP_RECIPIENT_FAILURE_WINDOW_SECONDS that starts at the first wrong code counted, like the
//   sign-in throttle. Fixed rather than sliding so that the row holds one count and one end time
//   instead of a time per failure, and the lock has one end a client can be told in advance; the
//   price is that a guesser who waits for the end of a window can spend two budgets close
//   together, but never more than one per window on average. A right code resets the count.
// Once the failure budget is used up the address is locked: its codes are neither checked nor
// sent (429 recipient_locked) until the failure window ends.

/** The recipient limits at `at`, from the configuration (what the statements check). */
export function recipientLimits(config: GatewayDeps['config'], at: Date): RecipientLimits {
  return {
    limit: config.OTP_RECIPIENT_LIMIT,
    windowStart: new Date(at.getTime() - config.OTP_RECIPIENT_WINDOW_SECONDS * 1000),
    maxFailures: config.OTP_RECIPIENT_MAX_FAILURES,
    failureWindowEndsAt: new Date(at.getTime() + config.OTP_RECIPIENT_FAILURE_WINDOW_SECONDS * 1000),
    at,
  };
}

type FailureCount = Pick<OtpRecipientWindow, 'failure_count' | 'failure_window_ends_at'>;

/** When the recipient's lock ends, or null when it is not locked at `at`. */
export function lockedUntil(row: FailureCount | undefined, maxFailures: number, at: Date): Date | null {
  const ends = row?.failure_window_ends_at ?? null;
  if (row === undefined || ends === null || ends.getTime() <= at.getTime()) return null;
  return row.failure_count >= maxFailures ? ends : null;
}

async function findWindow(db: Kysely<Database>, hash: Buffer): Promise<OtpRecipientWindow | undefined> {
  return (await findRecipientWindows(db, [hash]))[0];
}

/** The 429 for a recipient locked by its failure budget, with the time left (read afresh). */
export async function recipientLockedError(
  db: Kysely<Database>,
  hash: Buffer,
  limits: RecipientLimits,
): Promise<PublicError> {
  // The statement that refused saw the lock; if it ended since, a second is all there is to wait.
  const ends = lockedUntil(await findWindow(db, hash), limits.maxFailures, limits.at) ?? limits.at;
  return new PublicError('recipient_locked', { retryAfterSeconds: secondsUntil(ends, limits.at) });
}

/**
 * Why a recipient was refused a message slot: its lock when it is locked (with when the lock
 * ends), else its full message window (with when the oldest counted message leaves it).
 */
export async function recipientRefusal(
  db: Kysely<Database>,
  hash: Buffer,
  limits: RecipientLimits,
  windowSeconds: number,
): Promise<PublicError> {
  const row = await findWindow(db, hash);
  const locked = lockedUntil(row, limits.maxFailures, limits.at);
  if (locked !== null)
    return new PublicError('recipient_locked', { retryAfterSeconds: secondsUntil(locked, limits.at) });
  const counted = (row?.recent ?? [])
    .filter((time) => time > limits.windowStart)
    .sort((a, b) => a.getTime() - b.getTime());
  // The slot frees when enough of the oldest have aged out to bring the count under the limit.
  const pivot = counted[counted.length - limits.limit] ?? counted[0] ?? limits.at;
  const freesAt = new Date(pivot.getTime() + windowSeconds * 1000);
  return new PublicError('recipient_rate_limited', { retryAfterSeconds: secondsUntil(freesAt, limits.at) });
}

/** The keyed hash a challenge to this stored address would have (as stored if it no longer parses). */
export function storedRecipientHash(deps: Pick<GatewayDeps, 'keys'>, channel: Channel, stored: string): Buffer {
  let normalized = stored;
  try {
    normalized = normalizeRecipient(channel, stored);
  } catch {
    // Stored before a stricter rule: hash it as it is.
  }
  return recipientHash(deps.keys.codeHmacKey, channel, normalized);
}

/** The keyed hashes of an account's addresses (email, phone), as their challenges and windows are stored under. */
export function accountRecipientHashes(
  deps: Pick<GatewayDeps, 'keys'>,
  account: { email: string | null; phone: string | null },
): Buffer[] {
  return [
    ...(account.email === null ? [] : [storedRecipientHash(deps, 'email', account.email)]),
    ...(account.phone === null ? [] : [storedRecipientHash(deps, 'sms', account.phone)]),
  ];
}

/**
 * Until when code sign-in is locked for an account: the later of the locks of its email address
 * and its phone number, or null when neither is locked.
 */
export async function codeSignInLockedUntil(
  deps: GatewayDeps,
  account: { email: string | null; phone: string | null },
  at: Date,
): Promise<Date | null> {
  const locks = (await findRecipientWindows(deps.db, accountRecipientHashes(deps, account)))
    .map((row) => lockedUntil(row, deps.config.OTP_RECIPIENT_MAX_FAILURES, at))
    .filter((ends): ends is Date => ends !== null);
  return locks.reduce<Date | null>((later, ends) => (later === null || ends > later ? ends : later), null);
}
