import { exposeMetrics } from '@otp/runtime';
import type { FastifyInstance } from 'fastify';
import type { GatewayMetrics } from './gateway.metrics.ts';

/** The route label of a request no route matched: never the raw URL, which anyone can vary. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * `GET /metrics` (Prometheus' text format; hidden from the OpenAPI document: it is for the
 * scraper, not for API clients) and the request-duration histogram, recorded for every answer
 * by route pattern (`/v1/otp/challenges/:id/verify`), method and status.
 */
export function registerMetrics(app: FastifyInstance, metrics: GatewayMetrics): void {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.is404 ? undefined : request.routeOptions.url;
    metrics.httpRequest(
      { method: request.method, route: route ?? UNMATCHED_ROUTE, statusCode: reply.statusCode },
      reply.elapsedTime / 1000,
    );
  });
  app.get('/metrics', { schema: { hide: true }, logLevel: 'warn' }, async (_request, reply) => {
    const { contentType, body } = await exposeMetrics(metrics.registry);
    return reply.type(contentType).send(body);
  });
}
