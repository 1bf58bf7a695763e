import Type, { type Static } from 'typebox';
import { SessionView } from '../accounts/me/sessions.schemas.ts';
import { E164Phone, Email, Timestamp, Uuid } from '../http/schemas.ts';

export const AdminUser = Type.Object({
  id: Uuid,
  email: Type.Union([Email, Type.Null()]),
  emailVerified: Type.Boolean(),
  phone: Type.Union([E164Phone, Type.Null()]),
  phoneVerified: Type.Boolean(),
  name: Type.Union([Type.String(), Type.Null()]),
  createdAt: Timestamp,
  disabledAt: Type.Union([Timestamp, Type.Null()], {
    description: 'When an operator disabled the account; null: enabled',
  }),
});
export type AdminUser = Static<typeof AdminUser>;

export const UserSearchQuery = Type.Object(
  {
    email: Type.Optional(Type.String({ minLength: 1, maxLength: 320, description: 'An email address, any case' })),
    phone: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: 'A phone number in E.164' })),
  },
  { additionalProperties: false, description: 'Exactly one of email and phone' },
);

export const UserSearchAnswer = Type.Object(
  { users: Type.Array(AdminUser) },
  { description: 'The account holding the address (at most one: addresses are unique), or none' },
);

export const AdminFactor = Type.Object({
  kind: Type.Union([Type.Literal('totp'), Type.Literal('hotp')]),
  createdAt: Timestamp,
  enabled: Type.Boolean({ description: 'false: enrolled, first code not verified yet' }),
  locked: Type.Boolean({ description: 'Codes refused after too many wrong ones (FACTOR_LOCKOUT_FAILURES)' }),
});

export const AdminSecurityEventOfUser = Type.Object({
  type: Type.String(),
  createdAt: Timestamp,
  details: Type.Object({}, { additionalProperties: true }),
});

const { current: _current, ...sessionFields } = SessionView.properties;
export const AdminSession = Type.Object(sessionFields);

export const AdminUserDetail = Type.Object(
  {
    ...AdminUser.properties,
    factors: Type.Array(AdminFactor),
    recoveryCodesRemaining: Type.Integer({ minimum: 0 }),
    sessions: Type.Array(AdminSession, { description: 'Sessions that can still be used, most recently used first' }),
    recentSecurityEvents: Type.Array(AdminSecurityEventOfUser, { description: 'The latest 20, newest first' }),
    codeSignInLockedUntil: Type.Union([Timestamp, Type.Null()], {
      description:
        'Until when email and SMS codes of the account are refused after too many wrong ones; null: not locked',
    }),
  },
  { description: 'An account as support sees it' },
);
export type AdminUserDetail = Static<typeof AdminUserDetail>;
