import {
  type Database,
  type FirstFactorLock,
  findUserByEmail,
  findUserById,
  findUserByPhone,
  type Kysely,
  markEmailVerified,
  moveUserEmail,
  removeUnverifiedSettings,
  setVerifiedPhone,
  upsertUserForEmailSignIn,
  upsertUserWithVerifiedEmail,
  upsertUserWithVerifiedEmailUnlessClaimable,
  upsertUserWithVerifiedPhone,
} from '@otp/db';
import { maskEmail, normalizeRecipient, PublicError } from '@otp/domain';
import Type from 'typebox';
import type { ChallengePurposes, VerifiedChallenge } from '../../codes/challenges/challenge.purpose.port.ts';
import { VerificationToken } from '../../codes/challenges/challenge.schemas.ts';
import type { GatewayDeps } from '../../deps.ts';
import { recordEvent } from '../../events/record-event.ts';
import type { RequestContext } from '../../events/request-context.ts';
import { presentUser, type UserViewColumns } from '../users/user.presenter.ts';
import { TokensAndUser, type UserView } from '../users/user.schemas.ts';
import { MfaRequired } from './auth.schemas.ts';
import { completeFirstFactor } from './mfa.service.ts';

// What a verified code does, by purpose: the accounts side of POST /v1/otp/challenges/:id/verify.
// Each runs inside the transaction that consumed the challenge, so a refusal here (sign-up
// disabled, phone taken) rolls the consumption back too.

export const Verified = Type.Object(
  {
    outcome: Type.Literal('verified', { description: 'Which answer this is: the address is verified' }),
    verified: Type.Literal(true),
    verificationToken: Type.Optional(VerificationToken),
  },
  { description: 'The address is verified' },
);

/**
 * The proven address in today's normal form: a code requested before an upgrade that changed the
 * form (one identity per address) and used after it still finds its account. A stored form
 * today's rules refuse stays as it was.
 */
function provenAddress(challenge: VerifiedChallenge): string {
  try {
    return normalizeRecipient(challenge.channel, challenge.recipient);
  } catch {
    return challenge.recipient;
  }
}

/**
 * The address is proven: if someone registered it without proving it, and this challenge is not
 * that registration's own, the registrant may be a stranger who got there first (pre-hijacking).
 * What they set (password, phone, factors, recovery codes) goes and their sessions end, before the
 * owner gets anything. A registrant who proves the address with their registration's own code
 * keeps their settings.
 */
async function claimUnverifiedEmail(
  trx: Kysely<Database>,
  challenge: VerifiedChallenge,
  context: RequestContext,
  at: Date,
): Promise<void> {
  if (challenge.channel !== 'email') return;
  const user = await findUserByEmail(trx, provenAddress(challenge));
  if (user === undefined || user.email_verified_at !== null) return;
  if (user.registration_challenge_id === challenge.id) return;
  const removed = await removeUnverifiedSettings(trx, user, at);
  await recordEvent(trx, context, 'user.claimed', {
    userId: user.id,
    details: { challengeId: challenge.id, purpose: challenge.purpose, ...removed },
  });
}

/** A sign-in's account, and, when its upsert also locked it, what that statement read (mfa.service.ts). */
interface SignInAccount {
  user: UserView;
  locked?: FirstFactorLock;
}

/**
 * login: the account of the proven address, created on first sign-in unless sign-up is off. A
 * creation is recorded (`user.created`, a webhook's user.created) in the sign-in's transaction.
 * An email sign-in with sign-up on first tries the upsert that leaves a registration to claim
 * alone (one statement for the usual case); only when there is one does it claim it, then upsert.
 * With the factor port that keeps its factors in `user_factors`, that upsert also does the
 * first factor's lock (`upsertUserForEmailSignIn`): one statement fewer.
 */
async function accountOf(
  trx: Kysely<Database>,
  deps: GatewayDeps,
  challenge: VerifiedChallenge,
  context: RequestContext,
  at: Date,
  locale: string,
): Promise<SignInAccount> {
  const to = provenAddress(challenge);
  const byEmail = challenge.channel === 'email';
  let upserted: { user: UserViewColumns; created: boolean } | undefined;
  let locked: FirstFactorLock | undefined;
  if (byEmail && deps.config.SIGNUP_ENABLED) {
    if (deps.factors?.keptInUserFactors === true) {
      const signIn = await upsertUserForEmailSignIn(trx, to, challenge.id, locale);
      locked = signIn?.account;
      upserted = signIn === undefined ? undefined : { user: signIn.account, created: signIn.created };
    } else {
      upserted = await upsertUserWithVerifiedEmailUnlessClaimable(trx, to, challenge.id);
    }
  }
  if (upserted === undefined) {
    await claimUnverifiedEmail(trx, challenge, context, at);
    if (!deps.config.SIGNUP_ENABLED) {
      const existing = byEmail ? await findUserByEmail(trx, to) : await findUserByPhone(trx, to);
      if (existing === undefined) throw new PublicError('signup_disabled');
    }
    upserted = byEmail ? await upsertUserWithVerifiedEmail(trx, to) : await upsertUserWithVerifiedPhone(trx, to);
  }
  const { user, created } = upserted;
  if (created) {
    await recordEvent(trx, context, 'user.created', {
      userId: user.id,
      details: { method: challenge.channel, challengeId: challenge.id },
      at,
    });
  }
  return { user: presentUser(user), ...(locked === undefined ? {} : { locked }) };
}

/** verify_email / verify_phone: marks the address verified on the account it belongs to. */
async function markVerified(
  trx: Kysely<Database>,
  challenge: VerifiedChallenge,
  context: RequestContext,
): Promise<void> {
  if (challenge.purpose === 'verify_email') {
    await markEmailVerified(trx, provenAddress(challenge));
    return;
  }
  // A phone is verified for the account that asked for the code (POST /v1/me/phone sets user_id).
  const { userId } = challenge;
  if (userId === null) return;
  const phone = provenAddress(challenge);
  const before = await findUserById(trx, userId);
  const previous = before?.phone_verified_at == null ? null : before.phone;
  if (!(await setVerifiedPhone(trx, userId, phone))) throw new PublicError('phone_taken');
  // The same number proven again changes nothing: no event, no notice. The number itself never
  // goes in the details (the notice shows it masked, read from the account).
  if (previous === phone) return;
  await recordEvent(trx, context, 'phone.changed', { userId, details: { replaced: previous !== null } });
}

/**
 * change_email: the account that asked (POST /v1/me/email sets user_id) moves to the proven
 * address, or 409 email_taken, without saying which account, when another holds it (also one
 * registered and not verified: that registration's own code, or its expiry, frees it). The event
 * is recorded before the move, so its notice goes to the old address, the one that loses the
 * account; the new one is only named in it, masked.
 */
async function moveEmail(trx: Kysely<Database>, challenge: VerifiedChallenge, context: RequestContext): Promise<void> {
  const { userId } = challenge;
  // Only /v1/me/email makes a change_email challenge, always with its account.
  if (userId === null) throw new PublicError('validation_failed', { detail: 'the challenge belongs to no account' });
  const email = provenAddress(challenge);
  const before = await findUserById(trx, userId);
  if (before === undefined) throw new PublicError('unauthorized', { detail: 'the account no longer exists' });
  if (before.email === email && before.email_verified_at !== null) return;
  const holder = await findUserByEmail(trx, email);
  if (holder !== undefined && holder.id !== userId) throw new PublicError('email_taken');
  await recordEvent(trx, context, 'email.changed', {
    userId,
    details: { challengeId: challenge.id, emailMasked: maskEmail(email), replaced: before.email !== null },
  });
  if (!(await moveUserEmail(trx, userId, email))) throw new PublicError('email_taken');
}

export function challengePurposes(deps: GatewayDeps): ChallengePurposes {
  return {
    answer: Type.Union([TokensAndUser, MfaRequired, Verified], {
      description: 'Signed in (login), the MFA step is needed (login, account with a factor), or address verified',
    }),
    // Never reset_password: its code only sets a password (POST /v1/auth/password/reset).
    purposes: ['login', 'verify_email', 'verify_phone', 'change_email'],
    async apply(trx, challenge, context, at) {
      // A server's challenge (the verification API) proves the address to that server alone: it
      // belongs to no account, so it neither claims a registration nor marks anything verified.
      if (challenge.apiKey !== null) {
        return { answer: { outcome: 'verified' as const, verified: true as const }, userId: null };
      }
      // A sign-in claims an unproven registration of its address itself (accountOf).
      if (challenge.purpose !== 'login') await claimUnverifiedEmail(trx, challenge, context, at);
      if (challenge.purpose === 'change_email') {
        await moveEmail(trx, challenge, context);
        return { answer: { outcome: 'verified' as const, verified: true as const }, userId: challenge.userId };
      }
      if (challenge.purpose !== 'login') {
        await markVerified(trx, challenge, context);
        return { answer: { outcome: 'verified' as const, verified: true as const }, userId: challenge.userId };
      }
      // The code's language is the sign-in's (resolved again: a challenge of an earlier release may
      // hold a tag the catalogue lacks).
      const locale = deps.catalogue.localeOf(challenge.locale);
      // The same account as a password sign-in to this address, and the same MFA step when it has a factor.
      const { user, locked } = await accountOf(trx, deps, challenge, context, at, locale);
      const first = { method: challenge.channel, at, locale };
      const answer = await completeFirstFactor(trx, deps, context, user, first, locked);
      return { answer, userId: user.id };
    },
  };
}
