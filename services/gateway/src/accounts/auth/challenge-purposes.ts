import {
  type Database,
  findUserByEmail,
  findUserByPhone,
  type Kysely,
  markEmailVerified,
  type OtpChallenge,
  setVerifiedPhone,
  upsertUserWithVerifiedEmail,
  upsertUserWithVerifiedPhone,
} from '@otp/db';
import { open, PublicError } from '@otp/domain';
import type { GatewayDeps } from '../../deps.ts';
import { presentUser } from '../users/user.presenter.ts';
import type { UserView } from '../users/user.schemas.ts';

// What a verified code does, by purpose. Each runs inside the transaction that consumed the
// challenge, so a refusal here (sign-up disabled, phone taken) rolls the consumption back too.

/** The normalised address the challenge was sent to (sealed on the row, bound to its id). */
function recipientOf(deps: GatewayDeps, challenge: OtpChallenge): string {
  return open(deps.keys.envelopes, challenge.recipient_sealed, `recipient:${challenge.id}`) as string;
}

/** login: the account of the proven address, created on first sign-in unless sign-up is off. */
export async function signInWithRecipient(
  trx: Kysely<Database>,
  deps: GatewayDeps,
  challenge: OtpChallenge,
): Promise<UserView> {
  const to = recipientOf(deps, challenge);
  const byEmail = challenge.channel === 'email';
  if (!deps.config.SIGNUP_ENABLED) {
    const existing = byEmail ? await findUserByEmail(trx, to) : await findUserByPhone(trx, to);
    if (existing === undefined) throw new PublicError('signup_disabled');
  }
  const user = byEmail ? await upsertUserWithVerifiedEmail(trx, to) : await upsertUserWithVerifiedPhone(trx, to);
  return presentUser(user);
}

/** verify_email / verify_phone: marks the address verified on the account it belongs to. */
export async function verifyRecipient(
  trx: Kysely<Database>,
  deps: GatewayDeps,
  challenge: OtpChallenge,
): Promise<void> {
  const to = recipientOf(deps, challenge);
  if (challenge.purpose === 'verify_email') {
    await markEmailVerified(trx, to);
    return;
  }
  // A phone is verified for the account that asked for the code (POST /v1/me/phone sets user_id).
  if (challenge.user_id === null) return;
  if (!(await setVerifiedPhone(trx, challenge.user_id, to))) throw new PublicError('phone_taken');
}
