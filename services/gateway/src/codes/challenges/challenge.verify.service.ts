import {
  consumeChallenge,
  countVerificationAttempt,
  type Database,
  findChallenge,
  type Kysely,
  lockExhaustedChallenge,
  type OtpChallenge,
} from '@otp/db';
import { codeMatches, PublicError } from '@otp/domain';
import { signInWithRecipient, verifyRecipient } from '../../accounts/auth/challenge-purposes.ts';
import { completeFirstFactor, type MfaRequired, type SignedIn } from '../../accounts/auth/mfa.service.ts';
import { type GatewayDeps, now } from '../../deps.ts';
import { type RequestContext, recordSecurityEvent } from '../../events/security-events.ts';
import { logOtpEvent } from './challenge.events.ts';
import { unusableChallenge } from './challenge.guards.ts';

export type VerifyResult = SignedIn | MfaRequired | { verified: true };

async function applyPurpose(
  trx: Kysely<Database>,
  deps: GatewayDeps,
  challenge: OtpChallenge,
  at: Date,
): Promise<{ result: VerifyResult; userId: string | null }> {
  if (challenge.purpose !== 'login') {
    await verifyRecipient(trx, deps, challenge);
    return { result: { verified: true }, userId: challenge.user_id };
  }
  // The same account as a password sign-in to this address, and the same MFA step when it has a factor.
  const user = await signInWithRecipient(trx, deps, challenge);
  return { result: await completeFirstFactor(trx, deps, user, at), userId: user.id };
}

/**
 * Checks a code the way Ory Kratos does. 1) Count the attempt first, in its own statement: each
 * concurrent submission takes one unit of the budget atomically, so no more than max_attempts
 * codes are ever compared, however many arrive at once. 2) Compare keyed hashes in constant time
 * (every kept hash, no early exit). 3) Consume with a conditional UPDATE and require exactly one
 * changed row: of several requests holding the right code, exactly one gets through.
 */
export async function verifyChallenge(
  deps: GatewayDeps,
  id: string,
  code: string,
  context: RequestContext,
): Promise<VerifyResult> {
  const { log } = context;
  const counted = await countVerificationAttempt(deps.db, id);
  const at = now(deps);
  if (counted === undefined) {
    const row = await findChallenge(deps.db, id);
    // The database refused the attempt; if our clock disagrees, the database's expiry wins.
    const refusal = unusableChallenge(row, at) ?? new PublicError('challenge_expired');
    if (row !== undefined) {
      // A code that came too late; other refusals (used, locked, failed) were counted when they happened.
      if (refusal.code === 'challenge_expired') {
        deps.metrics.codeEvent('expired', { channel: row.channel, purpose: row.purpose });
      }
      await recordSecurityEvent(deps.db, context, 'code.failed', {
        userId: row.user_id,
        details: { challengeId: id, channel: row.channel, purpose: row.purpose, reason: refusal.code },
      });
      logOtpEvent(log, 'otp.verify_failed', {
        challengeId: id,
        channel: row.channel,
        purpose: row.purpose,
        reason: refusal.code,
      });
    }
    throw refusal;
  }

  const fields = { challengeId: id, channel: counted.channel, purpose: counted.purpose };
  const labels = { channel: counted.channel, purpose: counted.purpose };
  if (!codeMatches(deps.keys.codeHmacKey, id, code, counted.code_hashes)) {
    deps.metrics.codeEvent('failed', labels);
    const attemptsRemaining = Math.max(0, counted.max_attempts - counted.attempt_count);
    await recordSecurityEvent(deps.db, context, 'code.failed', {
      userId: counted.user_id,
      details: {
        ...fields,
        reason: attemptsRemaining === 0 ? 'attempts_exhausted' : 'invalid_code',
        attemptsRemaining,
      },
    });
    if (attemptsRemaining === 0) {
      await lockExhaustedChallenge(deps.db, id);
      deps.metrics.codeEvent('locked', labels);
      logOtpEvent(log, 'otp.locked', { ...fields, reason: 'attempts_exhausted' });
      throw new PublicError('too_many_attempts', { extra: { attemptsRemaining: 0 } });
    }
    logOtpEvent(log, 'otp.verify_failed', { ...fields, reason: 'invalid_code', attemptsRemaining });
    throw new PublicError('invalid_code', { extra: { attemptsRemaining } });
  }

  const { result, userId } = await deps.db.transaction().execute(async (trx) => {
    if (!(await consumeChallenge(trx, id))) throw new PublicError('challenge_used');
    return applyPurpose(trx, deps, counted, at);
  });
  deps.metrics.codeEvent('verified', labels);
  logOtpEvent(log, 'otp.verified', { ...fields, ...(userId === null ? {} : { userId }) });
  await recordSecurityEvent(deps.db, context, 'code.verified', { userId, details: fields });
  if ('user' in result) {
    await recordSecurityEvent(deps.db, context, 'sign_in.succeeded', { userId, details: { method: counted.channel } });
  } else if ('mfaRequired' in result) {
    await recordSecurityEvent(deps.db, context, 'mfa.required', {
      userId,
      details: { method: counted.channel, methods: result.methods },
    });
  }
  return result;
}
