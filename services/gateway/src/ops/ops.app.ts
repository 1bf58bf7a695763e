import { serveMetrics } from '@otp/runtime';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { GatewayDeps } from '../deps.ts';

/**
 * The gateway's ops listener (GATEWAY_OPS_PORT): `/metrics` for Prometheus, off the public port,
 * so the internet never reads the replica's counters (SMS budgets, kill switches, queue depths)
 * and a scrape never competes with the public API's rate limits. Not listening.
 */
export async function buildOpsApp(deps: Pick<GatewayDeps, 'log' | 'metrics'>): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log.child({ component: 'ops' }) as FastifyBaseLogger,
    // Scraped every few seconds; one log line per scrape would drown the real ones.
    logController: new LogController({ disableRequestLogging: true }),
  });
  serveMetrics(app, deps.metrics.registry);
  await app.ready();
  return app;
}
