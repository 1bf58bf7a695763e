import type { FactorProof } from './factor.port.ts';

// The `amr` claim of access tokens (RFC 8176, Authentication Method Reference Values): how the
// user proved who they are at the sign-in the token descends from. docs/tokens.md shows these
// tables, and test/docs/tokens-doc.test.ts compares them with the page.

/** A first factor's values, by FirstFactor.method: a password, or the channel of a login code. */
export const FIRST_FACTOR_AMR: Readonly<Record<'password' | 'email' | 'sms', readonly string[]>> = {
  // A code sent by email is a one-time password.
  email: ['otp'],
  // A code sent by SMS: "sms" (confirmation by text message) and a one-time password.
  sms: ['sms', 'otp'],
  password: ['pwd'],
};

/** What the MFA step adds, by its proof: a TOTP/HOTP code (`code`) or a recovery code. */
export const SECOND_FACTOR_AMR: Readonly<Record<'code' | 'recovery_code', readonly string[]>> = {
  // An authenticator app's or hardware token's code is a one-time password, and a second factor.
  code: ['otp', 'mfa'],
  // A recovery code is a second factor but none of RFC 8176's methods: "mfa" alone.
  recovery_code: ['mfa'],
};

export type FirstFactorMethod = keyof typeof FIRST_FACTOR_AMR;
export type SecondFactorMethod = keyof typeof SECOND_FACTOR_AMR;

export function secondFactorMethod(proof: FactorProof): SecondFactorMethod {
  return 'code' in proof ? 'code' : 'recovery_code';
}

export function firstFactorAmr(method: FirstFactorMethod): string[] {
  return [...FIRST_FACTOR_AMR[method]];
}

/**
 * A sign-in's amr: the first factor's values, then the second factor's not already there
 * (email code + TOTP: ["otp", "mfa"]). `first` is null for an mfaToken issued before tokens
 * carried amr: the second factor's values alone.
 */
export function combineAmr(first: readonly string[] | null, second: SecondFactorMethod): string[] {
  const values = [...(first ?? [])];
  for (const value of SECOND_FACTOR_AMR[second]) if (!values.includes(value)) values.push(value);
  return values;
}
