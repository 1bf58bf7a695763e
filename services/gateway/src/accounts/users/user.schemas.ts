import Type, { type Static } from 'typebox';
import { E164Phone, Email, Timestamp, Uuid } from '../../http/schemas.ts';

export const UserView = Type.Object({
  id: Uuid,
  email: Type.Union([Email, Type.Null()]),
  phone: Type.Union([E164Phone, Type.Null()]),
  emailVerified: Type.Boolean(),
  phoneVerified: Type.Boolean(),
});
export type UserView = Static<typeof UserView>;

export const Tokens = Type.Object({
  accessToken: Type.String({ description: 'EdDSA-signed JWT (typ at+jwt); verify with /.well-known/jwks.json' }),
  refreshToken: Type.String({ description: 'Opaque; stored only as a hash' }),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer({ description: 'Seconds until the access token expires' }),
});
export type Tokens = Static<typeof Tokens>;

export const TokensAndUser = Type.Object({ user: UserView, tokens: Tokens }, { description: 'Signed in' });

export const MeView = Type.Object(
  {
    ...UserView.properties,
    factors: Type.Object({ totp: Type.Boolean(), hotp: Type.Boolean() }),
    recoveryCodesRemaining: Type.Integer({ minimum: 0 }),
    codeSignInLockedUntil: Type.Union([Timestamp, Type.Null()], {
      description:
        'Until when email and SMS codes for the account are refused after too many wrong ones (the later of its ' +
        'email address and phone number); null when they are not',
    }),
  },
  { description: 'The signed-in user' },
);
export type MeView = Static<typeof MeView>;
