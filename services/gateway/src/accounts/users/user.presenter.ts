import type { User } from '@otp/db';
import type { MeView, UserView } from './user.schemas.ts';

export function presentUser(user: User): UserView {
  return {
    id: user.id,
    email: user.email,
    phone: user.phone,
    emailVerified: user.email_verified_at !== null,
    phoneVerified: user.phone_verified_at !== null,
  };
}

/** The signed-in user with which factors are enabled and how many recovery codes are left. */
export function presentMe(user: User, enabled: readonly string[], recoveryCodesRemaining: number): MeView {
  return {
    ...presentUser(user),
    factors: { totp: enabled.includes('totp'), hotp: enabled.includes('hotp') },
    recoveryCodesRemaining,
  };
}
