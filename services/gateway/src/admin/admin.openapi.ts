import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { hoistNamedSchemas, nameSchemas, withOperationIds } from '../http/openapi.contract.ts';
import { Problem } from '../http/schemas.ts';
import { AdminFactor, AdminSession, AdminUser, AdminUserDetail, UserSearchAnswer } from './admin-users.schemas.ts';

export const ADMIN_SECURITY = [{ adminKey: [] }];

/** The admin API's contract names (http/openapi.contract.ts); published names never change. */
export const ADMIN_OPERATION_IDS: Readonly<Record<string, string>> = {
  'GET /admin/v1/users': 'searchUsers',
  'GET /admin/v1/users/{id}': 'getUser',
  'POST /admin/v1/users/{id}/disable': 'disableUser',
  'POST /admin/v1/users/{id}/enable': 'enableUser',
  'POST /admin/v1/users/{id}/revoke-sessions': 'revokeUserSessions',
  'POST /admin/v1/users/{id}/reset-factors': 'resetUserFactors',
  'POST /admin/v1/users/{id}/unlock': 'unlockUser',
  'DELETE /admin/v1/users/{id}': 'deleteUser',
  'GET /admin/v1/recipients': 'lookUpRecipient',
  'GET /admin/v1/security-events': 'listSecurityEvents',
  'GET /admin/v1/security-events/export': 'exportSecurityEvents',
  'GET /admin/v1/kill-switches': 'listKillSwitches',
  'PUT /admin/v1/kill-switches/{target}': 'setKillSwitch',
};

const ADMIN_SCHEMA_NAMES = {
  Problem,
  AdminUser,
  AdminUserDetail,
  AdminFactor,
  AdminSession,
  UserSearchAnswer,
};

/**
 * The admin API's own OpenAPI document, generated from its route schemas like the public one
 * (http/openapi.ts) but on its own Fastify instance, so neither document lists the other's routes.
 * Served at /admin/openapi.json without a key: it says what the routes are, not what they hold.
 * Register before the routes so every one is seen.
 */
export async function registerAdminOpenApi(app: FastifyInstance): Promise<void> {
  nameSchemas(ADMIN_SCHEMA_NAMES);
  await app.register(swagger, {
    transform: withOperationIds(ADMIN_OPERATION_IDS),
    transformObject: hoistNamedSchemas as never,
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'OTP gateway: admin API',
        version: '1.0.0',
        description:
          'Support and administration (docs/administration.md), on its own port (ADMIN_PORT), never exposed publicly. ' +
          'Every call needs an API key (ADMIN_API_KEYS) and is recorded in the audit trail. Errors are ' +
          'application/problem+json with a stable `code`.',
      },
      tags: [
        { name: 'users', description: 'Find an account, see it, disable, enable, unlock it, reset its factors' },
        { name: 'deliveries', description: 'The codes sent to an address and how their delivery went' },
        { name: 'audit', description: 'The audit trail (security events)' },
        { name: 'kill-switches', description: 'Channels, SMS countries and providers switched off' },
      ],
      components: {
        securitySchemes: {
          adminKey: {
            type: 'http',
            scheme: 'bearer',
            description: 'An admin API key (`ops admin-key <name>` makes one); X-Operator-Name may name the person',
          },
        },
      },
    },
  });
  app.get('/admin/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
