import { type Span, SpanKind, SpanStatusCode, type Tracing, UNMATCHED_ROUTE } from '@otp/runtime';
import type { FastifyInstance, FastifyRequest } from 'fastify';

const spans = new WeakMap<FastifyRequest, { span: Span; traceparent: string | undefined }>();

/**
 * One SERVER span per request when tracing is on, named by method and route pattern, child of
 * the caller's `traceparent` header when it sends one. Routes that hand work to a worker put the
 * span's trace context in the job (`traceparentFor`).
 */
export function registerTracing(app: FastifyInstance, tracing: Tracing): void {
  if (!tracing.enabled) return;
  app.addHook('onRequest', async (request) => {
    const route = request.is404 ? UNMATCHED_ROUTE : (request.routeOptions.url ?? UNMATCHED_ROUTE);
    const header = request.headers.traceparent;
    const span = tracing.startSpan(`${request.method} ${route}`, {
      kind: SpanKind.SERVER,
      traceparent: typeof header === 'string' ? header : undefined,
      attributes: { 'http.request.method': request.method, 'http.route': route, 'otp.request_id': request.id },
    });
    spans.set(request, { span, traceparent: tracing.traceparentOf(span) });
  });
  app.addHook('onResponse', async (request, reply) => {
    const span = spans.get(request)?.span;
    if (span === undefined) return;
    span.setAttribute('http.response.status_code', reply.statusCode);
    if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
}

/** The W3C trace context of the request's span, for the job data; undefined when not tracing. */
export function traceparentFor(request: FastifyRequest): string | undefined {
  return spans.get(request)?.traceparent;
}
