import type { FastifyInstance, FastifySchema } from 'fastify';
import { Histogram } from 'prom-client';
import { exposeMetrics, type Registry } from './metrics.ts';

/** The route label of a request no route matched: never the raw URL, which anyone can vary. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Times every answer of a Fastify app as `http_request_duration_seconds{method, route,
 * status_code}`, the route being the pattern (`/v1/otp/challenges/:id/verify`), so the number
 * of series stays bounded whatever URLs clients send.
 */
export function instrumentHttp(app: FastifyInstance, registry: Registry): void {
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.is404 ? undefined : request.routeOptions.url;
    duration.observe(
      { method: request.method, route: route ?? UNMATCHED_ROUTE, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
}

/**
 * `GET /metrics` in Prometheus' text format, hidden from an OpenAPI document (it is for the
 * scraper, not for API clients) and logged only at warn: Prometheus calls it every few seconds.
 */
export function serveMetrics(app: FastifyInstance, registry: Registry): void {
  // `hide` is @fastify/swagger's schema option; an app without swagger ignores it.
  const hidden: Record<string, unknown> = { hide: true };
  app.get('/metrics', { schema: hidden as FastifySchema, logLevel: 'warn' }, async (_request, reply) => {
    const { contentType, body } = await exposeMetrics(registry);
    return reply.type(contentType).send(body);
  });
}
