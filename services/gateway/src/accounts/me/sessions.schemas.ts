import Type, { type Static } from 'typebox';
import { Timestamp, Uuid } from '../../http/schemas.ts';

export const SessionView = Type.Object({
  id: Uuid,
  createdAt: Timestamp,
  lastUsedAt: Timestamp,
  userAgent: Type.Union([Type.String(), Type.Null()], { description: 'As the client sent it at sign-in' }),
  ipPrefix: Type.Union([Type.String(), Type.Null()], {
    description:
      'The network it signed in from, never a full address: an IPv4 /24 or an IPv6 /64 (e.g. 203.0.113.0/24); ' +
      'null for a session from before sessions recorded it',
  }),
  current: Type.Boolean({ description: 'Whether this is the session of the access token that asked' }),
});
export type SessionView = Static<typeof SessionView>;

export const SessionList = Type.Object(
  { sessions: Type.Array(SessionView) },
  {
    description:
      'Sessions that can still be used, most recently used first (lastUsedAt: the sign-in or the latest refresh)',
  },
);
export type SessionList = Static<typeof SessionList>;
