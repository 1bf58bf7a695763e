import { randomUUID } from 'node:crypto';
import { type OtlpReceiver, type ParsedFamily, sampleValue, scrapeMetrics, startOtlpReceiver } from '@otp/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSystem, startSystem, waitForChallenge } from './system.ts';

// One request followed across real processes: the id the gateway answers with is on the
// workers' log lines about its challenge, each service's /metrics moves with the traffic, and
// the services send their spans to an OTLP receiver as one trace.
describe('observability across services', () => {
  let system: RunningSystem;
  let receiver: OtlpReceiver;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    system = await startSystem({}, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint });
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

  it('traces a code request: the gateway span (child of the caller) is the parent of the worker span', async () => {
    const callerTrace = randomUUID().replaceAll('-', '');
    const callerSpan = randomUUID().replaceAll('-', '').slice(0, 16);
    const challengeId = await requestCode({ channel: 'email', to: 'traced@example.com' }, `e2e-${randomUUID()}`, {
      traceparent: `00-${callerTrace}-${callerSpan}-01`,
    });
    await waitForChallenge(system, challengeId, (challenge) =>
      ['sent', 'delivered'].includes(String((challenge.delivery as { status?: string } | undefined)?.status)),
    );

    const server = await receiver.waitForSpan(
      (span) => span.service === 'gateway' && span.traceId === callerTrace && span.name === 'POST /v1/otp/challenges',
    );
    expect(server).toMatchObject({ parentSpanId: callerSpan, attributes: { 'http.response.status_code': 202 } });
    const consumer = await receiver.waitForSpan(
      (span) => span.service === 'email-worker' && span.attributes['otp.challenge_id'] === challengeId,
    );
    expect(consumer).toMatchObject({
      name: 'email deliver',
      traceId: callerTrace,
      parentSpanId: server.spanId,
      attributes: { 'otp.delivery.result': 'sent', 'otp.provider': 'smtp' },
    });
  });
});
