// Loaded by startTracing only when tracing is on: every OpenTelemetry SDK and instrumentation
// module is imported from here and from nowhere else.
import { FastifyOtelInstrumentation } from '@fastify/otel';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BullMQOtel } from 'bullmq-otel';
import { UNMATCHED_ROUTE } from './http-metrics.ts';
import type { Tracing } from './tracing.ts';

/** Polled by probes and Prometheus every few seconds: spans of them would drown the rest. */
const UNTRACED_PATHS = /^\/(health\/|metrics(\?|$))/;

export function startSdk(service: string): Tracing {
  const sdk = new NodeSDK({
    // The service's own name unless OTEL_SERVICE_NAME (or service.name in
    // OTEL_RESOURCE_ATTRIBUTES) says otherwise: the SDK's env detector runs after this resource.
    resource: defaultResource().merge(resourceFromAttributes({ 'service.name': service })),
    // Traces only: metrics stay on /metrics (Prometheus) and logs on stdout, so neither is
    // pushed over OTLP whatever OTEL_METRICS_EXPORTER or OTEL_LOGS_EXPORTER say.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new FastifyOtelInstrumentation({
        // Every Fastify instance created from now on: the API, the admin API, the ops servers.
        registerOnInitialization: true,
        ignorePaths: ({ url }) => UNTRACED_PATHS.test(url),
        requestHook(span, request) {
          const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
          span.updateName(`${request.method} ${route}`);
          span.setAttributes({
            'http.route': route,
            // The path without its query string, which the instrumentation records whole.
            'url.path': request.url.split('?', 1)[0] ?? '',
            'otp.request_id': request.id,
          });
        },
      }),
      // Statement text only (with $1 placeholders): enhancedDatabaseReporting, which adds the
      // parameters (addresses, hashes), stays off. Queries outside a request or a job (the
      // relay's and the purge's polling) make no traces of their own.
      new PgInstrumentation({ requireParentSpan: true, enhancedDatabaseReporting: false }),
      new IORedisInstrumentation({
        requireParentSpan: true,
        // The command name only: keys hold client addresses, and arguments job data.
        dbStatementSerializer: (command) => command,
      }),
      // trace_id, span_id and trace_flags on every log line written inside a span; the lines
      // themselves are not sent over OTLP.
      new PinoInstrumentation({ disableLogSending: true }),
    ],
  });
  sdk.start();
  return {
    enabled: true,
    // After sdk.start(): BullMQOtel takes its tracer from the provider registered there.
    queueTelemetry: new BullMQOtel({ tracerName: 'bullmq' }),
    shutdown: () => sdk.shutdown(),
  };
}
