import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { listChallengesByRecipient } from '@otp/db';
import { type Channel, maskRecipient, recipientHash } from '@otp/domain';
import Type from 'typebox';
import type { GatewayDeps } from '../deps.ts';
import { problemResponses, Timestamp, Uuid } from '../http/schemas.ts';
import { recordAdminEvent } from './admin.events.ts';
import { ADMIN_SECURITY } from './admin.openapi.ts';
import { normalizedOr400 } from './admin-users.routes.ts';

/** Challenges listed per lookup: "did my code arrive?" is about the latest ones. */
const LIMIT = 50;

const RecipientQuery = Type.Object(
  {
    to: Type.String({
      minLength: 1,
      maxLength: 320,
      description: 'An email address, or a phone number in E.164 (starting with +)',
    }),
  },
  { additionalProperties: false },
);

const RecipientChallenge = Type.Object({
  id: Uuid,
  purpose: Type.String(),
  channel: Type.Union([Type.Literal('email'), Type.Literal('sms')]),
  status: Type.String({
    description: 'pending, verified, locked or failed (expired ones stay pending past expiresAt)',
  }),
  createdAt: Timestamp,
  delivery: Type.Object({
    status: Type.String({ description: 'The delivery lifecycle status (docs/reliability.md)' }),
    attempts: Type.Integer({ minimum: 0 }),
    lastError: Type.Union([Type.String(), Type.Null()], {
      description: "The stable delivery error code of the last failed attempt (never the provider's text)",
    }),
    provider: Type.Union([Type.String(), Type.Null()], { description: 'Who the latest attempt went to' }),
    locale: Type.String({
      description:
        'The language of the message: the one the latest attempt was written in, before any attempt the one chosen at the request',
    }),
  }),
});

const RecipientAnswer = Type.Object(
  { challenges: Type.Array(RecipientChallenge) },
  { description: `The latest ${LIMIT} challenges sent to the address, newest first` },
);

/** "Did my code arrive?": the challenges to one address, found by its keyed hash, and their deliveries. */
export const adminRecipientRoutes: FastifyPluginAsyncTypebox<{ deps: GatewayDeps }> = async (app, { deps }) => {
  app.get(
    '/recipients',
    {
      schema: {
        tags: ['deliveries'],
        summary: 'The challenges sent to an email address or phone number, and how their delivery went',
        security: ADMIN_SECURITY,
        querystring: RecipientQuery,
        response: { 200: RecipientAnswer, ...problemResponses(400, 401) },
      },
    },
    async (request) => {
      const to = request.query.to.trim();
      const channel: Channel = to.startsWith('+') ? 'sms' : 'email';
      const address = normalizedOr400(channel, to, 'to');
      // Challenges keep the address only sealed and as this keyed hash (keys.ts): the hash finds them.
      const rows = await listChallengesByRecipient(
        deps.db,
        recipientHash(deps.keys.codeHmacKey, channel, address),
        LIMIT,
      );
      await recordAdminEvent(deps.db, deps, request, 'admin.recipient_looked_up', {
        details: { channel, recipient: maskRecipient(channel, address), found: rows.length },
      });
      return {
        challenges: rows.map((row) => ({
          id: row.id,
          purpose: row.purpose,
          channel: row.channel as Channel,
          status: row.status,
          createdAt: row.created_at.toISOString(),
          delivery: {
            status: row.delivery_status,
            attempts: row.delivery_attempts,
            // Both are codes of the delivery error table, never provider text.
            lastError: row.delivery_last_error ?? row.last_error_code,
            provider: row.provider,
            locale: row.sent_locale ?? row.locale,
          },
        })),
      };
    },
  );
};
