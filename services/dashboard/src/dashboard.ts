import type { Database, Kysely } from '@otp/db';
import { PublicError } from '@otp/domain';
import {
  createMetricsRegistry,
  instrumentHttp,
  type Logger,
  pingRedis,
  type RedisClient,
  type Registry,
  serveMetrics,
} from '@otp/runtime';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { AdminApiClient } from './admin-api.client.ts';
import { requireOperator } from './auth.ts';
import { createDeliveryBoard } from './board.ts';
import type { DashboardAuth } from './config.ts';
import { KILL_SWITCHES_PATH, killSwitchRoutes } from './kill-switches.page.ts';
import { LOOKUP_PATH, lookupRoutes } from './lookup.routes.ts';
import { sendProblem } from './problem.ts';

export interface DashboardDeps {
  /** A fail-fast connection (createProducerRedis): the board's queues and the readiness ping share it. */
  redis: RedisClient;
  /** The BullMQ prefix the gateway and workers use (QUEUE_PREFIX). */
  prefix: string;
  auth: DashboardAuth;
  /** Refused sign-ins per client address and window before it gets 429 (defaults: 20 per 900 s). */
  signInThrottle?: { maxFailures: number; windowSeconds: number };
  /** Fastify's trustProxy (TRUST_PROXY): the proxies whose X-Forwarded-For names the client. */
  trustProxy?: false | string[];
  log: Logger;
  /** Where /metrics reads from; a fresh registry with default process metrics when not given. */
  metrics?: Registry;
  /**
   * Postgres (DATABASE_URL), for the read-only kill switches page; unset: no such page or link.
   * The caller owns (and closes) it.
   */
  db?: Kysely<Database>;
  /** The gateway's admin API (ADMIN_API_URL and ADMIN_API_KEY), for the Lookup page; unset: no such page or link. */
  adminApi?: AdminApiClient;
}

const PROBE_ROUTES = new Set(['/health/live', '/health/ready', '/metrics']);

/**
 * The queue dashboard: bull-board over the delivery queues behind HTTP basic or bearer
 * authentication, plus open health and metrics routes. The caller owns (and closes) the Redis
 * connection; closing the app closes the board's queues.
 */
export async function buildDashboard(deps: DashboardDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    // Probes and the board's polling would drown the log; actions and errors are logged below.
    logController: new LogController({ disableRequestLogging: true }),
    // The sign-in throttle counts per client address: behind a proxy, believe only that proxy.
    trustProxy: deps.trustProxy ?? false,
  });
  const registry = deps.metrics ?? createMetricsRegistry('dashboard');
  instrumentHttp(app, registry);
  const board = createDeliveryBoard({
    redis: deps.redis,
    prefix: deps.prefix,
    log: deps.log,
    links: [
      ...(deps.db === undefined ? [] : [{ text: 'Kill switches', url: KILL_SWITCHES_PATH }]),
      ...(deps.adminApi === undefined ? [] : [{ text: 'Lookup', url: LOOKUP_PATH }]),
    ],
  });
  app.addHook('onClose', () => board.close());

  app.decorateRequest('operator', null);
  app.setNotFoundHandler((_request, reply) => {
    return sendProblem(reply, new PublicError('not_found'));
  });

  app.get('/health/live', async () => ({ status: 'ok' }));
  app.get('/health/ready', async (_request, reply) => {
    const redis = await pingRedis(deps.redis);
    return reply.code(redis ? 200 : 503).send({ status: redis ? 'ok' : 'unavailable', checks: { redis } });
  });
  serveMetrics(app, registry);

  // Everything of bull-board (the UI pages, its static files, its /api) lives in this context,
  // so the sign-in hook runs before every one of its routes and before its 404s.
  await app.register(async (operators) => {
    const limits = deps.signInThrottle ?? { maxFailures: 20, windowSeconds: 900 };
    operators.addHook(
      'onRequest',
      requireOperator(deps.auth, { redis: deps.redis, keyPrefix: deps.prefix, ...limits }),
    );
    operators.addHook('onSend', async (request, reply) => {
      reply.header('x-frame-options', 'DENY');
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'no-referrer');
      if (request.url.startsWith('/api/')) reply.header('cache-control', 'no-store');
    });
    operators.addHook('onResponse', async (request, reply) => {
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        request.log.info(
          { method: request.method, route: request.routeOptions.url, params: request.params, status: reply.statusCode },
          'dashboard action',
        );
      }
    });
    await operators.register(board.plugin);
    if (deps.db !== undefined) await operators.register(killSwitchRoutes(deps.db));
    if (deps.adminApi !== undefined) await operators.register(lookupRoutes(deps.adminApi));
  });

  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode >= 500 && !PROBE_ROUTES.has(request.routeOptions.url ?? '')) {
      request.log.error({ route: request.routeOptions.url, status: reply.statusCode }, 'dashboard request failed');
    }
  });
  return app;
}
