import {
  type Attributes,
  defaultTextMapGetter,
  defaultTextMapSetter,
  INVALID_SPAN_CONTEXT,
  isSpanContextValid,
  ROOT_CONTEXT,
  type Span,
  type SpanKind,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { TRACEPARENT_PATTERN } from '@otp/domain';

export { type Span, SpanKind, SpanStatusCode } from '@opentelemetry/api';

/** W3C trace context (`traceparent`), the form a trace travels in between services. */
const TRACEPARENT = new RegExp(TRACEPARENT_PATTERN);

export interface SpanOptions {
  kind: SpanKind;
  /** The caller's span (an HTTP header, a job's data): the new span becomes its child. */
  traceparent?: string | undefined;
  attributes?: Attributes;
}

/**
 * OpenTelemetry traces of one service, exported over OTLP/HTTP when an endpoint is configured,
 * and a no-op otherwise (spans that record nothing and propagate nothing). Nothing is registered
 * globally: the tracer and the W3C propagator are used explicitly, so several services can run
 * in one test process and no library is patched behind the code's back.
 */
export interface Tracing {
  readonly enabled: boolean;
  startSpan(name: string, options: SpanOptions): Span;
  /** The span's W3C `traceparent`, to carry to another service; undefined when not tracing. */
  traceparentOf(span: Span): string | undefined;
  /** Exports the spans ended so far. */
  flush(): Promise<void>;
  /** Flushes and stops exporting (at shutdown). */
  shutdown(): Promise<void>;
}

const propagator = new W3CTraceContextPropagator();

function parentContext(traceparent: string | undefined) {
  if (traceparent === undefined || !TRACEPARENT.test(traceparent)) return ROOT_CONTEXT;
  return propagator.extract(ROOT_CONTEXT, { traceparent }, defaultTextMapGetter);
}

export const disabledTracing: Tracing = {
  enabled: false,
  startSpan: () => trace.wrapSpanContext(INVALID_SPAN_CONTEXT),
  traceparentOf: () => undefined,
  flush: async () => {},
  shutdown: async () => {},
};

/**
 * `endpoint` is OTEL_EXPORTER_OTLP_ENDPOINT (e.g. `http://collector:4318`); spans go to
 * `<endpoint>/v1/traces` as the OTLP specification says for that variable. Unset: no tracing.
 */
export function createTracing(options: { service: string; endpoint?: string | undefined }): Tracing {
  if (options.endpoint === undefined) return disabledTracing;
  const exporter = new OTLPTraceExporter({ url: `${options.endpoint.replace(/\/+$/, '')}/v1/traces` });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.service }),
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: 1000 })],
  });
  const tracer = provider.getTracer('@otp/runtime');
  return {
    enabled: true,
    startSpan: (name, span) =>
      tracer.startSpan(
        name,
        { kind: span.kind, ...(span.attributes === undefined ? {} : { attributes: span.attributes }) },
        parentContext(span.traceparent),
      ),
    traceparentOf(span) {
      if (!isSpanContextValid(span.spanContext())) return undefined;
      const carrier: Record<string, string> = {};
      propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, defaultTextMapSetter);
      return carrier.traceparent;
    },
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}
