import type { User } from '@otp/db';
import type { MeView, UserView } from './user.schemas.ts';

/** The columns an account's view reads (a sign-in's statements return no more). */
export type UserViewColumns = Pick<User, 'id' | 'email' | 'phone' | 'email_verified_at' | 'phone_verified_at'>;

export function presentUser(user: UserViewColumns): UserView {
  return {
    id: user.id,
    email: user.email,
    phone: user.phone,
    emailVerified: user.email_verified_at !== null,
    phoneVerified: user.phone_verified_at !== null,
  };
}

export interface MeFacts {
  /** Kinds of the enabled factors. */
  enabled: readonly string[];
  recoveryCodesRemaining: number;
  /** When the lock of the account's email or phone codes ends; null: not locked. */
  codeSignInLockedUntil: Date | null;
}

/** The signed-in user with its factors, recovery codes left and code sign-in lock. */
export function presentMe(user: User, facts: MeFacts): MeView {
  return {
    ...presentUser(user),
    name: user.name,
    factors: { totp: facts.enabled.includes('totp'), hotp: facts.enabled.includes('hotp') },
    recoveryCodesRemaining: facts.recoveryCodesRemaining,
    codeSignInLockedUntil: facts.codeSignInLockedUntil?.toISOString() ?? null,
  };
}
