import { describe, expect, it } from 'vitest';
import { activeSpan, activeTraceparent, withTraceparent } from './trace-context.ts';
import { disabledTracing, startTracing, tracingRequested } from './tracing.ts';

// Tracing on is exercised across real processes: test/e2e/observability.e2e.test.ts (the spans)
// and test/runtime/tracing-modules.test.ts (what is loaded). Starting the SDK here would register
// it globally in the test worker.
describe('tracing', () => {
  const endpoint = 'http://collector:4318';

  it('is on when an OTLP endpoint for traces is set, and the SDK is not disabled', () => {
    expect(tracingRequested({})).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: '' })).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint })).toBe(true);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${endpoint}/v1/traces` })).toBe(true);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SDK_DISABLED: 'TRUE' })).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SDK_DISABLED: 'false' })).toBe(true);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
  });

  it('starts nothing without an endpoint', async () => {
    await expect(startTracing('gateway', { OTEL_SERVICE_NAME: 'x' })).resolves.toBe(disabledTracing);
    expect(disabledTracing.queueTelemetry).toBeUndefined();
  });

  it('carries no trace context when not tracing, and still runs the work', () => {
    expect(activeTraceparent()).toBeUndefined();
    expect(activeSpan()).toBeUndefined();
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    expect(withTraceparent(traceparent, () => 'done')).toBe('done');
    expect(withTraceparent(undefined, () => 'done')).toBe('done');
  });
});
