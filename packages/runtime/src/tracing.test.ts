import { startOtlpReceiver } from '@otp/testkit';
import { describe, expect, it } from 'vitest';
import { createTracing, disabledTracing, SpanKind } from './tracing.ts';

describe('tracing', () => {
  it('exports spans over OTLP/HTTP, a span started from a traceparent being the child of that span', async () => {
    const receiver = await startOtlpReceiver();
    const gateway = createTracing({ service: 'gateway', endpoint: receiver.endpoint });
    const worker = createTracing({ service: 'email-worker', endpoint: `${receiver.endpoint}/` });
    try {
      const parent = gateway.startSpan('POST /v1/otp/challenges', { kind: SpanKind.SERVER });
      const traceparent = gateway.traceparentOf(parent);
      expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      const child = worker.startSpan('email deliver', {
        kind: SpanKind.CONSUMER,
        traceparent,
        attributes: { 'otp.challenge_id': 'c-1' },
      });
      child.end();
      parent.end();
      await Promise.all([gateway.flush(), worker.flush()]);

      const server = await receiver.waitForSpan((span) => span.name === 'POST /v1/otp/challenges');
      const consumer = await receiver.waitForSpan((span) => span.name === 'email deliver');
      expect(server).toMatchObject({ service: 'gateway', kind: 2, parentSpanId: '' });
      expect(consumer).toMatchObject({
        service: 'email-worker',
        kind: 5,
        traceId: server.traceId,
        parentSpanId: server.spanId,
        attributes: { 'otp.challenge_id': 'c-1' },
      });
      expect(traceparent).toBe(`00-${server.traceId}-${server.spanId}-01`);
    } finally {
      await gateway.shutdown();
      await worker.shutdown();
      await receiver.close();
    }
  });

  it('ignores a malformed traceparent (a new trace starts)', async () => {
    const receiver = await startOtlpReceiver();
    const tracing = createTracing({ service: 'gateway', endpoint: receiver.endpoint });
    try {
      tracing.startSpan('GET /x', { kind: SpanKind.SERVER, traceparent: 'not-a-trace' }).end();
      await tracing.flush();
      expect(await receiver.waitForSpan((span) => span.name === 'GET /x')).toMatchObject({ parentSpanId: '' });
    } finally {
      await tracing.shutdown();
      await receiver.close();
    }
  });

  it('does nothing without an endpoint', () => {
    const tracing = createTracing({ service: 'gateway' });
    expect(tracing).toBe(disabledTracing);
    const span = tracing.startSpan('x', { kind: SpanKind.SERVER });
    expect(span.isRecording()).toBe(false);
    expect(tracing.traceparentOf(span)).toBeUndefined();
  });
});
