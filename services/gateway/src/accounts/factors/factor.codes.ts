import { advanceHotpCounter, advanceTotpStep, resealFactorSecret, type UserFactor } from '@otp/db';
import type { GatewayDeps } from '../../deps.ts';
import { openFactorSecret, sealFactorSecret } from './factor.secrets.ts';
import { matchHotp, matchTotp, type OtpAlgorithm } from './oath.algorithm.ts';

/** TOTP steps accepted either side of the current one (RFC 6238 section 5.2: one step of drift). */
export const TOTP_DRIFT_STEPS = 1;

function parameters(factor: UserFactor) {
  return { algorithm: factor.algorithm as OtpAlgorithm, digits: factor.digits };
}

/**
 * Checks a TOTP or HOTP code against one factor (pending or enabled) and, when it matches, records
 * its step or counter with a conditional UPDATE: of concurrent requests with one code exactly one
 * gets true, on any replica. A secret sealed under an older key is sealed again under the current one.
 */
export async function verifyFactorCode(
  deps: Pick<GatewayDeps, 'db' | 'keys' | 'config'>,
  factor: UserFactor,
  code: string,
  at: Date,
): Promise<boolean> {
  if (code.length !== factor.digits) return false;
  const { secret, stale } = openFactorSecret(deps.keys.factorSecrets, factor);
  let accepted: boolean;
  if (factor.kind === 'totp') {
    const step = matchTotp(secret, code, at, {
      ...parameters(factor),
      period: factor.period ?? 30,
      drift: TOTP_DRIFT_STEPS,
      lastStep: factor.last_step === null ? null : Number(factor.last_step),
    });
    accepted = step !== undefined && (await advanceTotpStep(deps.db, factor.id, step));
  } else {
    const matched = matchHotp(secret, code, {
      ...parameters(factor),
      counter: Number(factor.counter ?? 0),
      window: deps.config.HOTP_LOOK_AHEAD,
    });
    accepted = matched !== undefined && (await advanceHotpCounter(deps.db, factor.id, matched));
  }
  if (accepted && stale) {
    await resealFactorSecret(
      deps.db,
      factor.id,
      sealFactorSecret(deps.keys.factorSecrets, factor.user_id, factor.kind, secret),
    );
  }
  return accepted;
}
