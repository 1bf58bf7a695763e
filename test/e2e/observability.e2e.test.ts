import { randomUUID } from 'node:crypto';
import {
  type OtlpReceiver,
  type ParsedFamily,
  type ReceivedSpan,
  sampleValue,
  scrapeMetrics,
  startOtlpReceiver,
} from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSystem, startSystem, waitForChallenge } from './system.ts';

// One request followed across real processes: the id the gateway answers with is on the
// workers' log lines about its challenge, each service's /metrics moves with the traffic, and
// the services send their spans to an OTLP receiver as one trace.
describe('observability across services', () => {
  // The gateway's service.name comes from OTEL_SERVICE_NAME; the workers keep their own name.
  const GATEWAY_SERVICE = 'otp-gateway-e2e';
  let system: RunningSystem;
  let receiver: OtlpReceiver;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    // Only the standard OTEL_* variables: the SDK reads them itself.
    system = await startSystem(
      { OTEL_SERVICE_NAME: GATEWAY_SERVICE },
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        // The receiver reads JSON; the SDK's default is protobuf.
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=e2e',
        OTEL_BSP_SCHEDULE_DELAY: '200',
      },
    );
  }, 60_000);

  afterAll(async () => {
    await system?.stop();
    await receiver?.close();
  });

  async function requestCode(body: Record<string, unknown>, requestId: string, headers: Record<string, string> = {}) {
    const response = await fetch(`${system.baseUrl}/v1/otp/challenges`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': requestId, ...headers },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(202);
    expect(response.headers.get('x-request-id')).toBe(requestId);
    return String(((await response.json()) as { challengeId: string }).challengeId);
  }

  /** The JSON log lines of one service that mention `text`. */
  function linesOf(service: string, text: string): Array<Record<string, unknown>> {
    return system.services
      .filter((each) => each.name === service)
      .flatMap((each) => each.logs())
      .filter((line) => line.includes(text))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  const sends = (families: Map<string, ParsedFamily>, labels: Record<string, string>) =>
    sampleValue(families, 'otp_sends_total', { outcome: 'sent', ...labels });

  it('carries the request id from the gateway to every worker log line about the challenge, and counts it all', async () => {
    const emailRequest = `e2e-${randomUUID()}`;
    const smsRequest = `e2e-${randomUUID()}`;
    const emailChallenge = await requestCode({ channel: 'email', to: 'observed@example.com' }, emailRequest);
    const smsChallenge = await requestCode({ channel: 'sms', to: '+14155550123' }, smsRequest);
    const delivered = (challenge: Record<string, unknown>) =>
      ['sent', 'delivered'].includes(String((challenge.delivery as { status?: string } | undefined)?.status));
    await waitForChallenge(system, emailChallenge, delivered);
    await waitForChallenge(system, smsChallenge, delivered);

    for (const [service, challengeId, requestId] of [
      ['email-worker', emailChallenge, emailRequest],
      ['sms-worker', smsChallenge, smsRequest],
    ] as const) {
      const lines = linesOf(service, challengeId);
      expect(lines.map((line) => line.msg)).toContain('delivery sent');
      for (const line of lines) expect(line).toMatchObject({ service, challengeId, requestId });
    }
    // The gateway's own lines about the request carry the same id.
    expect(linesOf('gateway', emailChallenge).some((line) => line.requestId === emailRequest)).toBe(true);

    const gateway = await scrapeMetrics(`${system.gatewayOpsUrls[0]}/metrics`);
    expect(
      sampleValue(gateway, 'otp_code_events_total', { event: 'requested', service: 'gateway', purpose: 'login' }),
    ).toBe(2);
    expect(gateway.get('http_request_duration_seconds')?.type).toBe('HISTOGRAM');
    expect(gateway.has('otp_queue_jobs')).toBe(true);

    const email = await scrapeMetrics(`${system.opsUrls['email-worker']}/metrics`);
    expect(sends(email, { service: 'email-worker', channel: 'email', provider: 'smtp' })).toBe(1);
    expect(email.get('otp_delivery_latency_seconds')?.type).toBe('HISTOGRAM');
    const sms = await scrapeMetrics(`${system.opsUrls['sms-worker']}/metrics`);
    expect(sends(sms, { service: 'sms-worker', channel: 'sms', provider: 'twilio' })).toBe(1);
  });

  /** The SQL or Redis command a span records (the stable attribute name, or the older one). */
  const statementOf = (span: ReceivedSpan) =>
    String(span.attributes['db.query.text'] ?? span.attributes['db.statement'] ?? '');

  /**
   * The span's ancestors in its trace, nearest first, up to the caller's span (which no service
   * exports), waiting for each to be exported.
   */
  async function ancestorsOf(span: ReceivedSpan, callerSpan: string): Promise<ReceivedSpan[]> {
    const chain: ReceivedSpan[] = [];
    let current = span;
    while (current.parentSpanId !== callerSpan) {
      const parentId = current.parentSpanId;
      current = await receiver.waitForSpan((each) => each.traceId === span.traceId && each.spanId === parentId);
      chain.push(current);
    }
    return chain;
  }

  it('traces a code request: the gateway request (child of the caller), its SQL, the job and the worker in one trace', async () => {
    const address = 'traced@example.com';
    const callerTrace = randomUUID().replaceAll('-', '');
    const callerSpan = randomUUID().replaceAll('-', '').slice(0, 16);
    const challengeId = await requestCode({ channel: 'email', to: address }, `e2e-${randomUUID()}`, {
      traceparent: `00-${callerTrace}-${callerSpan}-01`,
      cookie: 'session=not-a-real-token',
    });
    await waitForChallenge(system, challengeId, (challenge) =>
      ['sent', 'delivered'].includes(String((challenge.delivery as { status?: string } | undefined)?.status)),
    );

    // Fastify's span (@fastify/otel), the child of the caller's traceparent.
    const server = await receiver.waitForSpan(
      (span) =>
        span.service === GATEWAY_SERVICE && span.traceId === callerTrace && span.name === 'POST /v1/otp/challenges',
    );
    expect(server).toMatchObject({
      parentSpanId: callerSpan,
      kind: 2, // SERVER
      attributes: { 'http.route': '/v1/otp/challenges', 'http.response.status_code': 202 },
      resource: { 'deployment.environment.name': 'e2e' },
    });
    // The request's SQL (instrumentation-pg), in its trace.
    const query = await receiver.waitForSpan(
      (span) =>
        span.service === GATEWAY_SERVICE &&
        span.traceId === callerTrace &&
        (span.attributes['db.system'] === 'postgresql' || span.attributes['db.system.name'] === 'postgresql'),
    );
    expect((await ancestorsOf(query, callerSpan)).map((span) => span.spanId)).toContain(server.spanId);

    // BullMQ's processing span in the email worker, carrying the delivery's outcome; through the
    // job's producer span (added by the relay in the request's context) it descends from the request.
    const consumer = await receiver.waitForSpan(
      (span) => span.service === 'email-worker' && span.attributes['otp.challenge_id'] === challengeId,
    );
    expect(consumer).toMatchObject({
      name: 'process email',
      kind: 5, // CONSUMER
      traceId: callerTrace,
      attributes: { 'otp.delivery.result': 'sent', 'otp.provider': 'smtp' },
      resource: { 'service.name': 'email-worker', 'deployment.environment.name': 'e2e' },
    });
    const ancestors = await ancestorsOf(consumer, callerSpan);
    expect(ancestors[0]).toMatchObject({ service: GATEWAY_SERVICE, kind: 4 }); // PRODUCER: the job's add
    expect(ancestors.map((span) => span.spanId)).toContain(server.spanId);
    // The relay's drain, which the request nudges (long done by now), is not part of its trace.
    const statements = receiver.spans.filter((span) => span.traceId === callerTrace).map(statementOf);
    expect(statements.filter((text) => /delivery_outbox/.test(text) && /skip locked/.test(text))).toEqual([]);

    // The log lines written inside those spans carry the trace (instrumentation-pino).
    expect(linesOf('gateway', challengeId).some((line) => line.trace_id === callerTrace)).toBe(true);
    expect(linesOf('email-worker', challengeId).find((line) => line.msg === 'delivery sent')).toMatchObject({
      trace_id: callerTrace,
      span_id: consumer.spanId,
    });

    // No span of the trace holds the address, a statement's parameters or a request header.
    const trace = JSON.stringify(receiver.spans.filter((span) => span.traceId === callerTrace));
    expect(trace).not.toContain(address);
    expect(trace).not.toContain('not-a-real-token');
  });
});
