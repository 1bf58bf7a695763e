import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { GatewayDeps } from '../deps.ts';
import { registerErrorHandling } from '../http/errors.ts';
import { gatewayFastifyOptions } from '../http/fastify-options.ts';
import { adminAuthentication, adminKeyEntries } from './admin.auth.ts';
import { registerAdminOpenApi } from './admin.openapi.ts';
import { adminKillSwitchRoutes } from './admin-kill-switches.routes.ts';
import { adminRecipientRoutes } from './admin-recipients.routes.ts';
import { adminSecurityEventRoutes } from './admin-security-events.routes.ts';
import { adminUserRoutes } from './admin-users.routes.ts';

/**
 * The operators' admin API (docs/administration.md): its own Fastify instance, listening on
 * ADMIN_PORT beside the public app in the same process and on the same deps. A separate listener
 * rather than a prefix of the public app, so that no proxy rule, CORS setting or route mistake
 * can put it on the internet: the public port has no /admin route at all. Not listening.
 */
export async function buildAdminApp(deps: GatewayDeps): Promise<FastifyInstance> {
  const { config } = deps;
  // As the public app (app.ts): reject rather than repair.
  const app = Fastify(
    gatewayFastifyOptions(config, deps.log.child({ listener: 'admin' }) as FastifyBaseLogger),
  ).withTypeProvider<TypeBoxTypeProvider>();

  app.removeContentTypeParser('text/plain');
  app.decorateRequest('admin', null);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  registerErrorHandling(app);
  await registerAdminOpenApi(app);

  // Read once: a key removed from ADMIN_API_KEYS stops working when the process restarts with it.
  const requireAdminKey = adminAuthentication(deps, adminKeyEntries(deps));
  await app.register(
    async (admin) => {
      admin.addHook('onRequest', requireAdminKey);
      await admin.register(adminUserRoutes, { deps });
      await admin.register(adminRecipientRoutes, { deps });
      await admin.register(adminSecurityEventRoutes, { deps });
      await admin.register(adminKillSwitchRoutes, { deps });
    },
    { prefix: '/admin/v1' },
  );
  await app.ready();
  return app;
}
