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

/** The signed-in user; authenticator factors and recovery codes arrive in a later issue. */
export function presentMe(user: User): MeView {
  return { ...presentUser(user), factors: { totp: false, hotp: false }, recoveryCodesRemaining: 0 };
}
