import { consumeChallenge, countVerificationAttempt, findChallenge, lockExhaustedChallenge } from '@otp/db';
import { codeMatches, open, PublicError, VALID_SENDS_KEPT } from '@otp/domain';
import { type GatewayDeps, now } from '../../deps.ts';
import { inTransaction, recordEvent } from '../../events/record-event.ts';
import type { RequestContext } from '../../events/request-context.ts';
import { unusableChallenge } from './challenge.guards.ts';
import type { ChallengePurposes } from './challenge.purpose.port.ts';

/**
 * Checks a code the way Ory Kratos does. 1) Count the attempt first, in its own statement: each
 * concurrent submission takes one unit of the budget atomically, so no more than max_attempts
 * codes are ever compared, however many arrive at once. 2) Compare keyed hashes in constant time
 * (every kept hash, no early exit). 3) Consume with a conditional UPDATE and require exactly one
 * changed row: of several requests holding the right code, exactly one gets through. Its purpose
 * is then applied, through the port, in the transaction that consumed it. Resolves with the
 * purpose's answer.
 */
export async function verifyChallenge(
  deps: GatewayDeps,
  purposes: ChallengePurposes,
  id: string,
  code: string,
  context: RequestContext,
): Promise<unknown> {
  const counted = await countVerificationAttempt(deps.db, id);
  const at = now(deps);
  if (counted === undefined) {
    const row = await findChallenge(deps.db, id);
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

  const ref = { challengeId: id, channel: counted.channel, purpose: counted.purpose };
  // Only the newest sends' codes: a challenge written when more were kept is held to today's rule.
  const live = counted.code_hashes.slice(0, VALID_SENDS_KEPT);
  if (!codeMatches(deps.keys.codeHmacKey, id, code, live)) {
    const attemptsRemaining = Math.max(0, counted.max_attempts - counted.attempt_count);
    const exhausted = attemptsRemaining === 0;
    await recordEvent(deps.db, context, 'code.failed', {
      userId: counted.user_id,
      details: { ...ref, reason: exhausted ? 'attempts_exhausted' : 'invalid_code', attemptsRemaining },
    });
    if (!exhausted) throw new PublicError('invalid_code', { extra: { attemptsRemaining } });
    await inTransaction(deps.db, async (trx) => {
      await lockExhaustedChallenge(trx, id);
      await recordEvent(trx, context, 'code.locked', { userId: counted.user_id, details: ref });
    });
    throw new PublicError('too_many_attempts', { extra: { attemptsRemaining: 0 } });
  }

  const outcome = await inTransaction(deps.db, async (trx) => {
    if (!(await consumeChallenge(trx, id))) throw new PublicError('challenge_used');
    const recipient = open(deps.keys.envelopes, counted.recipient_sealed, `recipient:${id}`) as string;
    const verified = { id, channel: counted.channel, purpose: counted.purpose, userId: counted.user_id, recipient };
    const applied = await purposes.apply(trx, verified, context, at);
    await recordEvent(trx, context, 'code.verified', { userId: applied.userId, details: ref });
    return applied;
  });
  return outcome.answer;
}
