import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

export const BEARER_SECURITY = [{ bearerAuth: [] }];

/**
 * The OpenAPI document is generated from the route schemas (@fastify/swagger) and served at
 * /openapi.json; /docs is Swagger UI over it. Register before the routes so every one is seen.
 */
export async function registerOpenApi(app: FastifyInstance, serverUrl: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'OTP gateway',
        version: '1.0.0',
        description:
          'One-time-password sign-in by email or SMS. Errors are application/problem+json with a stable `code`; ' +
          '429 and 503 responses carry Retry-After.',
      },
      servers: [{ url: serverUrl }],
      tags: [
        { name: 'otp', description: 'Codes delivered by email or SMS' },
        { name: 'auth', description: 'Registration, password sign-in, the MFA step, tokens' },
        { name: 'account', description: 'The signed-in user' },
        { name: 'keys', description: 'Keys that verify access tokens' },
        { name: 'health', description: 'Liveness and readiness' },
      ],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token' },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
