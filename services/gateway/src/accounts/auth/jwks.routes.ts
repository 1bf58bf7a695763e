import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { problemResponses } from '../../http/schemas.ts';
import type { VerifyingKey } from './signing-key.ts';

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

/**
 * The public keys that verify access tokens, for any service that wants to check them: the
 * current signing key and, during a rotation, the previous one.
 */
export const jwksRoutes: FastifyPluginAsyncTypebox<{ verifying: readonly VerifyingKey[] }> = async (
  app,
  { verifying },
) => {
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
      return { keys: verifying.map((key) => key.publicJwk) };
    },
  );
};
