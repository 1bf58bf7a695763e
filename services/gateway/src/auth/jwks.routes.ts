import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { problemResponses } from '../http/schemas.ts';
import type { SigningKey } from './signing-key.ts';

const Jwks = Type.Object({
  keys: Type.Array(
    Type.Object({
      kty: Type.String(),
      crv: Type.String(),
      x: Type.String(),
      kid: Type.String(),
      alg: Type.String(),
      use: Type.String(),
    }),
  ),
});

/** The public keys that verify access tokens, for any service that wants to check them. */
export const jwksRoutes: FastifyPluginAsyncTypebox<{ signing: SigningKey }> = async (app, { signing }) => {
  app.get(
    '/.well-known/jwks.json',
    {
      schema: {
        tags: ['keys'],
        summary: 'Public keys of access tokens (JWKS)',
        response: { 200: Jwks, ...problemResponses() },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300');
      return { keys: [signing.publicJwk] };
    },
  );
};
