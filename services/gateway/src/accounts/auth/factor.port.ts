import type { Database, Kysely } from '@otp/db';
import type { RequestContext } from '../../events/request-context.ts';

/** How the MFA step can be completed. */
export type FactorMethod = 'totp' | 'hotp' | 'recovery_code';

/** What a client submits at POST /v1/auth/mfa besides the mfaToken. */
export type FactorProof = { code: string } | { recoveryCode: string };

/**
 * The port the second factors plug into (authenticator apps, hardware tokens, recovery codes).
 * An account whose `methods` is not empty must pass the MFA step after its first factor (a
 * password or an email/SMS code) before it gets tokens.
 */
export interface FactorVerifier {
  /** The methods the account can complete the MFA step with; empty: no factor enabled. */
  methods(db: Kysely<Database>, userId: string): Promise<FactorMethod[]>;
  /**
   * True when the proof is right for the account (and, for one-time proofs, uses it up). May
   * throw a PublicError (factor_locked); failures are security events of `context`.
   */
  verify(db: Kysely<Database>, userId: string, proof: FactorProof, context: RequestContext): Promise<boolean>;
  /**
   * True when an account has a method exactly when it has an enabled `user_factors` row: the
   * first factor's sign-in then reads whether it has one in the statement that locks the account
   * (`lockUserForFirstFactor`), and asks `methods` only when it has.
   */
  keptInUserFactors?: boolean;
}

/** No factor exists yet: no account requires the MFA step. */
export const NO_FACTORS: FactorVerifier = {
  methods: async () => [],
  verify: async () => false,
};
