import {
  countFactorFailure,
  countRemainingRecoveryCodes,
  type Database,
  type FactorKind,
  findUserById,
  type Kysely,
  listEnabledFactors,
  resetFactorFailures,
} from '@otp/db';
import { PublicError } from '@otp/domain';
import { type GatewayDeps, now } from '../../deps.ts';
import { inTransaction, recordEvent } from '../../events/record-event.ts';
import type { RequestContext } from '../../events/request-context.ts';
import type { FactorMethod, FactorProof } from '../auth/factor.port.ts';
import { verifyFactorCode } from './factor.codes.ts';
import { redeemRecoveryCode } from './recovery-codes.ts';

type Deps = Pick<GatewayDeps, 'db' | 'keys' | 'config' | 'clock'>;

/** The methods the MFA step accepts for the account: its enabled factors, and recovery codes while any is left. */
export async function factorMethods(db: Kysely<Database>, userId: string): Promise<FactorMethod[]> {
  const kinds: FactorMethod[] = (await listEnabledFactors(db, userId)).map((factor) => factor.kind);
  if (kinds.length > 0 && (await countRemainingRecoveryCodes(db, userId)) > 0) kinds.push('recovery_code');
  return kinds;
}

/**
 * Checks a second-factor proof of the account: a code of one of its enabled factors (of `kinds`)
 * or one of its recovery codes. The method that matched, or undefined. Every failure is counted
 * per account in Postgres (one statement, exact across replicas) and is a security event; at
 * FACTOR_LOCKOUT_FAILURES consecutive failures authenticator codes are refused (403
 * factor_locked) until a recovery code is used, which also resets the count.
 */
export async function checkFactorProof(
  deps: Deps,
  context: RequestContext,
  userId: string,
  proof: FactorProof,
  kinds: readonly FactorKind[] = ['totp', 'hotp'],
): Promise<FactorMethod | undefined> {
  const at = now(deps);
  if ('recoveryCode' in proof) {
    const redeemed = await inTransaction(deps.db, async (trx) => {
      if (!(await redeemRecoveryCode(trx, deps.keys.codeHmacKey, userId, proof.recoveryCode, at))) return false;
      await resetFactorFailures(trx, userId);
      const remaining = await countRemainingRecoveryCodes(trx, userId);
      await recordEvent(trx, context, 'recovery_code.used', { userId, details: { remaining } });
      return true;
    });
    if (redeemed) return 'recovery_code';
    await recordFactorFailure(deps, context, userId, 'recovery_code');
    return undefined;
  }
  const user = await findUserById(deps.db, userId);
  if (user === undefined) return undefined;
  if (user.factor_failures >= deps.config.FACTOR_LOCKOUT_FAILURES) {
    await recordEvent(deps.db, context, 'factor.failed', { userId, details: { reason: 'locked' } });
    throw new PublicError('factor_locked');
  }
  const factors = (await listEnabledFactors(deps.db, userId)).filter((factor) => kinds.includes(factor.kind));
  for (const factor of factors) {
    if (await verifyFactorCode(deps, factor, proof.code, at)) {
      await resetFactorFailures(deps.db, userId);
      return factor.kind;
    }
  }
  await recordFactorFailure(deps, context, userId, factors.map((factor) => factor.kind).join('|') || 'none');
  return undefined;
}

export async function recordFactorFailure(
  deps: Deps,
  context: RequestContext,
  userId: string,
  method: string,
): Promise<void> {
  await inTransaction(deps.db, async (trx) => {
    const failures = await countFactorFailure(trx, userId);
    await recordEvent(trx, context, 'factor.failed', { userId, details: { method, failures } });
    if (failures === deps.config.FACTOR_LOCKOUT_FAILURES) {
      await recordEvent(trx, context, 'factor.locked', { userId, details: { failures } });
    }
  });
}
