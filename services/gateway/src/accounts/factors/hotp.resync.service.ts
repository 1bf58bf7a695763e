import { advanceHotpCounter, findFactor } from '@otp/db';
import { PublicError } from '@otp/domain';
import type { GatewayDeps } from '../../deps.ts';
import type { RequestContext } from '../../events/request-context.ts';
import { recordFactorFailure } from './factor.check.service.ts';
import { openFactorSecret } from './factor.secrets.ts';
import { matchHotpPair, type OtpAlgorithm } from './oath.algorithm.ts';

/**
 * Resynchronises a hardware token whose counter ran past the look-ahead window (buttons pressed
 * away from the site): two consecutive codes must match consecutive counter values within
 * HOTP_RESYNC_WINDOW; the stored counter then moves past the second. The new counter.
 */
export async function resyncHotp(
  deps: GatewayDeps,
  context: RequestContext,
  userId: string,
  code: string,
  nextCode: string,
): Promise<number> {
  const factor = await findFactor(deps.db, userId, 'hotp');
  if (factor === undefined || factor.enabled_at === null) throw new PublicError('factor_not_found');
  const { secret } = openFactorSecret(deps.keys.factorSecrets, factor);
  const second = matchHotpPair(secret, code, nextCode, {
    algorithm: factor.algorithm as OtpAlgorithm,
    digits: factor.digits,
    counter: Number(factor.counter ?? 0),
    window: deps.config.HOTP_RESYNC_WINDOW,
  });
  if (second === undefined || !(await advanceHotpCounter(deps.db, factor.id, second))) {
    await recordFactorFailure(deps, context, userId, 'hotp_resync');
    throw new PublicError('invalid_factor_code');
  }
  return second + 1;
}
