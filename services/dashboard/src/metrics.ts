import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** The dashboard's Prometheus registry: process metrics and request durations, labelled `service="dashboard"`. */
export function createDashboardMetrics(): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'dashboard' });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Times every request into `http_request_duration_seconds` by route pattern (never the raw URL). */
export function instrumentRequests(app: FastifyInstance, registry: Registry): void {
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    duration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
}
