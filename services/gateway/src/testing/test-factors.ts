import type { FactorMethod, FactorProof, FactorVerifier } from '../accounts/auth/factor.port.ts';

/**
 * The test factor hook until authenticator factors exist: accounts enrolled here have a factor
 * whose one valid code is the one given at enrolment; anything else is wrong.
 */
export function testFactors() {
  const enrolled = new Map<string, string>();
  const verifier: FactorVerifier = {
    methods: async (_db, userId): Promise<FactorMethod[]> => (enrolled.has(userId) ? ['totp'] : []),
    verify: async (_db, userId, proof: FactorProof) => 'code' in proof && enrolled.get(userId) === proof.code,
  };
  return {
    verifier,
    enrol(userId: string, code: string) {
      enrolled.set(userId, code);
    },
  };
}
