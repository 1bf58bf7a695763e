import formbody from '@fastify/formbody';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { PublicError } from '@otp/domain';
import type { FastifyRequest } from 'fastify';
// Only the SDK's signature check: the package's entry loads its whole REST client (about 30 MB
// of the gateway's memory for one HMAC).
import webhooks from 'twilio/lib/webhooks/webhooks.js';
import type { GatewayDeps } from '../../deps.ts';
import { requestContext } from '../../events/request-context.ts';
import { twilioStatusSchema } from './twilio-status.schemas.ts';
import { applyTwilioStatus } from './twilio-status.service.ts';

/**
 * The URL Twilio called, as it signed it (query included). Behind a proxy the Host the gateway
 * sees may not be the one Twilio called: PUBLIC_BASE_URL then names it.
 */
export function calledUrl(request: FastifyRequest, publicBaseUrl: string | undefined): string {
  const base =
    publicBaseUrl === undefined ? `${request.protocol}://${request.host}` : publicBaseUrl.replace(/\/+$/, '');
  return `${base}${request.url}`;
}

/**
 * POST /webhooks/twilio/status: Twilio's message status callback. Registered only when
 * TWILIO_AUTH_TOKEN is set (otherwise the path is a plain 404). Form bodies are parsed in this
 * plugin's scope only, and nothing else is: JSON here is a 415, and the rest of the API keeps
 * refusing form bodies.
 */
export const twilioStatusRoutes: FastifyPluginAsyncTypebox<{ deps: GatewayDeps }> = async (app, { deps }) => {
  const authToken = deps.config.TWILIO_AUTH_TOKEN;
  if (authToken === undefined) return;
  app.removeAllContentTypeParsers();
  await app.register(formbody);

  app.post(
    '/webhooks/twilio/status',
    {
      schema: twilioStatusSchema,
      // Before schema validation: an unsigned request learns nothing, not even what a valid body is.
      preValidation: async (request) => {
        const signature = request.headers['x-twilio-signature'];
        const params = (request.body ?? {}) as Record<string, unknown>;
        const url = calledUrl(request, deps.config.PUBLIC_BASE_URL);
        if (typeof signature !== 'string' || !webhooks.validateRequest(authToken, signature, url, params)) {
          request.log.warn({ route: 'twilio-status' }, 'twilio status callback with a missing or invalid signature');
          throw new PublicError('invalid_signature');
        }
      },
    },
    async (request, reply) => {
      await applyTwilioStatus(
        deps.db,
        {
          challengeId: request.query.challengeId,
          sendNumber: Number(request.query.sendNumber),
          messageSid: request.body.MessageSid,
          messageStatus: request.body.MessageStatus,
          errorCode: request.body.ErrorCode,
        },
        requestContext(request, deps),
      );
      return reply.code(204).send(null);
    },
  );
};
