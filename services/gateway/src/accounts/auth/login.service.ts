import { findUserByEmail } from '@otp/db';
import { normalizeEmail, PublicError, recipientHash } from '@otp/domain';
import { type GatewayDeps, now } from '../../deps.ts';
import { inTransaction, recordEvent } from '../../events/record-event.ts';
import type { RequestContext } from '../../events/request-context.ts';
import { presentUser } from '../users/user.presenter.ts';
import { completeFirstFactor, type MfaRequired, type SignedIn } from './mfa.service.ts';
import type { SignInReservation, SignInThrottle } from './sign-in-throttle.ts';

function invalidCredentials(): PublicError {
  return new PublicError('invalid_credentials');
}

/** The address as the throttle and the lookup see it; a malformed one matches no account. */
function normalizedOrUndefined(email: string): string | undefined {
  try {
    return normalizeEmail(email);
  } catch {
    return undefined;
  }
}

/**
 * Password sign-in. An unknown address, an account without a password and a wrong password all
 * answer 401 invalid_credentials after one Argon2id verification (against a dummy hash when there
 * is no hash), so neither the answer nor its time tells whether the account exists. Each attempt
 * is counted per address and per client network before Argon2 runs (see sign-in-throttle.ts); at
 * the limit the answer is 429 without hashing. A wrong password keeps its count; a right one
 * gives it back.
 */
export async function signInWithPassword(
  deps: GatewayDeps,
  throttle: SignInThrottle,
  context: RequestContext,
  /** `locale`: the request's catalogue locale, the account's language once the sign-in completes. */
  input: { email: string; password: string; locale: string },
): Promise<SignedIn | MfaRequired> {
  const at = now(deps);
  const email = normalizedOrUndefined(input.email) ?? input.email.trim();
  const user = await findUserByEmail(deps.db, email);
  const subject = {
    accountKey: recipientHash(deps.keys.codeHmacKey, 'email', email).toString('hex'),
    ip: context.ip,
    userId: user?.id,
  };
  let reservation: SignInReservation;
  try {
    reservation = await throttle.reserve(subject, at);
  } catch (error) {
    await recordEvent(deps.db, context, 'sign_in.throttled', { userId: user?.id ?? null });
    throw error;
  }

  let matches: boolean;
  try {
    matches = await deps.passwords.verify(user?.password_hash, input.password);
  } catch (error) {
    // No verdict on the password (the hashing queue was full: 503): the attempt was no guess.
    await reservation.release();
    throw error;
  }
  if (user === undefined || !matches) {
    // The reservation stays: it is this failure's count.
    await recordEvent(deps.db, context, 'sign_in.failed', {
      userId: user?.id ?? null,
      details: { method: 'password', reason: user === undefined ? 'unknown_account' : 'wrong_password' },
    });
    throw invalidCredentials();
  }

  // Whoever registered an address cannot sign in with a password before proving it: otherwise
  // anyone could register someone else's address and use the account (pre-hijacking). Said only
  // to a caller who knows the password, so it tells a stranger nothing; the attempt is given
  // back (the password was right) but the address's earlier failures stay counted.
  if (user.email_verified_at === null) {
    await reservation.release();
    await recordEvent(deps.db, context, 'sign_in.unverified', { userId: user.id, details: { method: 'password' } });
    throw new PublicError('email_not_verified', { detail: 'verify the email address with the code sent to it' });
  }
  // Checked, like the above, only once the password proved right: a stranger learns nothing of it.
  // (completeFirstFactor checks again under the row's lock, against a disable racing this.)
  if (user.disabled_at !== null) {
    await reservation.release();
    await recordEvent(deps.db, context, 'sign_in.disabled', { userId: user.id, details: { method: 'password' } });
    throw new PublicError('account_disabled');
  }
  await reservation.succeeded();
  return inTransaction(deps.db, (trx) =>
    completeFirstFactor(trx, deps, context, presentUser(user), { method: 'password', at, locale: input.locale }),
  );
}
