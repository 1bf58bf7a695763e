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
  accessToken: Type.String({
    description:
      'Signed JWT (typ at+jwt; EdDSA, ES256 or RS256 as the server is configured): verify it with the keys of ' +
      '/.well-known/jwks.json (docs/tokens.md)',
  }),
  refreshToken: Type.String({ description: 'Opaque; stored only as a hash' }),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer({ description: 'Seconds until the access token expires' }),
});
export type Tokens = Static<typeof Tokens>;

export const TokensAndUser = Type.Object(
  {
    outcome: Type.Literal('signed_in', { description: 'Which answer this is: signed in, tokens issued' }),
    user: UserView,
    tokens: Tokens,
  },
  { description: 'Signed in' },
);

export const MeView = Type.Object(
  {
    ...UserView.properties,
    name: Type.Union([Type.String(), Type.Null()], { description: 'The display name; null when none is set' }),
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

// Control characters, line and paragraph separators, and the bidirectional embeddings, overrides
// and isolates (U+202A-202E, U+2066-2069): a name is shown back by clients (and later by
// operators' tools), where these would break lines or reorder the text around it. Joiners
// (U+200C, U+200D) stay: scripts and emoji need them.
const NAME_REFUSED = String.raw`\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069`;

/** A display name as registration and PATCH /v1/me take it: one rule for both. */
export const DisplayName = Type.String({
  minLength: 1,
  maxLength: 100,
  // At least one character that is not white space: the name is stored trimmed.
  pattern: `^(?=.*\\S)[^${NAME_REFUSED}]*$`,
  description:
    'The display name, 1-100 characters with at least one that is not white space, no control or ' +
    'bidirectional-override characters; stored without surrounding white space',
});

export const ProfileBody = Type.Object(
  { name: Type.Union([DisplayName, Type.Null({ description: 'Removes the name' })]) },
  { additionalProperties: false },
);
