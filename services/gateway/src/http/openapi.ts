import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import type { TSchema } from 'typebox';
import { hoistNamedSchemas, nameSchemas, withOperationIds } from './openapi.contract.ts';

export const BEARER_SECURITY = [{ bearerAuth: [] }];
/** The code routes: anonymous (a browser), or a server with its key (the verification API). */
export const ANONYMOUS_OR_SERVER_KEY: Array<Record<string, string[]>> = [{}, { serverKey: [] }];

export interface OpenApiContract {
  /** `METHOD /path` → operationId, for every route the document shows. */
  operationIds: Readonly<Record<string, string>>;
  /** The schemas the document names (components.schemas). */
  schemas: Readonly<Record<string, TSchema>>;
  /** `servers` of the document; none when unset (clients then resolve paths against where they found it). */
  publicBaseUrl?: string | undefined;
}

/**
 * The OpenAPI document is generated from the route schemas (@fastify/swagger) and served at
 * /openapi.json; /docs is Swagger UI over it. Register before the routes so every one is seen.
 * The committed copy (docs/openapi.json) is checked against it by openapi.contract.test.ts.
 */
export async function registerOpenApi(app: FastifyInstance, contract: OpenApiContract): Promise<void> {
  nameSchemas(contract.schemas);
  await app.register(swagger, {
    transform: withOperationIds(contract.operationIds),
    transformObject: hoistNamedSchemas as never,
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'OTP gateway',
        version: '1.0.0',
        description:
          'One-time-password sign-in by email or SMS. Errors are application/problem+json with a stable `code`; ' +
          '429 and 503 responses carry Retry-After.',
      },
      ...(contract.publicBaseUrl === undefined ? {} : { servers: [{ url: contract.publicBaseUrl }] }),
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
          serverKey: {
            type: 'http',
            scheme: 'bearer',
            description: 'A server key of the verification API (API_KEYS; docs/verification-api.md)',
          },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
