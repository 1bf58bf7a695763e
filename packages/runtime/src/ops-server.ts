import Fastify, { type FastifyBaseLogger, LogController } from 'fastify';
import type { Logger } from 'pino';
import { serveMetrics } from './http-metrics.ts';
import type { Registry } from './metrics.ts';

/** A readiness check: resolves true when the dependency answers. A throw counts as false. */
export type HealthCheck = () => Promise<boolean>;

export interface OpsServerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  log: Logger;
  /** Named readiness checks, e.g. `{ postgres: () => pingDb(db), redis: () => pingRedis(redis) }`. */
  checks: Record<string, HealthCheck>;
  /** Served at `/metrics` in Prometheus' text format when given. */
  metrics?: Registry;
}

export interface OpsServer {
  /** `http://host:port` the server listens on. */
  url: string;
  close(): Promise<void>;
}

async function runChecks(checks: Record<string, HealthCheck>): Promise<Record<string, boolean>> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => [name, await check().catch(() => false)] as const),
  );
  return Object.fromEntries(entries);
}

/**
 * The small HTTP server every worker runs for its orchestrator: `/health/live` answers while the
 * process runs; `/health/ready` answers 200 only while every dependency check passes; `/metrics`
 * serves the registry it is given.
 */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const app = Fastify({
    loggerInstance: options.log.child({ component: 'ops-server' }) as FastifyBaseLogger,
    // Probes hit these routes every few seconds; one log line each would drown the real ones.
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.get('/health/live', async () => ({ status: 'ok' }));
  app.get('/health/ready', async (_request, reply) => {
    const checks = await runChecks(options.checks);
    const ready = Object.values(checks).every(Boolean);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ok' : 'unavailable', checks });
  });
  if (options.metrics !== undefined) serveMetrics(app, options.metrics);
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    close: () => app.close(),
  };
}
