import {
  consumeMfaToken,
  countMfaAttempt,
  type Database,
  type FirstFactorLock,
  insertMfaToken,
  type Kysely,
  lockUserForFirstFactor,
  lockUserForSignIn,
  lockUserForSignInSettingLocale,
} from '@otp/db';
import { PublicError } from '@otp/domain';
import { type GatewayDeps, now } from '../../deps.ts';
import { inTransaction, recordEvent } from '../../events/record-event.ts';
import type { RequestContext } from '../../events/request-context.ts';
import { presentUser } from '../users/user.presenter.ts';
import type { Tokens, UserView } from '../users/user.schemas.ts';
import { combineAmr, type FirstFactorMethod, firstFactorAmr, secondFactorMethod } from './amr.ts';
import { type FactorMethod, type FactorProof, type FactorVerifier, NO_FACTORS } from './factor.port.ts';
import { startSession } from './session.service.ts';
import { hashOpaqueToken, newOpaqueToken, verifiedContact } from './tokens.service.ts';

export interface SignedIn {
  outcome: 'signed_in';
  user: UserView;
  tokens: Tokens;
}

export interface MfaRequired {
  outcome: 'mfa_required';
  mfaRequired: true;
  mfaToken: string;
  methods: FactorMethod[];
}

export interface FirstFactor {
  /** How the user proved who they are: `password`, or the channel of a code (`email`, `sms`). */
  method: FirstFactorMethod;
  at: Date;
  /**
   * The catalogue locale of the sign-in (a code's challenge, a password sign-in's request): the
   * account's language once the sign-in completes, here or at the MFA step.
   */
  locale: string;
}

/**
 * Locks the account for a sign-in whose first factor is proved, and reads its second factors'
 * methods. Locked to the commit, so a disable either waits for this sign-in (and then revokes its
 * session) or has committed before it (and is seen here): no session outlives a disable. A
 * sign-in that completes here (no methods) makes its locale the account's language in the
 * statement that locks the account (lockUserForSignInSettingLocale says why one statement).
 */
async function lockForFirstFactor(
  trx: Kysely<Database>,
  factors: FactorVerifier,
  userId: string,
  locale: string,
  locked: FirstFactorLock | undefined,
): Promise<{ account: Omit<FirstFactorLock, 'has_factors'> | undefined; methods: FactorMethod[] }> {
  if (factors.keptInUserFactors !== true) {
    const methods = await factors.methods(trx, userId);
    const account =
      methods.length === 0
        ? await lockUserForSignInSettingLocale(trx, userId, locale)
        : await lockUserForSignIn(trx, userId);
    return { account, methods };
  }
  // One statement locks the account and says whether it has a factor (and sets the locale when it
  // has none), unless the caller's own statement did that already; the methods are read only for
  // an account that has one.
  const account = locked ?? (await lockUserForFirstFactor(trx, userId, locale));
  if (account?.has_factors !== true) return { account, methods: [] };
  const methods = await factors.methods(trx, userId);
  // Its last factor removed between the two statements: the sign-in completes here after all.
  if (methods.length === 0) await lockUserForSignInSettingLocale(trx, userId, locale);
  return { account, methods };
}

/**
 * After a first factor (a password or an email/SMS code) proved who the user is: tokens, or,
 * when the account has a factor, a short-lived single-use mfaToken bound to the user (stored
 * only as a hash) to redeem at POST /v1/auth/mfa. Runs in the caller's transaction, which also
 * records the outcome (sign_in.succeeded or mfa.required).
 */
export async function completeFirstFactor(
  trx: Kysely<Database>,
  deps: GatewayDeps,
  context: RequestContext,
  user: UserView,
  first: FirstFactor,
  /**
   * The account as the caller's statement locked it, as `lockUserForFirstFactor` does (an email
   * sign-in's upsert, `upsertUserForEmailSignIn`): then no statement of its own locks it. Used
   * only with a factor port whose factors are `user_factors` rows.
   */
  locked?: FirstFactorLock,
): Promise<SignedIn | MfaRequired> {
  const { method, at, locale } = first;
  const factors = deps.factors ?? NO_FACTORS;
  const { account, methods } = await lockForFirstFactor(trx, factors, user.id, locale, locked);
  // Deleted since it was read (a deletion racing a password sign-in): as an unknown account.
  if (account === undefined) throw new PublicError('invalid_credentials');
  if (account.disabled_at !== null) throw new PublicError('account_disabled');
  const amr = firstFactorAmr(method);
  if (methods.length === 0) {
    const proof = { userId: user.id, amr, contact: verifiedContact(account) };
    const { sessionId, tokens } = await startSession(trx, deps, context, proof, at);
    await recordEvent(trx, context, 'sign_in.succeeded', { userId: user.id, details: { method, sessionId } });
    return { outcome: 'signed_in', user, tokens };
  }
  const mfaToken = newOpaqueToken();
  await insertMfaToken(trx, {
    tokenHash: hashOpaqueToken(mfaToken),
    userId: user.id,
    maxAttempts: deps.config.MFA_MAX_ATTEMPTS,
    expiresAt: new Date(at.getTime() + deps.config.MFA_TOKEN_TTL_SECONDS * 1000),
    // The MFA request names no language: the sign-in's is the first step's, carried on the token.
    locale,
    // The MFA step adds the second factor's values to these (amr.ts).
    amr,
  });
  await recordEvent(trx, context, 'mfa.required', { userId: user.id, details: { method, methods } });
  return { outcome: 'mfa_required', mfaRequired: true, mfaToken, methods };
}

/**
 * Redeems an mfaToken with a second factor. The attempt is counted first in its own statement
 * (so concurrent guesses cannot exceed the budget), the proof is checked by the factor port, and
 * the token is consumed with a conditional UPDATE in the transaction that issues the tokens, so
 * it works once.
 */
export async function completeMfa(
  deps: GatewayDeps,
  context: RequestContext,
  mfaToken: string,
  proof: FactorProof,
): Promise<SignedIn> {
  const tokenHash = hashOpaqueToken(mfaToken);
  const at = now(deps);
  const counted = await countMfaAttempt(deps.db, tokenHash, at);
  if (counted === undefined) throw new PublicError('invalid_mfa_token');
  const method = secondFactorMethod(proof);
  const factors = deps.factors ?? NO_FACTORS;
  if (!(await factors.verify(deps.db, counted.user_id, proof, context))) {
    const attemptsRemaining = Math.max(0, counted.max_attempts - counted.attempt_count);
    await recordEvent(deps.db, context, 'mfa.failed', {
      userId: counted.user_id,
      details: { method, attemptsRemaining },
    });
    throw new PublicError('invalid_factor_code', { extra: { attemptsRemaining } });
  }
  const signedIn = await inTransaction(deps.db, async (trx) => {
    if (!(await consumeMfaToken(trx, tokenHash, at))) throw new PublicError('invalid_mfa_token');
    // Locked as in completeFirstFactor, against a disable racing this step; the first step's
    // locale becomes the account's (a token of the previous release has none: it stays as it is).
    const user =
      counted.locale === null
        ? await lockUserForSignIn(trx, counted.user_id)
        : await lockUserForSignInSettingLocale(trx, counted.user_id, counted.locale);
    if (user === undefined) throw new PublicError('invalid_mfa_token');
    // The token stays spent: the step cannot be tried again once the account is enabled.
    if (user.disabled_at !== null) return undefined;
    const signIn = { userId: user.id, amr: combineAmr(counted.amr, method), contact: verifiedContact(user) };
    const { sessionId, tokens } = await startSession(trx, deps, context, signIn, at);
    await recordEvent(trx, context, 'sign_in.succeeded', {
      userId: user.id,
      details: { method: 'mfa', factor: method, sessionId },
    });
    return { outcome: 'signed_in' as const, user: presentUser(user), tokens };
  });
  if (signedIn !== undefined) return signedIn;
  await recordEvent(deps.db, context, 'sign_in.disabled', { userId: counted.user_id, details: { method: 'mfa' } });
  throw new PublicError('account_disabled');
}
