import {
  type CountedAttempt,
  consumeChallenge,
  countVerificationAttempt,
  type Database,
  findChallenge,
  type Kysely,
  lockExhaustedChallenge,
  resetRecipientFailures,
} from '@otp/db';
import { codeMatches, PublicError, VALID_SENDS_KEPT } from '@otp/domain';
import { type GatewayDeps, now } from '../../deps.ts';
import { inTransaction, recordEvent } from '../../events/record-event.ts';
import type { RequestContext } from '../../events/request-context.ts';
import { unusableChallenge } from './challenge.guards.ts';
import { recipientOf } from './challenge.presenter.ts';
import type { ChallengePurposes } from './challenge.purpose.port.ts';
import { recipientLimits, recipientLockedError } from './recipient-limits.ts';

/**
 * Checks a code the way Ory Kratos does. 1) Count the attempt first, in its own statement, and
 * with it one unit of the failure budget of the challenge's recipient: each concurrent submission
 * takes its units atomically, so no more than max_attempts codes are ever compared for a
 * challenge, nor more than OTP_RECIPIENT_MAX_FAILURES for an address per failure window, however
 * many arrive at once. 2) Compare keyed hashes in constant time (every kept hash, no early exit).
 * A right code gives the recipient's count back (in the consuming statement). 3) Consume with a
 * conditional UPDATE and require exactly one changed row: of several requests holding the right
 * code, exactly one gets through. Its purpose is then applied, through the port, in the
 * transaction that consumed it. Resolves with the purpose's answer.
 */
export async function verifyChallenge(
  deps: GatewayDeps,
  purposes: ChallengePurposes,
  id: string,
  code: string,
  context: RequestContext,
): Promise<unknown> {
  const at = now(deps);
  const limits = recipientLimits(deps.config, at);
  // A challenge of a purpose this side does not apply is refused by the counting statement
  // itself (nothing counted), and told apart from other refusals below.
  const counted = await countVerificationAttempt(deps.db, id, limits, purposes.purposes);
  // Nothing was taken and nothing is compared; a locked recipient's refusal writes nothing.
  if (counted.outcome === 'recipient_locked') throw await recipientLockedError(deps.db, counted.recipientHash, limits);
  if (counted.outcome === 'challenge_refused') {
    const row = await findChallenge(deps.db, id);
    if (row !== undefined && !purposes.purposes.includes(row.purpose)) {
      throw new PublicError('validation_failed', { detail: `a ${row.purpose} challenge is not verified here` });
    }
    // The database refused the attempt; if our clock disagrees, the database's expiry wins.
    const refusal = unusableChallenge(row, at) ?? new PublicError('challenge_expired');
    if (row !== undefined) {
      const expired = refusal.code === 'challenge_expired';
      await recordEvent(deps.db, context, expired ? 'code.expired' : 'code.refused', {
        userId: row.user_id,
        details: { challengeId: id, channel: row.channel, purpose: row.purpose, reason: refusal.code },
      });
    }
    throw refusal;
  }

  const { challenge } = counted;
  const ref = { challengeId: id, channel: challenge.channel, purpose: challenge.purpose };
  // Only the newest sends' codes: a challenge written when more were kept is held to today's rule.
  const live = challenge.code_hashes.slice(0, VALID_SENDS_KEPT);
  if (!codeMatches(deps.keys.codeHmacKey, id, code, live)) {
    await recordWrongCode(deps, context, counted);
    const attemptsRemaining = Math.max(0, challenge.max_attempts - challenge.attempt_count);
    if (attemptsRemaining > 0) throw new PublicError('invalid_code', { extra: { attemptsRemaining } });
    await inTransaction(deps.db, async (trx) => {
      await lockExhaustedChallenge(trx, id);
      await recordEvent(trx, context, 'code.locked', { userId: challenge.user_id, details: ref });
    });
    throw new PublicError('too_many_attempts', { extra: { attemptsRemaining: 0 } });
  }

  // The code was right, whatever becomes of the consume below: the address's holder is here, and
  // the recipient gets its failure count back. The consuming statement does that; should the
  // transaction roll back (the challenge used meanwhile, sign-up off, a failure), it is done on
  // its own.
  const consume = async (trx: Kysely<Database>) => {
    if (!(await consumeChallenge(trx, id, challenge.recipient_hash))) throw new PublicError('challenge_used');
    const recipient = recipientOf(deps, challenge);
    const verified = {
      id,
      channel: challenge.channel,
      purpose: challenge.purpose,
      userId: challenge.user_id,
      recipient,
      locale: challenge.locale,
      apiKey: challenge.api_key_name,
    };
    const applied = await purposes.apply(trx, verified, context, at);
    await recordEvent(trx, context, 'code.verified', {
      userId: applied.userId,
      details: { ...ref, toMasked: challenge.recipient_masked },
      at,
    });
    return applied;
  };
  let outcome: Awaited<ReturnType<typeof consume>>;
  try {
    // Its events' rows are written together at its end: no account is deleted in it.
    outcome = await inTransaction(deps.db, consume, { holdEventRows: true });
  } catch (error) {
    // The refusal is the answer; a reset that fails too leaves the count high, which only locks sooner.
    await resetRecipientFailures(deps.db, challenge.recipient_hash).catch(() => undefined);
    throw error;
  }
  if (challenge.sms_country !== null) deps.metrics.sms.verified(challenge.sms_country);
  return outcome.answer;
}

/**
 * A wrong code keeps the units it took: `code.failed` for the challenge, and `code.recipient_locked`
 * from the one submission whose unit was the recipient's last (exactly one per failure window).
 */
async function recordWrongCode(
  deps: GatewayDeps,
  context: RequestContext,
  counted: Extract<CountedAttempt, { outcome: 'counted' }>,
): Promise<void> {
  const { challenge } = counted;
  const ref = { challengeId: challenge.id, channel: challenge.channel, purpose: challenge.purpose };
  const attemptsRemaining = Math.max(0, challenge.max_attempts - challenge.attempt_count);
  await recordEvent(deps.db, context, 'code.failed', {
    userId: challenge.user_id,
    details: { ...ref, reason: attemptsRemaining === 0 ? 'attempts_exhausted' : 'invalid_code', attemptsRemaining },
  });
  if (counted.recipientFailures !== deps.config.OTP_RECIPIENT_MAX_FAILURES) return;
  await recordEvent(deps.db, context, 'code.recipient_locked', {
    userId: challenge.user_id,
    details: {
      ...ref,
      toMasked: challenge.recipient_masked,
      failures: counted.recipientFailures,
      lockedUntil: counted.recipientFailureWindowEndsAt.toISOString(),
    },
  });
}
