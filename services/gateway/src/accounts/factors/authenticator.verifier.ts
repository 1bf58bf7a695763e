import type { GatewayDeps } from '../../deps.ts';
import type { FactorVerifier } from '../auth/factor.port.ts';
import { checkFactorProof, factorMethods } from './factor.check.service.ts';

/** The MFA step's factors: TOTP, HOTP and recovery codes of the account. */
export function authenticatorFactors(deps: Pick<GatewayDeps, 'keys' | 'config' | 'clock'>): FactorVerifier {
  return {
    methods: factorMethods,
    // Its methods are the enabled factors' kinds, and recovery codes only beside one of them.
    keptInUserFactors: true,
    verify: async (db, userId, proof, context) =>
      (await checkFactorProof({ ...deps, db }, context, userId, proof)) !== undefined,
  };
}
